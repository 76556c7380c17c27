"""The Met dataset: conventions, CF attributes and the boundary check every model calls.

Conventions (used by the Gaussian plume and later models)
---------------------------------------------------------
* dimension ``time``: datetime64, UTC, the **start** of each hourly period; gridded met adds
  spatial dims after ``time``.
* ``wind_speed`` [m s-1] at anemometer height; ``wind_direction`` [degree] the direction the wind
  blows FROM (meteorological convention, CF ``wind_from_direction``); ``flow_vector`` [degree]
  optional, the direction it blows TOWARD (ISC convention, CF ``wind_to_direction``).
* ``air_temperature`` [K]; ``stability_class`` [1] integer 1–6 = A–F (7 = G only if allowed).
* ``mixing_height`` or ``mixing_height_rural`` / ``mixing_height_urban`` [m].
* For Turner's method: ``cloud_cover`` [1] total cloud fraction 0–1 (CF ``cloud_area_fraction``)
  and ``ceiling_height`` [m] above ground, ``inf`` when there is no ceiling.

Every variable carries ``units`` and, where CF defines one, ``standard_name`` (CF standard name
table v84).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidValueError, MetError, MissingFieldError, UnitError
from ..validation import check_finite, check_nonnegative, check_range, reject_unknown_fields

_HEIGHT = {"units": "m", "standard_name": "atmosphere_boundary_layer_thickness"}

#: CF attributes of every Met variable ecodss knows.
MET_VARIABLES: dict[str, dict[str, str]] = {
    "wind_speed": {"units": "m s-1", "standard_name": "wind_speed",
                   "long_name": "wind speed at anemometer height"},
    "wind_direction": {"units": "degree", "standard_name": "wind_from_direction",
                       "long_name": "direction the wind blows from (meteorological convention)"},
    "flow_vector": {"units": "degree", "standard_name": "wind_to_direction",
                    "long_name": "flow vector: direction the wind blows toward (ISC convention)"},
    "air_temperature": {"units": "K", "standard_name": "air_temperature",
                        "long_name": "air temperature"},
    "stability_class": {"units": "1",
                        "long_name": "Pasquill-Gifford stability class (1-6 = A-F, 7 = G)"},
    "mixing_height": {**_HEIGHT, "long_name": "mixing height"},
    "mixing_height_rural": {**_HEIGHT, "long_name": "rural mixing height"},
    "mixing_height_urban": {**_HEIGHT, "long_name": "urban mixing height"},
    "cloud_cover": {"units": "1", "standard_name": "cloud_area_fraction",
                    "long_name": "total cloud cover"},
    "ceiling_height": {"units": "m", "long_name": "ceiling height above ground (inf = no ceiling)"},
    "relative_humidity": {"units": "%", "standard_name": "relative_humidity",
                          "long_name": "relative humidity"},
}

#: Other units :func:`met_from_dataframe` converts on request: name → unit → (scale, offset),
#: canonical = value * scale + offset.
UNIT_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "cloud_cover": {"tenths": (0.1, 0.0), "okta": (0.125, 0.0), "%": (0.01, 0.0)},
    "air_temperature": {"degC": (1.0, 273.15)},
    "wind_speed": {"knot": (1852.0 / 3600.0, 0.0), "km h-1": (1.0 / 3.6, 0.0)},
    "ceiling_height": {"ft": (0.3048, 0.0)},
    "relative_humidity": {"1": (100.0, 0.0)},
}

#: Variables a dispersion model needs unless it asks for others.
DEFAULT_REQUIRED = ("wind_speed", "wind_direction", "air_temperature", "stability_class")

#: Accepted spellings of each canonical unit.
_UNIT_ALIASES = {
    "m s-1": {"m s-1", "m/s", "m s^-1", "m s**-1", "m.s-1", "meter second-1", "metre second-1",
              "m sec-1"},
    "degree": {"degree", "degrees", "deg", "degree_true"},
    "K": {"K", "kelvin", "degK"},
    "1": {"1", "dimensionless"},
    "m": {"m", "meter", "meters", "metre", "metres"},
    "%": {"%", "percent"},
}

#: Plausible near-surface air temperatures [K]; below ~100 the numbers are almost surely °C.
AIR_TEMPERATURE_RANGE_K = (180.0, 340.0)


def met_attrs(name: str) -> dict[str, str]:
    """A fresh copy of the CF attributes of Met variable ``name`` (see :data:`MET_VARIABLES`)."""
    return dict(MET_VARIABLES[name])


class _TimeLabels:
    """Lazy record labels (ISO times) for the validation helpers' error messages."""

    def __init__(self, times):
        self._times = np.asarray(times)

    def __getitem__(self, i):
        return str(np.datetime_as_string(self._times[i], unit="m"))


