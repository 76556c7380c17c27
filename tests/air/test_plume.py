"""Kernels of the Gaussian plume: σ tables, Briggs rise, vertical term, ARM2."""

import numpy as np
import pytest

from ecodss.air import plume
from ecodss.air._plume_kernel import sigma_z_rural_keyed
from ecodss.air.no2 import arm2_no2, arm2_ratio

# Turner (1970) Workbook of Atmospheric Dispersion Estimates (PHS 999-AP-26), Figs. 3-2/3-3, read
# at x = 1 km [m]; a log-log graph reading is good to ~3 %, hence the tolerance.
TURNER_1KM_SY = {1: 210.0, 2: 155.0, 3: 105.0, 4: 68.0, 5: 50.0, 6: 34.0}
TURNER_1KM_SZ = {1: 450.0, 2: 110.0, 3: 60.0, 4: 32.0, 5: 22.0, 6: 14.0}


@pytest.mark.parametrize("cls", range(1, 7))
def test_pg_sigmas_match_turner_curves_at_1km(cls):
    assert plume.sigma_y_rural(1000.0, cls) == pytest.approx(TURNER_1KM_SY[cls], rel=0.03)
    assert plume.sigma_z_rural(1000.0, cls) == pytest.approx(TURNER_1KM_SZ[cls], rel=0.03)


def test_pg_sigma_z_table_coefficients_at_bracket_edges():
    # ISC3-II Table 1-2: at a bracket's upper edge the lower bracket's (a, b) apply
    assert plume.sigma_z_rural(300.0, 4) == pytest.approx(34.459 * 0.3**0.86974, rel=1e-12)
    assert plume.sigma_z_rural(300.0001, 4) == pytest.approx(32.093 * 0.3000001**0.81066,
                                                              rel=1e-9)
    assert plume.sigma_z_rural(10_000.0, 5) == pytest.approx(24.703 * 10**0.50527, rel=1e-12)
    assert plume.sigma_z_rural(3200.0, 1) == 5000.0  # class A beyond 3.11 km
    assert plume.sigma_z_rural(100e3, 4) == pytest.approx(44.053 * 100**0.51179, rel=1e-12)
    assert plume.sigma_z_rural(1e6, 6) == pytest.approx(34.219 * 1000**0.21716, rel=1e-12)


def test_keyed_sigma_z_equals_per_class_lookup():
    rng = np.random.default_rng(1)
    x = rng.uniform(1.0, 80e3, 5000)
    cls = rng.integers(1, 7, 5000)
    np.testing.assert_array_equal(sigma_z_rural_keyed(x * 1e-3, cls), plume.sigma_z_rural(x, cls))


def test_urban_briggs_sigmas_match_screen3_example(shared_dir):
    # SCREEN3 EXAMPLE (urban, class A, 300 m): sigma-y 90.71 m, sigma-z 82.09 m (examplenew.out)
    text = (shared_dir / "air" / "screen3_examples" / "examplenew.out").read_text(errors="ignore")
    assert "90.71" in text and "82.09" in text
    assert plume.sigma_y_urban(300.0, 1) == pytest.approx(90.71, abs=0.006)
    assert plume.sigma_z_urban(300.0, 1) == pytest.approx(82.09, abs=0.006)


def test_briggs_fluxes_match_screen3_example(shared_dir):
    # SCREEN3 EXAMPLE.DAT: d = 2 m, vs = 15 m/s, Ts = 450 K, Ta = 293 K
    text = (shared_dir / "air" / "screen3_examples" / "examplenew.out").read_text(errors="ignore")
    assert "BUOY. FLUX =   51.319" in text and "MOM. FLUX =  146.500" in text
    assert plume.buoyancy_flux(15.0, 2.0, 450.0, 293.0) == pytest.approx(51.319, abs=5e-4)
    assert plume.momentum_flux(15.0, 2.0, 450.0, 293.0) == pytest.approx(146.5, abs=5e-4)


def test_briggs_fluxes_cold_exhaust():
    assert plume.buoyancy_flux(3.0, 5.0, 280.0, 293.0) == 0.0  # cold exhaust: Ts raised to Ta
    assert plume.momentum_flux(3.0, 5.0, 280.0, 293.0) == pytest.approx(9 * 25 / 4)


