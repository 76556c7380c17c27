"""China Air Quality Index (AQI) after HJ 633-2012 and its 2026 revision.

The individual index of pollutant *P* is piecewise linear in its concentration between adjacent
breakpoints of the standard's Table 1 (HJ 633-2012 Eq. 1):

.. math:: IAQI_P = \\frac{IAQI_{Hi} - IAQI_{Lo}}{BP_{Hi} - BP_{Lo}} (C_P - BP_{Lo}) + IAQI_{Lo}

and AQI = max(IAQI_1 … IAQI_n) (HJ 633-2012 Eq. 2). When AQI > 50 the pollutant(s) with the largest
IAQI are the primary pollutant(s) (首要污染物), ties all listed. IAQI and AQI are rounded up to
integers (HJ 633-2026 §4.2.6, quoted in a public test fixture, [unverified against the PDF];
common practice for 2012).

Tables are versioned data (``ecodss/data/hj633.yaml``): ``HJ633-2012`` and ``HJ633-2026`` (PM2.5
and PM10 columns changed; effective 2026-03-01). With ``standard=None`` the table is chosen per value
by its date, in China Standard Time: the ``date`` coordinate (local dates, as made by
:func:`ecodss.timeutil.daily_mean`) or else the ``time`` coordinate (UTC) of xarray/pandas input;
input without dates uses today's CST date (pass ``standard`` for reproducible results).

Units: CO in mg/m3, every other pollutant in ug/m3. A ``units`` attribute (xarray) or argument is
honoured and converted (mg/m3 <-> ug/m3); mixing ratios (ppb) are refused — convert with
:func:`ecodss.units.ppb_to_ugm3` first. NaN concentrations are *missing* (normal in monitoring) and
give NaN IAQI; negative or infinite ones raise.

Sources and caveats are collected in ``shared/reference/standards.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import xarray as xr
import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..errors import (
    ConfigError,
    InvalidValueError,
    MissingFieldError,
    UnitError,
    UnknownFieldError,
    ValidationError,
)
from ..timeutil import (
    CST_UTC_OFFSET_HOURS,
    MIN_VALID_HOURS_8H,
    MIN_VALID_HOURS_DAILY,
    MIN_VALID_WINDOWS_8H,
    O3_8H_LIMIT_GRADE2,
    daily_max,
    daily_mean,
    local_date,
    max_8h_mean,
)
from ..validation import check_nonnegative, reject_unknown_fields

#: The six HJ 633 pollutants, in report order.
POLLUTANTS = ("SO2", "NO2", "PM10", "PM2.5", "CO", "O3")
#: Other accepted spellings of PM2.5 (netCDF-friendly names).
POLLUTANT_ALIASES = {"PM2_5": "PM2.5", "PM25": "PM2.5"}
AVERAGINGS = ("1h", "8h", "24h")
#: The values of ``rounding``: round up to an integer, or keep the exact value.
ROUNDINGS = ("ceil", None)
#: Decimals kept before rounding up, so that floating-point noise (100.00000000000001) does not
#: push an exact breakpoint to the next integer.
_ROUND_GUARD_DECIMALS = 6
_UG_PER = {"ug/m3": 1.0, "mg/m3": 1000.0}
_STR = np.dtype("<U48")


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
class BreakpointTable(BaseModel):
    """One version of the HJ 633 Table 1 (validated on load)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    effective_from: date
    sources: list[str]
    breakpoints: dict[str, dict[str, list[float]]]
    above_top: dict[str, float | None]
    unverified: list[str] = []
    iaqi_levels: list[float]

    @model_validator(mode="after")
    def _check_columns(self):
        reject_unknown_fields(self.breakpoints, POLLUTANTS, where=f"table {self.name}")
        for pol, cols in self.breakpoints.items():
            reject_unknown_fields(cols, AVERAGINGS, where=f"table {self.name} {pol}")
            for avg, bp in cols.items():
                b = np.asarray(bp, float)
                if b.size < 2 or b.size > len(self.iaqi_levels) or b[0] != 0 \
                        or (np.diff(b) <= 0).any():
                    raise ConfigError(f"table {self.name}: {pol} {avg} breakpoints {bp} must start "
                                      f"at 0, increase, and have <= {len(self.iaqi_levels)} values")
        if "default" not in self.above_top:
            raise ConfigError(f"table {self.name}: above_top needs a 'default'")
        return self

    def column(self, pollutant: str, averaging: str) -> tuple[np.ndarray, np.ndarray, float]:
        """``(breakpoints, iaqi levels, IAQI above the top breakpoint or NaN)`` of one column."""
        cols = self.breakpoints[pollutant]
        if averaging not in cols:
            raise UnknownFieldError(
                f"{pollutant} has no {averaging} IAQI column in {self.name}; "
                f"available: {sorted(cols)}", field="averaging", where=pollutant)
        bp = np.asarray(cols[averaging], float)
        top = self.above_top.get(f"{pollutant}_{averaging}", self.above_top["default"])
        return bp, np.asarray(self.iaqi_levels[:bp.size], float), np.nan if top is None else top


