"""The Gaussian plume model: ISC3 parity, analytic solutions, conservation, numpy = dask."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import EcodssError, Inventory, MissingFieldError, Receptors, UnknownFieldError
from ecodss.air import gaussian_plume, period_average
from ecodss.air import plume as kernels
from ecodss.io import read_rammet

ISC_STACK = dict(id=["STACK1"], x=[0.0], y=[0.0], stack_height=[35.0], stack_diameter=[2.4],
                 exit_velocity=[11.7], exit_temperature=[432.0], SO2=[1.0])


def read_isc_plot(path):
    rows = [line.split() for line in path.read_text().splitlines() if not line.startswith("*")]
    return np.array([[float(r[0]), float(r[1]), float(r[2])] for r in rows])


@pytest.fixture(scope="module")
def isc_case(shared_dir):
    met = read_rammet(shared_dir / "air" / "iscst3_testst" / "PREPIT.ASC").isel(
        time=slice(0, 240))  # ISC run used DAYRANGE 1-10
    inv = Inventory.from_points(pd.DataFrame(ISC_STACK))
    rec = Receptors.polar(0.0, 0.0, [100.0, 300.0, 1000.0, 3000.0, 10000.0],
                          np.arange(10.0, 361.0, 10.0))
    ds = gaussian_plume(inv, met, rec, pollutant="SO2", anemometer_height=6.096, temporal=False)
    return met, inv, rec, ds, shared_dir / "air" / "iscst3_testst" / "nobldg_reference"


#: Every analytic test runs eagerly and dask-chunked (the numbers must agree).
EAGER_AND_DASK = pytest.mark.parametrize("chunks", [None, {"time": 2, "receptor": 37}],
                                         ids=["numpy", "dask"])


def _isc_tolerance(ref):
    return 5e-5 + 1e-3 * np.abs(ref)


def test_isc3_rural_hourly_day1(isc_case):
    _, _, rec, ds, ref_dir = isc_case
    ref = read_isc_plot(ref_dir / "isc_rural_1hr_day1.pst")
    np.testing.assert_allclose(ref[:180, 0], rec.x, atol=0.01)  # same order (ISC: float32)
    ref_c = ref[:, 2].reshape(24, 180)
    got = ds["concentration"].values[:24]
    assert np.all(np.abs(got - ref_c) <= _isc_tolerance(ref_c))
    assert ref_c.max() > 1.0  # the comparison covers real plume impacts


def test_isc3_rural_highest_1h_all_classes(isc_case):
    met, _, _, ds, ref_dir = isc_case
    assert set(np.unique(met["stability_class"].values)) >= {3, 4, 5, 6}
    ref = read_isc_plot(ref_dir / "isc_rural_1hr_1st.plt")[:, 2]
    got = ds["concentration"].max("time").values
    assert np.all(np.abs(got - ref) <= _isc_tolerance(ref))


def test_isc3_rural_period_leaves_calms_out(isc_case):
    _, _, _, ds, ref_dir = isc_case
    assert int(ds["calm"].sum()) >= 1
    ref = read_isc_plot(ref_dir / "isc_rural_period.plt")[:, 2]
    got = period_average(ds).values
    assert np.all(np.abs(got - ref) <= _isc_tolerance(ref))
    # counting calm hours in the denominator would miss the reference
    naive = ds["concentration"].mean("time").values
    assert np.any(np.abs(naive - ref) > _isc_tolerance(ref))


def test_calm_hours_are_zero_and_flagged(isc_case):
    met, _, _, ds, _ = isc_case
    calm = met["wind_speed"].values == 0
    assert np.array_equal(ds["calm"].values.astype(bool), calm)
    assert np.all(ds["concentration"].values[calm] == 0.0)


def test_isc_case_dask_equals_numpy(isc_case):
    met, inv, rec, ds, _ = isc_case
    lazy = gaussian_plume(inv, met.chunk({"time": 48}), rec, pollutant="SO2",
                          anemometer_height=6.096, temporal=False,
                          chunks={"time": 48, "receptor": 50})
    assert lazy["concentration"].chunks is not None
    np.testing.assert_allclose(lazy["concentration"].values, ds["concentration"].values,
                               rtol=1e-12, atol=0)


def _steady_met(n=3, speed=4.0, direction=270.0, cls=5, mixing_height=10000.0, ta=283.0):
    t = pd.date_range("2026-01-10", periods=n, freq="h")
    return xr.Dataset({
        "wind_speed": ("time", np.full(n, speed), {"units": "m s-1"}),
        "wind_direction": ("time", np.full(n, direction), {"units": "degree"}),
        "air_temperature": ("time", np.full(n, ta), {"units": "K"}),
        "stability_class": ("time", np.full(n, cls)),
        "mixing_height": ("time", np.full(n, mixing_height), {"units": "m"}),
    }, coords={"time": t})


def _passive_stack(h=50.0, q=10.0, **extra):
    return Inventory.from_points(pd.DataFrame(dict(
        id=["S"], x=[0.0], y=[0.0], stack_height=[h], stack_diameter=[1.0], exit_velocity=[1.0],
        exit_temperature=[300.0], SO2=[q], **extra)))


@EAGER_AND_DASK
def test_slender_plume_analytic_k_theory(chunks):
    """σ² = 2Kx/u reproduces the continuous point source solution (air_formulas.md §5.1)."""
    u, ky, kz, h, q = 4.0, 30.0, 5.0, 50.0, 10.0

    def k_sigmas(x, cls):
        return np.sqrt(2 * ky * x / u), np.sqrt(2 * kz * x / u)

    xs = np.array([200.0, 500.0, 1000.0, 3000.0])
    ys = np.array([-150.0, -40.0, 0.0, 25.0, 120.0])
    zs = np.array([0.0, 20.0, 50.0, 90.0])
    X, Y, Z = (a.ravel() for a in np.meshgrid(xs, ys, zs, indexing="ij"))
    # wind from the west blows toward +x
    rec = Receptors(x=X, y=Y, z=Z)
    ds = gaussian_plume(_passive_stack(h, q), _steady_met(speed=u, direction=270.0), rec,
                        pollutant="SO2", anemometer_height=h, temporal=False, plume_rise=False,
                        downwash=False, sigmas=k_sigmas, chunks=chunks)
    exact = q * 1e6 / (4 * np.pi * X * np.sqrt(ky * kz)) * np.exp(-u * Y**2 / (4 * ky * X)) * (
        np.exp(-u * (Z - h) ** 2 / (4 * kz * X)) + np.exp(-u * (Z + h) ** 2 / (4 * kz * X)))
    got = ds["concentration"].values[0]
    big = exact > 1e-9 * exact.max()
    np.testing.assert_allclose(got[big], exact[big], rtol=1e-6)
    assert np.all(np.abs(got[~big]) <= 1e-9 * exact.max())


@EAGER_AND_DASK
def test_crosswind_integrated_flux_equals_emission(chunks):
    u, h, q, x = 5.0, 40.0, 7.0, 2000.0
    inv = _passive_stack(h, q)
    met = _steady_met(speed=u, direction=270.0, cls=4)
    sy = kernels.sigma_y_rural(x, 4)
    sz = kernels.sigma_z_rural(x, 4)
    y = np.linspace(-8 * sy, 8 * sy, 801)
    z = np.linspace(0.0, h + 10 * sz, 1201)
    Y, Z = np.meshgrid(y, z, indexing="ij")
    rec = Receptors(x=np.full(Y.size, x), y=Y.ravel(), z=Z.ravel())
    ds = gaussian_plume(inv, met, rec, pollutant="SO2", anemometer_height=h, temporal=False,
                        plume_rise=False, downwash=False,
                        chunks=chunks and {"time": 1, "receptor": 40_000})
    c = ds["concentration"].values[0].reshape(Y.shape) * 1e-6  # g/m3
    flux = np.trapezoid(np.trapezoid(c, z, axis=1), y) * u
    assert flux == pytest.approx(q, rel=1e-4)


def _area_inventory(width, height, q, x=0.0, y=0.0):
    return Inventory.from_areas(pd.DataFrame(dict(
        id=["A"], x=[x], y=[y], width=[width], height=[height], release_height=[0.0], SO2=[q])))


@EAGER_AND_DASK
def test_area_source_matches_infinite_crosswind_line_source(chunks):
    """A long thin ground-level strip = line source: C = 2q/(√(2π) σz u) (Turner 1970 Eq. 5.11)."""
    u, length, q_line = 3.0, 60_000.0, 0.01  # g/(s m)
    inv = _area_inventory(length, 2.0, q_line * length)
    met = _steady_met(speed=u, direction=180.0, cls=4)  # from the south: plume toward +y
    xs = np.array([300.0, 1000.0, 3000.0])
    rec = Receptors(x=np.zeros(3), y=xs)
    ds = gaussian_plume(inv, met, rec, pollutant="SO2", anemometer_height=10.0, temporal=False,
                        chunks=chunks)
    exact = 2 * q_line * 1e6 / (np.sqrt(2 * np.pi) * kernels.sigma_z_rural(xs, 4) * u)
    np.testing.assert_allclose(ds["concentration"].values[0], exact, rtol=1e-3)


@pytest.mark.parametrize(("direction", "cls"), [(200.0, 4), (245.0, 2), (300.0, 6)])
def test_area_integration_converges(direction, cls):
    inv = _area_inventory(1000.0, 1000.0, 50.0)
    met = _steady_met(direction=direction, cls=cls, speed=2.5, mixing_height=800.0)
    ang = np.deg2rad(np.arange(0, 360, 15))
    r = np.array([1500.0, 2500.0, 5000.0])  # beyond one source width from the area
    R, A = np.meshgrid(r, ang)
    rec = Receptors(x=(R * np.sin(A)).ravel(), y=(R * np.cos(A)).ravel())
    runs = [gaussian_plume(inv, met, rec, pollutant="SO2", temporal=False,
                           area_subdivisions=n)["concentration"].values[0] for n in (20, 40)]
    peak = runs[1].max()
    assert peak > 0
    sig = runs[1] > 1e-3 * peak
    rel = np.abs(runs[0][sig] - runs[1][sig]) / runs[1][sig]
    assert rel.max() < 1e-3


def _city_inventory():
    rng = np.random.default_rng(7)
    n = 12
    pts = pd.DataFrame(dict(
        id=[f"P{i}" for i in range(n)], x=rng.uniform(-3000, 3000, n),
        y=rng.uniform(-3000, 3000, n), stack_height=rng.uniform(20, 150, n),
        stack_diameter=rng.uniform(0.5, 5, n), exit_velocity=rng.uniform(3, 20, n),
        exit_temperature=rng.uniform(300, 450, n), SO2=rng.uniform(0.5, 20, n),
        sector=rng.choice(["power", "cement", "boilers"], n)))
    areas = pd.DataFrame(dict(id=["R1", "R2"], x=[-500.0, 1500.0], y=[0.0, 1000.0],
                              width=[1000.0, 1000.0], height=[1000.0, 1000.0],
                              release_height=[5.0, 0.0], SO2=[3.0, 1.5],
                              sector=["residential", "traffic"]))
    return Inventory(points=pts, areas=areas)


@pytest.mark.parametrize("urban", [False, True])
def test_grid_dask_equals_numpy_and_split_sums(urban, varied_met):
    inv, met = _city_inventory(), varied_met()
    rec = Receptors.grid(np.arange(-6000.0, 6001.0, 500.0), np.arange(-5000.0, 5001.0, 500.0))
    eager = gaussian_plume(inv, met, rec, pollutant="SO2", urban=urban, temporal=False)
    c = eager["concentration"]
    assert c.dims == ("time", "y", "x") and c.attrs["units"] == "ug m-3"
    assert float(c.max()) > 0
    lazy = gaussian_plume(inv, met.chunk({"time": 7}), rec, pollutant="SO2", urban=urban,
                          temporal=False, chunks={"time": 7, "y": 9, "x": 11})
    np.testing.assert_allclose(lazy["concentration"].values, c.values, rtol=1e-12, atol=1e-300)
    by_sector = gaussian_plume(inv, met, rec, pollutant="SO2", urban=urban, temporal=False,
                               split_by="sector")["concentration"]
    assert set(by_sector["sector"].values) == {"power", "cement", "boilers", "residential",
                                               "traffic"}
    np.testing.assert_allclose(by_sector.sum("sector").values, c.values, rtol=1e-12, atol=1e-12)
    by_source = gaussian_plume(inv, met, rec, pollutant="SO2", urban=urban, temporal=False,
                               split_by="source", chunks={"time": 12, "y": 10, "x": 25})
    assert by_source["concentration"].sizes["source"] == 14
    np.testing.assert_allclose(by_source["concentration"].sum("source").values, c.values,
                               rtol=1e-12, atol=1e-12)


@EAGER_AND_DASK
def test_urban_so2_half_life_applied(chunks):
    inv = _passive_stack(30.0, 5.0)
    met = _steady_met(speed=3.0, direction=270.0, cls=4, mixing_height=2000.0)
    rec = Receptors(x=[2000.0, 8000.0], y=[0.0, 0.0])
    kw = dict(pollutant="SO2", urban=True, temporal=False, plume_rise=False, downwash=False,
              chunks=chunks)
    decayed = gaussian_plume(inv, met, rec, **kw)["concentration"].values[0]
    plain = gaussian_plume(inv, met, rec, half_life=0, **kw)["concentration"].values[0]
    us = 3.0 * (30.0 / 10.0) ** 0.25  # urban D exponent
    np.testing.assert_allclose(decayed / plain, np.exp(-0.693 * rec.x / (4 * 3600 * us)),
                               rtol=1e-12)


def test_bad_inputs_raise_named_errors():
    inv, met = _passive_stack(), _steady_met()
    rec = Receptors(x=[1000.0], y=[0.0])
    with pytest.raises(MissingFieldError, match="NOx"):
        gaussian_plume(inv, met, rec, pollutant="NOx")
    with pytest.raises(UnknownFieldError, match="split_by"):
        gaussian_plume(inv, met, rec, pollutant="SO2", split_by="county")
    with pytest.raises(MissingFieldError, match="wind_speed"):
        gaussian_plume(inv, met.drop_vars("wind_speed"), rec, pollutant="SO2")
    with pytest.raises(MissingFieldError, match="mixing_height"):
        gaussian_plume(inv, met.drop_vars("mixing_height"), rec, pollutant="SO2")
    bad = met.copy()
    bad["wind_speed"] = bad["wind_speed"] * -1
    with pytest.raises(EcodssError, match="wind_speed"):
        gaussian_plume(inv, bad, rec, pollutant="SO2")
    with pytest.raises(EcodssError, match="anemometer_height"):
        gaussian_plume(inv, met, rec, pollutant="SO2", anemometer_height=-1)


@pytest.mark.parametrize("split_by", [None, "source"])
def test_numba_kernel_equals_numpy_kernel(split_by, varied_met):
    inv, met = _city_inventory(), varied_met(12)
    rec = Receptors.grid(np.arange(-6000.0, 6001.0, 400.0), np.arange(-5000.0, 5001.0, 400.0))
    for urban in (False, True):
        kw = dict(pollutant="SO2", urban=urban, temporal=False, split_by=split_by)
        ref = gaussian_plume(inv, met, rec, backend="numpy", **kw)["concentration"].values
        fast = gaussian_plume(inv, met, rec, backend="numba", **kw)["concentration"].values
        assert ref.max() > 0
        np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-12 * ref.max())


def test_lid_image_sum_fourier_form_is_continuous():
    """The direct image sum and its Poisson dual agree where the evaluation switches."""
    zi, he, z = 600.0, 150.0, np.array([0.0, 50.0, 300.0])
    sz = kernels.IMAGE_FOURIER_SWITCH * zi
    below = kernels.vertical_term(z, he, sz * (1 - 1e-12), zi)
    above = kernels.vertical_term(z, he, sz * (1 + 1e-12), zi)
    np.testing.assert_allclose(below, above, rtol=1e-10)
    # and an independent brute-force image sum with 200 images at σz = 0.9 zi
    s = 0.9 * zi
    n = np.arange(-200, 201)[:, None]
    brute = (np.exp(-0.5 * ((z - he + 2 * n * zi) / s) ** 2)
             + np.exp(-0.5 * ((z + he + 2 * n * zi) / s) ** 2)).sum(0)
    np.testing.assert_allclose(kernels.vertical_term(z, he, s, zi), brute, rtol=1e-12)
