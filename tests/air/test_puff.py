"""The Gaussian puff model: analytic 3-D puff, puff–plume consistency, winds, budget, numpy = dask."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import Inventory, Receptors
from ecodss.air import gaussian_plume
from ecodss.air import plume as kernels
from ecodss.air.puff import gaussian_puff, virtual_distance
from ecodss.errors import (
    InvalidValueError,
    MetError,
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    UnknownFieldError,
)
from ecodss.registry import get_model

STACK = dict(id=["S"], x=[0.0], y=[0.0], stack_height=[10.0], stack_diameter=[1.0],
             exit_velocity=[10.0], exit_temperature=[400.0])
PASSIVE = dict(plume_rise=False, downwash=False)


def station_met(n, ws=5.0, wd=270.0, cls=4, zi=5000.0):
    t = pd.date_range("2026-01-10", periods=n, freq="h")

    def series(v, dtype=float):
        return ("time", np.broadcast_to(np.asarray(v, dtype), (n,)).copy())

    return xr.Dataset({"wind_speed": series(ws), "wind_direction": series(wd),
                       "air_temperature": series(280.0), "stability_class": series(cls, int),
                       "mixing_height": series(zi)}, coords={"time": t})


@pytest.fixture
def inventory():
    return Inventory.from_points(pd.DataFrame({**STACK, "PM2.5": [1.0]}))


def one_puff_rates(met, q=1.0):
    """Emission only in the first hour: with release_step = 1 h, a single puff of q·3600 g."""
    data = np.zeros((met.sizes["time"], 1))
    data[0] = q
    return xr.DataArray(data, dims=("time", "source"),
                        coords={"time": met["time"], "source": ["S"]})


def analytic_puff(x, y, z, t, mass, u, kh, kz, z0):
    """Reference §5.1: the 3-D instantaneous puff with total ground reflection [g/m³]."""
    return (mass / ((4 * np.pi * t) ** 1.5 * np.sqrt(kh * kh * kz))
            * np.exp(-((x - u * t) ** 2 + y**2) / (4 * kh * t))
            * (np.exp(-((z - z0) ** 2) / (4 * kz * t)) + np.exp(-((z + z0) ** 2) / (4 * kz * t))))


# ------------------------------------------------------------------ analytic puff (acceptance)
@pytest.mark.parametrize("chunks", [None, {"time": 1, "receptor": 20000}], ids=["numpy", "dask"])
@pytest.mark.parametrize("hours", [1, 2])
def test_single_puff_matches_analytic_3d_puff(inventory, hours, chunks):
    kh, kz, u, z0 = 10.0, 1.0, 5.0, 10.0
    met = station_met(3, ws=u, wd=270.0, cls=5)  # E: no lid, ground reflection only
    t = hours * 3600.0
    sh, sv = np.sqrt(2 * kh * t), np.sqrt(2 * kz * t)
    x = u * t + np.arange(-6 * sh, 6 * sh, sh / 5)
    y = np.arange(-6 * sh, 6 * sh, sh / 5)
    z = (np.arange(50) + 0.5) * sv / 6  # up to ~8 σz, cell-centred
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
    ds = gaussian_puff(inventory, met, Receptors(X.ravel(), Y.ravel(), Z.ravel()),
                       pollutant="PM2.5", release_step=3600.0, sampling="snapshot",
                       sigmas="k-theory", diffusivity=(kh, kz), emission_rates=one_puff_rates(met),
                       domain=(-1e6, -1e6, 1e6, 1e6), chunks=chunks, **PASSIVE)
    c = ds["concentration"].values[hours - 1].reshape(X.shape) * 1e-6  # g/m³
    mass = 3600.0
    dv = (sh / 5) ** 2 * (sv / 6)
    assert c.sum() * dv == pytest.approx(mass, rel=0.02)
    w = c / c.sum()
    assert abs((w * X).sum() - u * t) <= 0.02 * u * t
    assert abs((w * Y).sum()) <= 0.02 * sh
    assert (w * (X - u * t) ** 2).sum() == pytest.approx(2 * kh * t, rel=0.02)
    assert (w * Y**2).sum() == pytest.approx(2 * kh * t, rel=0.02)
    # reflected half-Gaussian: E[z²] = σz² + z0²
    assert (w * Z**2).sum() == pytest.approx(2 * kz * t + z0**2, rel=0.02)
    ref = analytic_puff(X, Y, Z, t, mass, u, kh, kz, z0)
    core = ref > 1e-3 * ref.max()
    np.testing.assert_allclose(c[core], ref[core], rtol=1e-6)


# ------------------------------------------------------------------ puff–plume consistency
@pytest.mark.parametrize("cls", [4, 6])
def test_continuous_release_approaches_gaussian_plume(inventory, cls):
    met = station_met(4, ws=5.0, wd=270.0, cls=cls)
    xs = np.array([1000.0, 2000.0, 4000.0, 8000.0])
    X, F = np.meshgrid(xs, [-1.0, 0.0, 0.5, 1.5], indexing="ij")
    rec = Receptors(X.ravel(), (F * kernels.sigma_y_rural(X, cls)).ravel())
    puff = gaussian_puff(inventory, met, rec, pollutant="PM2.5", temporal=False, **PASSIVE)
    plume_c = gaussian_plume(inventory, met, rec, pollutant="PM2.5", temporal=False, **PASSIVE)
    last_puff, last_plume = (d["concentration"].values[-1] for d in (puff, plume_c))
    assert last_plume.min() > 0
    np.testing.assert_allclose(last_puff, last_plume, rtol=0.05)
    # in the first hour the puffs have not reached 8 km for the whole hour: clearly below
    first = puff["concentration"].values[0] / plume_c["concentration"].values[0]
    assert first[X.ravel() == 8000.0].max() < 0.8


def test_custom_sigma_callable_matches_plume_with_same_sigmas(inventory):
    def sig(x, cls):  # K-theory slender plume: σ² = 2 K x / u
        return np.sqrt(2 * 20.0 * x / 5.0), np.sqrt(2 * 2.0 * x / 5.0)

    met = station_met(4, ws=5.0, cls=4)
    rec = Receptors(np.array([3000.0, 5000.0, 5000.0]), np.array([0.0, 0.0, 150.0]))
    kw = dict(pollutant="PM2.5", temporal=False, sigmas=sig, anemometer_height=10.0, **PASSIVE)
    a = gaussian_puff(inventory, met, rec, **kw)["concentration"].values[-1]
    b = gaussian_plume(inventory, met, rec, **kw)["concentration"].values[-1]
    np.testing.assert_allclose(a, b, rtol=0.05)


# ------------------------------------------------------------------ winds varying in time, space
def test_wind_shift_turns_the_plume(inventory):
    met = station_met(5, ws=4.0, cls=4)
    met["wind_direction"][:] = [270.0, 270.0, 180.0, 180.0, 180.0]  # west wind, then south wind
    rec = Receptors.polar(0.0, 0.0, [3000.0], [0.0, 90.0, 180.0, 270.0])  # N, E, S, W
    c = gaussian_puff(inventory, met, rec, pollutant="PM2.5", temporal=False,
                      **PASSIVE)["concentration"].values
    north, east = c[:, 0], c[:, 1]
    assert east[1] > 100 * max(north[1], 1e-30)
    assert north[-1] > 100 * max(east[-1], 1e-30)
    assert c[:, 2:].max() < 1e-6 * c.max()  # never blows toward S or W


def gridded(met_station, xs, ys):
    """Gridded twin of station met: the same wind everywhere."""
    rad = np.deg2rad(met_station["wind_direction"].values)
    ws = met_station["wind_speed"].values
    shape = (met_station.sizes["time"], ys.size, xs.size)
    u = np.broadcast_to((-ws * np.sin(rad))[:, None, None], shape)
    v = np.broadcast_to((-ws * np.cos(rad))[:, None, None], shape)
    return xr.Dataset({"u": (("time", "y", "x"), u.copy()), "v": (("time", "y", "x"), v.copy()),
                       "stability_class": met_station["stability_class"],
                       "mixing_height": met_station["mixing_height"],
                       "air_temperature": met_station["air_temperature"]},
                      coords={"time": met_station["time"], "x": xs, "y": ys})


def test_uniform_gridded_met_equals_station_met(inventory):
    st = station_met(4, ws=3.0, wd=240.0, cls=3, zi=800.0)
    st["wind_direction"][:] = [240.0, 250.0, 260.0, 300.0]
    grid = gridded(st, np.linspace(-30e3, 30e3, 13), np.linspace(-30e3, 30e3, 11))
    rec = Receptors.grid(np.linspace(-10e3, 10e3, 21), np.linspace(-10e3, 10e3, 21))
    kw = dict(pollutant="PM2.5", temporal=False, domain=(-30e3, -30e3, 30e3, 30e3))
    a = gaussian_puff(inventory, st, rec, **kw)["concentration"].values
    b = gaussian_puff(inventory, grid, rec, **kw)["concentration"].values
    assert a.max() > 1.0
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * a.max())


def test_space_varying_wind_bends_the_trajectory(inventory):
    st = station_met(4, ws=5.0, cls=4)
    xs, ys = np.linspace(-20e3, 40e3, 61), np.linspace(-20e3, 40e3, 61)
    met = gridded(st, xs, ys)
    east = xs[None, None, :] >= 5000.0  # west of x = 5 km: wind toward east; beyond: toward north
    met["u"][:] = np.where(east, 0.0, 5.0)
    met["v"][:] = np.where(east, 5.0, 0.0)
    rec = Receptors(np.array([5000.0, 15000.0]), np.array([10000.0, 0.0]))
    c = gaussian_puff(inventory, met, rec, pollutant="PM2.5", temporal=False,
                      **PASSIVE)["concentration"].values[-1]
    assert c[0] > 1e3 * max(c[1], 1e-30)  # the plume turned north at x ≈ 5 km


# ------------------------------------------------------------------ budget
def test_mass_budget_closes_and_exits_are_counted(inventory):
    met = station_met(6, ws=5.0, cls=4)
    rec = Receptors(np.array([2000.0]), np.array([0.0]))
    ds = gaussian_puff(inventory, met, rec, pollutant="PM2.5", temporal=False,
                       domain=(-5e3, -5e3, 20e3, 5e3), half_life=7200.0, **PASSIVE)
    emitted = ds["mass_emitted"].values
    np.testing.assert_allclose(emitted, 3600.0 * np.arange(1, 7), rtol=1e-12)
    total = sum(ds[f"mass_{n}"].values for n in ("in_domain", "exited", "expired", "decayed"))
    np.testing.assert_allclose(total, emitted, rtol=1e-12)
    # puffs cross the 20 km to the east edge in 20 km / 5 m/s = 4000 s: of the last 6 h of
    # emissions at most ~4000 s worth (less the decay) is still inside
    assert ds["mass_in_domain"].values[-1] < 4300.0
    assert ds["mass_exited"].values[-1] > 0.5 * emitted[-1]
    assert ds["mass_decayed"].values[-1] > 0
    # max_age 1800 s: after each step the puffs aged 300…1500 s remain, 5 × 300 g
    aged = gaussian_puff(inventory, met, rec, pollutant="PM2.5", temporal=False, max_age=1800.0,
                         domain=(-1e6, -1e6, 1e6, 1e6), **PASSIVE)
    np.testing.assert_allclose(aged["mass_in_domain"].values, 1500.0, rtol=1e-12)
    np.testing.assert_allclose(aged["mass_expired"].values,
                               aged["mass_emitted"].values - 1500.0, rtol=1e-12)
    assert aged["mass_exited"].values[-1] == 0.0


# ------------------------------------------------------------------ virtual distance
@pytest.mark.parametrize("urban", [False, True])
def test_virtual_distance_inverts_the_sigma_curves(urban):
    x = np.array([150.0, 700.0, 2500.0, 12000.0])
    for cls in range(1, 7):
        sy, sz = kernels.sigmas(x, cls, urban)
        np.testing.assert_allclose(virtual_distance(sy, cls, component="y", urban=urban), x,
                                   rtol=2e-3)
        ok = sz < kernels.SIGMA_Z_MAX * 0.999  # the 5000 m cap has no unique inverse
        np.testing.assert_allclose(
            virtual_distance(sz, cls, component="z", urban=urban)[ok], x[ok], rtol=2e-3)


def test_stability_change_keeps_sigma_continuous(inventory):
    """D then F: snapshot σ after the switch follows σ_F(x_v + Δs) with σ_F(x_v) = σ_D(s)."""
    met = station_met(2, ws=5.0, cls=4)
    met["stability_class"][:] = [4, 6]
    kw = dict(pollutant="PM2.5", release_step=3600.0, sampling="snapshot",
              emission_rates=one_puff_rates(met), domain=(-1e6, -1e6, 1e6, 1e6),
              anemometer_height=10.0, **PASSIVE)
    ds = gaussian_puff(inventory, met, Receptors(np.array([18000.0, 36000.0]),
                                                 np.array([0.0, 0.0])), **kw)
    u = 5.0  # stack at anemometer height: no profile factor
    sy_d, sz_d = kernels.sigmas(u * 3600.0, 4)
    xv_y = virtual_distance(sy_d, 6, component="y")
    xv_z = virtual_distance(sz_d, 6, component="z")
    sy_f = kernels.sigma_y_rural(xv_y + u * 3600.0, 6)
    sz_f = kernels.sigma_z_rural(xv_z + u * 3600.0, 6)
    c = ds["concentration"].values * 1e-6

    def centre(sy, sz):  # puff centre at ground level, release height 10 m, ground reflection
        return 3600.0 / (2 * np.pi * sy**2 * kernels.SQRT_2PI * sz) * 2 * np.exp(-50.0 / sz**2)

    expect = np.array([centre(sy_d, sz_d), centre(sy_f, sz_f)])
    np.testing.assert_allclose([c[0, 0], c[1, 1]], expect, rtol=5e-3)
    # the F curve reaches σ_D(18 km) only farther out; growth then continues on the F curve
    assert kernels.sigma_y_rural(xv_y, 6) == pytest.approx(sy_d, rel=2e-3)
    assert xv_y > u * 3600.0 and sy_f > sy_d


# ------------------------------------------------------------------ numpy = dask, metadata
def test_dask_equals_numpy_on_a_grid(inventory, varied_met):
    met = varied_met(6, seed=5)
    rec = Receptors.grid(np.linspace(-5e3, 5e3, 31), np.linspace(-4e3, 4e3, 25))
    kw = dict(pollutant="PM2.5", temporal=False)
    eager = gaussian_puff(inventory, met, rec, **kw)
    lazy = gaussian_puff(inventory, met, rec, chunks={"time": 4, "y": 10, "x": 12}, **kw)
    assert lazy["concentration"].chunks is not None
    a, b = eager["concentration"].values, lazy["concentration"].values
    assert a.max() > 0 and a.shape == (6, 25, 31)
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * a.max())


def test_output_metadata_and_registry(inventory):
    assert get_model("gaussian_puff").func is gaussian_puff
    ds = gaussian_puff(inventory, station_met(2), Receptors(np.array([1000.0]), np.array([0.0])),
                       pollutant="PM2.5")
    assert ds["concentration"].attrs["units"] == "ug m-3"
    assert ds["concentration"].attrs["cell_methods"] == "time: mean"
    assert all(ds[f"mass_{n}"].attrs["units"] == "g" for n in ("emitted", "exited"))


# ------------------------------------------------------------------ bad input
def test_bad_inputs_raise_named_errors(inventory):
    met = station_met(2)
    rec = Receptors(np.array([1000.0]), np.array([0.0]))

    def run(m=met, **kw):
        return gaussian_puff(inventory, m, rec, **{"pollutant": "PM2.5", **kw})

    with pytest.raises(InvalidValueError, match="release_step"):
        run(release_step=7.0)
    with pytest.raises(UnknownFieldError, match="sampling"):
        run(sampling="average")
    with pytest.raises(UnknownFieldError, match="sigmas"):
        run(sigmas="gaussian")
    with pytest.raises(MissingFieldError, match="diffusivity"):
        run(sigmas="k-theory")
    with pytest.raises(MissingFieldError, match="SO2"):
        run(pollutant="SO2")
    with pytest.raises(InvalidValueError, match="domain"):
        run(domain=(0.0, 0.0, -1.0, 1.0))
    bad = one_puff_rates(met)
    bad[0, 0] = -1.0
    with pytest.raises(NegativeValueError, match="emission_rates"):
        run(emission_rates=bad)
    gaps = met.assign_coords(time=met["time"].values + np.array([0, 2], "timedelta64[h]"))
    with pytest.raises(MetError, match="consecutive hours"):
        run(gaps)
    grid = gridded(met, np.linspace(-5e3, 5e3, 3), np.linspace(-5e3, 5e3, 3))
    with pytest.raises(MissingFieldError, match="stability_class"):
        run(grid.drop_vars("stability_class"))
    grid["u"][0, 1, 1] = np.nan
    with pytest.raises(NonFiniteValueError, match="u="):
        run(grid)


def test_area_sources_are_reported_not_silently_dropped():
    inv = Inventory(points=pd.DataFrame({**STACK, "PM2.5": [1.0]}),
                    areas=pd.DataFrame({"id": ["A"], "x": [0.0], "y": [0.0], "width": [100.0],
                                        "height": [100.0], "PM2.5": [1.0]}))
    with pytest.warns(UserWarning, match="area sources"):
        gaussian_puff(inv, station_met(1), Receptors(np.array([500.0]), np.array([0.0])),
                      pollutant="PM2.5")
