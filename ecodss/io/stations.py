"""Station observations: the Beijing PRSA file and a generic long-format CSV/NetCDF reader.

Both return a CF-annotated ``xr.Dataset`` with dimensions ``(station, time)``, coordinates
``station`` (id), ``lon``/``lat`` [degrees] on ``station`` and ``time`` in **naive UTC** (the
ecodss convention, :mod:`ecodss.timeutil`), every variable with ``units`` and, where CF defines
one, a ``standard_name`` (CF Standard Name Table v84).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataFileError, InvalidValueError, MissingFieldError, UnknownFieldError
from ..met.dataset import UNIT_CONVERSIONS, met_attrs
from ..validation import check_nonnegative, check_range, require_fields

#: China Standard Time = UTC + 8 h (no daylight saving since 1991).
CST_UTC_OFFSET_HOURS = 8.0

#: The PM2.5 monitor on the roof of the U.S. Embassy, 55 Anjialou Road, Chaoyang District,
#: Beijing — approximate position (±0.01°) [degrees_east, degrees_north].
US_EMBASSY_BEIJING = {"station": "us_embassy_beijing", "lon": 116.466, "lat": 39.954}
#: Beijing Capital International Airport (ZBAA), where the PRSA meteorology was observed.
BEIJING_AIRPORT = {"lon": 116.585, "lat": 40.080}

#: Known variables: name → attributes. Pollutants (``pollutant: True``) must be >= 0.
STATION_VARIABLES: dict[str, dict] = {
    "pm25": {"units": "ug m-3", "pollutant": True, "long_name": "PM2.5 mass concentration",
             "standard_name": "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air"},
    "pm10": {"units": "ug m-3", "pollutant": True, "long_name": "PM10 mass concentration",
             "standard_name": "mass_concentration_of_pm10_ambient_aerosol_particles_in_air"},
    "so2": {"units": "ug m-3", "pollutant": True, "long_name": "SO2 mass concentration",
            "standard_name": "mass_concentration_of_sulfur_dioxide_in_air"},
    "no2": {"units": "ug m-3", "pollutant": True, "long_name": "NO2 mass concentration",
            "standard_name": "mass_concentration_of_nitrogen_dioxide_in_air"},
    "o3": {"units": "ug m-3", "pollutant": True, "long_name": "O3 mass concentration",
           "standard_name": "mass_concentration_of_ozone_in_air"},
    "co": {"units": "mg m-3", "pollutant": True,
           "long_name": "CO mass concentration (mg m-3, the unit of HJ 633-2012)",
           "standard_name": "mass_concentration_of_carbon_monoxide_in_air"},
    "air_temperature": met_attrs("air_temperature"),
    "dewpoint": {"units": "K", "standard_name": "dew_point_temperature",
                 "long_name": "dew-point temperature"},
    "relative_humidity": met_attrs("relative_humidity"),
    "air_pressure": {"units": "Pa", "standard_name": "air_pressure",
                     "long_name": "station-level air pressure"},
    "wind_speed": {**met_attrs("wind_speed"), "long_name": "wind speed"},
    "wind_direction": {**met_attrs("wind_direction"),
                       "long_name": "direction the wind blows from (0 = N, clockwise)"},
    "precipitation": {"units": "mm", "standard_name": "precipitation_amount",
                      "long_name": "precipitation in the hour"},
}
#: Accepted spellings → canonical variable name.
ALIASES = {"pm2.5": "pm25", "pm2_5": "pm25", "pm_25": "pm25", "temperature": "air_temperature",
           "temp": "air_temperature", "dew_point": "dewpoint", "dewp": "dewpoint",
           "pressure": "air_pressure", "pres": "air_pressure", "rh": "relative_humidity",
           "ws": "wind_speed", "wd": "wind_direction"}
#: Columns every long-format observation CSV must have.
REQUIRED_COLUMNS = ("station_id", "lon", "lat", "time")

# --------------------------------------------------------------------------- PRSA (UCI) file

#: PRSA column → (ecodss name, scale, offset): value_ecodss = scale * value + offset.
_DEGC_TO_K = UNIT_CONVERSIONS["air_temperature"]["degC"]
_PRSA_NUMERIC = {"pm2.5": ("pm25", 1.0, 0.0), "DEWP": ("dewpoint", *_DEGC_TO_K),
                 "TEMP": ("air_temperature", *_DEGC_TO_K), "PRES": ("air_pressure", 100.0, 0.0),
                 "Iws": ("wind_speed_cumulative", 1.0, 0.0), "Is": ("snow_hours", 1.0, 0.0),
                 "Ir": ("rain_hours", 1.0, 0.0)}
#: ``cbwd`` codes of the PRSA file, stored as CF flags 1–4.
PRSA_WIND_CLASSES = ("NW", "NE", "SE", "cv")
_PRSA_COLUMNS = ("year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws",
                 "Is", "Ir")
_PRSA_EXTRA_ATTRS = {
    "wind_direction_class": {
        "units": "1", "long_name": "combined wind direction class (PRSA 'cbwd')",
        "flag_values": np.arange(1, 5, dtype=np.int8),
        "flag_meanings": "NW NE SE calm_and_variable"},
    "wind_speed_cumulative": {
        "units": "m s-1", "long_name": "cumulated wind speed: sum of the hourly wind speeds over "
                                       "the consecutive hours with the same direction class (Iws)"},
    "snow_hours": {"units": "h", "long_name": "cumulated hours of snow (Is)"},
    "rain_hours": {"units": "h", "long_name": "cumulated hours of rain (Ir)"},
}


class _RowLabels:
    """Lazy record labels for the validation helpers (built only for the offending row)."""

    def __init__(self, fmt):
        self.fmt = fmt

    def __getitem__(self, i):
        return self.fmt(i)


def _as_path(path) -> Path:
    path = Path(os.fspath(path))
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    return path


def read_prsa(path) -> xr.Dataset:
    """Read the Beijing PRSA hourly PM2.5 + meteorology file (UCI "Beijing PM2.5 Data").

    Liang, X., Zou, T., Guo, B., Li, S., Zhang, H., Zhang, S., Huang, H. and Chen, S. X. (2015).
    Assessing Beijing's PM2.5 pollution: severity, weather impact, APEC and winter heating.
    *Proc. R. Soc. A* 471, 20150257. PM2.5 from the U.S. Embassy monitor; meteorology from
    Beijing Capital International Airport (ZBAA, ~15 km north-east).

    Parameters
    ----------
    path : path-like
        ``PRSA_data_2010.1.1-2014.12.31.csv`` (columns No, year, month, day, hour, pm2.5, DEWP,
        TEMP, PRES, cbwd, Iws, Is, Ir).

    Returns
    -------
    xarray.Dataset, dims ``(station: 1, time: 43824)``:
    ``pm25`` [ug m-3] (NaN = missing), ``dewpoint`` [K], ``air_temperature`` [K],
    ``air_pressure`` [Pa], ``wind_direction_class`` [1] (CF flags 1–4 = NW, NE, SE, calm/variable),
    ``wind_speed_cumulative`` [m s-1], ``snow_hours`` [h], ``rain_hours`` [h];
    coordinates ``station``, ``lon``, ``lat``, ``time``.

    Notes
    -----
    *Time zone.* The file's year/month/day/hour are Beijing local time (China Standard Time,
    UTC+8, no daylight saving). ecodss keeps times in naive UTC, so ``time`` = local − 8 h: the
    first record, 2010-01-01 00:00 CST, is 2009-12-31 16:00 UTC. Daily statistics for China
    should be taken over CST days (:func:`ecodss.timeutil.daily_mean`, default offset +8 h),
    which reproduces the file's calendar days. Each hour is stamped with its start (ecodss
    convention); whether the monitor's hour label marks the start or the end of the averaging
    hour is not stated in the file's documentation **[unverified]** — at most a one-hour shift.

    *Units.* Temperatures are converted from °C to K and pressure from hPa to Pa, the
    canonical units of :mod:`ecodss.met`; the cumulated fields keep the file's meaning.

    Raises
    ------
    DataFileError
        The file does not exist or cannot be parsed.
    MissingFieldError, InvalidValueError, NegativeValueError
        A column is missing; a non-numeric value, an unknown ``cbwd`` code or a duplicate or
        irregular hour; a negative PM2.5 value — each naming the column and the row.
    """
    path = _as_path(path)
    try:
        df = pd.read_csv(path, dtype={"cbwd": str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot parse as CSV ({exc})") from exc
    where = path.name
    require_fields(df.columns, _PRSA_COLUMNS, where)
    numeric = _numeric_columns(df, [c for c in _PRSA_COLUMNS if c != "cbwd"], where,
                               row_offset=2)
    local = pd.to_datetime(pd.DataFrame({k: numeric[k] for k in ("year", "month", "day",
                                                                 "hour")}), errors="coerce")
    if local.isna().any():
        i = int(np.flatnonzero(local.isna())[0])
        raise InvalidValueError("invalid date/hour", field="year/month/day/hour",
                                where=f"{where} line {i + 2}")
    times = (local - pd.Timedelta(hours=CST_UTC_OFFSET_HOURS)).to_numpy("datetime64[ns]")
    _check_hourly(times, where)
    pm = numeric["pm2.5"]
    check_nonnegative(np.nan_to_num(pm, nan=0.0), "pm2.5", units="ug m-3", kind="",
                      ids=_RowLabels(lambda i: f"{where} line {i + 2}"))
    wind = df["cbwd"].astype(str).str.strip()
    code = pd.Index(PRSA_WIND_CLASSES).get_indexer(wind)
    if (code < 0).any():
        i = int(np.flatnonzero(code < 0)[0])
        raise InvalidValueError(f"cbwd={wind.iloc[i]!r} is not one of {PRSA_WIND_CLASSES}",
                                field="cbwd", where=f"{where} line {i + 2}")
    data = {name: scale * numeric[col] + offset
            for col, (name, scale, offset) in _PRSA_NUMERIC.items()}
    data["wind_direction_class"] = (code + 1).astype(np.int8)
    station = US_EMBASSY_BEIJING
    ds = xr.Dataset(
        {name: (("station", "time"), values[None, :]) for name, values in data.items()},
        coords={"station": [station["station"]], "time": times,
                "lon": ("station", [station["lon"]]), "lat": ("station", [station["lat"]])})
    for name in ds.data_vars:
        attrs = _PRSA_EXTRA_ATTRS.get(name) or _variable_attrs(name, None)
        ds[name].attrs = dict(attrs)
    met = (f"observed at Beijing Capital International Airport (ZBAA, {BEIJING_AIRPORT['lat']} N,"
           f" {BEIJING_AIRPORT['lon']} E), not at the PM2.5 site")
    for name in ("dewpoint", "air_temperature", "air_pressure", "wind_direction_class",
                 "wind_speed_cumulative", "snow_hours", "rain_hours"):
        ds[name].attrs["comment"] = met
    ds["pm25"].attrs["comment"] = "hourly PM2.5 of the U.S. Embassy monitor; NaN = missing"
    _coord_attrs(ds)
    ds.attrs = {"title": "Beijing PM2.5 and meteorology, hourly, 2010-2014 (PRSA, UCI)",
                "source": f"{path.name}: UCI Machine Learning Repository 'Beijing PM2.5 Data'",
                "references": "Liang et al. (2015), Proc. R. Soc. A 471: 20150257",
                "license": "CC BY 4.0",
                "comment": "time converted from Beijing local time (UTC+8) to UTC",
                "Conventions": "CF-1.10"}
    return ds


# --------------------------------------------------------------------------- helpers


def _numeric_columns(df: pd.DataFrame, columns, where: str, row_offset: int) -> dict:
    """Columns as float arrays; a non-empty value that is not a number raises, naming it."""
    out = {}
    for col in columns:
        raw = df[col]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidValueError(f"{col}={raw.iloc[i]!r} is not a number", field=col,
                                    where=f"{where} line {i + row_offset}")
        out[col] = values.to_numpy(dtype=float)
    return out


def _check_hourly(times: np.ndarray, where: str) -> None:
    step = np.diff(times)
    bad = step != np.timedelta64(1, "h")
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "duplicate" if step[i] == np.timedelta64(0) else "non-consecutive"
        raise InvalidValueError(f"{kind} hour {pd.Timestamp(times[i + 1])} UTC after "
                                f"{pd.Timestamp(times[i])} UTC (expected consecutive hours)",
                                field="time", where=f"{where} line {i + 3}")


def _variable_attrs(name: str, units: str | None) -> dict:
    attrs = {k: v for k, v in STATION_VARIABLES[name].items() if k != "pollutant"}
    if units is not None:
        attrs["units"] = units
    return attrs


def _coord_attrs(ds: xr.Dataset) -> None:
    ds["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    ds["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    ds["station"].attrs = {"long_name": "station identifier", "cf_role": "timeseries_id"}
    ds["time"].attrs = {"standard_name": "time", "long_name": "time (UTC, start of the hour)"}


def _canonical(column: str) -> str:
    key = column.strip().lower()
    return ALIASES.get(key, key)


# --------------------------------------------------------------------------- generic reader


def _to_utc(values: pd.Series, utc_offset_hours: float, where: str) -> np.ndarray:
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InvalidValueError(f"time={values.iloc[i]!r} is not a date/time", field="time",
                                where=f"{where} line {i + 2}")
    aware = values.astype(str).str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    naive = parsed.dt.tz_localize(None)
    shift = np.where(aware, 0.0, utc_offset_hours) * np.timedelta64(3600, "s")
    return (naive.to_numpy() - shift).astype("datetime64[ns]")


def _validate_table(df: pd.DataFrame, variables: list[str], where: str) -> None:
    ids = _RowLabels(lambda i: f"station {df['station_id'].iloc[i]!r} at "
                               f"{pd.Timestamp(df['time'].iloc[i])}")
    check_range(df["lon"], "lon", -180.0, 360.0, ids=ids, kind="", units="degrees_east")
    check_range(df["lat"], "lat", -90.0, 90.0, ids=ids, kind="", units="degrees_north")
    dup = df.duplicated(["station_id", "time"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InvalidValueError("duplicate station/time row", field="time",
                                where=f"{where} {ids[i]}")
    spread = df.groupby("station_id")[["lon", "lat"]].agg(lambda s: s.max() - s.min())
    moving = spread.max(axis=1) > 1e-6
    if moving.any():
        raise InvalidValueError("lon/lat differ between rows of the same station",
                                field="lon/lat", where=f"{where} station {moving.idxmax()!r}")
    for name in variables:
        if STATION_VARIABLES.get(name, {}).get("pollutant"):
            check_nonnegative(np.nan_to_num(df[name].to_numpy(float), nan=0.0), name, ids=ids,
                              kind="", units=STATION_VARIABLES[name]["units"])


def _from_table(df: pd.DataFrame, units: dict, utc_offset_hours: float, where: str):
    names = [_canonical(c) for c in df.columns]
    repeated = pd.Index(names)[pd.Index(names).duplicated()]
    if len(repeated):
        raise InvalidValueError(f"two columns name the variable {repeated[0]!r}",
                                field=repeated[0], where=where)
    df = df.set_axis(names, axis=1)
    require_fields(df.columns, REQUIRED_COLUMNS, where)
    variables = [c for c in df.columns if c not in REQUIRED_COLUMNS]
    unknown = [v for v in variables if v not in STATION_VARIABLES and v not in units]
    if unknown:
        raise UnknownFieldError(f"column {unknown[0]!r} is not a known variable "
                                f"({sorted(STATION_VARIABLES)}); pass its unit in units= to "
                                "keep it", field=unknown[0], where=where)
    numeric = _numeric_columns(df, ["lon", "lat", *variables], where, row_offset=2)
    table = pd.DataFrame(numeric)
    table["station_id"] = df["station_id"].astype(str).str.strip().to_numpy()
    table["time"] = _to_utc(df["time"], utc_offset_hours, where)
    _validate_table(table, variables, where)
    stations = table.groupby("station_id", sort=True)[["lon", "lat"]].first()
    ds = table.set_index(["station_id", "time"])[variables].to_xarray()
    ds = ds.rename({"station_id": "station"}).sortby("time")
    ds = ds.assign_coords(lon=("station", stations["lon"].reindex(ds["station"].values).values),
                          lat=("station", stations["lat"].reindex(ds["station"].values).values))
    for name in variables:
        ds[name].attrs = (_variable_attrs(name, units.get(name)) if name in STATION_VARIABLES
                          else {"units": units[name], "long_name": name})
    _coord_attrs(ds)
    ds["time"].attrs["long_name"] = "time (UTC)"
    return ds


def _check_dataset(ds: xr.Dataset, where: str) -> xr.Dataset:
    require_fields(list(ds.dims), ("station", "time"), where)
    require_fields(list(ds.coords), ("lon", "lat"), where)
    for name, var in ds.data_vars.items():
        if "units" not in var.attrs:
            raise MissingFieldError(f"variable {name!r} has no units attribute", field=name,
                                    where=where)
        if STATION_VARIABLES.get(name, {}).get("pollutant"):
            check_nonnegative(np.nan_to_num(var.values.astype(float), nan=0.0), name,
                              kind=f"{where} {name}", units=var.attrs["units"])
    if ds.indexes["time"].duplicated().any():
        raise InvalidValueError("duplicate time", field="time", where=where)
    return ds


def read_station_observations(path, *, units: dict | None = None,
                              utc_offset_hours: float = 0.0) -> xr.Dataset:
    """Read station observations from a long-format CSV or a NetCDF file.

    Parameters
    ----------
    path : path-like
        ``.csv``: one row per station and time with columns ``station_id``, ``lon`` [degrees_east],
        ``lat`` [degrees_north], ``time`` and any of the variables of :data:`STATION_VARIABLES`
        (pollutants ``pm25``, ``pm10``, ``so2``, ``no2``, ``o3``, ``co``; met
        ``air_temperature``, ``dewpoint``, ``relative_humidity``, ``air_pressure``,
        ``wind_speed``, ``wind_direction``, ``precipitation``; spellings such as ``PM2.5`` are
        accepted, see :data:`ALIASES`). Empty cells are missing values.
        ``.nc``: a dataset with dimensions ``station`` and ``time``, coordinates ``lon``/``lat``,
        and ``units`` on every variable (e.g. written by :func:`ecodss.io.write_netcdf`).
    units : dict, optional
        Units of CSV columns that differ from the defaults of :data:`STATION_VARIABLES`
        (recorded, not converted), or of extra columns to keep.
    utc_offset_hours : float
        CSV times without a zone are local times at UTC + this offset (8 for China Standard
        Time); times with a zone (``+08:00``, ``Z``) are converted as given. Default 0 (UTC).

    Returns
    -------
    xarray.Dataset, dims ``(station, time)`` (time = the union of all stations' times, sorted,
    naive UTC; NaN where a station has no row), CF attributes.

    Raises
    ------
    MissingFieldError, UnknownFieldError, InvalidValueError, NegativeValueError, OutOfRangeError
        Naming the column and the row/station: missing columns, an unknown column, a
        non-numeric value, a negative concentration, a duplicate station/time row, a station
        whose lon/lat change, lon/lat out of range.
    """
    path = _as_path(path)
    units = dict(units or {})
    if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        with xr.open_dataset(path) as ds:
            return _check_dataset(ds.load(), path.name)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot parse as CSV ({exc})") from exc
    return _from_table(df, units, utc_offset_hours, path.name)


__all__ = ["read_prsa", "read_station_observations", "STATION_VARIABLES", "ALIASES",
           "US_EMBASSY_BEIJING", "PRSA_WIND_CLASSES", "CST_UTC_OFFSET_HOURS"]
