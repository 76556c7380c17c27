"""Gridded area sources by FFT convolution equal the direct source-by-source integration."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import GridError, Inventory, Receptors
from ecodss.air import gaussian_plume
from ecodss.air.gridded import gridded_area_plume


@pytest.fixture
def case(varied_met):
    rng = np.random.default_rng(5)
    dx, nx, ny = 500.0, 14, 11
    x = 1000.0 + dx * (np.arange(nx) + 0.5)
    y = 2000.0 + dx * (np.arange(ny) + 0.5)
    rates = rng.uniform(0.0, 2.0, (ny, nx)) * (rng.uniform(size=(ny, nx)) > 0.3)
    met = varied_met(6, seed=11)
    emis = xr.DataArray(np.broadcast_to(rates, (met.sizes["time"], ny, nx)).copy(),
                        dims=("time", "y", "x"), coords={"time": met["time"], "y": y, "x": x},
                        name="PM2.5", attrs={"units": "g s-1"})
    xx, yy = np.meshgrid(x, y)
    inv = Inventory.from_areas(pd.DataFrame({
        "id": [f"c{i}" for i in range(xx.size)], "x": xx.ravel(), "y": yy.ravel(),
        "width": dx, "height": dx, "release_height": 2.0, "PM2.5": rates.ravel()}))
    return emis, inv, met, Receptors.grid(x, y)


@pytest.mark.parametrize("urban", [False, True])
def test_convolution_equals_direct_integration(case, urban):
    emis, inv, met, rec = case
    direct = gaussian_plume(inv, met, rec, pollutant="PM2.5", urban=urban, temporal=False,
                            area_subdivisions=4)["concentration"].values
    conv = gridded_area_plume(emis, met, release_height=2.0, urban=urban,
                              area_subdivisions=4)["concentration"].values
    assert direct.max() > 1.0
    np.testing.assert_allclose(conv, direct, rtol=0, atol=1e-10 * direct.max())


def test_convolution_dask_equals_numpy(case):
    emis, _, met, _ = case
    eager = gridded_area_plume(emis, met, release_height=2.0)["concentration"]
    lazy = gridded_area_plume(emis.chunk({"time": 2}), met, release_height=2.0)["concentration"]
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-12, atol=1e-12)


def test_irregular_grid_is_refused(case):
    emis, _, met, _ = case
    bad = emis.assign_coords(x=emis["x"].values ** 1.01)
    with pytest.raises(GridError, match="x"):
        gridded_area_plume(bad, met)
