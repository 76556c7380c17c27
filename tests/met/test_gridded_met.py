"""Tests of ecodss.met.gridded: reading CF/WRF-style NetCDF, stability, Kz and Kh."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import GridError, MissingFieldError, OutOfRangeError, UnitError
from ecodss.grid import Grid
from ecodss.met.gridded import (
    KARMAN,
    friction_velocity,
    inverse_obukhov_length,
    kh_smagorinsky,
    kz_profile,
    read_gridded_met,
    stability_class_gridded,
)

GRID = Grid(300000.0, 4200000.0, 5000.0, 5000.0, 4, 3)


def wrf_like(nt=6, **overrides):
    """A WRF-style dataset: WRF names and dims, WRF units (K, kg m-2 s-1 ...)."""
    shape = (nt, GRID.ny, GRID.nx)
    rng = np.random.default_rng(0)
    dims = ("Time", "south_north", "west_east")
    ds = xr.Dataset({
        "U10": (dims, rng.normal(0, 3, shape), {"units": "m s-1"}),
        "V10": (dims, rng.normal(0, 3, shape), {"units": "m s-1"}),
        "T2": (dims, 270 + rng.random(shape), {"units": "K"}),
        "RH2": (dims, 50 + 40 * rng.random(shape), {"units": "%"}),
        "RAIN": (dims, np.full(shape, 1e-4), {"units": "kg m-2 s-1"}),
        "PBLH": (dims, 200 + 800 * rng.random(shape), {"units": "m"}),
        "UNUSED": (dims, np.zeros(shape), {"units": "1"}),
    }, coords={"Time": pd.date_range("2026-01-10", periods=nt, freq="h").values})
    for k, v in overrides.items():
        ds[k] = v
    return ds


def test_wrf_names_units_converted_and_grid_attached():
    src = wrf_like()
    ds = read_gridded_met(src, GRID)
    assert set(ds.data_vars) == {"u", "v", "air_temperature", "relative_humidity",
                                 "precipitation", "mixing_height", "crs"}
    assert ds["u"].dims == ("time", "y", "x")
    # 1e-4 kg m-2 s-1 = 1e-4 mm/s = 0.36 mm/h
    np.testing.assert_allclose(ds["precipitation"].values, 0.36)
    assert ds["precipitation"].attrs["units"] == "mm h-1"
    assert ds["u"].attrs["standard_name"] == "eastward_wind"
    np.testing.assert_array_equal(ds["x"].values, GRID.x)
    assert "lon" in ds.coords


def test_standard_name_wins_over_common_name(tmp_path):
    src = wrf_like()
    src["wind_e"] = src["U10"] * 0 + 7.0
    src["wind_e"].attrs = {"units": "m s-1", "standard_name": "eastward_wind"}
    path = tmp_path / "met.nc"
    src.to_netcdf(path)
    ds = read_gridded_met(path)
    np.testing.assert_allclose(ds["u"].values, 7.0)
    assert ds["u"].attrs["source_variable"] == "wind_e"


def test_degc_and_vertical_level_reduced_to_lowest():
    src = wrf_like()
    t = src["T2"] - 273.15
    t.attrs = {"units": "degC"}
    u3 = xr.concat([src["U10"], src["U10"] + 5], dim="bottom_top").transpose("Time", "bottom_top",
                                                                             ...)
    u3.attrs = {"units": "m s-1"}
    ds = read_gridded_met(wrf_like(T2=t, U10=u3))
    np.testing.assert_allclose(ds["air_temperature"].values, src["T2"].values)
    np.testing.assert_allclose(ds["u"].values, src["U10"].values)


@pytest.mark.parametrize("var,value,units,error,field", [
    ("RH2", 130.0, "%", OutOfRangeError, "relative_humidity"),
    ("PBLH", -5.0, "m", OutOfRangeError, "mixing_height"),
    ("U10", 250.0, "m s-1", OutOfRangeError, "u"),
    ("RAIN", 1.0, "mm", UnitError, "precipitation"),     # an accumulated amount, not a rate
    ("T2", 270.0, "F", UnitError, "air_temperature"),
])
def test_bad_values_and_units_name_the_field(var, value, units, error, field):
    src = wrf_like()
    bad = src[var].copy()
    bad[0, 0, 0] = value
    bad.attrs = {"units": units}
    with pytest.raises(error) as exc:
        read_gridded_met(wrf_like(**{var: bad}))
    assert exc.value.field == field


def test_missing_variable_and_units_and_grid_mismatch():
    with pytest.raises(MissingFieldError) as exc:
        read_gridded_met(wrf_like().drop_vars("PBLH"))
    assert exc.value.field == "mixing_height"
    src = wrf_like()
    src["T2"].attrs = {}
    with pytest.raises(UnitError):
        read_gridded_met(src)
    with pytest.raises(GridError):
        read_gridded_met(wrf_like(), Grid(0.0, 4e6, 1000.0, 1000.0, 5, 5))


def test_nan_rejected():
    src = wrf_like()
    src["PBLH"][2, 1, 1] = np.nan
    with pytest.raises(ValueError, match="mixing_height"):
        read_gridded_met(src)


def test_gridded_stability_matches_turner_at_a_point():
    """Every cell equals Turner's class computed for that cell as a station series."""
    from ecodss.met.stability import stability_from_met

    met = read_gridded_met(wrf_like(), GRID)
    cls = stability_class_gridded(met)
    assert cls.dims == ("time", "y", "x") and cls.dtype == np.int8
    # the same cell computed as a single-station series must agree
    j, i = 1, 2
    point = xr.Dataset({"wind_speed": np.hypot(met.u, met.v)[:, j, i].assign_attrs(units="m s-1"),
                        "cloud_cover": ("time", np.zeros(met.sizes["time"]), {"units": "1"}),
                        "ceiling_height": ("time", np.full(met.sizes["time"], np.inf),
                                           {"units": "m"})},
                       coords={"time": met.time})
    ref = stability_from_met(point, float(met.lon[j, i]), float(met.lat[j, i]))
    np.testing.assert_array_equal(cls[:, j, i].values, ref.values)
    assert set(np.unique(cls.values)) <= set(range(1, 7))