def _check_units(name: str, var: xr.DataArray, where: str) -> None:
    if "units" not in var.attrs:
        return
    expected = MET_VARIABLES[name]["units"]
    got = str(var.attrs["units"]).strip()
    if got not in _UNIT_ALIASES.get(expected, {expected}):
        raise UnitError(f"{name} has units {got!r}; expected {expected!r}", field=name,
                        where=where)


def _check_time(ds: xr.Dataset, where: str) -> None:
    if "time" not in ds.dims:
        raise MissingFieldError("met data need a 'time' dimension", field="time", where=where)
    t = ds["time"].values
    if not np.issubdtype(t.dtype, np.datetime64):
        raise MetError(f"time must be datetime64 (UTC), got dtype {t.dtype}", field="time",
                       where=where)
    if np.isnat(t).any():
        raise MetError("time contains NaT", field="time", where=where)
    step = np.diff(t)
    if (step <= np.timedelta64(0, "ns")).any():
        i = int(np.flatnonzero(step <= np.timedelta64(0, "ns"))[0]) + 1
        raise MetError(f"time is not strictly increasing at {_TimeLabels(t)[i]}", field="time",
                       where=where)


def _check_values(name: str, var: xr.DataArray, where: str, allow_class7: bool) -> None:
    v = np.asarray(var.values, dtype=float)
    if var.dims == ("time",):
        kw = {"ids": _TimeLabels(var["time"].values), "kind": f"{where} time"}
    else:
        kw = {"kind": f"{where} {name} element"}
    units = MET_VARIABLES[name]["units"]
    if name == "wind_speed":
        check_nonnegative(v, name, units=units, **kw)
    elif name in ("wind_direction", "flow_vector"):
        check_range(v, name, 0.0, 360.0, units=units, **kw)
    elif name == "air_temperature":
        check_finite(v, name, units=units, **kw)
        lo, hi = AIR_TEMPERATURE_RANGE_K
        if (v < 100.0).any():
            raise UnitError(f"air_temperature={v[v < 100.0].flat[0]} looks like °C; "
                            "ecodss expects K (met_from_dataframe(..., units={'air_temperature': "
                            "'degC'}) converts)", field=name, where=where)
        check_range(v, name, lo, hi, units=units, **kw)
    elif name == "stability_class":
        check_finite(v, name, **kw)
        if (v != np.rint(v)).any():
            raise InvalidValueError(f"stability_class={v[v != np.rint(v)].flat[0]} is not an "
                                    "integer class", field=name, where=where)
        check_range(v, name, 1, 7 if allow_class7 else 6, **kw)
    elif name.startswith("mixing_height"):
        check_range(v, name, 0.0, None, lo_inclusive=False, units=units, **kw)
    elif name == "cloud_cover":
        check_finite(v, name, **kw)
        if (v > 1.0).any() and (v <= 100.0).all():
            raise UnitError(f"cloud_cover={v[v > 1.0].flat[0]} looks like tenths or percent; "
                            "ecodss expects a fraction 0-1 (met_from_dataframe(..., units="
                            "{'cloud_cover': 'tenths'}) converts)", field=name, where=where)
        check_range(v, name, 0.0, 1.0, **kw)
    elif name == "ceiling_height":
        check_nonnegative(np.where(np.isposinf(v), 0.0, v), name, units=units, **kw)
    elif name == "relative_humidity":
        check_range(v, name, 0.0, 100.0, units=units, **kw)


