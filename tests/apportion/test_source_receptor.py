"""Source–receptor matrices: closure (Σ groups = full run), zero-out = tagged for linear models,
NetCDF cache reuse, validation."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import Grid, Inventory, Receptors
from ecodss.apportion.source_receptor import (
    CachedEmissionsWarning,
    source_receptor,
    zero_out_check,
)
from ecodss.errors import GridError, MissingFieldError, UnknownFieldError

PASSIVE = {"plume_rise": False, "downwash": False}


def station_met(n=4, ws=(3.0, 5.0, 0.0, 4.0), wd=(250.0, 270.0, 270.0, 300.0)):
    """Station met with one calm hour (hour 3), varying wind."""
    t = pd.date_range("2026-01-10", periods=n, freq="h")
    return xr.Dataset({"wind_speed": ("time", np.resize(np.asarray(ws, float), n)),
                       "wind_direction": ("time", np.resize(np.asarray(wd, float), n)),
                       "air_temperature": ("time", np.full(n, 275.0)),
                       "stability_class": ("time", np.resize([4, 3, 5, 4], n)),
                       "mixing_height": ("time", np.full(n, 800.0))}, coords={"time": t})


@pytest.fixture
def inventory():
    pts = pd.DataFrame({"id": ["P1", "P2", "P3"], "x": [0.0, 300.0, -500.0],
                        "y": [0.0, 200.0, -300.0], "stack_height": [60.0, 30.0, 15.0],
                        "stack_diameter": [3.0, 1.5, 1.0], "exit_velocity": [12.0, 8.0, 6.0],
                        "exit_temperature": [420.0, 380.0, 330.0],
                        "sector": ["power", "industry", "industry"],
                        "city": ["A", "A", "B"], "PM2.5": [20.0, 5.0, 3.0]})
    areas = pd.DataFrame({"id": ["A1"], "x": [1500.0], "y": [-200.0], "width": [800.0],
                          "height": [600.0], "release_height": [3.0], "sector": ["residential"],
                          "city": ["B"], "PM2.5": [4.0]})
    return Inventory(points=pts, areas=areas)


@pytest.fixture
def receptors():
    return Receptors(x=[3000.0, 5000.0, 2500.0, 4000.0], y=[0.0, 500.0, -1000.0, -2000.0],
                     names=("r1", "r2", "r3", "r4"))


# ---------------------------------------------------------------------------- Gaussian plume
@pytest.mark.parametrize("by", ["sector", "city", "source"])
def test_plume_groups_sum_to_full_run(inventory, receptors, by):
    met = station_met()
    sr = source_receptor("gaussian_plume", inventory, met, receptors, by=by,
                         model_kwargs=PASSIVE)
    assert sr["contribution"].dims == ("source", "receptor", "species")
    assert list(sr["receptor"].values) == ["r1", "r2", "r3", "r4"]
    assert float(sr["total"].max()) > 0.1  # the receptors are downwind
    np.testing.assert_allclose(sr["contribution"].sum("source"), sr["total"], rtol=0,
                               atol=1e-10)
    expected = {"sector": {"industry": 8.0, "power": 20.0, "residential": 4.0},
                "city": {"A": 25.0, "B": 7.0}}.get(by, {"A1": 4.0, "P1": 20.0, "P2": 5.0,
                                                          "P3": 3.0})
    got = sr["emission"].sel(species="PM2.5").to_series().to_dict()
    assert got == pytest.approx(expected)


def test_plume_zero_out_equals_tagged(inventory, receptors):
    met = station_met()
    sr = source_receptor("gaussian_plume", inventory, met, receptors, by="sector",
                         model_kwargs=PASSIVE)
    chk = zero_out_check("gaussian_plume", inventory, met, receptors, sr, ["industry", "power"],
                         model_kwargs=PASSIVE)
    assert float(chk["tagged"].min()) > 0.01
    assert float(chk["max_abs_difference"].max()) < 1e-8


def test_plume_region_mapping_and_hourly_output(inventory, receptors):
    met = station_met()
    regions = {"P1": "north", "P2": "north", "P3": "south", "A1": "south"}
    sr = source_receptor("gaussian_plume", inventory, met, receptors, by="region",
                         regions=regions, average=False, model_kwargs=PASSIVE)
    assert sr["contribution"].dims == ("time", "source", "receptor", "species")
    assert list(sr["source"].values) == ["north", "south"]
    np.testing.assert_allclose(sr["contribution"].sum("source"), sr["total"], atol=1e-10)
    assert float(np.abs(sr["contribution"].isel(time=2)).max()) == 0.0  # calm hour


# ---------------------------------------------------------------------------- Gaussian puff
def test_puff_groups_sum_and_zero_out(inventory, receptors):
    met = station_met(3, ws=(3.0, 4.0, 5.0), wd=(260.0, 270.0, 280.0))
    kw = {**PASSIVE, "release_step": 900.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # area source not released by the puffs
        sr = source_receptor("gaussian_puff", inventory, met, receptors, by="sector",
                             model_kwargs=kw)
        assert list(sr["source"].values) == ["industry", "power"]
        np.testing.assert_allclose(sr["contribution"].sum("source"), sr["total"], atol=1e-10)
        chk = zero_out_check("gaussian_puff", inventory, met, receptors, sr, ["industry"],
                             model_kwargs=kw)
    assert float(chk["tagged"].max()) > 0.01
    assert float(chk["max_abs_difference"].max()) < 1e-8


# ---------------------------------------------------------------------------- Eulerian
def grid_case(hours=3):
    grid = Grid(0.0, 0.0, 1000.0, 1000.0, 12, 8)
    t = pd.date_range("2026-01-10", periods=hours, freq="h")
    shape = (hours, grid.ny, grid.nx)
    met = xr.Dataset({"u": (("time", "y", "x"), np.full(shape, 1.5)),
                      "v": (("time", "y", "x"), np.full(shape, 0.3)),
                      "mixing_height": (("time", "y", "x"), np.full(shape, 500.0))},
                     coords={"time": t})
    e = np.zeros((3, 2, 2, grid.ny, grid.nx))  # sector, species, z, y, x
    e[0, :, 0, 3, 1] = [10.0, 2.0]
    e[1, :, 1, 5, 2] = [4.0, 6.0]
    e[2, :, 0, 2:5, 0:3] = np.array([0.5, 0.2])[:, None, None]
    emis = xr.DataArray(e, dims=("sector", "species", "z", "y", "x"),
                        coords={"sector": ["power", "traffic", "residential"],
                                "species": ["SO2", "PPM25"]})
    cities = pd.DataFrame({"id": ["C1", "C2"], "x": [6500.0, 9500.0], "y": [4500.0, 5200.0]})
    kw = {"scheme": "upwind", "interfaces": (0.0, 100.0, 400.0), "kh": 50.0,
          "decay": {"SO2": 1e-5}, "wet_scavenging": False}
    return grid, met, emis, cities, kw


def test_eulerian_tags_sum_and_zero_out_upwind_linear():
    grid, met, emis, cities, kw = grid_case()
    sr = source_receptor("eulerian", emis, met, cities, grid=grid, model_kwargs=kw)
    assert list(sr["source"].values) == ["power", "traffic", "residential", "boundary"]
    assert list(sr["species"].values) == ["SO2", "PPM25"]
    np.testing.assert_allclose(sr["contribution"].sum("source"), sr["total"], atol=1e-10)
    assert float(sr["contribution"].sel(source="boundary").max()) == 0.0  # zero inflow
    np.testing.assert_allclose(sr["emission"].sel(source="residential"), [4.5, 1.8])
    chk = zero_out_check("eulerian", emis, met, cities, sr, ["power", "traffic"], grid=grid,
                         model_kwargs=kw)
    assert float(chk["tagged"].min()) > 1e-3
    assert float(chk["max_abs_difference"].max()) < 1e-8


def test_eulerian_by_region_mask():
    grid, met, emis, cities, kw = grid_case(2)
    regions = np.where(np.broadcast_to(grid.x < 2000.0, grid.shape), "west", "east")
    sr = source_receptor("eulerian", emis, met, cities, grid=grid, by="region",
                         regions=regions, model_kwargs=kw)
    assert list(sr["source"].values) == ["east", "west", "boundary"]
    np.testing.assert_allclose(sr["contribution"].sum("source"), sr["total"], atol=1e-10)
    total_e = emis.sum(("sector", "z", "y", "x"))
    np.testing.assert_allclose(sr["emission"].sum("source"), total_e)


# ---------------------------------------------------------------------------- cache
def test_cache_reload_and_rescale(inventory, receptors, tmp_path, monkeypatch):
    met = station_met()
    path = tmp_path / "sr.nc"
    sr = source_receptor("gaussian_plume", inventory, met, receptors, model_kwargs=PASSIVE,
                         path=path)
    assert path.is_file()
    from ecodss.apportion import source_receptor as mod

    def boom(*a, **k):
        raise AssertionError("the model ran although the cache matched")

    monkeypatch.setattr(mod._InventoryModel, "run", boom)
    again = source_receptor("gaussian_plume", inventory, met, receptors, model_kwargs=PASSIVE,
                            path=path)
    xr.testing.assert_allclose(again["contribution"], sr["contribution"])
    assert again.attrs["cache_key"] == sr.attrs["cache_key"]
    # a scenario: power halved → contributions rescaled from the cache, equal to a fresh run
    scen = inventory.scale({"power": 0.5})
    with pytest.warns(CachedEmissionsWarning):
        cached = source_receptor("gaussian_plume", scen, met, receptors, model_kwargs=PASSIVE,
                                 path=path)
    monkeypatch.undo()
    fresh = source_receptor("gaussian_plume", scen, met, receptors, model_kwargs=PASSIVE)
    np.testing.assert_allclose(cached["contribution"], fresh["contribution"], atol=1e-10)
    np.testing.assert_allclose(cached["total"], fresh["total"], atol=1e-10)
    # different met → recomputed (different key)
    met2 = met.assign(wind_speed=met["wind_speed"] + 1.0)
    other = source_receptor("gaussian_plume", inventory, met2, receptors, model_kwargs=PASSIVE,
                            path=path)
    assert other.attrs["met_hash"] != sr.attrs["met_hash"]


# ---------------------------------------------------------------------------- validation
def test_bad_arguments(inventory, receptors):
    met = station_met()
    with pytest.raises(UnknownFieldError):
        source_receptor("cmaq", inventory, met, receptors)
    with pytest.raises(UnknownFieldError):
        source_receptor("gaussian_plume", inventory, met, receptors, by="colour")
    with pytest.raises(MissingFieldError):
        source_receptor("gaussian_plume", inventory, met, receptors, by="region")
    grid, gmet, emis, cities, kw = grid_case(1)
    far = pd.DataFrame({"id": ["X"], "x": [1e6], "y": [0.0]})
    with pytest.raises(GridError):
        source_receptor("eulerian", emis, gmet, far, grid=grid, model_kwargs=kw)
    with pytest.raises(MissingFieldError):
        source_receptor("eulerian", emis.sum("sector"), gmet, cities, grid=grid)
