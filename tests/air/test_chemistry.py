"""Chemistry and removal kernels: exact linear integration, S/N budgets, neutralisation, rates."""

import math

import numpy as np
import pytest
import xarray as xr
from scipy.linalg import expm

from ecodss.air import chemistry as ch
from ecodss.errors import (
    MissingFieldError,
    NonFiniteValueError,
    OutOfRangeError,
    UnknownFieldError,
)

M = ch.MOLAR_MASS
PCT_H = 0.01 / 3600.0


def test_molar_masses_from_iupac_weights():
    expected = {"SO2": 64.06, "SO4": 96.06, "NOx": 46.01, "NO3": 62.00, "NH3": 17.03,
                "NH4": 18.04}
    for name, value in expected.items():
        assert M[name] == pytest.approx(value, abs=0.006)


# ----------------------------------------------------------------------- exact linear system
def _rate_matrix(k_s, k_n, k_r, loss):
    """Mass-rate matrix of SO2, SO4, NOx, NO3 with molar-converted production."""
    a = np.zeros((4, 4))
    a[0, 0] = -(k_s + loss["SO2"])
    a[1, 0] = k_s * M["SO4"] / M["SO2"]
    a[1, 1] = -loss["SO4"]
    a[2, 2] = -(k_n + k_r + loss["NOx"])
    a[3, 2] = k_n * M["NO3"] / M["NOx"]
    a[3, 3] = -loss["NO3"]
    return a


@pytest.mark.parametrize("equal_rates", [False, True])
def test_linear_system_matches_matrix_exponential(equal_rates):
    species = ("SO2", "SO4", "NOx", "NO3")
    k_s, k_n, k_r = 2.0e-5, 5.0e-5, 1.0e-5
    dry = {"SO2": 1e-5, "SO4": 3e-6, "NOx": 2e-6, "NO3": 2e-5}
    wet = {"SO2": 3e-5, "SO4": 1e-4, "NOx": 0.0, "NO3": 6e-5}
    if equal_rates:  # product loss equal to precursor's total rate: the degenerate chain
        wet["SO4"] = k_s + dry["SO2"] + wet["SO2"] - dry["SO4"]
    loss = {s: dry[s] + wet[s] for s in species}
    a = _rate_matrix(k_s, k_n, k_r, loss)
    rng = np.random.default_rng(7)
    dts = rng.uniform(10.0, 2000.0, 60)
    c = np.array([40.0, 5.0, 60.0, 8.0])
    rates = {"SO2->SO4": k_s, "NOx->NO3": k_n, "NOx->RNO3": k_r}
    for dt in dts:
        c, _ = ch.chemistry_step(c, dt, rates, species=species, loss={"dry": dry, "wet": wet})
    exact = expm(a * dts.sum()) @ np.array([40.0, 5.0, 60.0, 8.0])
    np.testing.assert_allclose(c, exact, rtol=1e-8)


def test_closed_form_single_step():
    # one step SO2 → SO4 with deposition: A = A0 e^{-ka t}, B = ν k A0 (e^{-lb t}-e^{-ka t})/(ka-lb)
    k, la, lb, t, a0 = 3e-5, 1e-5, 2e-6, 5400.0, 10.0
    c, _ = ch.chemistry_step(np.array([a0, 0.0]), t, {"SO2->SO4": k}, species=("SO2", "SO4"),
                             loss={"dry": {"SO2": la, "SO4": lb}})
    ka = k + la
    nu = 96.056 / 64.058
    assert c[0] == pytest.approx(a0 * math.exp(-ka * t), rel=1e-13)
    assert c[1] == pytest.approx(nu * k * a0 * (math.exp(-lb * t) - math.exp(-ka * t)) / (ka - lb),
                                 rel=1e-12)


# ------------------------------------------------------------------------------------ budgets
def _state(shape=(3, 4, 5), seed=1):
    rng = np.random.default_rng(seed)
    scale = np.array([30.0, 10.0, 50.0, 8.0, 12.0, 4.0, 20.0, 15.0, 2.0])
    return scale[:, None, None, None] * rng.uniform(0.1, 1.0, (len(ch.SPECIES),) + shape)


