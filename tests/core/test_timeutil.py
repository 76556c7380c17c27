"""Local (CST) dates and daily statistics with the GB 3095-2012 / HJ 663-2013 validity rules."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import InvalidValueError, MissingFieldError, OutOfRangeError
from ecodss.timeutil import daily_max, daily_mean, local_date, max_8h_mean

H = np.timedelta64(1, "h")


def hourly(values, start="2026-12-01T16:00"):
    """Hourly DataArray on a UTC axis; 2026-12-01T16:00 UTC is 00:00 CST on 2026-12-02."""
    values = np.asarray(values, float)
    t = np.datetime64(start, "s") + np.arange(values.size) * H
    return xr.DataArray(values, dims="time", coords={"time": t}, attrs={"units": "ug/m3"})


def twins(da):
    """The eager DataArray and a dask-chunked copy (chunks smaller than a day)."""
    return [da, da.chunk({"time": 7})]


# --- local_date ------------------------------------------------------------------------------
def test_cst_day_starts_at_16_utc():
    t = np.array(["2026-01-01T15:59", "2026-01-01T16:00", "2026-01-02T15:00"], "datetime64[m]")
    expected = np.array(["2026-01-01", "2026-01-02", "2026-01-02"], "datetime64[D]")
    np.testing.assert_array_equal(local_date(t), expected)
    assert local_date(t).dtype == np.dtype("datetime64[D]")
    np.testing.assert_array_equal(local_date(pd.DatetimeIndex(t)).values.astype("datetime64[D]"),
                                  expected)
    da = xr.DataArray(t, dims="time")
    for twin in (da, da.chunk({"time": 2})):
        np.testing.assert_array_equal(local_date(twin).values.astype("datetime64[D]"), expected)


def test_local_date_offset_and_timezone_aware_input():
    t = np.datetime64("2026-01-01T23:30")
    assert local_date(t, utc_offset_hours=0) == np.datetime64("2026-01-01")
    assert local_date(t, utc_offset_hours=0.5) == np.datetime64("2026-01-02")
    # 07:00 in Shanghai is 23:00 UTC the day before, local date is still the Shanghai date
    aware = pd.DatetimeIndex(["2026-01-02T07:00"], tz="Asia/Shanghai")
    assert local_date(aware)[0] == pd.Timestamp("2026-01-02")
    with pytest.raises(OutOfRangeError):
        local_date(t, utc_offset_hours=20)
    with pytest.raises(InvalidValueError):
        local_date(np.array([1.0, 2.0]))


# --- daily_mean ------------------------------------------------------------------------------
def day_with_valid_hours(n_valid):
    """Two CST days; day 1 has ``n_valid`` valid hours (the first ones), day 2 all 24."""
    v = np.arange(48, dtype=float) + 10.0
    v[n_valid:24] = np.nan
    return v


@pytest.mark.parametrize("n_valid, valid", [(19, False), (20, True), (24, True)])
def test_daily_mean_completeness_rule(n_valid, valid):
    v = day_with_valid_hours(n_valid)
    for da in twins(hourly(v)):
        out = daily_mean(da)
        assert out.dims == ("date",)
        np.testing.assert_array_equal(out["date"].values.astype("datetime64[D]"),
                                      np.array(["2026-12-02", "2026-12-03"], "datetime64[D]"))
        first = float(out[0])
        if valid:
            assert first == pytest.approx(np.mean(v[:n_valid]), rel=1e-12)
        else:
            assert np.isnan(first)
        assert float(out[1]) == pytest.approx(np.mean(v[24:]), rel=1e-12)


def test_daily_mean_min_valid_is_a_parameter():
    v = day_with_valid_hours(19)
    assert float(daily_mean(hourly(v), min_valid=18)[0]) == pytest.approx(np.mean(v[:19]))
    with pytest.raises(OutOfRangeError):
        daily_mean(hourly(v), min_valid=25)


def test_hour_at_16_utc_opens_the_cst_day():
    # 16 hours on day A (00:00-15:00 UTC = 08:00-23:00 CST), then one full CST day of value 7
    v = np.r_[np.full(16, 1000.0), np.full(24, 7.0)]
    out = daily_mean(hourly(v, start="2026-12-01T00:00"), min_valid=1)
    assert out["date"].values.astype("datetime64[D]").tolist() == \
        np.array(["2026-12-01", "2026-12-02"], "datetime64[D]").tolist()
    assert out.values.tolist() == [1000.0, 7.0]


def test_hour_ending_labels():
    # stamped at the end of the hour: the value stamped 16:00 UTC belongs to the previous CST day
    v = np.r_[999.0, np.full(24, 5.0)]
    out = daily_mean(hourly(v), min_valid=1, hour_label="end")
    assert out.values.tolist() == [999.0, 5.0]


def test_daily_mean_pandas_and_dataset():
    v = day_with_valid_hours(22)
    da = hourly(v)
    series = pd.Series(v, index=pd.DatetimeIndex(da.time.values))
    out = daily_mean(series)
    assert isinstance(out, pd.Series)
    np.testing.assert_allclose(out.values, daily_mean(da).values)
    ds = xr.Dataset({"PM2.5": da, "SO2": da * 2})
    out_ds = daily_mean(ds)
    np.testing.assert_allclose(out_ds["SO2"].values, 2 * daily_mean(da).values)
    frame = daily_mean(series.to_frame("PM2.5"))
    np.testing.assert_allclose(frame["PM2.5"].values, out.values)


def test_gaps_and_ordering_are_checked():
    da = hourly(np.ones(30))
    gappy = da.isel(time=np.r_[0:10, 15:30])  # a 5-h gap: allowed, counted as missing
    assert np.isnan(float(daily_mean(gappy)[0]))
    with pytest.raises(InvalidValueError, match="increasing"):
        daily_mean(da.isel(time=[1, 0, 2]))
    half_hour = da.assign_coords(time=da.time + np.timedelta64(30, "m"))
    with pytest.raises(InvalidValueError, match="whole hours"):
        daily_mean(half_hour)
    with pytest.raises(MissingFieldError):
        daily_mean(da, dim="hour")


def test_daily_max():
    v = day_with_valid_hours(24)
    for da in twins(hourly(v)):
        np.testing.assert_allclose(daily_max(da).values, [v[:24].max(), v[24:].max()])


# --- max_8h_mean -----------------------------------------------------------------------------
def ramp_days(n_days=2):
    """Hourly values equal to the CST hour of day (0..23), starting at 00:00 CST."""
    return np.tile(np.arange(24, dtype=float), n_days)


def test_max_8h_mean_uses_windows_ending_08_to_24():
    # windows ending 08..24 h; on a 0..23 ramp the largest is hours 16..23, mean 19.5
    for da in twins(hourly(ramp_days())):
        out = max_8h_mean(da, exceedance_limit=None)
        np.testing.assert_allclose(out.values, [19.5, 19.5])


def test_max_8h_mean_ignores_previous_day_hours():
    # a high evening on day 1 must not leak into day 2 (windows ending before 08:00 excluded)
    v = np.r_[np.full(24, 500.0), np.full(24, 100.0)]
    out = max_8h_mean(hourly(v), exceedance_limit=None)
    np.testing.assert_allclose(out.values, [500.0, 100.0])


def reference_max_8h(day, min_hours=6, min_windows=14, limit=None):
    """Brute-force HJ 663 daily max 8-h mean of one CST day of 24 hourly values."""
    means = [np.nanmean(day[end - 8:end]) for end in range(8, 25)
             if np.isfinite(day[end - 8:end]).sum() >= min_hours]
    if not means:
        return np.nan
    best = max(means)
    return best if len(means) >= min_windows or (limit is not None and best > limit) else np.nan


def test_max_8h_mean_window_needs_6_hours():
    v = np.full(24, 50.0)
    v[16:21] = 300.0
    v[21:] = np.nan  # window 16..23 has 5 valid hours (invalid); 15..22 has 6: (50 + 5*300)/6
    out = float(max_8h_mean(hourly(v), exceedance_limit=None)[0])
    assert out == pytest.approx((50 + 5 * 300) / 6)
    assert out == pytest.approx(reference_max_8h(v))


@pytest.mark.parametrize("n_missing", range(0, 13))
def test_max_8h_mean_needs_14_windows(n_missing):
    v = 40.0 + np.arange(24.0)
    v[:n_missing] = np.nan
    out = float(max_8h_mean(hourly(v), exceedance_limit=None)[0])
    expected = reference_max_8h(v)
    assert (np.isnan(out) and np.isnan(expected)) or out == pytest.approx(expected)
    valid_windows = sum(np.isfinite(v[end - 8:end]).sum() >= 6 for end in range(8, 25))
    assert np.isnan(out) == (valid_windows < 14)


def test_max_8h_mean_exceedance_keeps_short_days():
    w = np.full(24, 200.0)
    w[:8] = np.nan  # only the 11 windows ending 14..24 h have >= 6 valid hours
    assert float(max_8h_mean(hourly(w))[0]) == pytest.approx(200.0)  # 200 > 160: still valid
    assert np.isnan(float(max_8h_mean(hourly(w), exceedance_limit=None)[0]))
    assert np.isnan(float(max_8h_mean(hourly(w * 0.5))[0]))  # 100 <= 160: invalid


def test_max_8h_mean_dask_twin_and_pandas():
    rng = np.random.default_rng(3)
    v = rng.uniform(0, 300, 24 * 5)
    v[rng.integers(0, v.size, 30)] = np.nan
    da = hourly(v)
    eager = max_8h_mean(da)
    expected = [reference_max_8h(day, limit=160.0) for day in v.reshape(5, 24)]
    np.testing.assert_allclose(eager.values, expected, rtol=1e-12)
    lazy = max_8h_mean(da.chunk({"time": 5}))
    assert lazy.chunks is not None
    np.testing.assert_array_equal(eager.values, lazy.values)
    series = max_8h_mean(pd.Series(v, index=pd.DatetimeIndex(da.time.values)))
    np.testing.assert_array_equal(series.values, eager.values)
