"""Gridding: analytic overlap fractions, mass conservation, outside-domain report, dask twin."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ecodss import Grid
from ecodss.inventory import (
    EmissionsOutsideDomainWarning,
    Inventory,
    grid_emissions,
    grid_inventory,
)
from ecodss.inventory.spatial import rectangle_weights
from ecodss.io.netcdf import write_netcdf

GRID = Grid(x0=10_000.0, y0=20_000.0, dx=1000.0, dy=500.0, nx=12, ny=10)


def area_inv(x, y, w, h, rate, sector="residential"):
    n = len(x)
    return Inventory.from_areas(pd.DataFrame({
        "id": [f"A{i}" for i in range(n)], "x": x, "y": y, "width": w, "height": h,
        "sector": sector, "NOx": rate}))


def test_rectangle_equal_to_a_cell_goes_to_that_cell():
    # Cell (iy=3, ix=5): x 15000..16000, y 21500..22000.
    w = rectangle_weights(GRID, [15_000.0], [16_000.0], [21_500.0], [22_000.0]).toarray()
    expected = np.zeros(GRID.nx * GRID.ny)
    expected[3 * GRID.nx + 5] = 1.0
    np.testing.assert_allclose(w[0], expected, atol=1e-15)


def test_rectangle_straddling_four_cells_splits_by_area():
    # 1000 m × 500 m rectangle centred on the corner of 4 cells → ¼ each.
    f = grid_emissions(area_inv([15_000.0], [22_000.0], [1000.0], [500.0], [8.0]), GRID, "NOx")
    sub = f.isel(y=[3, 4], x=[4, 5]).values
    np.testing.assert_allclose(sub, 2.0, rtol=1e-12)
    assert float(f.sum()) == pytest.approx(8.0, rel=1e-12)
    # Asymmetric: 3/4 of the width in column 4, 1/4 in column 5, all in row 3.
    f = grid_emissions(area_inv([14_750.0], [21_750.0], [1000.0], [500.0], [8.0]), GRID, "NOx")
    np.testing.assert_allclose([f.values[3, 4], f.values[3, 5]], [6.0, 2.0], rtol=1e-12)


def test_mass_conservation_many_rectangles():
    rng = np.random.default_rng(42)
    n = 200
    w, h = rng.uniform(50, 3000, n), rng.uniform(50, 2000, n)
    x = rng.uniform(GRID.x0 + w / 2, GRID.x0 + GRID.nx * GRID.dx - w / 2)
    y = rng.uniform(GRID.y0 + h / 2, GRID.y0 + GRID.ny * GRID.dy - h / 2)
    rate = rng.lognormal(0, 2, n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmissionsOutsideDomainWarning)  # all inside: no warning
        f = grid_emissions(area_inv(x, y, w, h, rate), GRID, "NOx")
    assert float(f.sum()) == pytest.approx(rate.sum(), rel=1e-12)
    assert f.attrs["emission_outside_domain_g_s"] == pytest.approx(0.0, abs=1e-12 * rate.sum())


def test_outside_part_is_excluded_and_reported():
    # Rectangle 2000 m wide centred on the west edge: half outside. Second source fully outside.
    inv = area_inv([GRID.x0, 0.0], [22_000.0, 0.0], [2000.0, 100.0], [400.0, 100.0], [10.0, 5.0])
    with pytest.warns(EmissionsOutsideDomainWarning, match="A0.*A1|A1.*A0") as rec:
        f = grid_emissions(inv, GRID, "NOx")
    assert "10 g/s" in str(rec[0].message)
    assert float(f.sum()) == pytest.approx(5.0, rel=1e-12)
    assert f.attrs["emission_outside_domain_g_s"] == pytest.approx(10.0, rel=1e-12)
    assert f.attrs["emission_total_g_s"] == pytest.approx(15.0, rel=1e-12)


def test_points_go_to_their_cell():
    pts = pd.DataFrame({"id": ["S1", "S2", "S3"], "x": [10_500.0, 21_999.0, 5_000.0],
                        "y": [20_100.0, 24_999.0, 20_100.0], "stack_height": 80.0,
                        "stack_diameter": 4.0, "exit_velocity": 15.0, "exit_temperature": 420.0,
                        "SO2": [1.0, 2.0, 4.0]})
    inv = Inventory.from_points(pts)
    with pytest.warns(EmissionsOutsideDomainWarning, match="S3"):
        f = grid_emissions(inv, GRID, "SO2", kind="point")
    assert f.values[0, 0] == 1.0 and f.values[-1, -1] == 2.0
    assert float(f.sum()) == 3.0


def test_polygon_aligned_with_cells_is_exact():
    # A 2×2-cell square given as a polygon: sub-grid aligned with its bbox → exactly ¼ per cell.
    sq = [(12_000.0, 21_000.0), (14_000.0, 21_000.0), (14_000.0, 22_000.0), (12_000.0, 22_000.0)]
    inv = Inventory.from_areas(pd.DataFrame({"id": ["city"], "polygon": [sq], "PM10": [4.0]}))
    f = grid_emissions(inv, GRID, "PM10")
    np.testing.assert_allclose(f.isel(y=[2, 3], x=[2, 3]).values, 1.0, rtol=1e-12)
    assert float(f.sum()) == pytest.approx(4.0, rel=1e-12)


def test_polygon_mass_and_shape():
    # Right triangle with legs along the x and y edges of cells: the cells fully under the
    # hypotenuse get the full-cell share (cell area / triangle area) within the raster error.
    tri = "POLYGON ((10000 20000, 16000 20000, 10000 23000, 10000 20000))"
    inv = Inventory.from_areas(pd.DataFrame({"id": ["T"], "polygon": [tri], "PM10": [9.0]}))
    f = grid_emissions(inv, GRID, "PM10", polygon_resolution=25.0)
    assert float(f.sum()) == pytest.approx(9.0, rel=1e-12)
    full_cell = 9.0 * (1000 * 500) / (0.5 * 6000 * 3000)
    assert f.values[0, 0] == pytest.approx(full_cell, rel=1e-9)
    # Cell (5, 0) is cut along its diagonal by the hypotenuse y = 23000 - (x - 10000) / 2.
    assert f.values[5, 0] == pytest.approx(full_cell / 2, rel=0.05)
    assert f.values[6, 0] == 0.0 and f.values[0, 7] == 0.0  # beyond the triangle


def test_hourly_gridding_conserves_each_hour_and_dask_twin():
    rng = np.random.default_rng(1)
    inv = area_inv(rng.uniform(11_000, 21_000, 30), rng.uniform(21_000, 24_000, 30),
                   np.full(30, 700.0), np.full(30, 300.0), rng.uniform(0, 5, 30),
                   sector=rng.choice(["traffic", "residential", "dust"], 30))
    times = pd.date_range("2023-01-06", periods=72, freq="h")
    eager = grid_emissions(inv, GRID, "NOx", times=times)
    lazy = grid_emissions(inv, GRID, "NOx", times=times, time_chunk=24)
    assert eager.dims == ("time", "y", "x") and lazy.chunks is not None
    hourly_total = inv.hourly(times, "NOx", kind="area").sum("source").values
    np.testing.assert_allclose(eager.sum(("y", "x")).values, hourly_total, rtol=1e-12)
    np.testing.assert_allclose(lazy.compute().values, eager.values, rtol=1e-13, atol=1e-15)
    assert eager.attrs["cell_methods"] == "area: sum time: mean"


def test_grid_inventory_dataset_is_cf_and_writable(tmp_path):
    pts = pd.DataFrame({"id": ["S1"], "x": [15_500.0], "y": [22_250.0], "stack_height": 80.0,
                        "stack_diameter": 4.0, "exit_velocity": 15.0, "exit_temperature": 420.0,
                        "sector": "power", "SO2": [3.0], "PM2.5": [0.5]})
    areas = pd.DataFrame({"id": ["A"], "x": [15_500.0], "y": [22_250.0], "width": [1000.0],
                          "height": [500.0], "PM2.5": [1.5]})
    ds = grid_inventory(Inventory(pts, areas), GRID)
    assert set(ds.data_vars) == {"SO2", "PM2_5"}
    assert ds["PM2_5"].attrs["pollutant"] == "PM2.5" and ds["PM2_5"].attrs["units"] == "g s-1"
    assert float(ds["PM2_5"].values[4, 5]) == pytest.approx(2.0, rel=1e-12)  # point + area
    assert ds["SO2"].attrs["grid_mapping"] == "crs" and "crs_wkt" in ds["crs"].attrs
    write_netcdf(ds, tmp_path / "emis.nc")
    assert (tmp_path / "emis.nc").stat().st_size > 0


def test_kind_without_sources_grids_to_zero():
    pts = pd.DataFrame({"id": ["S1"], "x": [15_500.0], "y": [22_250.0], "stack_height": 80.0,
                        "stack_diameter": 4.0, "exit_velocity": 15.0, "exit_temperature": 420.0,
                        "SO2": [3.0]})
    inv = Inventory.from_points(pts)
    times = pd.date_range("2023-01-01", periods=4, freq="h")
    assert float(grid_emissions(inv, GRID, "SO2", kind="area").sum()) == 0.0
    lazy = grid_emissions(inv, GRID, "SO2", times=times, kind="area", time_chunk=2)
    assert lazy.shape == (4, GRID.ny, GRID.nx) and float(lazy.sum()) == 0.0
    assert float(grid_emissions(inv, GRID, "SO2", kind="all").sum()) == pytest.approx(3.0)
