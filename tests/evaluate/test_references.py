"""Persistence and climatology references: shifts, training-period means, no leakage."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import InvalidValueError, OutOfRangeError
from ecodss.evaluate import climatology, climatology_quantiles, persistence

DAYS = pd.date_range("2013-01-01", "2014-12-31", freq="D")


def _series():
    rng = np.random.default_rng(0)
    return pd.Series(rng.gamma(2, 40, len(DAYS)), index=DAYS, name="pm25")


def test_persistence_shifts_all_types_alike():
    s = _series()
    p = persistence(s, lead=2)
    assert np.isnan(p.iloc[:2]).all() and p.iloc[5] == s.iloc[3]
    da = xr.DataArray(s.values, dims="time", coords={"time": DAYS})
    np.testing.assert_array_equal(persistence(da, 2).values, p.values)
    np.testing.assert_array_equal(persistence(s.values, 2), p.values)
    with pytest.raises(InvalidValueError, match="irregular"):
        persistence(s.drop(DAYS[10]))
    with pytest.raises(OutOfRangeError):
        persistence(s, 0)


def test_climatology_uses_only_the_training_period():
    s = _series()
    clim = climatology(s, train=slice("2013", "2013"), by="month")
    jan_2013 = s["2013-01"].mean()
    assert clim["2014-01-17"] == pytest.approx(jan_2013)
    assert clim["2013-01-05"] == pytest.approx(jan_2013)
    altered = s.copy()
    altered["2014"] = 1e6  # test-period values must not leak into the reference
    pd.testing.assert_series_equal(climatology(altered, train=slice("2013", "2013")), clim)


def test_climatology_xarray_station_time_and_quantiles():
    s = _series()
    da = xr.DataArray(np.stack([s.values, 2 * s.values]), dims=("station", "time"),
                      coords={"time": DAYS, "station": ["a", "b"]})
    clim = climatology(da, train=slice("2013", "2013"))
    assert clim.dims == ("station", "time")
    np.testing.assert_allclose(clim.sel(station="b").values,
                               2 * climatology(s, train=slice("2013", "2013")).values)
    q = climatology_quantiles(s, [0.1, 0.9], train=slice("2013", "2013"), by="season")
    djf = s["2013"][s["2013"].index.month.isin([12, 1, 2])]
    assert q.loc["2014-02-03", 0.9] == pytest.approx(np.quantile(djf, 0.9))
    qa = climatology_quantiles(xr.DataArray(s.values, dims="time", coords={"time": DAYS}),
                               [0.1, 0.9], train=slice("2013", "2013"), by="season")
    np.testing.assert_allclose(qa.values, q.values)
