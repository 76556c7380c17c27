"""Time conventions and daily statistics in local (China Standard) time.

ecodss keeps every time in UTC: ``numpy.datetime64`` values, naive = UTC (tz-aware pandas input is
converted to UTC). Daily statistics for Chinese air-quality reporting are taken over *local*
calendar days, China Standard Time (CST, UTC+8) by default, so a CST day runs from 16:00 UTC of the
previous UTC day to 16:00 UTC.

Hourly values are stamped at the **start** of their hour by default (the pandas/xarray convention:
the value at 16:00 UTC is the mean over 16:00-17:00 UTC, i.e. 00:00-01:00 CST, the first hour of the
CST day). Chinese monitoring releases usually stamp the **end** of the hour ("01:00" = 00:00-01:00);
pass ``hour_label="end"`` for such data.

Validity rules
--------------
* Daily (24-h) mean: at least 20 valid hourly values in the day — GB 3095-2012 §8 "数据统计的
  有效性规定", Table 4 "污染物浓度数据有效性的最低要求" (SO2, NO2, CO, PM10, PM2.5, NOx 24-h mean:
  "每日至少有20个小时平均浓度值或采样时间"). GB 3095-2026 keeps the rule according to secondary
  sources **[unverified]**; the section/table numbers were not re-checked against either PDF.
* O3 8-h moving mean: at least 6 valid hours in the 8-h window — GB 3095-2012 Table 4
  ("每8小时至少有6小时平均浓度值", same caveat).
* O3 daily maximum 8-h mean: the maximum of the 8-h moving means ending from 08:00 to 24:00 local
  time (17 windows, all inside the day), valid with at least 14 valid 8-h means; with fewer, the
  value is still valid if it exceeds the concentration limit — HJ 663-2013 §6 data-validity rules
  ("当日8时至24时至少有14个有效8小时平均浓度值。当不满足14个有效数据时，若日最大8小时平均浓度超过
  浓度限值标准时，统计结果仍有效"; wording as quoted in secondary sources, **[unverified against
  the PDF]**). The limit defaults to the GB 3095-2012 grade-II O3 daily-max-8-h limit, 160 ug/m3
  (GB 3095-2012 Table 1).

All functions accept xarray DataArray/Dataset (numpy- or dask-backed) and pandas Series/DataFrame
with a DatetimeIndex; they are vectorized (``resample``/``rolling``), never looping over days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .errors import InvalidValueError, MissingFieldError
from .validation import check_range

#: China Standard Time offset from UTC [h].
CST_UTC_OFFSET_HOURS = 8
#: GB 3095-2012 Table 4: valid hourly values needed for a 24-h mean.
MIN_VALID_HOURS_DAILY = 20
#: GB 3095-2012 Table 4: valid hours needed in an 8-h window.
MIN_VALID_HOURS_8H = 6
#: HJ 663-2013: valid 8-h means (of the 17 ending 08:00-24:00) needed for the daily maximum.
MIN_VALID_WINDOWS_8H = 14
#: GB 3095-2012 Table 1, grade II, O3 daily maximum 8-h mean [ug/m3].
O3_8H_LIMIT_GRADE2 = 160.0

_HOUR = np.timedelta64(3600, "s")
_DAY = np.timedelta64(1, "D")
#: Label (start-of-hour, local) of the first 8-h window inside a local day: hours 00-07 (ends 08:00).
_FIRST_WINDOW_LABEL_HOUR = 7


def _offset(utc_offset_hours: float) -> np.timedelta64:
    check_range(utc_offset_hours, "utc_offset_hours", -12, 14, kind="argument", units="h")
    return np.timedelta64(int(round(float(utc_offset_hours) * 3600)), "s")


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def local_date(time, utc_offset_hours: float = CST_UTC_OFFSET_HOURS):
    """Local calendar date of UTC times.

    Parameters
    ----------
    time : datetime64 array or scalar, pandas DatetimeIndex/Series/Timestamp, or xarray DataArray
        Times in UTC (naive = UTC; tz-aware pandas values are converted to UTC).
    utc_offset_hours : float, default 8
        Local offset from UTC [h]; 8 is China Standard Time.

    Returns
    -------
    Same kind as ``time``: ``datetime64[D]`` for numpy input; midnight timestamps for pandas and
    xarray (which do not store day resolution).

    Examples
    --------
    >>> local_date(np.datetime64("2026-01-01T16:00"))
    np.datetime64('2026-01-02')
    """
    off = _offset(utc_offset_hours)
    if isinstance(time, xr.DataArray):
        _check_datetime(time.dtype, "time")
        return (time + off).dt.floor("D")
    if isinstance(time, pd.Series):
        values = pd.DatetimeIndex(time)
        return pd.Series((_naive_utc(values) + pd.Timedelta(off)).floor("D"), index=time.index,
                         name=time.name)
    if isinstance(time, pd.DatetimeIndex):
        return (_naive_utc(time) + pd.Timedelta(off)).floor("D")
    if isinstance(time, pd.Timestamp):
        t = time.tz_convert("UTC").tz_localize(None) if time.tz is not None else time
        return (t + pd.Timedelta(off)).floor("D")
    arr = np.asarray(time)
    _check_datetime(arr.dtype, "time")
    return (arr.astype("datetime64[s]") + off).astype("datetime64[D]")


def _check_datetime(dtype, field: str) -> None:
    if not np.issubdtype(dtype, np.datetime64):
        raise InvalidValueError(f"{field} must be datetime64 (UTC), got dtype {dtype}", field=field)


def _as_xarray(data, dim: str):
    """``(xarray object, back)``: pandas input becomes xarray; ``back`` restores the pandas kind."""
    if isinstance(data, xr.DataArray | xr.Dataset):
        if dim not in data.dims:
            raise MissingFieldError(f"no dimension {dim!r}; dims are {tuple(data.dims)}", field=dim)
        return data, lambda out: out
    if isinstance(data, pd.Series | pd.DataFrame):
        if not isinstance(data.index, pd.DatetimeIndex):
            raise InvalidValueError("a pandas input needs a DatetimeIndex (UTC)", field="index")
        index = _naive_utc(data.index)
        if isinstance(data, pd.Series):
            da = xr.DataArray(data.to_numpy(), dims=[dim], coords={dim: index.values},
                              name=data.name)
            return da, lambda out: out.to_series()
        ds = xr.Dataset({str(c): ((dim,), data[c].to_numpy()) for c in data.columns},
                        coords={dim: index.values})
        return ds, lambda out: out.to_dataframe()
    raise InvalidValueError(f"expected an xarray or pandas object, got {type(data).__name__}",
                            field="data")


def _to_local_hours(x, dim: str, utc_offset_hours: float, hour_label: str):
    """Check the hourly time axis and relabel it in local time, start-of-hour stamped."""
    if hour_label not in ("start", "end"):
        raise InvalidValueError(f"hour_label={hour_label!r} must be 'start' or 'end'",
                                field="hour_label")
    t = np.asarray(x[dim].values)
    _check_datetime(t.dtype, dim)
    t = t.astype("datetime64[s]")
    if t.size > 1:
        step = np.diff(t)
        if (step <= np.timedelta64(0, "s")).any():
            i = int(np.flatnonzero(step <= np.timedelta64(0, "s"))[0]) + 1
            raise InvalidValueError(f"{dim} must be strictly increasing; {t[i]} follows {t[i - 1]}",
                                    field=dim)
    off_hour = t - t.astype("datetime64[h]")
    if (off_hour != np.timedelta64(0, "s")).any():
        raise InvalidValueError(f"{dim} must be hourly values on whole hours (gaps allowed); "
                                f"got {t[np.flatnonzero(off_hour)[0]]}", field=dim)
    shift = _offset(utc_offset_hours) - (_HOUR if hour_label == "end" else np.timedelta64(0, "s"))
    return x.assign_coords({dim: t + shift})


def _finish(out, dim: str, cell_methods: str):
    out = out.rename({dim: "date"})
    for var in [out] if isinstance(out, xr.DataArray) else out.data_vars.values():
        var.attrs["cell_methods"] = cell_methods
    return out


def _daily(data, how: str, dim: str, utc_offset_hours: float, min_valid: int, hour_label: str):
    check_range(min_valid, "min_valid", 1, 24, kind="argument")
    x, back = _as_xarray(data, dim)
    x = _to_local_hours(x, dim, utc_offset_hours, hour_label)
    groups = x.resample({dim: "1D"})
    stat = getattr(groups, how)(skipna=True, keep_attrs=True)
    out = stat.where(groups.count() >= min_valid)
    method = f"{dim}: {how} (interval: 1 hour, local day UTC{utc_offset_hours:+g}, " \
             f">= {min_valid} valid hours)"
    return back(_finish(out, dim, method))


def daily_mean(data, dim: str = "time", utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
               min_valid: int = MIN_VALID_HOURS_DAILY, hour_label: str = "start"):
    """Mean of hourly values per local calendar day, NaN where too few hours are valid.

    Parameters
    ----------
    data : xarray.DataArray or Dataset, pandas Series or DataFrame
        Hourly values on a UTC time axis ``dim`` (gaps allowed, NaN = missing hour).
    dim : str, default "time"
        Time dimension (ignored for pandas, which uses the index).
    utc_offset_hours : float, default 8
        Local-day offset from UTC [h] (China Standard Time).
    min_valid : int, default 20
        Valid hourly values needed for a daily mean (GB 3095-2012 Table 4).
    hour_label : {"start", "end"}, default "start"
        Whether a time stamp marks the start or the end of its hour.

    Returns
    -------
    Same kind as ``data``, on a ``date`` axis of local dates (midnight timestamps; days without
    data in the span are included as NaN).
    """
    return _daily(data, "mean", dim, utc_offset_hours, min_valid, hour_label)


def daily_max(data, dim: str = "time", utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
              min_valid: int = MIN_VALID_HOURS_DAILY, hour_label: str = "start"):
    """Maximum hourly value per local calendar day (e.g. the O3 daily maximum 1-h mean).

    Same parameters and completeness rule as :func:`daily_mean` (a day needs ``min_valid`` valid
    hours; GB 3095-2012 states no separate rule for the daily maximum 1-h value, so the 24-h rule is
    applied as a conservative choice).
    """
    return _daily(data, "max", dim, utc_offset_hours, min_valid, hour_label)


def max_8h_mean(data, dim: str = "time", utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
                min_hours: int = MIN_VALID_HOURS_8H, min_windows: int = MIN_VALID_WINDOWS_8H,
                exceedance_limit: float | None = O3_8H_LIMIT_GRADE2, hour_label: str = "start"):
    """Daily maximum 8-h moving mean (O3) per local calendar day, with the GB 3095/HJ 663 rules.

    The 8-h moving mean at hour *t* is the mean of the valid hourly values of hours *t*-7 … *t*
    (valid with at least ``min_hours`` of them, GB 3095-2012 Table 4). The daily maximum is taken
    over the 17 windows ending from 08:00 to 24:00 local time, i.e. those lying inside the day, and
    is valid with at least ``min_windows`` valid windows (HJ 663-2013 §6), or, with fewer, when it
    exceeds ``exceedance_limit`` (HJ 663-2013 §6; ``None`` disables this clause).

    Parameters
    ----------
    data : xarray.DataArray or Dataset, pandas Series or DataFrame
        Hourly values [any unit] on a UTC time axis ``dim``.
    dim, utc_offset_hours, hour_label
        As in :func:`daily_mean`.
    min_hours : int, default 6
        Valid hours needed in an 8-h window.
    min_windows : int, default 14
        Valid 8-h windows (of 17) needed for the daily maximum.
    exceedance_limit : float or None, default 160
        Concentration [units of ``data``] above which a maximum from fewer windows is still valid;
        the default is the GB 3095-2012 grade-II O3 limit in ug/m3.

    Returns
    -------
    Same kind as ``data`` on a ``date`` axis of local dates.
    """
    check_range(min_hours, "min_hours", 1, 8, kind="argument")
    check_range(min_windows, "min_windows", 1, 17, kind="argument")
    x, back = _as_xarray(data, dim)
    x = _to_local_hours(x, dim, utc_offset_hours, hour_label)
    t = x[dim].values
    if t.size == 0:
        raise InvalidValueError(f"{dim} is empty", field=dim)
    full = np.arange(t[0].astype("datetime64[D]"), t[-1].astype("datetime64[D]") + _DAY,
                     _HOUR).astype("datetime64[s]")
    x = x.reindex({dim: full})
    moving = x.rolling({dim: 8}, min_periods=min_hours).mean(keep_attrs=True)
    label_hour = xr.DataArray((full - full.astype("datetime64[D]")) // _HOUR, dims=[dim],
                              coords={dim: full})
    moving = moving.where(label_hour >= _FIRST_WINDOW_LABEL_HOUR)
    groups = moving.resample({dim: "1D"})
    dmax = groups.max(skipna=True, keep_attrs=True)
    valid = groups.count() >= min_windows
    if exceedance_limit is not None:
        valid = valid | (dmax > exceedance_limit)
    out = dmax.where(valid)
    method = (f"{dim}: mean (interval: 8 hours, >= {min_hours} valid) {dim}: maximum "
              f"(windows ending 08-24 h local, UTC{utc_offset_hours:+g}, >= {min_windows} valid)")
    return back(_finish(out, dim, method))
