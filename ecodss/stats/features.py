"""Predictors of a station forecast: local-day arrays, lagged pollutant and target-day met.

Every predictor of target day *d* at lead *L* days (forecast issued at the end of the origin day
``o = d - L``, local time) uses only

* pollutant observations up to the end of day ``o`` (daily means of days ``o, o-1, ...``, the mean
  of the last ``recent_hours`` hours of day ``o`` and its last hourly value), and
* meteorology of days ``d - 1`` and ``d`` (observed met as *perfect prognosis* — Klein et al. 1959,
  Wilks 2011 §7.5.2 — or forecast met when given), and an optional dispersion-model forecast of
  day ``d`` at the station (model output statistics, Glahn & Lowry 1972),

plus the calendar of day *d*. No value after day ``o`` (pollutant) or day ``d`` (met) enters, which
``tests/stats/test_features.py`` checks by perturbing the inputs.

Days are local calendar days (UTC + ``utc_offset_hours``); hourly inputs are on a UTC ``time``
axis. A daily mean needs ``min_valid`` valid hours (GB 3095-2012 Table 4: 20), else it is NaN.
Missing predictors stay NaN: histogram gradient boosting routes them natively (scikit-learn
``HistGradientBoostingRegressor``, "missing values support").

References
----------
Glahn, H. R. and Lowry, D. A. (1972) The use of model output statistics (MOS) in objective weather
forecasting. J. Appl. Meteor. 11, 1203-1211.
Klein, W. H., Lewis, B. M. and Enger, I. (1959) Objective prediction of five-day mean temperatures
during winter. J. Meteor. 16, 672-682.
Wilks, D. S. (2011) Statistical Methods in the Atmospheric Sciences, 3rd ed., Academic Press.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError
from ..timeutil import CST_UTC_OFFSET_HOURS, MIN_VALID_HOURS_DAILY

_HOUR = np.timedelta64(1, "h")
_DAY = np.timedelta64(1, "D")


def _check_time(da: xr.DataArray, where: str) -> None:
    if "time" not in da.dims:
        raise MissingFieldError(f"needs a 'time' dimension, got dims {tuple(da.dims)}",
                                field="time", where=where)
    if not np.issubdtype(da["time"].dtype, np.datetime64):
        raise InvalidValueError("'time' must hold datetimes (naive UTC)", field="time", where=where)
    if not da.indexes["time"].is_unique:
        raise InvalidValueError("'time' has duplicate time stamps", field="time", where=where)


def one_hot(ds: xr.Dataset) -> xr.Dataset:
    """Replace categorical variables by their hourly indicator (0/1, NaN where missing).

    A variable is categorical when it holds strings, or integers with ``flag_values`` and
    ``flag_meanings`` attributes (CF conventions §3.5). Its daily mean is then the share of hours
    in each class (e.g. the share of north-westerly hours).
    """
    out = {}
    for name, da in ds.data_vars.items():  # loop over variables
        if da.dtype.kind in "OUS":
            valid = da.notnull() & (da.astype(str) != "") & (da.astype(str) != "nan")
            classes = sorted({str(v) for v in np.unique(da.where(valid, "").values.astype(str))}
                             - {""})
            for c in classes:
                out[f"{name}_{c}"] = (da.astype(str) == c).astype(float).where(valid)
        elif "flag_values" in da.attrs and "flag_meanings" in da.attrs:
            for v, meaning in zip(np.atleast_1d(da.attrs["flag_values"]),
                                  str(da.attrs["flag_meanings"]).split(), strict=True):
                out[f"{name}_{meaning}"] = (da == v).astype(float).where(da.notnull())
        else:
            out[name] = da.astype(float)
    return xr.Dataset(out, coords=ds.coords)


def day_hour(da: xr.DataArray, utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
             days: np.ndarray | None = None) -> xr.DataArray:
    """Hourly values on a UTC ``time`` axis reshaped to local ``(..., date, hour)``.

    Parameters
    ----------
    da : xarray.DataArray
        Hourly values [any units] on ``time`` (naive UTC, hour-start stamps); gaps allowed.
    utc_offset_hours : float, default 8
        Local time minus UTC [h] (China Standard Time).
    days : array of datetime64[D], optional
        Local dates of the output (default: every date spanned by ``da``).

    Returns
    -------
    xarray.DataArray
        Dims ``(*other, date, hour)``; ``hour`` 0-23 local; missing hours are NaN.
    """
    _check_time(da, "day_hour")
    local = da["time"].values.astype("datetime64[h]") + np.timedelta64(int(utc_offset_hours), "h")
    if days is None:
        first, last = local.min().astype("datetime64[D]"), local.max().astype("datetime64[D]")
        days = np.arange(first, last + _DAY, _DAY)
    days = np.asarray(days, dtype="datetime64[D]")
    grid = (days[:, None] + np.arange(24) * _HOUR).ravel()
    x = da.assign_coords(time=local).reindex(time=grid).transpose(..., "time")
    shape = x.shape[:-1] + (days.size, 24)
    return xr.DataArray(x.values.reshape(shape), dims=(*x.dims[:-1], "date", "hour"),
                        coords={**{k: v for k, v in x.coords.items() if "time" not in v.dims},
                                "date": days.astype("datetime64[ns]"), "hour": np.arange(24)},
                        attrs=da.attrs)


def daily_stat(dh: np.ndarray, how: str = "mean", min_valid: int = MIN_VALID_HOURS_DAILY,
               axis: int = -1) -> np.ndarray:
    """Mean/min/max over hours (``axis``), NaN where fewer than ``min_valid`` hours are valid."""
    n = np.isfinite(dh).sum(axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = {"mean": np.nanmean, "min": np.nanmin, "max": np.nanmax}[how](dh, axis=axis)
    return np.where(n >= min_valid, value, np.nan)


def shift_days(a: np.ndarray, k: int) -> np.ndarray:
    """Value of day ``j - k`` at position ``j`` along the last axis (NaN-padded)."""
    out = np.full(a.shape, np.nan)
    if k == 0:
        return a.astype(float)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def calendar_features(days: np.ndarray) -> dict[str, np.ndarray]:
    """Day-of-year harmonics (annual, semi-annual) and weekday of local dates."""
    d = pd.DatetimeIndex(np.asarray(days, "datetime64[ns]"))
    phase = 2 * np.pi * (d.day_of_year.to_numpy() - 1) / 365.25
    return {"doy_sin1": np.sin(phase), "doy_cos1": np.cos(phase), "doy_sin2": np.sin(2 * phase),
            "doy_cos2": np.cos(2 * phase), "weekday": d.day_of_week.to_numpy().astype(float)}


def lag_features(pol_dh: np.ndarray, lead: int, n_lags: int, recent_hours: int,
                 min_valid: int) -> dict[str, np.ndarray]:
    """Pollutant predictors from the origin day ``d - lead`` and before, on target days ``d``.

    ``pol_dh`` is ``(..., date, hour)``; results are ``(..., date)`` indexed by the target day.
    """
    daily = daily_stat(pol_dh, "mean", min_valid)
    feats = {f"pol_day_m{lead + k}": shift_days(daily, lead + k) for k in range(n_lags)}
    recent = daily_stat(pol_dh[..., 24 - recent_hours:], "mean", 1)
    feats[f"pol_last{recent_hours}h_m{lead}"] = shift_days(recent, lead)
    feats[f"pol_last1h_m{lead}"] = shift_days(pol_dh[..., 23], lead)
    feats[f"pol_trend_m{lead}"] = feats[f"pol_day_m{lead}"] - shift_days(daily, lead + 1)
    return feats


def met_features(met_dh: xr.Dataset | None, n_blocks: int, min_valid: int,
                 prefix: str = "") -> dict[str, np.ndarray]:
    """Target-day met (daily mean, ``n_blocks`` sub-daily block means, min, max), the previous
    day's mean and the day-to-day change, each ``(..., date)`` on target days."""
    feats: dict[str, np.ndarray] = {}
    if met_dh is None:
        return feats
    for name, da in met_dh.data_vars.items():  # loop over met variables
        v = da.values
        mean = daily_stat(v, "mean", min_valid)
        feats[f"{prefix}{name}_d0"] = mean
        blocks = v.reshape(v.shape[:-1] + (n_blocks, 24 // n_blocks))
        block_mean = daily_stat(blocks, "mean", 1)
        for b in range(n_blocks):
            feats[f"{prefix}{name}_d0_b{b}"] = block_mean[..., b]
        feats[f"{prefix}{name}_d0_min"] = daily_stat(v, "min", 1)
        feats[f"{prefix}{name}_d0_max"] = daily_stat(v, "max", 1)
        feats[f"{prefix}{name}_dm1"] = shift_days(mean, 1)
        feats[f"{prefix}{name}_change"] = mean - feats[f"{prefix}{name}_dm1"]
    return feats


def stack_features(feats: dict[str, np.ndarray], template: xr.DataArray) -> xr.DataArray:
    """Predictor dict -> DataArray ``(*template.dims, feature)``."""
    arr = np.stack([np.broadcast_to(v, template.shape) for v in feats.values()], axis=-1)
    return xr.DataArray(arr, dims=(*template.dims, "feature"),
                        coords={**template.coords, "feature": list(feats)})


def daily_design(pol_dh: xr.DataArray, met_dh: xr.Dataset | None, model_dh: xr.DataArray | None,
                 lead: int, *, n_lags: int = 3, recent_hours: int = 4, n_blocks: int = 4,
                 min_valid: int = MIN_VALID_HOURS_DAILY) -> tuple[xr.DataArray, xr.DataArray]:
    """Predictors ``(station, date, feature)`` and target daily means ``(station, date)``.

    Parameters
    ----------
    pol_dh : xarray.DataArray ``(station, date, hour)``
        Hourly pollutant [e.g. ug m-3] on local days (:func:`day_hour`).
    met_dh : xarray.Dataset of ``(station, date, hour)`` or None
        Hourly met on the same days (categorical variables one-hot, :func:`one_hot`).
    model_dh : xarray.DataArray ``(station, date, hour)`` or None
        Dispersion-model forecast of the pollutant valid on each hour (MOS predictor).
    lead : int
        Lead [days] >= 1.
    """
    if lead < 1:
        raise InvalidValueError(f"lead={lead} days must be >= 1", field="leads")
    target = xr.DataArray(daily_stat(pol_dh.values, "mean", min_valid),
                          dims=pol_dh.dims[:-1], coords={k: v for k, v in pol_dh.coords.items()
                                                         if "hour" not in v.dims})
    feats = lag_features(pol_dh.values, lead, n_lags, recent_hours, min_valid)
    feats.update(met_features(met_dh, n_blocks, min_valid))
    if model_dh is not None:
        feats.update(met_features(xr.Dataset({"model": model_dh}), n_blocks, min_valid))
    feats.update(calendar_features(target["date"].values))
    return stack_features(feats, target), target


def hourly_design(pol_dh: xr.DataArray, met_dh: xr.Dataset | None, model_dh: xr.DataArray | None,
                  lead: int, **kwargs) -> tuple[xr.DataArray, xr.DataArray]:
    """Hourly target ``(station, date, hour)`` with the daily predictors of its day plus the
    target hour's met (and model) values and hour-of-day harmonics."""
    daily, _ = daily_design(pol_dh, met_dh, model_dh, lead, **kwargs)
    shape = pol_dh.shape
    feats = {str(f): daily.sel(feature=f).values[..., None] for f in daily["feature"].values}
    for name, da in ({} if met_dh is None else met_dh.data_vars).items():
        feats[f"{name}_hour"] = da.values
    if model_dh is not None:
        feats["model_hour"] = model_dh.values
    hour = np.arange(24)
    feats["hour_sin"] = np.sin(2 * np.pi * hour / 24)
    feats["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    feats = {k: np.broadcast_to(v, shape) for k, v in feats.items()}
    return stack_features(feats, pol_dh), pol_dh


def select_met(met: xr.Dataset, met_vars: Sequence[str] | None, exclude: Sequence[str],
               where: str) -> xr.Dataset:
    """The met variables used as predictors (all data variables but ``exclude`` by default)."""
    names = [v for v in met.data_vars if v not in exclude] if met_vars is None else list(met_vars)
    from ..validation import require_fields
    require_fields(met.data_vars, names, where=where)
    return met[names]