class Category(BaseModel):
    """One AQI category of HJ 633-2012 Table 2."""

    category: int
    upper: float
    grade_zh: str
    name: str
    name_zh: str
    rgb: tuple[int, int, int]

    @property
    def colour(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


class AQITables(BaseModel):
    """All versions of the breakpoint table, the units and the categories."""

    iaqi_levels: list[float]
    units: dict[str, str]
    categories: list[Category]
    standards: dict[str, BreakpointTable]

    @field_validator("standards", mode="before")
    @classmethod
    def _name_tables(cls, v, info):
        levels = info.data.get("iaqi_levels")
        return {k: {**t, "name": k, "iaqi_levels": levels} for k, t in v.items()}

    def by_date(self) -> list[tuple[np.datetime64, str]]:
        return sorted((np.datetime64(t.effective_from, "D"), k) for k, t in self.standards.items())


@lru_cache(maxsize=1)
def load_tables() -> AQITables:
    """The bundled HJ 633 tables (``ecodss/data/hj633.yaml``), validated."""
    text = resources.files("ecodss").joinpath("data/hj633.yaml").read_text(encoding="utf-8")
    try:
        return AQITables.model_validate(yaml.safe_load(text))
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(f"ecodss/data/hj633.yaml: {exc}") from exc


def standard_for_date(day) -> str:
    """Name of the HJ 633 table in force on a local (CST) date, e.g. ``"HJ633-2026"``.

    The latest table whose ``effective_from`` is on or before ``day``; earlier dates get the
    earliest table (HJ 633-2012).
    """
    return _standards_for_dates(np.atleast_1d(np.asarray(day, "datetime64[D]")))[0]


def _standards_for_dates(days: np.ndarray) -> np.ndarray:
    starts, names = zip(*load_tables().by_date(), strict=True)
    i = np.searchsorted(np.asarray(starts), days.astype("datetime64[D]"), side="right") - 1
    return np.asarray(names)[np.clip(i, 0, None)]


def _today_cst() -> np.datetime64:
    return local_date(np.datetime64("now", "s"), CST_UTC_OFFSET_HOURS)


def _table(name: str) -> BreakpointTable:
    tables = load_tables().standards
    if name not in tables:
        raise UnknownFieldError(f"unknown standard {name!r}; known: {sorted(tables)}",
                                field="standard")
    return tables[name]


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------
def _pollutant(name: str) -> str:
    name = POLLUTANT_ALIASES.get(name, name)
    reject_unknown_fields([name], POLLUTANTS, where="iaqi")
    return name


def _check_averaging(averaging: str) -> None:
    if averaging not in AVERAGINGS:
        raise UnknownFieldError(f"averaging={averaging!r} must be one of {AVERAGINGS}",
                                field="averaging")


def _check_rounding(rounding) -> None:
    if rounding not in ROUNDINGS:
        raise InvalidValueError(f"rounding={rounding!r} must be 'ceil' or None", field="rounding")


def _unit_key(unit: str, field: str) -> str:
    u = (str(unit).lower().replace("µ", "u").replace("μ", "u").replace("³", "3").replace(" ", "")
         .replace("m^-3", "/m3").replace("m-3", "/m3").replace("m^3", "m3").replace("//", "/"))
    if u not in _UG_PER:
        hint = " (convert mixing ratios with ecodss.units.ppb_to_ugm3)" if "pp" in u else ""
        raise UnitError(f"{field}: unit {unit!r} not supported; use ug/m3 or mg/m3{hint}",
                        field=field)
    return u


def _unit_factor(obj, pollutant: str, units: str | None) -> float:
    """Factor converting ``obj``'s concentrations into the table unit of ``pollutant``."""
    table_unit = load_tables().units[pollutant]
    given = units
    attr = obj.attrs.get("units") if isinstance(obj, xr.DataArray) else None
    if attr is not None and given is not None and _unit_key(attr, pollutant) != \
            _unit_key(given, pollutant):
        raise UnitError(f"{pollutant}: units={given!r} contradicts the data's units {attr!r}",
                        field=pollutant)
    given = given if given is not None else (attr if attr is not None else table_unit)
    return _UG_PER[_unit_key(given, pollutant)] / _UG_PER[table_unit]


# --------------------------------------------------------------------------------------------
# Kernels (numpy)
# --------------------------------------------------------------------------------------------
def _iaqi_kernel(c, bp, levels, above_top, rounding, scale, field, unit):
    """IAQI of concentrations ``c`` (NaN = missing) for one breakpoint column."""
    c = np.asarray(c, dtype=float)
    if scale != 1.0:
        c = c * scale
    if np.isinf(c).any() or (c < 0).any():
        valid = ~np.isnan(c)
        check_nonnegative(c[valid], field, ids=np.flatnonzero(valid).tolist(), kind="element",
                          units=unit)
    out = np.interp(c, bp, levels)
    out = np.where(c > bp[-1], above_top, out)
    if rounding == "ceil":
        out = np.ceil(np.round(out, _ROUND_GUARD_DECIMALS))
    return out


def _max_kernel(iaqi):
    """AQI = max over the last axis, NaN-skipping, NaN when all are missing."""
    return np.fmax.reduce(iaqi, axis=-1) if iaqi.shape[-1] else np.full(iaqi.shape[:-1], np.nan)


def _primary_kernel(iaqi, names):
    """Primary pollutant(s) per element: largest IAQI when AQI > 50, ties joined with ","."""
    aqi = _max_kernel(iaqi)
    is_primary = (iaqi == aqi[..., None]) & (aqi[..., None] > 50)
    out = np.full(aqi.shape, "", dtype=_STR)
    for p, name in enumerate(names):  # loop over the <= 6 pollutants, not over elements
        sep = np.where(out == "", "", ",")
        out = np.where(is_primary[..., p], np.char.add(np.char.add(out, sep), name), out)
    return out.astype(_STR)


def _category_kernel(aqi):
    """AQI category 1-6 (HJ 633-2012 Table 2); 0 where AQI is missing."""
    uppers = np.asarray([c.upper for c in load_tables().categories[:-1]])
    cat = np.searchsorted(uppers, aqi, side="left") + 1
    return np.where(np.isnan(aqi), 0, cat).astype(np.int8)


# --------------------------------------------------------------------------------------------
# Dispatch: numpy / pandas / xarray (+dask)
# --------------------------------------------------------------------------------------------
def _dates(obj: xr.DataArray):
    """``(dim, local dates)`` of ``obj``: its ``date`` (local) or ``time`` (UTC) coordinate."""
    for name, is_local in (("date", True), ("time", False)):
        if name in obj.coords and obj[name].ndim == 1 and \
                np.issubdtype(obj[name].dtype, np.datetime64):
            values = obj[name].values
            days = values.astype("datetime64[D]") if is_local else local_date(values)
            return obj[name].dims[0], days
    return None, None


def _standard_labels(obj, standard):
    """A table name, or an xarray of names along the date dimension (when dates span a change)."""
    if standard is not None:
        _table(standard)
        return standard
    dim, days = _dates(obj) if isinstance(obj, xr.DataArray) else (None, None)
    if dim is None:
        return str(_standards_for_dates(np.atleast_1d(_today_cst()))[0])
    names = _standards_for_dates(days)
    if (names == names[0]).all():
        return str(names[0])
    return xr.DataArray(names, dims=[dim], coords={dim: obj[dim]})


def _iaqi_xr(da: xr.DataArray, pollutant: str, averaging: str, standard, rounding, scale):
    """IAQI of a DataArray for a table name or an array of table names (combined with ``where``)."""
    unit = load_tables().units[pollutant]
    field = f"{pollutant} {averaging}"

    def one(name):
        bp, levels, top = _table(name).column(pollutant, averaging)
        return xr.apply_ufunc(_iaqi_kernel, da, kwargs=dict(
            bp=bp, levels=levels, above_top=top, rounding=rounding, scale=scale, field=field,
            unit=unit), dask="parallelized", output_dtypes=[float])

    if isinstance(standard, str):
        return one(standard)
    names = np.unique(standard.values)
    out = one(names[0])
    for name in names[1:]:  # one pass per table version in the data (usually 1, at most 2)
        out = xr.where(standard == name, one(name), out)
    return out


def _to_dataarray(x):
    """``(DataArray, back)`` for numpy, scalar, pandas Series or xarray input."""
    if isinstance(x, xr.DataArray):
        return x, lambda out: out
    if isinstance(x, pd.Series):
        index = x.index
        dim = index.name if isinstance(index.name, str) else (
            "time" if isinstance(index, pd.DatetimeIndex) else "index")
        coords = {dim: index.tz_convert("UTC").tz_localize(None).values
                  if isinstance(index, pd.DatetimeIndex) and index.tz is not None
                  else index.values}
        da = xr.DataArray(x.to_numpy(dtype=float), dims=[dim], coords=coords)
        return da, lambda out: pd.Series(out.values, index=index, name=x.name)
    arr = np.asarray(x, dtype=float)
    da = xr.DataArray(arr)
    if arr.ndim == 0:
        return da, lambda out: float(out.values)
    return da, lambda out: out.values


def iaqi(concentration, pollutant: str, averaging: str, standard: str | None = None,
         rounding: str | None = "ceil", units: str | None = None):
    """Individual air quality index (IAQI) of one pollutant, HJ 633 Table 1 and Eq. 1.

    Parameters
    ----------
    concentration : array_like, pandas Series or xarray DataArray (numpy or dask)
        Concentrations [ug/m3; CO mg/m3, or as ``units``]. NaN = missing (gives NaN).
    pollutant : {"SO2", "NO2", "PM10", "PM2.5", "CO", "O3"}
        ``"PM2_5"``/``"PM25"`` are accepted for PM2.5.
    averaging : {"1h", "8h", "24h"}
        Averaging period of the concentration. ``"8h"`` is O3 only (8-h moving mean / daily
        maximum 8-h mean); O3 has no 24-h column. PM2.5/PM10 ``"1h"`` use the 24-h column.
    standard : {"HJ633-2012", "HJ633-2026"} or None
        Table version; ``None`` chooses per value by date (see the module notes): a ``date``
        coordinate/index name means local dates, a ``time`` coordinate or an unnamed
        DatetimeIndex means UTC times; without dates, today's CST date.
    rounding : {"ceil", None}, default "ceil"
        Round up to an integer (HJ 633) or return the exact piecewise-linear value.
    units : {"ug/m3", "mg/m3"}, optional
        Units of ``concentration``; default the table unit (or the DataArray's ``units`` attribute).

    Returns
    -------
    IAQI [1], same kind and shape as the input. Above the column's top breakpoint the IAQI is 500
    (capped), except for the notes of HJ 633-2012 Table 1: SO2 1-h > 800 ug/m3 and O3 8-h > 800 ug/m3
    give NaN ("no IAQI"; :func:`aqi` then uses SO2 24-h / O3 1-h). For HJ633-2026 these two cases
    give 200 and 300 respectively — **[unverified]** (caiyunapp/aqi-hub README v0.3.x only).

    Raises
    ------
    UnknownFieldError
        Unknown pollutant, averaging or standard, or a pollutant without that averaging.
    NegativeValueError, NonFiniteValueError
        A negative or infinite concentration (raised when a dask array is computed).
    UnitError
        Unsupported or contradictory units.

    Examples
    --------
    >>> iaqi(2.5, "CO", "24h", standard="HJ633-2012", rounding=None)
    62.5
    """
    pollutant = _pollutant(pollutant)
    _check_averaging(averaging)
    _check_rounding(rounding)
    da, back = _to_dataarray(concentration)
    std = _standard_labels(da, standard)
    if isinstance(std, str):
        _table(std).column(pollutant, averaging)
    scale = _unit_factor(da, pollutant, units)
    out = _iaqi_xr(da, pollutant, averaging, std, rounding, scale)
    out.attrs = {"units": "1", "long_name": f"IAQI of {pollutant} ({averaging})",
                 "standard": std if isinstance(std, str) else ",".join(np.unique(std.values))}
    return back(out)


# --------------------------------------------------------------------------------------------
# AQI of a dataset of pollutants
# --------------------------------------------------------------------------------------------
#: Input variable -> (pollutant, averaging, role) for each ``aqi`` averaging. Role "main" makes an
#: IAQI; "fallback" is used only by the over-800 notes (2)/(3) of HJ 633-2012 Table 1.
VARIABLES = {
    "24h": {"SO2": ("SO2", "24h", "main"), "NO2": ("NO2", "24h", "main"),
            "PM10": ("PM10", "24h", "main"), "PM2.5": ("PM2.5", "24h", "main"),
            "CO": ("CO", "24h", "main"), "O3": ("O3", "8h", "main"),
            "O3_8h": ("O3", "8h", "main"), "O3_1h": ("O3", "1h", "fallback")},
    "1h": {"SO2": ("SO2", "1h", "main"), "NO2": ("NO2", "1h", "main"),
           "PM10": ("PM10", "1h", "main"), "PM2.5": ("PM2.5", "1h", "main"),
           "CO": ("CO", "1h", "main"), "O3": ("O3", "1h", "main"),
           "O3_1h": ("O3", "1h", "main"), "O3_8h": ("O3", "8h", "main"),
           "SO2_24h": ("SO2", "24h", "fallback")},
}


def _as_dataset(data):
    if isinstance(data, xr.Dataset):
        return data, False
    if isinstance(data, pd.DataFrame):
        index = data.index
        dim = index.name if isinstance(index.name, str) else (
            "time" if isinstance(index, pd.DatetimeIndex) else "index")
        return xr.Dataset({str(c): ((dim,), data[c].to_numpy(dtype=float)) for c in data.columns},
                          coords={dim: index.values}), True
    raise InvalidValueError(f"expected an xarray Dataset or pandas DataFrame, got "
                            f"{type(data).__name__}", field="data")


def _canonical_names(ds: xr.Dataset, averaging: str) -> dict[str, str]:
    """Map each variable to its canonical input name; reject unknown or duplicate ones."""
    names = {v: POLLUTANT_ALIASES.get(str(v), str(v)) for v in ds.data_vars}
    reject_unknown_fields(names.values(), VARIABLES[averaging], where=f"aqi({averaging})")
    canon = list(names.values())
    twice = sorted({c for c in canon if canon.count(c) > 1})
    if twice:
        raise ValidationError(f"{twice[0]} is given twice (aliases of one pollutant): "
                              f"{sorted(map(str, ds.data_vars))}", field=twice[0], where="aqi")
    o3_default = "O3_8h" if averaging == "24h" else "O3_1h"
    if "O3" in names.values() and o3_default in names.values():
        raise ValidationError(f"'O3' and {o3_default!r} are the same input for averaging="
                              f"{averaging!r}; give one", field="O3", where="aqi")
    return {canon: v for v, canon in names.items()}


def aqi(data, averaging: str = "24h", standard: str | None = None,
        rounding: str | None = "ceil", units: Mapping[str, str] | None = None):
    """Air quality index, primary pollutant and category of a set of pollutants (HJ 633).

    Parameters
    ----------
    data : xarray.Dataset or pandas.DataFrame
        One variable per pollutant, concentrations [ug/m3; CO mg/m3, or per ``units``/attrs],
        any other dims (time, city, y, x …), numpy or dask. Names for ``averaging="24h"`` (daily
        report): ``SO2 NO2 PM10 PM2.5 CO`` 24-h means and ``O3`` or ``O3_8h`` = daily maximum 8-h
        mean; optional ``O3_1h`` = daily maximum 1-h mean, used only when O3 8-h > 800 (note 3).
        For ``averaging="1h"`` (real-time report): hourly ``SO2 NO2 PM10 PM2.5 CO`` and ``O3`` or
        ``O3_1h``; optional ``O3_8h`` (8-h moving mean, its IAQI also counts, O3 IAQI = the larger)
        and ``SO2_24h`` (24-h mean, used only when SO2 1-h > 800, note 2). ``PM2_5``/``PM25`` are
        accepted for PM2.5. The AQI is taken over the pollutants present.
    averaging : {"24h", "1h"}
        Daily or real-time (hourly) report.
    standard, rounding
        As in :func:`iaqi`.
    units : mapping, optional
        ``{variable: "ug/m3" | "mg/m3"}`` overriding the table units / ``units`` attributes.

    Returns
    -------
    xarray.Dataset (a DataFrame for DataFrame input) with ``aqi`` [1] (NaN if every pollutant is
    missing), ``iaqi`` [1] over a ``pollutant`` dim, ``primary_pollutant`` (str, ties joined with
    ",", "" when AQI <= 50), ``category`` (1-6, 0 = missing), ``category_name`` (English),
    ``category_name_zh`` (Chinese) and ``colour`` ("#RRGGBB", HJ 633-2012 Table 2).

    Notes
    -----
    If SO2 1-h > 800 (O3 8-h > 800) under HJ633-2012 and no ``SO2_24h`` (``O3_1h``) is given, the
    SO2 (O3) IAQI stays missing and a ``RuntimeWarning`` is issued.
    """
    if averaging not in VARIABLES:
        raise UnknownFieldError(f"averaging={averaging!r} must be '24h' or '1h'", field="averaging")
    _check_rounding(rounding)
    ds, was_frame = _as_dataset(data)
    names = _canonical_names(ds, averaging)
    if not any(VARIABLES[averaging][c][2] == "main" for c in names):
        raise MissingFieldError(f"no pollutant variable among {sorted(map(str, ds.data_vars))}; "
                                f"expected some of {list(VARIABLES[averaging])}", field="SO2",
                                where="aqi")
    units = dict(units or {})
    reject_unknown_fields(units, list(ds.data_vars), where="aqi units")
    std = _standard_labels(next(iter(ds.data_vars.values())), standard)

    def index_of(canon: str) -> tuple[xr.DataArray, xr.DataArray]:
        """(IAQI, concentration in table units) of one input variable."""
        pol, avg, _ = VARIABLES[averaging][canon]
        var = ds[names[canon]]
        scale = _unit_factor(var, pol, units.get(names[canon]))
        return _iaqi_xr(var, pol, avg, std, rounding, scale), var * scale

    per_pollutant: dict[str, xr.DataArray] = {}
    for canon in names:  # loop over the <= 9 input variables
        pol, avg, role = VARIABLES[averaging][canon]
        if role != "main":
            continue
        value, conc = index_of(canon)
        if (pol, avg) == ("SO2", "1h") or (pol, avg) == ("O3", "8h"):
            value = _apply_over_800(value, conc, pol, avg, averaging, names, index_of)
        per_pollutant[pol] = value if pol not in per_pollutant else \
            np.fmax(per_pollutant[pol], value)
    pollutants = [p for p in POLLUTANTS if p in per_pollutant]
    table = xr.concat([per_pollutant[p] for p in pollutants], dim="pollutant",
                      coords="minimal", compat="override", join="outer")
    table = table.assign_coords(pollutant=pollutants)
    if table.chunks is not None:
        table = table.chunk({"pollutant": -1})
    out = _summarise(table, pollutants)
    out.attrs["standard"] = std if isinstance(std, str) else ",".join(np.unique(std.values))
    out.attrs["averaging"] = averaging
    out.attrs["references"] = "HJ 633-2012 (and HJ 633-2026 where in force), Table 1-2, Eq. 1-2"
    return _to_frame(out) if was_frame else out


def _apply_over_800(value, conc, pol, avg, averaging, names, index_of):
    """Notes (2)/(3): where a column gives no IAQI above 800, use the fallback variable."""
    fallback = {"SO2": "SO2_24h", "O3": "O3_1h"}[pol]
    gap = np.isnan(value) & (conc > 800)
    if fallback in names and VARIABLES[averaging][fallback][2] == "fallback":
        fb_value, _ = index_of(fallback)
        return xr.where(gap, fb_value, value)
    if pol == "O3" and averaging == "1h" and ({"O3", "O3_1h"} & set(names)):
        return value  # real-time report: the O3 1-h IAQI is computed too and the larger counts
    msg = (f"{pol} {avg} > 800 ug/m3 has no IAQI (HJ 633-2012 Table 1 note) and no {fallback!r} "
           f"was given: the {pol} IAQI is missing there")
    return _warn_where(value, gap, msg)


def _warn_where(value, gap, msg):
    """Return ``value``; warn (at compute time for dask) where ``gap`` is True."""
    def kernel(v, g):
        if np.asarray(g, bool).any():
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return v
    return xr.apply_ufunc(kernel, value, gap, dask="parallelized", output_dtypes=[float])


def _summarise(table: xr.DataArray, pollutants: list[str]) -> xr.Dataset:
    """AQI, primary pollutant and category variables from the IAQI table (pollutant dim)."""
    cats = load_tables().categories
    core = [["pollutant"]]
    aqi_ = xr.apply_ufunc(_max_kernel, table, input_core_dims=core, dask="parallelized",
                          output_dtypes=[float])
    primary = xr.apply_ufunc(_primary_kernel, table, input_core_dims=core,
                             kwargs={"names": pollutants}, dask="parallelized",
                             output_dtypes=[_STR])
    category = xr.apply_ufunc(_category_kernel, aqi_, dask="parallelized", output_dtypes=[np.int8])

    def lookup(values, dtype=_STR):
        table_ = np.asarray([""] + values, dtype=dtype)
        return xr.apply_ufunc(lambda c: table_[c], category, dask="parallelized",
                              output_dtypes=[dtype])

    out = xr.Dataset({
        "aqi": aqi_.assign_attrs(units="1", long_name="Air Quality Index (HJ 633)"),
        "iaqi": table.assign_attrs(units="1", long_name="Individual AQI per pollutant (HJ 633)"),
        "primary_pollutant": primary.assign_attrs(
            long_name="primary pollutant(s) (首要污染物), when AQI > 50"),
        "category": category.assign_attrs(
            units="1", long_name="AQI category (HJ 633-2012 Table 2), 0 = missing",
            flag_values=np.arange(7, dtype=np.int8),
            flag_meanings="missing " + " ".join(c.name.replace(" ", "_").lower() for c in cats)),
        "category_name": lookup([c.name for c in cats]).assign_attrs(long_name="AQI category"),
        "category_name_zh": lookup([c.name_zh for c in cats]).assign_attrs(
            long_name="AQI category (Chinese)"),
        "colour": lookup([c.colour for c in cats]).assign_attrs(
            long_name="AQI category colour, #RRGGBB (HJ 633-2012 Table 2)"),
    })
    return out


def _to_frame(ds: xr.Dataset) -> pd.DataFrame:
    frame = ds.drop_vars(["iaqi", "pollutant"]).to_dataframe()
    for p in ds["pollutant"].values:
        frame[f"iaqi_{p}"] = ds["iaqi"].sel(pollutant=p, drop=True).to_series()
    return frame


def category(aqi_value):
    """AQI category 1-6 of AQI values (HJ 633-2012 Table 2; 0 for NaN); numpy or xarray."""
    if isinstance(aqi_value, xr.DataArray):
        return xr.apply_ufunc(_category_kernel, aqi_value, dask="parallelized",
                              output_dtypes=[np.int8])
    return _category_kernel(np.asarray(aqi_value, dtype=float))


# --------------------------------------------------------------------------------------------
# City and daily conveniences
# --------------------------------------------------------------------------------------------
def city_aqi(station_conc, station_dim: str = "station", city: str | None = None,
             averaging: str = "24h", **aqi_kwargs) -> xr.Dataset:
    """City AQI from station concentrations (HJ 663-2013 city mean, then HJ 633).

    The city concentration of each pollutant is the arithmetic mean of its stations' valid
    concentrations (NaN stations skipped) — HJ 663-2013 (城市点位浓度的算术平均); the AQI follows
    from those means, *not* from averaging the stations' AQIs.

    Parameters
    ----------
    station_conc : xarray.Dataset
        Pollutant variables as for :func:`aqi`, with a ``station_dim`` dimension.
    station_dim : str, default "station"
    city : str, optional
        Name of a coordinate along ``station_dim`` giving each station's city; the result then has
        a ``city`` dim (one AQI per city). Without it all stations form one city.
    averaging, **aqi_kwargs
        Passed to :func:`aqi`.
    """
    ds, _ = _as_dataset(station_conc)
    if station_dim not in ds.dims:
        raise MissingFieldError(f"no dimension {station_dim!r}; dims are {tuple(ds.dims)}",
                                field=station_dim, where="city_aqi")
    if city is None:
        means = ds.mean(station_dim, skipna=True, keep_attrs=True)
    else:
        if city not in ds.coords or ds[city].dims != (station_dim,):
            raise MissingFieldError(f"no coordinate {city!r} along {station_dim!r}", field=city,
                                    where="city_aqi")
        labels = np.asarray(ds[city].values)  # small 1-D labels: load them (dask needs them)
        means = ds.assign_coords({city: (station_dim, labels)}).groupby(city).mean(
            station_dim, skipna=True, keep_attrs=True)
    out = aqi(means, averaging=averaging, **aqi_kwargs)
    _attach_concentrations(out, means, aqi_kwargs.get("units"))
    return out


def daily_aqi(hourly, *, utc_offset_hours: float = CST_UTC_OFFSET_HOURS,
              min_valid: int = MIN_VALID_HOURS_DAILY, min_hours_8h: int = MIN_VALID_HOURS_8H,
              min_windows_8h: int = MIN_VALID_WINDOWS_8H,
              o3_exceedance_limit: float | None = O3_8H_LIMIT_GRADE2, hour_label: str = "start",
              standard: str | None = None, rounding: str | None = "ceil",
              units: Mapping[str, str] | None = None) -> xr.Dataset:
    """Daily AQI (daily report) from hourly concentrations on a UTC ``time`` axis.

    SO2, NO2, PM10, PM2.5 and CO become local-day (CST) means with the GB 3095-2012 completeness
    rule (:func:`ecodss.timeutil.daily_mean`); O3 (hourly, ``O3`` or ``O3_1h``) becomes the daily
    maximum 8-h mean (:func:`ecodss.timeutil.max_8h_mean`) and the daily maximum 1-h value (for
    note 3); then :func:`aqi` with ``averaging="24h"``. The result also holds the daily
    concentrations as ``conc_<name>`` and a ``date`` dim (local dates, which also select the table).
    """
    ds, _ = _as_dataset(hourly)
    names = {POLLUTANT_ALIASES.get(str(v), str(v)): v for v in ds.data_vars}
    reject_unknown_fields(names, ["SO2", "NO2", "PM10", "PM2.5", "CO", "O3", "O3_1h"],
                          where="daily_aqi")
    if "O3" in names and "O3_1h" in names:
        raise ValidationError("'O3' and 'O3_1h' are the same hourly input; give one", field="O3",
                              where="daily_aqi")
    common = dict(utc_offset_hours=utc_offset_hours, hour_label=hour_label)
    daily = {}
    for canon, var in names.items():  # loop over the <= 6 pollutants
        if canon in ("O3", "O3_1h"):
            daily["O3_8h"] = max_8h_mean(ds[var], min_hours=min_hours_8h,
                                         min_windows=min_windows_8h,
                                         exceedance_limit=o3_exceedance_limit, **common)
            daily["O3_1h"] = daily_max(ds[var], min_valid=min_valid, **common)
        else:
            daily[canon] = daily_mean(ds[var], min_valid=min_valid, **common)
    daily_ds = xr.Dataset(daily)
    unit_map = None
    if units:
        unit_map = {("O3_8h" if k in ("O3", "O3_1h") else POLLUTANT_ALIASES.get(k, k)): u
                    for k, u in units.items()}
        if "O3_8h" in unit_map:
            unit_map["O3_1h"] = unit_map["O3_8h"]
    out = aqi(daily_ds, averaging="24h", standard=standard, rounding=rounding, units=unit_map)
    _attach_concentrations(out, daily_ds, unit_map)
    return out


def _attach_concentrations(out: xr.Dataset, conc: xr.Dataset, units: Mapping | None) -> None:
    """Add ``conc_<name>`` variables to ``out``, each with a ``units`` attribute."""
    table_units = load_tables().units
    for name, var in conc.data_vars.items():
        canon = POLLUTANT_ALIASES.get(str(name), str(name))
        pol = canon.split("_")[0]
        unit = (units or {}).get(str(name)) or var.attrs.get("units") or table_units[pol]
        out[f"conc_{canon}"] = var.assign_attrs(units=unit)
