"""Huang et al. (2021) PM2.5 benchmark flags at and around their thresholds."""

import numpy as np
import pytest
import xarray as xr

from ecodss.evaluate import HUANG2021_PM25, pm25_benchmarks

OBS = np.array([40.0, 80.0, 120.0, 200.0, 60.0])


def test_scaled_forecast_meets_criteria_but_not_goal():
    res = pm25_benchmarks(OBS, 1.15 * OBS)  # NMB = NME = +15 %, R = 1
    assert res["nmb"] == pytest.approx(0.15) and res["nme"] == pytest.approx(0.15)
    assert res["goal_nme"] and res["goal_r"] and not res["goal_nmb"]
    assert not res["meets_goal"] and res["meets_criteria"]
    assert not pm25_benchmarks(OBS, 0.75 * OBS)["meets_criteria"]  # NMB = -25 %
    assert pm25_benchmarks(OBS, 0.95 * OBS)["meets_goal"]


def test_thresholds_are_the_published_levels():
    assert HUANG2021_PM25["goal"] == {"nmb": 0.10, "nme": 0.35, "r": 0.70}
    assert HUANG2021_PM25["criteria"] == {"nmb": 0.20, "nme": 0.45, "r": 0.60}


def test_poor_correlation_fails_even_without_bias():
    fcst = 2 * OBS.mean() - OBS  # same mean, R = -1
    res = pm25_benchmarks(OBS, fcst)
    assert res["nmb"] == pytest.approx(0.0, abs=1e-12) and res["r"] == pytest.approx(-1.0)
    assert not res["criteria_r"] and not res["meets_criteria"]


def test_per_station_flags_for_xarray():
    obs = xr.DataArray(np.tile(OBS, (2, 1)), dims=("station", "time"))
    fcst = obs * xr.DataArray([1.05, 1.3], dims="station")
    res = pm25_benchmarks(obs, fcst, dim="time")
    assert res["meets_goal"].values.tolist() == [True, False]
    assert res["meets_criteria"].values.tolist() == [True, False]
