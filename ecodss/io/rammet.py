"""Reader for ISC RAMMET ASCII hourly meteorology (the ISCST3 ``PREPIT.ASC`` format).

Format (ISC3 User's Guide Vol. I, EPA-454/B-95-003a, ASCII met input; ISCST3 echoes it as
``FORMAT: (4I2,2F9.4,F6.1,I2,2F7.1,...)`` in TEST-ST.OUT):

* line 1: surface station id, surface year, upper-air station id, upper-air year (free format);
* then one record per hour, Fortran ``(4I2,2F9.4,F6.1,I2,2F7.1)``:

  ====== ======= ===========================================================
  cols   format  field
  ====== ======= ===========================================================
  1–8    4I2     YY MM DD HH (HH = 1…24, hour *ending* at HH local standard)
  9–17   F9.4    flow vector [deg], the direction the wind blows TOWARD
  18–26  F9.4    wind speed [m s-1] at the anemometer height
  27–32  F6.1    air temperature [K]
  33–34  I2      Pasquill–Gifford class 1–6 (A–F); RAMMET may write 7 (G)
  35–41  F7.1    rural mixing height [m]
  42–48  F7.1    urban mixing height [m]
  ====== ======= ===========================================================

Fields can run together (``64 1 110``), so the records are cut at these fixed columns, never split
on white space. Columns past 48 (the extended ISC format) are ignored. Parsing is vectorized
(pandas string slicing and ``to_numeric`` over all records at once).

Time stamps: ISC hour HH covers (HH−1):00–HH:00 local standard time of the station. ecodss stamps
each hour with its **start**, converted to UTC with ``utc_offset_hours`` (the file carries no
zone; default 0, i.e. the stamps are the station's local standard time labelled as UTC).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataFileError
from ..met.dataset import met_attrs, validate_met

#: Fortran format of one hourly record.
RAMMET_FORMAT = "(4I2,2F9.4,F6.1,I2,2F7.1)"
#: Field name → (first column, last column), 1-based inclusive, per :data:`RAMMET_FORMAT`.
RAMMET_COLUMNS = {
    "year": (1, 2), "month": (3, 4), "day": (5, 6), "hour": (7, 8),
    "flow_vector": (9, 17), "wind_speed": (18, 26), "air_temperature": (27, 32),
    "stability_class": (33, 34), "mixing_height_rural": (35, 41), "mixing_height_urban": (42, 48),
}
_INTEGER_FIELDS = ("year", "month", "day", "hour", "stability_class")
_RECORD_LENGTH = 48
_FIRST_RECORD_LINE = 2

#: Plausibility limits checked while reading: field → (lo, hi), inclusive.
_LIMITS = {
    "month": (1, 12), "day": (1, 31), "hour": (1, 24), "flow_vector": (0.0, 360.0),
    "wind_speed": (0.0, None), "air_temperature": (0.0, None), "stability_class": (1, 7),
    "mixing_height_rural": (0.0, None), "mixing_height_urban": (0.0, None),
}


def _fail(path, index: int, message: str) -> DataFileError:
    return DataFileError(f"{path}, line {index + _FIRST_RECORD_LINE}: {message}")


def _first(mask) -> int | None:
    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) if hits.size else None


def _parse_header(path, line: str) -> dict[str, int]:
    parts = line.split()
    if len(parts) < 4 or not all(p.lstrip("-").isdigit() for p in parts[:4]):
        raise DataFileError(f"{path}, line 1: expected header 'surface_id year upper_air_id "
                            f"year', got {line!r}")
    keys = ("surface_station", "surface_year", "upper_air_station", "upper_air_year")
    return dict(zip(keys, map(int, parts[:4]), strict=True))


def _parse_records(path, records: pd.Series) -> dict[str, np.ndarray]:
    short = _first(records.str.len() < _RECORD_LENGTH)
    if short is not None:
        raise _fail(path, short, f"record has {len(records.iloc[short])} characters, expected "
                                 f"{_RECORD_LENGTH} for format {RAMMET_FORMAT}")
    fields = {}
    for name, (c0, c1) in RAMMET_COLUMNS.items():
        text = records.str.slice(c0 - 1, c1).str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if name in _INTEGER_FIELDS:
            bad |= ~text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
        i = _first(bad)
        if i is not None:
            raise _fail(path, i, f"field {name} (columns {c0}-{c1}) = {text.iloc[i]!r} is not a "
                                 f"valid number for format {RAMMET_FORMAT}")
        lo, hi = _LIMITS.get(name, (None, None))
        out = np.zeros(values.shape, bool)
        if lo is not None:
            out |= values < lo
        if hi is not None:
            out |= values > hi
        i = _first(out)
        if i is not None:
            raise _fail(path, i, f"field {name} = {values[i]:g} outside [{lo}, {hi}]")
        fields[name] = values
    return fields


def _start_times(path, f: dict[str, np.ndarray], year_base: int,
                 utc_offset_hours: float) -> np.ndarray:
    dates = pd.to_datetime(pd.DataFrame({"year": f["year"] + year_base, "month": f["month"],
                                         "day": f["day"]}), errors="coerce")
    i = _first(dates.isna())
    if i is not None:
        raise _fail(path, i, f"invalid date {int(f['year'][i]):02d}-{int(f['month'][i]):02d}-"
                             f"{int(f['day'][i]):02d}")
    start = (dates.to_numpy().astype("datetime64[ns]")
             + ((f["hour"] - 1.0 - utc_offset_hours) * 3.6e12).astype("timedelta64[ns]"))
    i = _first(np.diff(start) <= np.timedelta64(0, "ns"))
    if i is not None:
        raise _fail(path, i + 1, "hour does not follow the previous record (records must be in "
                                 "time order without repeats)")
    return start


def read_rammet(path: str | os.PathLike, year_base: int = 1900, *, utc_offset_hours: float = 0.0,
                merge_class7: bool = True) -> xr.Dataset:
    """Read an ISC RAMMET ASCII met file into an hourly Met dataset.

    Parameters
    ----------
    path : path-like
        The file (e.g. ``PREPIT.ASC``).
    year_base : int
        Added to the two-digit year (1900 → ``64`` is 1964).
    utc_offset_hours : float
        Station local standard time minus UTC [h] (e.g. −5 for U.S. Eastern, +8 for China).
        ``time`` = start of the hour − offset. Default 0: stamps are local standard time.
    merge_class7 : bool
        Fold class 7 (G) into 6 (F) as EPA regulatory models do (default). With ``False`` the
        raw classes are kept.

    Returns
    -------
    xarray.Dataset
        Dim ``time`` [UTC, start of hour]; ``wind_speed`` [m s-1], ``wind_direction`` [degree,
        from] = (flow_vector + 180) mod 360, ``flow_vector`` [degree, toward, as in the file],
        ``air_temperature`` [K], ``stability_class`` (int8), ``mixing_height_rural`` and
        ``mixing_height_urban`` [m]; the hour as written (``hour_ending``, 1–24); global attrs
        with station ids and years, ``utc_offset_hours`` and ``calm_hours`` (speed 0).

    Raises
    ------
    DataFileError
        Unreadable file, bad header, or a malformed/impossible record (the message names the
        file, the line and the field).

    Examples
    --------
    >>> met = read_rammet("PREPIT.ASC")                              # doctest: +SKIP
    >>> float(met.wind_direction[0]), float(met.flow_vector[0])      # doctest: +SKIP
    (71.0, 251.0)
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read RAMMET file ({exc})") from exc
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2:
        raise DataFileError(f"{path}: no hourly records (expected a header line and records)")
    header = _parse_header(path, lines[0])
    f = _parse_records(path, pd.Series(lines[1:], dtype=object).str.rstrip())
    time = _start_times(path, f, year_base, utc_offset_hours)

    raw_class = f["stability_class"].astype(np.int8)
    cls = np.minimum(raw_class, 6) if merge_class7 else raw_class
    class_attrs = met_attrs("stability_class")
    if merge_class7:
        class_attrs["comment"] = (f"class 7 (G) merged into 6 (F) in {int((raw_class == 7).sum())}"
                                  " hours (EPA regulatory practice)")
    flow = f["flow_vector"]
    data = {
        "wind_speed": ("time", f["wind_speed"], met_attrs("wind_speed")),
        "wind_direction": ("time", np.mod(flow + 180.0, 360.0), met_attrs("wind_direction")),
        "flow_vector": ("time", flow, met_attrs("flow_vector")),
        "air_temperature": ("time", f["air_temperature"], met_attrs("air_temperature")),
        "stability_class": ("time", cls, class_attrs),
        "mixing_height_rural": ("time", f["mixing_height_rural"],
                                met_attrs("mixing_height_rural")),
        "mixing_height_urban": ("time", f["mixing_height_urban"],
                                met_attrs("mixing_height_urban")),
        "hour_ending": ("time", f["hour"].astype(np.int8),
                        {"units": "1", "long_name": "ISC hour (1-24) ending at HH local "
                                                    "standard time, as written in the file"}),
    }
    coords = {"time": ("time", time, {"long_name": "start of the hour (UTC)",
                                      "standard_name": "time"})}
    attrs = {**header, "utc_offset_hours": float(utc_offset_hours),
             "calm_hours": int((f["wind_speed"] == 0.0).sum()),
             "source": f"ISC RAMMET ASCII file {path.name}, format {RAMMET_FORMAT}",
             "time_convention": "time = start of the hourly period in UTC = local standard "
                                "time of ISC hour-ending HH minus one hour, minus "
                                "utc_offset_hours"}
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    return validate_met(ds, allow_class7=not merge_class7, where=str(path))