def test_briggs_final_rise_cases():
    # Neutral (D), buoyancy dominated with Fb >= 55: Δh = 38.71 Fb^0.6 / u  (ISC3-II Eq. 1-10)
    vs, d, ts, ta, u = 11.7, 2.4, 432.0, 268.7, 6.6863
    fb = plume.buoyancy_flux(vs, d, ts, ta)
    fm = plume.momentum_flux(vs, d, ts, ta)
    dh, xf, xfb, xfm = plume.final_plume_rise(fb, fm, u, vs, d, ts, ta, 4)
    assert fb == pytest.approx(62.45, abs=0.01)
    assert dh == pytest.approx(38.71 * fb**0.6 / u, rel=1e-12)
    assert dh == pytest.approx(69.18, abs=0.01)
    assert xfb == pytest.approx(119 * fb**0.4, rel=1e-12)
    assert xf == max(xfb, xfm)
    # Stable E, buoyant: min(2.6 (Fb/(u s))^(1/3), 4 Fb^(1/4) s^(-3/8)), s = g 0.020 / Ta
    s = 9.80616 * 0.020 / 268.1
    dh_e, *_ = plume.final_plume_rise(fb, fm, 5.6903, vs, d, ts, 268.1, 5)
    assert dh_e == pytest.approx(min(2.6 * (fb / (5.6903 * s)) ** (1 / 3),
                                     4 * fb**0.25 * s**-0.375), rel=1e-12)
    # Small buoyancy flux (< 55) and momentum-dominated jet
    dh_m, *_ = plume.final_plume_rise(0.0, 50.0, 4.0, 20.0, 1.0, 300.0, 300.0, 4)
    assert dh_m == pytest.approx(3 * 1.0 * 20.0 / 4.0, rel=1e-12)
    fb_small = plume.buoyancy_flux(5.0, 1.0, 400.0, 290.0)
    dh_s, *_ = plume.final_plume_rise(fb_small, 1.0, 3.0, 5.0, 1.0, 400.0, 290.0, 3)
    assert fb_small < 55 and dh_s == pytest.approx(21.425 * fb_small**0.75 / 3.0, rel=1e-12)


def test_stack_tip_downwash():
    assert plume.stack_tip_downwash(35.0, 2.4, 11.7, 5.0) == 35.0  # vs >= 1.5 u
    assert plume.stack_tip_downwash(35.0, 2.0, 3.0, 4.0) == pytest.approx(35 + 4 * (0.75 - 1.5))
    assert plume.stack_tip_downwash(1.0, 2.0, 0.0, 4.0) == 0.0


def test_vertical_term_limits():
    sz = np.array([10.0, 100.0, 1000.0])
    # without lid: ground reflection doubles the centreline term for a ground release
    np.testing.assert_allclose(plume.vertical_term(0.0, 0.0, sz), 2.0)
    # well-mixed limit for σz ≥ 1.6 zi and continuity of the image sum just below it
    zi = 500.0
    v_mixed = plume.vertical_term(0.0, 50.0, 1.6 * zi, zi)
    assert v_mixed == pytest.approx(np.sqrt(2 * np.pi) * 1.6, rel=1e-12)
    v_images = plume.vertical_term(0.0, 50.0, 1.6 * zi * (1 - 1e-9), zi)
    assert v_images == pytest.approx(v_mixed, rel=1e-3)
    assert plume.vertical_term(0.0, 600.0, 100.0, zi) == 0.0  # plume above the lid
    # the image sum integrates to √(2π) σz over the layer [0, zi] (mass conserved in the layer)
    z = np.linspace(0, zi, 20001)
    v = plume.vertical_term(z, 120.0, 300.0, zi)
    assert np.trapezoid(v, z) == pytest.approx(np.sqrt(2 * np.pi) * 300.0, rel=1e-6)


def test_decay_term_half_life():
    assert plume.decay_term(4 * 3600 * 5.0, 5.0, 4 * 3600.0) == pytest.approx(np.exp(-0.693))
    assert plume.decay_term(1000.0, 5.0, None) == 1.0


def test_arm2_ratio_bounds_and_polynomial():
    assert arm2_ratio(0.0) == 0.9  # 1.2441 clipped to the maximum
    assert arm2_ratio(1000.0) == 0.5  # clipped to the minimum
    x = 200.0
    expected = sum(c * x**i for i, c in enumerate(
        (1.2441, -2.7383e-3, -5.6062e-6, 3.4555e-8, -5.8345e-11, 4.2795e-14, -1.1723e-17)))
    assert 0.5 < expected < 0.9
    assert arm2_ratio(x) == pytest.approx(expected, rel=1e-12)


def test_arm2_no2_numpy_and_dask_agree():
    xr = pytest.importorskip("xarray")
    nox = np.array([0.0, 50.0, 300.0, 600.0, 2000.0])
    no2 = arm2_no2(nox)
    assert no2[0] == 0.0 and no2[-1] == pytest.approx(0.5 * 2000.0)
    assert np.all(no2 <= 0.9 * nox + 1e-12) and np.all(no2 >= 0.5 * nox - 1e-12)
    lazy = arm2_no2(xr.DataArray(nox, dims="t").chunk({"t": 2}))
    np.testing.assert_allclose(lazy.compute().values, no2, rtol=1e-12, atol=0)
    assert lazy.attrs["units"] == "ug m-3"