def validate_met(ds: xr.Dataset, required: Iterable[str] = DEFAULT_REQUIRED, *,
                 allow_class7: bool = False, where: str = "met") -> xr.Dataset:
    """Check a Met dataset at the model boundary and return it unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        Met data following the module conventions. Dask-backed variables are computed for the
        checks (met series are small).
    required : iterable of str
        Variables that must be present. Any other known variable present is checked too.
    allow_class7 : bool
        Accept stability class 7 (G); regulatory data use 1–6.
    where : str
        Label used in error messages.

    Raises
    ------
    MissingFieldError
        A required variable or the ``time`` dimension is absent.
    MetError
        ``time`` not datetime64 or not strictly increasing; ``wind_direction`` labelled with the
        flow (``wind_to_direction``) convention.
    UnitError
        A ``units`` attribute differs from the convention; temperatures that look like °C; cloud
        cover that looks like tenths or percent.
    NonFiniteValueError, NegativeValueError, OutOfRangeError, InvalidValueError
        NaN/inf, negative wind speed, direction outside [0, 360], class outside 1–6, non-integer
        class, temperature outside 180–340 K, mixing height ≤ 0, cloud cover outside 0–1.
    """
    if not isinstance(ds, xr.Dataset):
        raise MetError(f"met data must be an xarray.Dataset, got {type(ds).__name__}",
                       where=where)
    missing = [name for name in required if name not in ds.data_vars]
    if missing:
        raise MissingFieldError(f"missing required met variable(s) {missing}", field=missing[0],
                                where=where)
    _check_time(ds, where)
    if ds.get("wind_direction") is not None and \
            ds["wind_direction"].attrs.get("standard_name") == "wind_to_direction":
        raise MetError("wind_direction is labelled wind_to_direction; ecodss wind_direction is "
                       "the direction the wind blows FROM (store the ISC flow vector as "
                       "flow_vector)", field="wind_direction", where=where)
    for name in MET_VARIABLES:
        if name in ds.data_vars:
            _check_units(name, ds[name], where)
            _check_values(name, ds[name], where, allow_class7)
    return ds


def _utc_times(values) -> np.ndarray:
    times = pd.DatetimeIndex(values)
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return times.values.astype("datetime64[ns]")


def _to_canonical(name: str, values: np.ndarray, unit: str, where: str) -> np.ndarray:
    canonical = MET_VARIABLES[name]["units"]
    if unit.strip() in _UNIT_ALIASES.get(canonical, {canonical}):
        return values
    known = UNIT_CONVERSIONS.get(name, {})
    if unit not in known:
        raise UnitError(f"cannot convert {name} from {unit!r}; give {canonical!r} or one of "
                        f"{sorted(known)}", field=name, where=where)
    scale, offset = known[unit]
    return values * scale + offset


def met_from_dataframe(df: pd.DataFrame, *, time: str | None = "time",
                       units: Mapping[str, str] | None = None,
                       required: Iterable[str] = DEFAULT_REQUIRED,
                       allow_class7: bool = False) -> xr.Dataset:
    """Build a validated hourly Met dataset from a table.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per time; columns named as in :data:`MET_VARIABLES`, in their canonical units
        unless ``units`` says otherwise.
    time : str or None
        Column holding the times; ``None`` (or a missing column with a DatetimeIndex) uses the
        index. Time-zone-aware times are converted to UTC; naive times are taken as UTC.
    units : mapping, optional
        Column → unit of the values given, converted to the canonical unit; choices in
        :data:`UNIT_CONVERSIONS`, e.g. ``{"cloud_cover": "tenths", "air_temperature": "degC"}``.
    required, allow_class7 :
        Passed to :func:`validate_met`.

    Returns
    -------
    xarray.Dataset with dim ``time`` and CF attributes.

    Raises
    ------
    UnknownFieldError
        A column is not a known Met variable (the message suggests the closest name).
    MissingFieldError
        No time column/index, or a required variable missing.
    UnitError
        A unit in ``units`` that cannot be converted (or values in the wrong unit, as found by
        :func:`validate_met`).
    """
    where = "met dataframe"
    if time is not None and time in df.columns:
        times, data = df[time], df.drop(columns=time)
    elif isinstance(df.index, pd.DatetimeIndex):
        times, data = df.index, df
    else:
        raise MissingFieldError(f"no time column {time!r} and no DatetimeIndex", field="time",
                                where=where)
    reject_unknown_fields(data.columns, MET_VARIABLES, where)
    units = dict(units or {})
    reject_unknown_fields(units, data.columns, f"{where} units")
    coords = {"time": ("time", _utc_times(times), {"long_name": "start of the hour (UTC)"})}
    variables = {}
    for name in data.columns:
        values = data[name].to_numpy(dtype=float)
        if name in units:
            values = _to_canonical(name, values, units[name], where)
        variables[name] = ("time", values, met_attrs(name))
    ds = validate_met(xr.Dataset(variables, coords=coords), required=required,
                      allow_class7=allow_class7, where=where)
    if "stability_class" in ds:
        ds["stability_class"] = ds["stability_class"].astype(np.int8)
    return ds
