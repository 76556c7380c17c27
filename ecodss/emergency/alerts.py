"""Heavy-pollution-weather alert levels from a daily AQI forecast (2018 unified scheme).

The rules are data (``ecodss/data/alert_rules_2018.yaml``, validated by :class:`AlertRules`), after
the 2018 unified scheme (环办大气函〔2018〕875号) as adopted in city plans:

========  =================================================================  =================
level     forecast condition (daily AQI)                                      reduction share
========  =================================================================  =================
yellow 1  > 200 for >= 2 days                                                 10 %
orange 2  > 200 for >= 3 days and a day > 300 (switchable per city)           20 %
red    3  > 200 for >= 4 days and > 300 for >= 2 consecutive days; or >= 500  30 %
========  =================================================================  =================

(reduction of SO2, NOx, PM and VOCs as a share of total emissions; "higher level not reached" means
the highest satisfied level applies). Thresholds "> 200" and "> 300" are strict.

How days are counted
--------------------
* An *episode* is a run of consecutive days with AQI > 200. Two runs separated by a gap that does
  not meet the lifting condition count as one episode, and the stricter level applies (MEP 2017
  slides; ``merge_episodes`` in the rules). The heavy days (> 200) of an episode are counted; the
  "> 300" clause needs that many *consecutive* days > 300 within the episode ("lasting").
* Lifting: the alert is lifted when the daily AQI is forecast <= 200 for more than 36 h (Yangzhou
  2026 notice; ``lift`` in the rules), i.e. 2 daily values. The alert period of an episode runs from
  its first to its last day > 200.
* The forecast is taken as given: an episode cut by the end of the forecast is judged on the days
  shown. Where plans ask for the upper bound of the forecast range (>= 3 heavy days), pass it.

Sources are listed in the rules file and in ``shared/reference/standards.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import config
from ..errors import ConfigError, InvalidValueError, MissingFieldError
from ..validation import check_range

#: Pollutant groups of the reduction shares.
REDUCTION_POLLUTANTS = ("SO2", "NOx", "PM", "VOCs")


class AlertLevelRule(BaseModel):
    """Trigger and reduction share of one alert level."""

    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1)
    name: str
    name_zh: str
    response: str
    min_heavy_days: int = Field(ge=1)
    min_severe_run: int = Field(ge=0)
    red_if_reaches: bool = False
    reduction: dict[str, float]

    @model_validator(mode="after")
    def _check_reduction(self):
        if sorted(self.reduction) != sorted(REDUCTION_POLLUTANTS) or \
                not all(0 <= v <= 1 for v in self.reduction.values()):
            raise ConfigError(f"alert level {self.name!r}: reduction needs shares in [0, 1] for "
                              f"{REDUCTION_POLLUTANTS}, got {self.reduction}")
        return self


class LiftRule(BaseModel):
    """Alert lifted when daily AQI <= ``max_aqi`` is forecast for at least ``min_hours``."""

    model_config = ConfigDict(extra="forbid")

    max_aqi: float
    min_hours: float = Field(gt=0)

    @property
    def days(self) -> int:
        """Number of daily values covering ``min_hours`` (36 h -> 2 days)."""
        return max(1, math.ceil(self.min_hours / 24))


class CityOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orange_requires_300: bool | None = None
    source: str = ""


class AlertRules(BaseModel):
    """A heavy-pollution alert scheme (see ``ecodss/data/alert_rules_2018.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    sources: list[str]
    heavy_above: float
    severe_above: float
    reaches: float
    levels: list[AlertLevelRule]
    orange_requires_300: bool = True
    city_overrides: dict[str, CityOverride] = {}
    lift: LiftRule
    merge_episodes: bool = True

    @model_validator(mode="after")
    def _check_levels(self):
        if [lv.level for lv in self.levels] != list(range(1, len(self.levels) + 1)):
            raise ConfigError(f"rules {self.name!r}: levels must be numbered 1..n in order")
        return self

    @property
    def level_names(self) -> list[str]:
        return ["none"] + [lv.name for lv in self.levels]

    def reduction_table(self) -> np.ndarray:
        """``(n_levels + 1, n_pollutants)`` reduction shares, row 0 = no alert."""
        rows = [[0.0] * len(REDUCTION_POLLUTANTS)]
        rows += [[lv.reduction[p] for p in REDUCTION_POLLUTANTS] for lv in self.levels]
        return np.asarray(rows)

    def reduction_shares(self, level) -> dict[str, float]:
        """Reduction share of each of :data:`REDUCTION_POLLUTANTS` at alert ``level`` (0 = none).

        Raises
        ------
        ConfigError
            ``level`` outside 0 … number of levels.
        """
        table = self.reduction_table()
        if not 0 <= int(level) < len(table):
            raise ConfigError(f"parameter 'level' = {level}: alert levels are 0-{len(table) - 1}")
        return dict(zip(REDUCTION_POLLUTANTS, table[int(level)].tolist(), strict=True))


def load_rules(rules: str | Path | Mapping | AlertRules = "2018") -> AlertRules:
    """Alert rules by name (``"2018"`` = bundled file), YAML path, mapping or instance."""
    return config.load_rules(AlertRules, rules, bundled={"2018": "data/alert_rules_2018.yaml"},
                             what="alert rules")


# --------------------------------------------------------------------------------------------
# Kernel: run lengths and episodes along the last axis (days), vectorized over leading axes
# --------------------------------------------------------------------------------------------
def _run_length(b: np.ndarray) -> np.ndarray:
    """Length of the run of True containing each element (0 where False), along the last axis."""
    def ending_here(x):
        c = np.cumsum(x, axis=-1)
        return c - np.maximum.accumulate(np.where(x, 0, c), axis=-1)

    forward = ending_here(b)
    backward = ending_here(b[..., ::-1])[..., ::-1]
    return np.where(b, forward + backward - 1, 0)


def _segment_take(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.take_along_axis(values, at, axis=-1)


def _alert_kernel(daily, requires_300, *, heavy_above, severe_above, reaches, min_heavy,
                  min_severe, switchable, red_if_reaches, lift_days, merge):
    """Per-day episode level and overall level from daily AQI (..., day)."""
    a = np.asarray(daily, dtype=float)
    check_range(a, "daily_aqi", 0, 500, kind="forecast day", units="")
    n = a.shape[-1]
    idx = np.broadcast_to(np.arange(n), a.shape)
    heavy = a > heavy_above
    severe = a > severe_above
    extreme = a >= reaches
    member = heavy
    if merge:
        clear = ~heavy
        before = np.cumsum(heavy, axis=-1) > 0
        after = np.cumsum(heavy[..., ::-1], axis=-1)[..., ::-1] > 0
        member = heavy | (clear & (_run_length(clear) < lift_days) & before & after)
    prev = np.concatenate([np.zeros_like(member[..., :1]), member[..., :-1]], axis=-1)
    nxt = np.concatenate([member[..., 1:], np.zeros_like(member[..., :1])], axis=-1)
    starts, ends = member & ~prev, member & ~nxt
    episode = np.cumsum(starts, axis=-1) * member
    first = np.maximum.accumulate(np.where(starts, idx, 0), axis=-1)
    last = np.minimum.accumulate(np.where(ends, idx, n - 1)[..., ::-1], axis=-1)[..., ::-1]
    heavy_cum = np.cumsum(heavy, axis=-1)
    n_heavy = _segment_take(heavy_cum, last) - _segment_take(heavy_cum, first) + 1

    def segment_max(v):  # max of v (0..n) over each episode, broadcast to its days
        key = episode * (n + 1) + np.where(member, v, 0)
        running = np.maximum.accumulate(key, axis=-1)
        return _segment_take(running, last) - episode * (n + 1)

    severe_run = segment_max(_run_length(severe))
    any_extreme = segment_max(extreme.astype(int)) > 0
    requires = np.asarray(requires_300, bool)[..., None]
    day_level = np.zeros(a.shape, np.int8)
    for k in range(len(min_heavy)):  # loop over the 3 levels, not over days
        need = np.where(requires, min_severe[k], 0) if switchable[k] else min_severe[k]
        ok = member & (n_heavy >= min_heavy[k]) & (severe_run >= need)
        if red_if_reaches[k]:
            ok |= member & any_extreme
        day_level = np.where(ok, np.int8(k + 1), day_level)
    level = day_level.max(axis=-1) if n else np.zeros(a.shape[:-1], np.int8)
    period = (day_level == level[..., None]) & (level[..., None] > 0)
    return level.astype(np.int8), day_level, period


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
def _as_daily_dataarray(daily_aqi, day_dim: str | None, start) -> tuple[xr.DataArray, str]:
    """The forecast as a DataArray and the name of its day dimension."""
    if isinstance(daily_aqi, xr.Dataset):
        if "aqi" not in daily_aqi:
            raise MissingFieldError("a Dataset input needs an 'aqi' variable", field="aqi",
                                    where="alert_level")
        daily_aqi = daily_aqi["aqi"]
    if isinstance(daily_aqi, pd.DataFrame):
        da = xr.DataArray(daily_aqi.to_numpy(dtype=float), dims=("date", "city"),
                          coords={"date": daily_aqi.index.values,
                                  "city": [str(c) for c in daily_aqi.columns]})
    elif isinstance(daily_aqi, pd.Series):
        da = xr.DataArray(daily_aqi.to_numpy(dtype=float), dims=("date",),
                          coords={"date": daily_aqi.index.values})
    elif isinstance(daily_aqi, xr.DataArray):
        da = daily_aqi
    else:
        arr = np.asarray(daily_aqi, dtype=float)
        if arr.ndim != 1:
            raise InvalidValueError(f"a numpy forecast must be 1-D over days, got shape {arr.shape}"
                                    "; use an xarray DataArray with a city dim", field="daily_aqi")
        da = xr.DataArray(arr, dims=("date",))
    if day_dim is None:
        candidates = [d for d in ("date", "time", "day") if d in da.dims]
        day_dim = candidates[0] if candidates else (da.dims[0] if da.ndim == 1 else None)
    if day_dim is None or day_dim not in da.dims:
        raise MissingFieldError(f"no day dimension (looked for {day_dim or 'date/time/day'}) in "
                                f"dims {tuple(da.dims)}", field="day_dim", where="alert_level")
    if da.sizes[day_dim] == 0:
        raise InvalidValueError("the forecast has no days", field=day_dim, where="alert_level")
    if start is not None:
        if day_dim in da.coords and np.issubdtype(da[day_dim].dtype, np.datetime64):
            raise InvalidValueError("start= given but the forecast already has dates",
                                    field="start")
        first = np.datetime64(pd.Timestamp(start).date(), "D")
        da = da.assign_coords({day_dim: first + np.arange(da.sizes[day_dim])})
    if day_dim in da.coords and np.issubdtype(da[day_dim].dtype, np.datetime64):
        days = da[day_dim].values.astype("datetime64[D]")
        if days.size > 1 and (np.diff(days) != np.timedelta64(1, "D")).any():
            raise InvalidValueError(f"{day_dim} must be consecutive days (one value per day)",
                                    field=day_dim, where="alert_level")
    return da, day_dim


def _orange_switch(rules: AlertRules, da: xr.DataArray, city_dim: str, override):
    """``orange_requires_300`` per city: bool override, or rules default + city overrides + map."""
    if isinstance(override, bool | np.bool_):
        return bool(override)
    if override is not None and not isinstance(override, Mapping):
        raise InvalidValueError("orange_requires_300 must be None, a bool or {city: bool}",
                                field="orange_requires_300")
    per_city = {c: o.orange_requires_300 for c, o in rules.city_overrides.items()
                if o.orange_requires_300 is not None}
    per_city.update({str(c): bool(v) for c, v in (override or {}).items()})
    if city_dim not in da.dims:
        return rules.orange_requires_300
    names = [str(c) for c in (da[city_dim].values if city_dim in da.coords
                              else range(da.sizes[city_dim]))]
    values = [per_city.get(c, rules.orange_requires_300) for c in names]
    return xr.DataArray(np.asarray(values, bool), dims=[city_dim],
                        coords={city_dim: da[city_dim]} if city_dim in da.coords else None)


def alert_level(daily_aqi, rules: str | Path | Mapping | AlertRules = "2018",
                orange_requires_300: bool | Mapping[str, bool] | None = None, start=None,
                day_dim: str | None = None, city_dim: str = "city") -> AlertDecision:
    """Heavy-pollution alert level from a daily AQI forecast (2018 unified scheme).

    Parameters
    ----------
    daily_aqi : array_like (1-D), pandas Series/DataFrame, xarray DataArray, or Dataset with ``aqi``
        Forecast daily AQI [1], one value per consecutive day (0-500, finite). A DataFrame has days
        as rows and cities as columns; a DataArray may have any other dims (e.g. ``city``), all
        handled at once (numpy or dask).
    rules : "2018", path, mapping or AlertRules
        The alert scheme (default: the bundled 2018 rules).
    orange_requires_300 : bool, {city: bool} or None
        Whether orange needs a day with AQI > 300. ``None``: the rules' default (True) with their
        per-city overrides (Xinzhou: False); a mapping adds/overrides cities; a bool forces all.
    start : date-like, optional
        Date of the first forecast day, for input without dates.
    day_dim : str, optional
        Day dimension (default: ``date``, ``time`` or ``day``, or the only dim).
    city_dim : str, default "city"
        Dimension whose labels are matched with the per-city switches.

    Returns
    -------
    AlertDecision
        ``.dataset`` holds ``level`` (0 none, 1 yellow, 2 orange, 3 red), ``level_name``,
        ``reduction_share`` (per ``reduction_pollutant`` SO2, NOx, PM, VOCs), and per day
        ``daily_aqi``, ``heavy_day`` (AQI > 200), ``day_level`` (level of the day's episode) and
        ``alert_period`` (days of the episode(s) at the issued level). ``.to_dict()`` gives a
        JSON-ready summary.

    Raises
    ------
    OutOfRangeError, NonFiniteValueError
        A forecast AQI outside [0, 500] or NaN (raised on compute for dask input).
    """
    rules = load_rules(rules)
    da, day_dim = _as_daily_dataarray(daily_aqi, day_dim, start)
    switch = _orange_switch(rules, da, city_dim, orange_requires_300)
    if da.chunks is not None:
        da = da.chunk({day_dim: -1})
    kwargs = dict(
        heavy_above=rules.heavy_above, severe_above=rules.severe_above, reaches=rules.reaches,
        min_heavy=[lv.min_heavy_days for lv in rules.levels],
        min_severe=[lv.min_severe_run for lv in rules.levels],
        switchable=[lv.name == "orange" for lv in rules.levels],
        red_if_reaches=[lv.red_if_reaches for lv in rules.levels],
        lift_days=rules.lift.days, merge=rules.merge_episodes)
    level, day_level, period = xr.apply_ufunc(
        _alert_kernel, da, switch, kwargs=kwargs, input_core_dims=[[day_dim], []],
        output_core_dims=[[], [day_dim], [day_dim]], dask="parallelized",
        output_dtypes=[np.int8, np.int8, bool])
    names = np.asarray(rules.level_names)
    shares = rules.reduction_table()
    level_name = xr.apply_ufunc(lambda lv: names[lv], level, dask="parallelized",
                                output_dtypes=[names.dtype])
    share = xr.apply_ufunc(lambda lv: shares[lv], level, output_core_dims=[["reduction_pollutant"]],
                           dask="parallelized", output_dtypes=[float],
                           dask_gufunc_kwargs={"output_sizes": {
                               "reduction_pollutant": len(REDUCTION_POLLUTANTS)}})
    ds = xr.Dataset({
        "daily_aqi": da.assign_attrs(units="1", long_name="forecast daily AQI"),
        "heavy_day": (da > rules.heavy_above).assign_attrs(
            long_name=f"daily AQI > {rules.heavy_above:g}"),
        "day_level": day_level.assign_attrs(units="1", long_name="alert level of the day's episode"),
        "alert_period": period.assign_attrs(long_name="day of an episode at the issued level"),
        "level": level.assign_attrs(
            units="1", long_name="heavy-pollution alert level", flag_values=np.arange(len(names)),
            flag_meanings=" ".join(names)),
        "level_name": level_name.assign_attrs(long_name="alert level name"),
        "reduction_share": share.assign_attrs(
            units="1", long_name="required emission reduction, share of total emissions"),
        "orange_requires_300": xr.DataArray(switch) if not isinstance(switch, xr.DataArray)
        else switch,
    }, coords={"reduction_pollutant": list(REDUCTION_POLLUTANTS)})
    ds.attrs.update(rules=rules.name, title=rules.title, references="; ".join(rules.sources),
                    lift_rule=f"daily AQI <= {rules.lift.max_aqi:g} for >= {rules.lift.min_hours:g} h"
                              f" ({rules.lift.days} days)", merge_episodes=int(rules.merge_episodes))
    return AlertDecision(ds.transpose(..., day_dim, "reduction_pollutant", missing_dims="ignore"),
                         rules, day_dim, city_dim)


def _iso(values) -> list:
    if np.issubdtype(np.asarray(values).dtype, np.datetime64):
        return [str(d) for d in np.asarray(values).astype("datetime64[D]")]
    return [int(v) if isinstance(v, np.integer) else v for v in np.asarray(values).tolist()]


def _periods(mask: np.ndarray, days: list) -> list[dict]:
    """Runs of True in a 1-D mask as ``{"start", "end"}`` (labels from ``days``)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [{"start": days[s], "end": days[e]} for s, e in zip(starts, stops, strict=True)]


@dataclass(frozen=True)
class AlertDecision:
    """Alert levels and their justification (:func:`alert_level`)."""

    dataset: xr.Dataset
    rules: AlertRules
    day_dim: str
    city_dim: str = "city"

    @property
    def level(self):
        """Alert level(s): an int for a single forecast, else an array over the other dims."""
        lv = self.dataset["level"].values
        return int(lv) if lv.ndim == 0 else lv

    @property
    def level_name(self):
        names = self.dataset["level_name"].values
        return str(names) if names.ndim == 0 else names

    def _entry(self, sub: xr.Dataset, labels: dict) -> dict:
        day_values = sub[self.day_dim].values if self.day_dim in sub.coords else \
            np.arange(sub.sizes[self.day_dim])
        days = _iso(day_values)
        level = int(sub["level"])
        rule = self.rules.levels[level - 1] if level else None
        period = sub["alert_period"].values
        heavy = sub["heavy_day"].values
        return {
            **labels,
            "level": level,
            "level_name": str(sub["level_name"].values),
            "level_name_zh": rule.name_zh if rule else "",
            "response": rule.response if rule else "",
            "alert_periods": _periods(period, days),
            "trigger_days": [d for d, t in zip(days, period & heavy, strict=True) if t],
            "reduction_share": {p: float(v) for p, v in zip(
                REDUCTION_POLLUTANTS, sub["reduction_share"].values, strict=True)},
            "orange_requires_300": bool(sub["orange_requires_300"]),
            "days": days,
            "daily_aqi": [float(v) for v in sub["daily_aqi"].values],
            "day_level": [int(v) for v in sub["day_level"].values],
        }

    def to_dict(self) -> dict:
        """JSON-serialisable summary: rules, and per forecast (per city) level, periods, shares."""
        ds = self.dataset.compute()
        header = {"rules": self.rules.name, "title": self.rules.title,
                  "sources": list(self.rules.sources), "lift_rule": ds.attrs["lift_rule"],
                  "merge_episodes": self.rules.merge_episodes}
        others = [d for d in ds["level"].dims]
        if not others:
            return {**header, **self._entry(ds, {})}
        stacked = ds.stack(_entity=others)
        entries = []
        for i in range(stacked.sizes["_entity"]):  # output formatting, one entry per city
            sub = stacked.isel(_entity=i)
            labels = {d: _iso([sub[d].values])[0] if d in sub.coords else i for d in others}
            entries.append(self._entry(sub, labels))
        key = "cities" if others == [self.city_dim] else "forecasts"
        return {**header, key: entries}