@pytest.mark.parametrize("temperature", [None, 271.0])
def test_sulfur_and_nitrogen_budgets_close(temperature):
    c0 = _state()
    c = c0.copy()
    lost = {"S": 0.0, "N": 0.0}
    rng = np.random.default_rng(4)
    for step in range(40):
        solar = 600.0 if step % 10 < 5 else 0.0
        nox_ppm = c[2] / M["NOx"] * 24.45e-3
        rates = ch.conversion_rates(85.0, solar_radiation=solar, stability_class=4,
                                    ozone=0.04, nox=nox_ppm)
        loss = ch.removal_rates(c, dz_lowest=50.0, nz=3, precipitation=rng.uniform(0, 3))
        c, budget = ch.chemistry_step(c, rng.uniform(60, 900), rates, loss=loss,
                                      temperature=temperature)
        for el in lost:
            lost[el] = lost[el] + sum(ch.budget_moles(budget, el).values())
        assert (c >= 0).all()
    for el in ("S", "N"):
        start = ch.moles(c0, el).sum()
        end = ch.moles(c, el).sum() + np.sum(lost[el])
        assert end == pytest.approx(start, rel=1e-12)
        assert np.sum(lost[el]) > 0.01 * start  # removal really happened


def test_dry_deposition_only_in_lowest_layer():
    c = _state()
    loss = ch.removal_rates(c, dz_lowest=50.0, nz=3)
    new, _ = ch.chemistry_step(c, 3600.0, {}, loss=loss, neutralise=False)
    i = ch.SPECIES.index("SO2")
    assert np.all(new[i, 1:] == c[i, 1:])
    np.testing.assert_allclose(new[i, 0], c[i, 0] * np.exp(-0.005 / 50.0 * 3600.0), rtol=1e-14)


# ----------------------------------------------------------------------------- neutralisation
def _umol(**kw):
    return {k: v * M[k] for k, v in kw.items()}  # µmol/m³ → µg/m³


@pytest.mark.parametrize(("nh3", "nh4_exp", "pno3_exp"), [
    (0.5, 0.4, 0.2),    # NH3-rich: (NH4)2SO4 + all nitrate as NH4NO3, 0.1 left as gas
    (0.25, 0.25, 0.05),  # sulfate takes 0.2, nitrate the rest
    (0.15, 0.15, 0.0),  # NH3-poor: all to (partly neutralised) sulfate, nitrate stays HNO3
    (0.0, 0.0, 0.0),    # no ammonia
])
def test_neutralisation_cases(nh3, nh4_exp, pno3_exp):
    d = _umol(SO4=0.1, NO3=0.2, NH3=nh3 * 0.6, NH4=nh3 * 0.4)  # ammonia split both ways
    out = ch.ammonium_neutralisation(d["SO4"], d["NO3"], d["NH3"], d["NH4"])
    assert out["NH4"] / M["NH4"] == pytest.approx(nh4_exp, abs=1e-15)
    assert out["NO3_particulate"] / M["NO3"] == pytest.approx(pno3_exp, abs=1e-15)
    assert out["NH3"] / M["NH3"] == pytest.approx(nh3 - nh4_exp, abs=1e-15)
    assert (out["HNO3"] + out["NO3_particulate"]) == pytest.approx(d["NO3"], rel=1e-15)
    # PM2.5 of the neutralised state
    state = {"SO4": d["SO4"], "NO3": d["NO3"], "NH3": out["NH3"], "NH4": out["NH4"],
             "PPM25": 7.0}
    expected = 7.0 + d["SO4"] + pno3_exp * M["NO3"] + nh4_exp * M["NH4"]
    assert ch.pm25(state) == pytest.approx(expected, rel=1e-14)