def test_golder_inverse_obukhov_length():
    # Golder (1972): D is neutral for any z0; F stable (L > 0); A unstable (L < 0)
    assert inverse_obukhov_length(4, 0.1) == 0.0
    assert inverse_obukhov_length(6, 0.1) == pytest.approx(0.035 + 0.036)
    assert inverse_obukhov_length(1, 1.0) == pytest.approx(-0.096)


def test_neutral_friction_velocity_is_log_law():
    assert friction_velocity(5.0, 0.0, 10.0, 0.1) == pytest.approx(KARMAN * 5.0 / np.log(100.0))


def test_kz_profile_shape_and_analytic_neutral_value():
    z = np.array([20.0, 100.0, 300.0, 600.0, 1500.0])
    h = 1000.0
    k = kz_profile(z, h, 4, 5.0, roughness_length=0.1)
    ustar = KARMAN * 5.0 / np.log(100.0)
    expected = np.maximum(KARMAN * ustar * z * (1 - z / h) ** 2, 0.1)
    expected[z >= h] = 0.1
    np.testing.assert_allclose(k, expected, rtol=1e-12)
    # stable nights diffuse far less than convective days
    assert kz_profile([100.0], 150.0, 6, 1.0)[0] < kz_profile([100.0], 1000.0, 1, 1.0)[0] / 10


def test_kz_profile_dataarray_matches_numpy_and_dask():
    rng = np.random.default_rng(1)
    h = xr.DataArray(100 + 900 * rng.random((3, 4)), dims=("y", "x"))
    cls = xr.DataArray(rng.integers(1, 7, (3, 4)), dims=("y", "x"))
    ws = xr.DataArray(0.5 + 5 * rng.random((3, 4)), dims=("y", "x"))
    z = [50.0, 200.0, 500.0]
    ref = kz_profile(z, h.values, cls.values, ws.values)
    out = kz_profile(z, h, cls, ws)
    assert out.dims == ("z_face", "y", "x")
    np.testing.assert_allclose(out.values, ref)
    lazy = kz_profile(z, h.chunk({"y": 2}), cls.chunk({"y": 2}), ws.chunk({"y": 2}))
    np.testing.assert_allclose(lazy.compute().values, ref)
    with pytest.raises(OutOfRangeError):
        kz_profile(z, -h.values, cls.values, ws.values)


def test_smagorinsky_uniform_shear():
    """u = a y: |D| = a everywhere, K = c_s² dx dy a."""
    y = np.arange(10)[:, None] * 1000.0
    u = 1e-3 * y * np.ones((1, 8))
    v = np.zeros_like(u)
    np.testing.assert_allclose(kh_smagorinsky(u, v, 1000.0, 1000.0), 0.25**2 * 1e6 * 1e-3)
    da = kh_smagorinsky(xr.DataArray(u, dims=("y", "x")), xr.DataArray(v, dims=("y", "x")),
                        1000.0, 1000.0)
    np.testing.assert_allclose(da.values, 62.5)
