"""Shared fixtures: a station × lead × time field with its dask twin."""

import numpy as np
import pytest
import xarray as xr


@pytest.fixture
def field():
    """Skewed 'concentrations' (3 stations × 2 leads × 60 days), a forecast and a gap."""
    rng = np.random.default_rng(42)
    obs = xr.DataArray(rng.gamma(2.0, 50.0, size=(3, 2, 60)), dims=("station", "lead", "time"),
                       attrs={"units": "ug m-3"})
    fcst = obs * rng.lognormal(0.05, 0.3, size=obs.shape)
    obs[0, 1, 7] = np.nan
    fcst[2, 0, 11] = np.nan
    return obs, fcst


@pytest.fixture(params=["eager", "dask"])
def chunked(request):
    """Identity for eager runs, ``.chunk`` along station for the dask twin."""
    if request.param == "eager":
        return lambda x: x
    return lambda x: x.chunk({"station": 1})
