"""Grid geometry, validation, CF metadata and the UTM projection against an independent series."""

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import EcodssError, GridError, ValidationError
from ecodss.grid import Grid

# WGS84 ellipsoid and UTM constants (NGA.SIG.0012_2.0.0_UTMUPS §2, §5)
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
UTM_K0 = 0.9996
UTM_FALSE_EASTING = 500_000.0
ZONE50_CENTRAL_MERIDIAN = 117.0


def utm_north_kruger(lon, lat, lon0=ZONE50_CENTRAL_MERIDIAN):
    """UTM (northern hemisphere) easting/northing [m] by Krüger's series to order n⁴.

    Independent of pyproj: Karney (2011), "Transverse Mercator with an accuracy of a few
    nanometers", J. Geodesy 85:475, Eqs. (7), (9), (11), (14), (35); truncated at n⁴ the error is
    well below 1 mm within a UTM zone.
    """
    n = WGS84_F / (2 - WGS84_F)
    big_a = WGS84_A / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    alpha = (n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16 + 41 * n**4 / 180,
             13 * n**2 / 48 - 3 * n**3 / 5 + 557 * n**4 / 1440,
             61 * n**3 / 240 - 103 * n**4 / 140,
             49561 * n**4 / 161280)
    phi, lam = np.deg2rad(lat), np.deg2rad(lon - lon0)
    c = 2 * np.sqrt(n) / (1 + n)
    t = np.sinh(np.arctanh(np.sin(phi)) - c * np.arctanh(c * np.sin(phi)))
    xi, eta = np.arctan2(t, np.cos(lam)), np.arctanh(np.sin(lam) / np.sqrt(1 + t**2))
    terms = list(enumerate(alpha, start=1))
    easting = eta + sum(a * np.cos(2 * j * xi) * np.sinh(2 * j * eta) for j, a in terms)
    northing = xi + sum(a * np.sin(2 * j * xi) * np.cosh(2 * j * eta) for j, a in terms)
    return UTM_FALSE_EASTING + UTM_K0 * big_a * easting, UTM_K0 * big_a * northing


@pytest.fixture
def grid():
    # 4 × 3 cells of 100 m × 50 m, SW corner at (1000, 2000)
    return Grid(x0=1000.0, y0=2000.0, dx=100.0, dy=50.0, nx=4, ny=3)


def test_centres_and_edges(grid):
    np.testing.assert_allclose(grid.x, [1050.0, 1150.0, 1250.0, 1350.0])
    np.testing.assert_allclose(grid.y, [2025.0, 2075.0, 2125.0])
    np.testing.assert_allclose(grid.x_edges, [1000.0, 1100.0, 1200.0, 1300.0, 1400.0])
    np.testing.assert_allclose(grid.y_edges, [2000.0, 2050.0, 2100.0, 2150.0])
    np.testing.assert_allclose(grid.x, 0.5 * (grid.x_edges[:-1] + grid.x_edges[1:]))
    assert grid.shape == (3, 4)


def test_cell_areas_tile_the_domain(grid):
    assert grid.cell_area == pytest.approx(5000.0)
    domain = (grid.x_edges[-1] - grid.x_edges[0]) * (grid.y_edges[-1] - grid.y_edges[0])
    assert grid.cell_area * grid.nx * grid.ny == pytest.approx(domain, rel=1e-12)


def test_from_extent_covers_the_extent():
    g = Grid.from_extent(0.0, 0.0, 3000.0, 2000.0, resolution=500.0)
    assert (g.nx, g.ny, g.dx, g.dy) == (6, 4, 500.0, 500.0)
    assert g.x_edges[-1] == pytest.approx(3000.0) and g.y_edges[-1] == pytest.approx(2000.0)


@pytest.mark.parametrize(("nx", "ny", "chunk", "expected"), [
    (50, 300, 200, {"y": 200, "x": 50}),
    (1000, 1000, 200, {"y": 200, "x": 200}),
    (3, 2, 200, {"y": 2, "x": 3}),
])
def test_chunks_are_capped_at_the_grid_size(nx, ny, chunk, expected):
    assert Grid(0.0, 0.0, 1.0, 1.0, nx, ny, chunk=chunk).chunks == expected


def test_cell_index_inside_and_outside(grid):
    x = np.array([1000.0, 1099.9, 1100.0, 1399.0, 1250.0, 999.9, 1400.0, 1200.0, np.nan])
    y = np.array([2000.0, 2049.9, 2050.0, 2149.0, 2125.0, 2020.0, 2020.0, 2150.0, 2020.0])
    iy, ix = grid.cell_index(x, y)
    np.testing.assert_array_equal(ix, [0, 0, 1, 3, 2, -1, -1, -1, -1])
    np.testing.assert_array_equal(iy, [0, 0, 1, 2, 2, -1, -1, -1, -1])
    np.testing.assert_array_equal(grid.contains(x, y), ix >= 0)


def test_cell_index_of_the_centres_is_the_cell_itself(grid):
    xx, yy = np.meshgrid(grid.x, grid.y)
    iy, ix = grid.cell_index(xx, yy)
    np.testing.assert_array_equal(iy, np.broadcast_to(np.arange(grid.ny)[:, None], grid.shape))
    np.testing.assert_array_equal(ix, np.broadcast_to(np.arange(grid.nx)[None, :], grid.shape))