def test_nitrate_equilibrium_follows_mozurkewich():
    d = _umol(SO4=0.05, NO3=0.4, NH3=0.5, NH4=0.0)
    t = 288.0
    out = ch.ammonium_neutralisation(d["SO4"], d["NO3"], d["NH3"], d["NH4"], temperature=t)
    kp_ppb2 = math.exp(118.87 - 24084.0 / t - 6.025 * math.log(t))  # Mozurkewich (1993)
    ppb = 1e3 * 8.314462618 * t / 101325.0  # ppb per µmol/m³
    product = (out["NH3"] / M["NH3"] * ppb) * (out["HNO3"] / M["NO3"] * ppb)
    assert product == pytest.approx(kp_ppb2, rel=1e-9)
    warm = ch.ammonium_neutralisation(d["SO4"], d["NO3"], d["NH3"], d["NH4"], temperature=303.0)
    cold = ch.ammonium_neutralisation(d["SO4"], d["NO3"], d["NH3"], d["NH4"], temperature=255.0)
    assert warm["NO3_particulate"] < out["NO3_particulate"] < cold["NO3_particulate"]
    # with excess ammonia, cold air approaches complete neutralisation (Kp → 0)
    rich = _umol(SO4=0.05, NO3=0.4, NH3=0.8, NH4=0.0)
    complete = ch.ammonium_neutralisation(rich["SO4"], rich["NO3"], rich["NH3"], rich["NH4"])
    cold = ch.ammonium_neutralisation(rich["SO4"], rich["NO3"], rich["NH3"], rich["NH4"],
                                      temperature=255.0)
    assert cold["NO3_particulate"] == pytest.approx(complete["NO3_particulate"], rel=1e-3)
    assert cold["NO3_particulate"] < complete["NO3_particulate"]


# ------------------------------------------------------------------------------------ rates
def test_mesopuff2_daytime_rates_by_hand():
    r = ch.mesopuff2_rates(500.0, 4, 0.04, 80.0, 0.01)
    k1 = 36 * 0.5 ** 0.55 * 0.04 ** 0.71 * 4 ** -1.29 + 3e-8 * 80.0 ** 4  # %/h, R in kW/m²
    k2 = 1206 * 0.04 ** 1.5 * 4 ** -1.41 * 0.01 ** -0.33
    k3 = 1261 * 0.04 ** 1.45 * 4 ** -1.34 * 0.01 ** -0.12
    assert k1 == pytest.approx(1.647, abs=1e-3)  # 0.419 gas phase + 1.229 aqueous
    assert float(r["SO2->SO4"]) == pytest.approx(k1 * PCT_H, rel=1e-12)
    assert float(r["NOx->NO3"]) == pytest.approx(k3 * PCT_H, rel=1e-12)
    assert float(r["NOx->NO3"] + r["NOx->RNO3"]) == pytest.approx(k2 * PCT_H, rel=1e-12)


def test_mesopuff2_night_and_stability_index():
    r = ch.mesopuff2_rates(0.0, 6, 0.04, 90.0, 0.02)
    assert float(r["SO2->SO4"]) == pytest.approx(0.2 * PCT_H, rel=1e-14)
    assert float(r["NOx->NO3"]) == pytest.approx(2.0 * PCT_H, rel=1e-14)
    assert float(r["NOx->RNO3"]) == 0.0
    a = ch.mesopuff2_rates(700.0, 1, 0.05, 50.0, 0.02)
    b = ch.mesopuff2_rates(700.0, 2, 0.05, 50.0, 0.02)
    assert all(float(a[k]) == float(b[k]) for k in a)  # S = 2 for classes A and B


def test_sulfate_rate_monotonic_in_rh():
    rh = np.linspace(0, 100, 51)
    day = ch.mesopuff2_rates(400.0, 4, 0.04, rh, 0.01)["SO2->SO4"]
    night = ch.mesopuff2_rates(0.0, 4, 0.04, rh, 0.01)["SO2->SO4"]
    assert np.all(np.diff(day) > 0)
    assert np.all(np.diff(night) >= 0)
    assert day[-1] - day[0] == pytest.approx(3.0 * PCT_H, rel=1e-12)  # 3e-8·100⁴ %/h


def test_rates_reject_bad_input():
    with pytest.raises(OutOfRangeError, match="relative_humidity"):
        ch.mesopuff2_rates(500.0, 4, 0.04, 120.0, 0.01)
    with pytest.raises(NonFiniteValueError, match="ozone"):
        ch.mesopuff2_rates(500.0, 4, np.nan, 50.0, 0.01)
    with pytest.raises(MissingFieldError, match="nox"):
        ch.conversion_rates(50.0, solar_radiation=100.0, stability_class=3)
    with pytest.raises(UnknownFieldError, match="mesopuff2"):
        ch.conversion_rates(50.0, scheme="mesopuf2")
    with pytest.raises(UnknownFieldError, match="SO2->SO4"):
        ch.chemistry_step(_state(), 60.0, {"SO2->S04": 1e-5})


