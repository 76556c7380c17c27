"""Local-day arrays, daily statistics and the no-leakage property of the predictors."""

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import InvalidValueError, MissingFieldError
from ecodss.stats import StationForecaster
from ecodss.stats import features as F


def test_day_hour_places_utc_hours_on_local_days():
    time = np.datetime64("2020-01-01T16") + np.arange(48) * np.timedelta64(1, "h")
    da = xr.DataArray(np.arange(48.0), dims="time", coords={"time": time})
    dh = F.day_hour(da, utc_offset_hours=8)
    # 2020-01-01 16:00 UTC is 2020-01-02 00:00 CST
    assert dh["date"].values[0] == np.datetime64("2020-01-02")
    assert dh.sel(date="2020-01-02", hour=0).item() == 0.0
    assert dh.sel(date="2020-01-03", hour=23).item() == 47.0


def test_daily_stat_needs_min_valid_hours():
    x = np.ones((2, 24))
    x[1, :5] = np.nan  # 19 valid hours
    np.testing.assert_array_equal(F.daily_stat(x, "mean", 20), [1.0, np.nan])
    np.testing.assert_array_equal(F.daily_stat(x, "mean", 19), [1.0, 1.0])


def test_duplicate_times_rejected():
    time = np.array(["2020-01-01T00", "2020-01-01T00"], dtype="datetime64[ns]")
    da = xr.DataArray([1.0, 2.0], dims="time", coords={"time": time})
    with pytest.raises(InvalidValueError):
        F.day_hour(da)


def test_one_hot_flags_give_class_shares():
    da = xr.DataArray(np.array([1, 2, 2, 1], np.int8), dims="time",
                      attrs={"flag_values": [1, 2], "flag_meanings": "NW SE"})
    out = F.one_hot(xr.Dataset({"wd": da}))
    assert set(out.data_vars) == {"wd_NW", "wd_SE"}
    assert out["wd_SE"].mean().item() == 0.5


@pytest.fixture(scope="module")
def fitted(make_station, fast):
    ds = make_station(n_days=200, seed=1)
    model = StationForecaster(leads=(1, 2), gbm_params=fast, calibrate=False,
                              min_valid=18).fit(ds.isel(time=slice(0, 150 * 24)))
    return model, ds


@pytest.mark.parametrize("lead", [1, 2])
def test_no_leakage(fitted, lead):
    """The forecast for day d is unchanged when pollutant after d - lead or met after d change."""
    model, ds = fitted
    d = np.datetime64("2020-06-01")  # local target day (day 152)
    base = model.predict(ds, start=d, end=d)["pm25_mean"].sel(lead=lead).item()
    local = ds["time"].values + np.timedelta64(8, "h")
    after_origin = local >= (d - np.timedelta64(lead - 1, "D")).astype("datetime64[ns]")
    after_target = local >= (d + np.timedelta64(1, "D")).astype("datetime64[ns]")
    altered = ds.copy(deep=True)
    altered["pm25"][:, after_origin] = 999.0
    altered["wind"][:, after_target] = -50.0
    altered["rh"][:, after_target] = np.nan
    out = model.predict(altered, start=d, end=d)
    assert out["pm25_mean"].sel(lead=lead).item() == base
    np.testing.assert_array_equal(
        out["pm25"].sel(lead=lead).values,
        model.predict(ds, start=d, end=d)["pm25"].sel(lead=lead).values)
    # sanity: the origin day itself does matter
    origin = (local >= (d - np.timedelta64(lead, "D")).astype("datetime64[ns]")) & ~after_origin
    changed = ds.copy(deep=True)
    changed["pm25"][:, origin] = 5000.0
    assert model.predict(changed, start=d, end=d)["pm25_mean"].sel(lead=lead).item() != base


def test_missing_time_dim():
    with pytest.raises(MissingFieldError):
        F.day_hour(xr.DataArray(np.ones(3), dims="x"))