def test_cell_index_just_inside_the_far_edges_stays_in_range():
    # the last float below x0 + nx·dx is inside, yet (x - x0)/dx can round up to nx
    g = Grid(x0=-789009.440859541, y0=-208885.45379024802, dx=1000.0, dy=100.0, nx=4635,
             ny=2807)
    x = np.nextafter(g.x_edges[-1], -np.inf)
    y = np.nextafter(g.y_edges[-1], -np.inf)
    assert g.contains(x, y)
    iy, ix = g.cell_index(x, y)
    assert (int(iy), int(ix)) == (g.ny - 1, g.nx - 1)


@pytest.mark.parametrize(("field", "value"), [
    ("dx", 0.0), ("dx", -10.0), ("dy", np.nan), ("dy", np.inf), ("nx", 0), ("ny", -3),
    ("nx", 2.5), ("nx", np.nan), ("chunk", 0), ("x0", np.nan), ("y0", np.inf),
    ("crs", "EPSG:99999999"), ("crs", "EPSG:4326"),  # unknown; geographic (x/y are metres)
])
def test_invalid_definitions_name_the_field(field, value):
    kwargs = dict(x0=0.0, y0=0.0, dx=100.0, dy=100.0, nx=5, ny=5, crs="EPSG:32650")
    kwargs[field] = value
    with pytest.raises(GridError) as err:
        Grid(**kwargs)
    assert err.value.field == field
    assert field in str(err.value)
    assert isinstance(err.value, ValidationError) and isinstance(err.value, ValueError)
    assert isinstance(err.value, EcodssError)


def test_integral_float_counts_become_ints():
    g = Grid(0.0, 0.0, 1.0, 1.0, nx=4.0, ny=3.0)  # e.g. from arithmetic on a config value
    assert g.shape == (3, 4) and all(type(n) is int for n in g.shape)
    assert g.empty().shape == (3, 4)


def test_central_meridian_at_the_equator_is_the_false_origin():
    x, y = Grid(0.0, 0.0, 1.0, 1.0, 1, 1).transform_from_lonlat(ZONE50_CENTRAL_MERIDIAN, 0.0)
    assert x == pytest.approx(UTM_FALSE_EASTING, abs=1e-6)
    assert y == pytest.approx(0.0, abs=1e-6)


def test_utm50n_matches_the_kruger_series():
    g = Grid(0.0, 0.0, 1.0, 1.0, 1, 1)
    lon = np.array([114.51, 117.0, 116.40, 120.0, 114.0])  # Shijiazhuang, CM, Beijing, edges
    lat = np.array([38.04, 38.04, 39.90, 30.0, 45.0])
    x, y = g.transform_from_lonlat(lon, lat)
    x_ref, y_ref = utm_north_kruger(lon, lat)
    np.testing.assert_allclose(x, x_ref, atol=1e-3)
    np.testing.assert_allclose(y, y_ref, atol=1e-3)
    # Shijiazhuang: ~281.5 km east, ~4213.2 km north; east of the CM is east of 500 km
    assert x[0] == pytest.approx(281.5e3, abs=100) and y[0] == pytest.approx(4213.2e3, abs=100)
    assert x[1] == pytest.approx(UTM_FALSE_EASTING, abs=1e-6) and x[3] > UTM_FALSE_EASTING


def test_lonlat_round_trip():
    g = Grid(200_000.0, 4_100_000.0, 1000.0, 1000.0, 150, 120)
    xx, yy = np.meshgrid(g.x_edges, g.y_edges)
    lon, lat = g.transform_to_lonlat(xx, yy)
    assert 112.0 < lon.min() < lon.max() < 119.0 and 36.0 < lat.min() < lat.max() < 39.0
    x, y = g.transform_from_lonlat(lon, lat)
    np.testing.assert_allclose(x, xx, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, yy, rtol=0, atol=1e-6)


def test_lonlat_are_the_transformed_cell_centres(grid):
    lon, lat = grid.lonlat()
    assert lon.shape == lat.shape == grid.shape
    lon_ref, lat_ref = grid.transform_to_lonlat(grid.x[2], grid.y[1])
    assert lon[1, 2] == pytest.approx(lon_ref, abs=1e-12) and lat[1, 2] == pytest.approx(lat_ref)


def test_coords_carry_cf_attributes(grid):
    ds = xr.Dataset({"c": (("y", "x"), grid.empty().values, {"units": "1"})},
                    coords=grid.coords())
    for axis in ("x", "y"):
        attrs = ds[axis].attrs
        assert attrs["units"] == "m"
        assert attrs["standard_name"] == f"projection_{axis}_coordinate"
        assert attrs["axis"] == axis.upper()
    assert ds["lon"].dims == ds["lat"].dims == ("y", "x")
    assert ds["lon"].attrs == {"units": "degrees_east", "standard_name": "longitude"}
    assert ds["lat"].attrs == {"units": "degrees_north", "standard_name": "latitude"}
    assert set(grid.coords(lonlat=False)) == {"x", "y"}


def test_crs_variable_is_the_utm_grid_mapping(grid):
    attrs = grid.crs_variable().attrs
    assert attrs["grid_mapping_name"] == "transverse_mercator"
    assert attrs["longitude_of_central_meridian"] == pytest.approx(ZONE50_CENTRAL_MERIDIAN)
    assert attrs["false_easting"] == pytest.approx(UTM_FALSE_EASTING)
    assert attrs["scale_factor_at_central_meridian"] == pytest.approx(UTM_K0)
    assert "UTM zone 50N" in attrs["crs_wkt"]