def test_constant_scheme():
    r = ch.conversion_rates(scheme="constant", so2_to_so4=1.0, nox_to_no3=5.0)
    assert float(r["SO2->SO4"]) == pytest.approx(1.0 / 360000.0, rel=1e-14)
    assert float(r["NOx->NO3"]) == pytest.approx(5.0 / 360000.0, rel=1e-14)


def test_removal_rates():
    assert ch.wet_scavenging_rate(2.0, "SO4") == pytest.approx(2e-4)
    assert ch.wet_scavenging_rate(2.0, "SO4", frozen=True) == pytest.approx(6e-5)
    assert ch.wet_scavenging_rate(1.0, "HNO3") == pytest.approx(6e-5)
    assert ch.dry_deposition_loss(0.005, 50.0) == pytest.approx(1e-4)
    with pytest.raises(UnknownFieldError, match="SO2"):
        ch.wet_scavenging_rate(1.0, "S02")
    with pytest.raises(OutOfRangeError, match="dz_lowest"):
        ch.dry_deposition_loss(0.005, 0.0)
    # NO3 pool: gas HNO3 removed faster than nitrate particles
    acid = {"SO4": 10.0, "NO3": 5.0, "NH3": 0.0, "NH4": 0.0}
    neutral = {"SO4": 0.0, "NO3": 5.0, "NH3": 0.0, "NH4": 5.0 / M["NO3"] * M["NH4"]}
    wa = ch.removal_rates(acid, precipitation=1.0)["wet"]["NO3"]
    wn = ch.removal_rates(neutral, precipitation=1.0)["wet"]["NO3"]
    assert wa == pytest.approx(6e-5) and wn == pytest.approx(1e-4)


def test_positivity_for_huge_steps():
    c = _state()
    rates = {"SO2->SO4": 1e-2, "NOx->NO3": 5e-3, "NOx->RNO3": 1e-3}
    loss = {"wet": {s: 1e-2 for s in ch.SPECIES}}
    new, budget = ch.chemistry_step(c, 1e7, rates, loss=loss)
    assert np.all(np.isfinite(new)) and np.all(new >= 0)
    assert ch.moles(c, "S").sum() == pytest.approx(
        ch.moles(new, "S").sum() + sum(ch.budget_moles(budget, "S").values()).sum(), rel=1e-12)


def test_numpy_and_dask_xarray_agree():
    c = _state(shape=(2, 6, 8))
    met_rh = np.linspace(40, 95, 48).reshape(6, 8)
    nox = c[2] / M["NOx"] * 24.45e-3
    rates_np = ch.conversion_rates(met_rh, solar_radiation=350.0, stability_class=3,
                                   ozone=0.05, nox=nox)
    loss_np = ch.removal_rates(c, dz_lowest=40.0, nz=2, precipitation=1.5)
    out_np, _ = ch.chemistry_step(c, 600.0, rates_np, loss=loss_np, temperature=275.0)

    dims = ("species", "z", "y", "x")
    cx = xr.DataArray(c, dims=dims, coords={"species": list(ch.SPECIES)}).chunk({"y": 3})
    rhx = xr.DataArray(met_rh, dims=("y", "x")).chunk({"y": 3})
    noxx = cx.sel(species="NOx") / M["NOx"] * 24.45e-3
    rates_x = ch.conversion_rates(rhx, solar_radiation=350.0, stability_class=3, ozone=0.05,
                                  nox=noxx)
    loss_x = ch.removal_rates(cx, dz_lowest=40.0, nz=2, precipitation=1.5)
    out_x, _ = ch.chemistry_step(cx, 600.0, rates_x, loss=loss_x, temperature=275.0)
    assert out_x.chunks is not None  # still lazy
    np.testing.assert_allclose(out_x.transpose(*dims).values, out_np, rtol=1e-13, atol=0)
    np.testing.assert_allclose(ch.pm25(out_x).values, ch.pm25(out_np), rtol=1e-13)
