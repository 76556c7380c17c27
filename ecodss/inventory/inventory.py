"""The emission inventory: point sources (stacks) and area sources (grid cells or polygons).

Internally every emission column is an **annual-mean rate in g/s** (float64), one column per
pollutant named exactly as in :data:`POLLUTANTS`. Conversions from inventory units (``"t/yr"``,
``"kg/h"``, ...) use :mod:`ecodss.units` (365-day year). Every table is validated on entry, column
by column (vectorized); a failure raises the specific :mod:`ecodss.errors` subclass naming the
source id and the field, e.g. ``point source 'P7': stack_height=-3.0 m outside (0.0, 600.0]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import (
    DataFileError,
    InvalidValueError,
    InventoryError,
    MissingFieldError,
    UnitError,
)
from ..units import rate_to_gps
from ..validation import (
    check_finite,
    check_nonnegative,
    check_range,
    reject_unknown_fields,
    require_fields,
)
from .temporal import TemporalProfiles

#: Pollutant column names (NOx as NO2 mass, VOCs = total NMVOC mass, MEIC convention).
POLLUTANTS = ("SO2", "NOx", "PM2.5", "PM10", "VOCs", "NH3", "CO")
#: Optional descriptive (string) columns allowed in both tables.
TEXT_FIELDS = ("name", "sector", "city", "enterprise", "grade")
#: Sector of sources that give none.
DEFAULT_SECTOR = "other"
#: Source kinds and the dimension/coordinate name each uses in NetCDF files.
KINDS = ("point", "area")

#: Required columns of the point-source table.
POINT_FIELDS = ("id", "x", "y", "stack_height", "stack_diameter", "exit_velocity",
                "exit_temperature")
#: Plausible stack parameters: field → (lower, upper, lower bound inclusive, units). Upper bounds:
#: the tallest stacks built are ~420 m (Ekibastuz GRES-2); 30 m diameter and 100 m/s exceed any
#: real stack; 1800 K is above the adiabatic flame temperature of flue gases after dilution.
STACK_LIMITS = {
    "stack_height": (0.0, 600.0, False, "m"),
    "stack_diameter": (0.0, 30.0, False, "m"),
    "exit_velocity": (0.0, 100.0, True, "m/s"),
    "exit_temperature": (200.0, 1800.0, False, "K"),
}
#: Below this exit temperature [K] the value is almost surely in degrees Celsius.
KELVIN_THRESHOLD = 200.0

#: Geometry columns of the area-source table: rectangle (x, y centre; width, height sides) or
#: ``polygon`` (vertex array or WKT), plus the release height.
AREA_FIELDS = ("id", "x", "y", "width", "height", "polygon", "release_height")
AREA_RECTANGLE_FIELDS = ("x", "y", "width", "height")
#: Release height bounds [m] of area sources (0 = ground level).
RELEASE_HEIGHT_LIMITS = (0.0, 600.0)
#: Most sub-cells one polygon may be rasterized into by :meth:`Inventory.area_rectangles`.
MAX_SUBCELLS = 4_000_000

_ALLOWED = {"point": POINT_FIELDS + TEXT_FIELDS + POLLUTANTS,
            "area": AREA_FIELDS + TEXT_FIELDS + POLLUTANTS}
_LABEL = {"point": "point source", "area": "area source"}


# ---------------------------------------------------------------------------------------------
# Table validation (one column at a time, all sources at once)
# ---------------------------------------------------------------------------------------------
def _where(kind: str, ids) -> str:
    """Label of a whole table for table-level errors, naming its first sources."""
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:3]) + (", ..." if len(ids) > 3 else "")
    return f"{kind} sources [{shown}] ({len(ids)} rows)" if ids else f"{kind} sources (empty)"


def _to_number(df: pd.DataFrame, col: str, ids: np.ndarray, label: str) -> np.ndarray:
    """Column ``col`` as float64 (missing → NaN); a non-numeric entry raises naming the source."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = (num.isna() & raw.notna()).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(f"{col}={raw.iloc[i]!r} is not a number", field=col,
                                where=f"{label} {ids[i]!r}")
    return num.to_numpy(dtype=float, na_value=np.nan, copy=True)


def _numeric(df: pd.DataFrame, col: str, ids: np.ndarray, label: str, units: str = ""):
    """Column ``col`` as finite float64, or an error naming the first bad source."""
    values = _to_number(df, col, ids, label)
    check_finite(values, col, ids=ids, kind=label, units=units)
    return values


def _rate_factor(units: str, pollutants: list[str], label: str, ids) -> float:
    """g/s per ``units``; an unknown unit raises :class:`UnitError` naming the columns."""
    try:
        return rate_to_gps(1.0, units, field=", ".join(pollutants))
    except UnitError as exc:
        raise UnitError(f"{exc} (units= applies to all {len(ids)} sources)",
                        field=pollutants[0], where=f"{label} {ids[0]!r}") from None
    except AttributeError:
        raise UnitError(f"units must be a string such as 't/yr', got {units!r}",
                        field=pollutants[0], where=f"{label} {ids[0]!r}") from None


def _ids(df: pd.DataFrame, kind: str) -> np.ndarray:
    """Validated source ids (non-empty strings, unique) as an object array."""
    raw = df["id"]
    label = _LABEL[kind]
    empty = (raw.isna() | (raw.astype(str).str.strip() == "")).to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InvalidValueError("id is empty", field="id", where=f"{label} #{i}")
    ids = raw.astype(str).str.strip()
    dup = ids.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        rows = np.flatnonzero((ids == ids.iloc[i]).to_numpy()).tolist()
        raise InventoryError(f"duplicate id={ids.iloc[i]!r} (rows {rows})", field="id",
                             where=f"{label} {ids.iloc[i]!r}")
    return ids.to_numpy(dtype=object)


def _text_columns(df: pd.DataFrame, out: dict) -> None:
    for col in TEXT_FIELDS:
        if col in df.columns:
            fill = DEFAULT_SECTOR if col == "sector" else ""
            out[col] = df[col].where(df[col].notna(), fill).astype(str).str.strip().to_numpy(
                dtype=object)
        elif col == "sector":
            out[col] = np.full(len(df), DEFAULT_SECTOR, dtype=object)
    if "sector" in out:
        out["sector"] = np.where(out["sector"] == "", DEFAULT_SECTOR, out["sector"])


def _start(df, kind: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Common checks: a DataFrame, known columns, required columns, valid ids."""
    if not isinstance(df, pd.DataFrame):
        raise InventoryError(f"{kind} sources must be a pandas DataFrame, got {type(df).__name__}",
                             where=f"{kind} sources")
    df = df.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    if df.columns.duplicated().any():
        col = df.columns[df.columns.duplicated()][0]
        raise InventoryError(f"column {col!r} appears twice", field=col, where=f"{kind} sources")
    where = _where(kind, df["id"] if "id" in df.columns else [])
    reject_unknown_fields(df.columns, _ALLOWED[kind], where)
    require_fields(df.columns, POINT_FIELDS if kind == "point" else ("id",), where)
    pollutants = [p for p in POLLUTANTS if p in df.columns]
    if not pollutants:
        raise MissingFieldError(f"no emission column; expected one or more of {list(POLLUTANTS)}",
                                field="emissions", where=where)
    return df, _ids(df, kind), pollutants


def _emissions(df, ids, pollutants, units, kind, out) -> None:
    label = _LABEL[kind]
    factor = _rate_factor(units, pollutants, label, ids)
    for p in pollutants:  # loop over ≤ 7 columns; each check covers all sources
        values = _numeric(df, p, ids, label, units)
        check_nonnegative(values, p, ids=ids, kind=label, units=units)
        out[p] = values * factor


def _clean_points(df, units: str = "g/s") -> pd.DataFrame:
    """Validate a point-source table and return it in the internal layout (g/s)."""
    df, ids, pollutants = _start(df, "point")
    label = _LABEL["point"]
    out = {"id": ids}
    for col in ("x", "y"):
        out[col] = _numeric(df, col, ids, label, "m")
    for col, (lo, hi, lo_inc, u) in STACK_LIMITS.items():
        v = _numeric(df, col, ids, label, u)
        if col == "exit_temperature":
            cold = v < KELVIN_THRESHOLD
            if cold.any():
                i = int(np.flatnonzero(cold)[0])
                raise UnitError(f"exit_temperature={v[i]} K is impossible (< {KELVIN_THRESHOLD} "
                                f"K); was it given in °C? Give Kelvin: {v[i]} °C = "
                                f"{v[i] + 273.15} K",
                                field=col, where=f"{label} {ids[i]!r}")
        check_range(v, col, lo, hi, ids=ids, kind=label, units=u, lo_inclusive=lo_inc)
        out[col] = v
    _text_columns(df, out)
    _emissions(df, ids, pollutants, units, "point", out)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Polygons
# ---------------------------------------------------------------------------------------------
_WKT = re.compile(r"^\s*POLYGON\s*\(\s*\((?P<ring>[^()]*)\)\s*(?P<rest>.*)\)\s*$", re.IGNORECASE)


def parse_polygon(value, *, where: str = "polygon") -> np.ndarray:
    """A polygon as a read-only (n, 2) float array of its outer-ring vertices [m].

    Accepts a sequence/array of (x, y) pairs or a WKT ``POLYGON ((x y, x y, ...))`` string (outer
    ring only; holes are refused). A repeated closing vertex is dropped.
    """
    if isinstance(value, str):
        m = _WKT.match(value)
        if not m:
            raise InvalidValueError(f"polygon={value[:60]!r} is not a WKT POLYGON ((x y, ...))",
                                    field="polygon", where=where)
        if m["rest"].strip():
            raise InvalidValueError("polygons with holes are not supported", field="polygon",
                                    where=where)
        try:
            verts = np.array([[float(c) for c in pair.split()[:2]]
                              for pair in m["ring"].split(",")], dtype=float)
        except ValueError:
            raise InvalidValueError(f"polygon={value[:60]!r} has a non-numeric coordinate",
                                    field="polygon", where=where) from None
    else:
        try:
            verts = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise InvalidValueError(f"polygon={value!r} is not a list of (x, y) vertices",
                                    field="polygon", where=where) from None
    if verts.ndim != 2 or verts.shape[1] != 2:
        raise InvalidValueError(f"polygon must be (n, 2) vertices, got shape {verts.shape}",
                                field="polygon", where=where)
    if len(verts) > 1 and np.array_equal(verts[0], verts[-1]):
        verts = verts[:-1]
    if len(verts) < 3 or not np.isfinite(verts).all():
        raise InvalidValueError(f"polygon needs >= 3 finite vertices, got {verts.tolist()}",
                                field="polygon", where=where)
    if abs(polygon_area_centroid(verts)[0]) == 0:
        raise InvalidValueError("polygon has zero area", field="polygon", where=where)
    verts.setflags(write=False)
    return verts


def polygon_area_centroid(verts: np.ndarray) -> tuple[float, float, float]:
    """Area [m²] and centroid (x, y) [m] of a simple polygon by the shoelace formula.

    A = ½ Σ (x_i y_{i+1} − x_{i+1} y_i),
    C_x = Σ (x_i + x_{i+1})(x_i y_{i+1} − x_{i+1} y_i) / 6A   (C_y likewise)
    (Bourke 1988, "Calculating the area and centroid of a polygon"; any orientation). Computed
    relative to the first vertex to limit round-off with large projected coordinates.
    """
    x0, y0 = verts[0]
    x, y = verts[:, 0] - x0, verts[:, 1] - y0
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    a = 0.5 * cross.sum()
    if a == 0:
        return 0.0, float(x0), float(y0)
    cx = ((x + xn) * cross).sum() / (6 * a)
    cy = ((y + yn) * cross).sum() / (6 * a)
    return abs(float(a)), float(cx + x0), float(cy + y0)


def polygon_to_wkt(verts: np.ndarray) -> str:
    """WKT ``POLYGON ((...))`` of an (n, 2) vertex array (ring closed, full float precision)."""
    ring = np.vstack([verts, verts[:1]])
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring.tolist()) + "))"


def _clean_areas(df, units: str = "g/s") -> pd.DataFrame:
    """Validate an area-source table and return it in the internal layout (g/s)."""
    df, ids, pollutants = _start(df, "area")
    label = _LABEL["area"]
    where = _where("area", ids)
    n = len(df)
    if "polygon" in df.columns:
        is_poly = df["polygon"].map(_has_polygon).to_numpy(dtype=bool)
    else:
        is_poly = np.zeros(n, bool)
    rect = ~is_poly
    if rect.any():
        require_fields(df.columns, AREA_RECTANGLE_FIELDS, where + " (rectangle areas)")
    geo = {c: np.full(n, np.nan) for c in AREA_RECTANGLE_FIELDS}
    for col in AREA_RECTANGLE_FIELDS:
        if col in df.columns:  # x, y are optional for polygons (NaN → centroid)
            geo[col] = _to_number(df, col, ids, label)
            check_finite(geo[col][rect], col, ids=ids[rect], kind=label, units="m")
    for col in ("width", "height"):
        check_range(geo[col][rect], col, 0.0, None, ids=ids[rect], kind=label, units="m",
                    lo_inclusive=False)
    polygons = np.full(n, None, dtype=object)
    if is_poly.any():
        # Parsing text/vertex lists is per record by nature (I/O, not a hot path); the element-wise
        # assignment keeps equal-sized vertex arrays from being stacked into one 3-D array.
        for i in np.flatnonzero(is_poly):
            polygons[i] = parse_polygon(df.at[i, "polygon"], where=f"{label} {ids[i]!r}")
        stats = np.array([polygon_area_centroid(p) for p in polygons[is_poly]])
        lo = np.array([p.min(axis=0) for p in polygons[is_poly]])
        hi = np.array([p.max(axis=0) for p in polygons[is_poly]])
        for col, centroid in (("x", stats[:, 1]), ("y", stats[:, 2])):
            v = geo[col][is_poly]
            geo[col][is_poly] = np.where(np.isfinite(v), v, centroid)
        geo["width"][is_poly], geo["height"][is_poly] = (hi - lo).T
    out = {"id": ids, **geo}
    if is_poly.any():
        out["polygon"] = polygons
    if "release_height" in df.columns:
        h = _numeric(df, "release_height", ids, label, "m")
        check_range(h, "release_height", *RELEASE_HEIGHT_LIMITS, ids=ids, kind=label, units="m")
    else:
        h = np.zeros(n)
    out["release_height"] = h
    _text_columns(df, out)
    _emissions(df, ids, pollutants, units, "area", out)
    return pd.DataFrame(out)


def _has_polygon(value) -> bool:
    """True unless ``value`` is None, NaN or a blank string (= a rectangle area)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return not (np.isscalar(value) and pd.isna(value))


def _fill_pollutants(df: pd.DataFrame | None, pollutants: list[str]) -> pd.DataFrame | None:
    """Add the pollutants ``df`` lacks as zero columns, ordered as :data:`POLLUTANTS`."""
    if df is None:
        return None
    base = [c for c in df.columns if c not in POLLUTANTS]
    extra = {p: (df[p] if p in df.columns else 0.0) for p in pollutants}
    return pd.concat([df[base], pd.DataFrame(extra, index=df.index)], axis=1)


def _empty_table(kind: str, pollutants) -> pd.DataFrame:
    cols = (list(POINT_FIELDS) if kind == "point"
            else ["id", "x", "y", "width", "height", "release_height"]) + ["sector"]
    df = pd.DataFrame({c: pd.Series(dtype=object if c in ("id", "sector") else float)
                       for c in cols})
    return df.assign(**{p: pd.Series(dtype=float) for p in pollutants})


# ---------------------------------------------------------------------------------------------
# Inventory
# ---------------------------------------------------------------------------------------------
class Inventory:
    """An emission inventory of point and area sources with sector temporal profiles.

    Parameters
    ----------
    points : pandas.DataFrame or None
        Stacks: ``id, x, y`` [m, projected, CRS of the grid], ``stack_height`` [m] (0, 600],
        ``stack_diameter`` [m] (0, 30], ``exit_velocity`` [m/s] [0, 100], ``exit_temperature``
        [K] (200, 1800], optional ``sector`` (default ``"other"``) and other :data:`TEXT_FIELDS`,
        and one **g/s** annual-mean column per pollutant (any subset of :data:`POLLUTANTS`).
    areas : pandas.DataFrame or None
        Area sources: ``id`` and either a rectangle ``x, y`` (centre) [m], ``width, height`` (sides
        along x and y) [m], or ``polygon`` (vertex array or WKT string; ``x, y`` default to its
        centroid, ``width, height`` become its bounding box); optional ``release_height`` [m]
        (default 0), text fields, and g/s columns (total over the area).
    profiles : TemporalProfiles, optional
        Temporal profiles (default: :meth:`TemporalProfiles.default`).
    name : str
        A label used in messages and file metadata.
    units : str, keyword-only
        Unit of the emission columns given (default g/s); see :meth:`from_points`.

    Notes
    -----
    A pollutant is *inventoried* when at least one of the two tables has its column; the other
    table then emits none of it (a zero column is added). Pollutants absent from both tables are
    not inventoried (not zero) and are refused by :meth:`hourly` and the gridding functions.
    Inventories are immutable: the table accessors return copies and methods return new objects.
    """

    def __init__(self, points: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                 profiles: TemporalProfiles | None = None, name: str = "", *,
                 units: str = "g/s"):
        if points is None and areas is None:
            raise InventoryError("an inventory needs point or area sources (both are None)",
                                 where=f"inventory {name!r}")
        pts = None if points is None else _clean_points(points, units)
        ars = None if areas is None else _clean_areas(areas, units)
        if pts is not None and ars is not None:
            both = np.intersect1d(pts["id"].to_numpy(str), ars["id"].to_numpy(str))
            if both.size:
                raise InventoryError(f"id={both[0]!r} is used by a point and an area source",
                                     field="id", where=f"area source {both[0]!r}")
        present = set().union(*(set(t.columns) for t in (pts, ars) if t is not None))
        self._pollutants = tuple(p for p in POLLUTANTS if p in present)
        self._points = _fill_pollutants(pts, list(self._pollutants))
        self._areas = _fill_pollutants(ars, list(self._pollutants))
        if profiles is not None and not isinstance(profiles, TemporalProfiles):
            raise InventoryError(f"profiles must be TemporalProfiles, got "
                                 f"{type(profiles).__name__}", field="profiles",
                                 where=f"inventory {name!r}")
        self._profiles = profiles
        self.name = str(name)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_points(cls, df: pd.DataFrame, units: str = "g/s", *, profiles=None,
                    name: str = "") -> Inventory:
        """Point sources from a DataFrame whose emission columns are in ``units`` (e.g. "t/yr")."""
        return cls(points=df, profiles=profiles, name=name, units=units)

    @classmethod
    def from_areas(cls, df: pd.DataFrame, units: str = "g/s", *, profiles=None,
                   name: str = "") -> Inventory:
        """Area sources from a DataFrame whose emission columns are in ``units``."""
        return cls(areas=df, profiles=profiles, name=name, units=units)

    @classmethod
    def from_csv(cls, points: str | os.PathLike | None = None,
                 areas: str | os.PathLike | None = None, units: str = "g/s", *,
                 profiles: TemporalProfiles | None = None, name: str = "") -> Inventory:
        """Read point and/or area tables from CSV files (columns as in :class:`Inventory`).

        Emission columns are in ``units``, any mass-rate unit of :mod:`ecodss.units`; polygons are
        WKT strings in a ``polygon`` column.
        """
        tables = {k: None if p is None else _read_csv(p) for k, p in
                  (("points", points), ("areas", areas))}
        if all(t is None for t in tables.values()):
            raise InventoryError("from_csv needs points= and/or areas= file paths",
                                 where="Inventory.from_csv")
        return cls(tables["points"], tables["areas"], profiles=profiles, units=units, name=name)

    @classmethod
    def from_netcdf(cls, path: str | os.PathLike) -> Inventory:
        """Read an inventory written by :meth:`to_netcdf`."""
        try:
            with xr.open_dataset(path, engine="netcdf4") as ds:
                ds = ds.load()
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path}: cannot read inventory NetCDF: {exc}") from None
        tables = {k: _table_from_dataset(ds, k) for k in KINDS}
        profiles = None
        if "temporal_profiles" in ds.attrs:
            import yaml

            doc = yaml.safe_load(ds.attrs["temporal_profiles"])
            profiles = TemporalProfiles(doc["sectors"], doc.get("aliases"))
        return cls(tables["point"], tables["area"], profiles=profiles,
                   name=ds.attrs.get("inventory_name", ""))

    # ------------------------------------------------------------------ accessors
    @property
    def points(self) -> pd.DataFrame:
        """Point sources (a copy); empty table with the right columns if there are none."""
        if self._points is None:
            return _empty_table("point", self._pollutants)
        return self._points.copy(deep=False)

    @property
    def areas(self) -> pd.DataFrame:
        """Area sources (a copy); ``polygon`` holds (n, 2) vertex arrays for polygon areas."""
        if self._areas is None:
            return _empty_table("area", self._pollutants)
        return self._areas.copy(deep=False)

    @property
    def pollutants(self) -> tuple[str, ...]:
        """Inventoried pollutants, in :data:`POLLUTANTS` order."""
        return self._pollutants

    @property
    def profiles(self) -> TemporalProfiles:
        return self._profiles if self._profiles is not None else TemporalProfiles.default()

    @property
    def sectors(self) -> list[str]:
        """Sorted sector names used by the sources."""
        return sorted(set(self._table("all")["sector"]))

    @property
    def unprofiled_sectors(self) -> list[str]:
        """Sectors without a temporal profile (they use the flat ``"other"`` profile)."""
        return self.profiles.resolve(self.sectors)[1]

    @property
    def n_points(self) -> int:
        return 0 if self._points is None else len(self._points)

    @property
    def n_areas(self) -> int:
        return 0 if self._areas is None else len(self._areas)

    def __len__(self) -> int:
        return self.n_points + self.n_areas

    def __repr__(self) -> str:
        return (f"Inventory({self.name!r}: {self.n_points} point, {self.n_areas} area sources; "
                f"pollutants {list(self._pollutants)})")

    def _table(self, kind: str) -> pd.DataFrame:
        """Sources of ``kind`` ("point", "area" or "all"), with a ``kind`` column for "all"."""
        if kind in KINDS:
            return self.points if kind == "point" else self.areas
        if kind != "all":
            raise InventoryError(f"kind={kind!r} must be 'point', 'area' or 'all'", field="kind",
                                 where=f"inventory {self.name!r}")
        text = ["sector"] + [c for c in TEXT_FIELDS if c != "sector" and any(
            df is not None and c in df.columns for df in (self._points, self._areas))]
        common = ["id", "x", "y", *text, *self._pollutants]
        parts = [self._table(k).reindex(columns=common).assign(kind=k) for k in KINDS]
        out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        out[text] = out[text].fillna("")
        return out

    def check_pollutant(self, pollutant: str) -> str:
        """Return ``pollutant`` if inventoried, else raise (with a close-name hint)."""
        reject_unknown_fields([pollutant], POLLUTANTS, f"inventory {self.name!r}")
        if pollutant not in self._pollutants:
            raise MissingFieldError(f"pollutant {pollutant!r} is not inventoried; present: "
                                    f"{list(self._pollutants)}", field=pollutant,
                                    where=f"inventory {self.name!r}")
        return pollutant

    # ------------------------------------------------------------------ temporal
    def hourly_factors(self, times, kind: str = "point", utc_offset_hours: float = 8.0,
                       time_chunk: int | None = None) -> xr.DataArray:
        """Temporal factors (time, source) [1] for UTC ``times``; profiles apply in local time.

        ``utc_offset_hours`` is the sources' local time zone (China Standard Time = +8). The mean
        of the factors over a complete local calendar year is exactly 1 (see
        :mod:`ecodss.inventory.temporal`). With ``time_chunk`` the result is dask-backed, chunked
        along time.
        """
        table = self._table(kind)
        t_utc = _utc_times(times)
        local = t_utc + pd.Timedelta(hours=float(utc_offset_hours))
        sectors, inverse = np.unique(table["sector"].to_numpy(dtype=str), return_inverse=True)
        rows, unknown = self.profiles.resolve(sectors)  # logs sectors without a profile once
        resolved = [self.profiles.sectors[i] for i in rows]
        f = self.profiles.factors(local.to_numpy(), resolved)  # (T, unique sectors)
        if time_chunk is None:
            data = f[:, inverse]
        else:  # lazy: each time chunk expands its (time, sector) factors to (time, source)
            import dask.array as da

            f = da.from_array(f, chunks=(int(time_chunk), -1))
            data = f.map_blocks(lambda block: block[:, inverse], dtype=float,
                                chunks=(f.chunks[0], (len(inverse),)))
        coords = {"time": ("time", t_utc.to_numpy(), {"standard_name": "time",
                                                      "long_name": "time (UTC)"}),
                  "source": ("source", table["id"].to_numpy(dtype=object)),
                  "sector": ("source", table["sector"].to_numpy(dtype=object)),
                  "source_x": ("source", table["x"].to_numpy(float), {"units": "m"}),
                  "source_y": ("source", table["y"].to_numpy(float), {"units": "m"})}
        if kind == "all":
            coords["kind"] = ("source", table["kind"].to_numpy(dtype=object))
        attrs = {"units": "1", "long_name": "emission temporal factor",
                 "profiles_local_time": f"UTC{float(utc_offset_hours):+g} h",
                 "unprofiled_sectors": ", ".join(unknown)}
        return xr.DataArray(data, dims=("time", "source"), coords=coords, attrs=attrs)

    def hourly(self, times, pollutant: str, kind: str = "point", utc_offset_hours: float = 8.0,
               time_chunk: int | None = None) -> xr.DataArray:
        """Hourly emission rates (time, source) [g/s] for UTC ``times``.

        Rate = annual-mean rate × month × weekday × hour factor of the source's sector, evaluated
        in local time (UTC + ``utc_offset_hours``). Unknown sectors use the flat ``"other"``
        profile and are listed in ``attrs["unprofiled_sectors"]``.

        Parameters
        ----------
        times : array-like of datetime64 or DatetimeIndex
            Hours in UTC (naive times are taken as UTC; aware ones are converted).
        pollutant : str
            One of :attr:`pollutants`.
        kind : {"point", "area", "all"}
        utc_offset_hours : float
            Local time zone of the profiles [h] (+8 for China Standard Time).
        time_chunk : int, optional
            Return a dask-backed array with this many times per chunk.
        """
        self.check_pollutant(pollutant)
        fac = self.hourly_factors(times, kind, utc_offset_hours, time_chunk)
        rate = self._table(kind)[pollutant].to_numpy(dtype=float)
        out = fac * xr.DataArray(rate, dims="source")
        out.name = pollutant
        out.attrs = {**fac.attrs, "units": "g s-1", "long_name": f"{pollutant} emission rate",
                     "cell_methods": "time: mean", "pollutant": pollutant}
        return out

    # ------------------------------------------------------------------ geometry
    def area_rectangles(self, resolution: float | None = None) -> pd.DataFrame:
        """Area sources as rectangles with emission shares, for numerical integration.

        Rectangle areas are returned as they are (``share`` = 1). Each polygon is rasterized on a
        sub-grid of square cells of ``resolution`` [m] aligned with its bounding box; the cells
        whose centre lies inside the polygon (``matplotlib.path.Path.contains_points``) each get
        an equal share of the source. A polygon smaller than one sub-cell becomes its bounding box.

        Parameters
        ----------
        resolution : float, optional
            Sub-cell size [m]; default 1/50 of each polygon's larger bounding-box side.

        Returns
        -------
        pandas.DataFrame
            ``id`` (the parent source), ``x, y, width, height`` [m], ``release_height``,
            ``sector``, ``share`` [1] (sums to 1 per source) and the pollutant columns [g/s]
            already multiplied by ``share``.
        """
        areas = self.areas
        cols = ["id", "x", "y", "width", "height", "release_height", "sector"]
        if resolution is not None:
            check_range([resolution], "resolution", 0.0, None, kind="area_rectangles",
                        units="m", lo_inclusive=False)
        if "polygon" not in areas.columns or not len(areas):
            return areas[cols + list(self._pollutants)].assign(share=1.0)
        is_poly = areas["polygon"].map(lambda v: isinstance(v, np.ndarray)).to_numpy(bool)
        src = [np.flatnonzero(~is_poly)]
        geo = [areas.loc[~is_poly, ["x", "y", "width", "height"]].to_numpy(float)]
        share = [np.ones((~is_poly).sum())]
        # One point-in-polygon test per polygon, vectorized over its sub-grid.
        for i in np.flatnonzero(is_poly):
            g, s = _rasterize_polygon(areas.at[i, "polygon"], resolution, areas.at[i, "id"])
            src.append(np.full(len(s), i))
            geo.append(g)
            share.append(s)
        src, geo, share = np.concatenate(src), np.vstack(geo), np.concatenate(share)
        order = np.argsort(src, kind="stable")
        src, geo, share = src[order], geo[order], share[order]
        out = areas.iloc[src][cols].reset_index(drop=True)
        out[["x", "y", "width", "height"]] = geo
        out["share"] = share
        rates = areas[list(self._pollutants)].to_numpy(float)[src] * share[:, None]
        return pd.concat([out, pd.DataFrame(rates, columns=list(self._pollutants))], axis=1)

    # ------------------------------------------------------------------ set operations
    def combine(self, other: Inventory, name: str | None = None) -> Inventory:
        """Sources of both inventories (ids must not clash); profiles of ``self``.

        A pollutant inventoried by only one of them is zero for the sources of the other.
        """
        if not isinstance(other, Inventory):
            raise InventoryError(f"can only combine with an Inventory, got {type(other).__name__}",
                                 where=f"inventory {self.name!r}")

        pollutants = [p for p in POLLUTANTS if p in self._pollutants + other._pollutants]

        def cat(a, b):
            parts = [_fill_pollutants(t, pollutants) for t in (a, b) if t is not None]
            return pd.concat(parts, ignore_index=True) if parts else None

        return Inventory(cat(self._points, other._points), cat(self._areas, other._areas),
                         profiles=self._profiles if self._profiles is not None
                         else other._profiles,
                         name=name if name is not None else f"{self.name}+{other.name}")

    def select(self, *, kind: str = "all", pollutants: Iterable[str] | None = None,
               ids: Iterable[str] | None = None, **criteria) -> Inventory:
        """Subset by source kind, ids and text fields, e.g. ``select(sector="power")``.

        Each criterion is a value or a list of accepted values of a :data:`TEXT_FIELDS` column
        (``sector``, ``city``, ``enterprise``, ``grade``, ``name``). ``pollutants`` keeps only
        those emission columns. Raises :class:`InventoryError` if nothing matches.
        """
        reject_unknown_fields(criteria, TEXT_FIELDS, f"inventory {self.name!r} select()")
        if kind not in (*KINDS, "all"):
            raise InventoryError(f"kind={kind!r} must be 'point', 'area' or 'all'", field="kind",
                                 where=f"inventory {self.name!r}")
        keep_pol = list(self._pollutants)
        if pollutants is not None:
            keep_pol = [self.check_pollutant(p) for p in
                        ([pollutants] if isinstance(pollutants, str) else pollutants)]

        def subset(df: pd.DataFrame | None, k: str):
            if df is None or kind not in (k, "all"):
                return None
            mask = np.ones(len(df), bool)
            for field, wanted in {**criteria, **({"id": ids} if ids is not None else {})}.items():
                wanted = [wanted] if isinstance(wanted, str) else list(wanted)
                col = df[field] if field in df.columns else pd.Series("", index=df.index)
                mask &= col.astype(str).isin([str(w) for w in wanted]).to_numpy()
            if not mask.any():
                return None
            return df.loc[mask, [c for c in df.columns if c not in POLLUTANTS] + keep_pol]

        pts, ars = subset(self._points, "point"), subset(self._areas, "area")
        if pts is None and ars is None:
            raise InventoryError(f"no source matches kind={kind!r}, ids={ids!r}, {criteria}",
                                 where=f"inventory {self.name!r}")
        return Inventory(pts, ars, profiles=self._profiles, name=self.name)

    def scale(self, factors, by: str = "sector") -> Inventory:
        """Scaled copy of the inventory, e.g. for an emission-control scenario.

        Parameters
        ----------
        factors : float or mapping
            A number scales everything. Mapping keys may be a pollutant (``{"SO2": 0.5}``), a
            value of the ``by`` column (``{"power": 0.7}``), a ``(value, pollutant)`` tuple, or a
            value mapped to ``{pollutant: factor}``. Factors multiply. Unknown keys are refused.
        by : str
            Column matched by non-pollutant keys: ``"sector"`` (default), ``"id"``, ``"city"``,
            ``"enterprise"``, ``"grade"`` or ``"name"``.
        """
        reject_unknown_fields([by], ("id",) + TEXT_FIELDS, f"inventory {self.name!r} scale(by=)")
        table = self._table("all")
        known = set(table[by].astype(str)) if by in table.columns else set()
        if by == "sector":  # a profiled sector without sources here is a harmless no-op
            known |= set(self.profiles.sectors)
        pol_f = dict.fromkeys(self._pollutants, 1.0)
        grp_f: dict[tuple[str, str], float] = {}  # (group value, pollutant) → factor
        scalar = 1.0
        if isinstance(factors, Mapping):
            flat = []
            for key, val in factors.items():
                if isinstance(val, Mapping):
                    flat += [((key, p), v) for p, v in val.items()]
                else:
                    flat.append((key, val))
        else:
            flat = [(None, factors)]
        where = f"inventory {self.name!r} scale()"
        for key, val in flat:
            try:
                val = float(val)
            except (TypeError, ValueError):
                raise InvalidValueError(f"factor {val!r} for {key!r} is not a number",
                                        field=str(key), where=where) from None
            check_nonnegative([val], f"factor[{key!r}]", kind=where)
            if key is None:
                scalar *= val
                continue
            group, pol = key if isinstance(key, tuple) else (key, None)
            if group in POLLUTANTS and pol is None:
                if group in pol_f:
                    pol_f[group] *= val
                continue
            reject_unknown_fields([str(group)], sorted(known) + list(POLLUTANTS), where)
            if pol is not None:
                reject_unknown_fields([pol], POLLUTANTS, where)
            for p in ([pol] if pol is not None else self._pollutants):
                grp_f[(str(group), p)] = grp_f.get((str(group), p), 1.0) * val

        def apply(df: pd.DataFrame | None):
            if df is None:
                return None
            df = df.copy()
            keys = df[by].astype(str) if by in df.columns else pd.Series("", index=df.index)
            for p in self._pollutants:  # ≤ 7 columns; each a vectorized map over sources
                per = {g: f for (g, q), f in grp_f.items() if q == p}
                f = keys.map(per).fillna(1.0).to_numpy(float) if per else 1.0
                df[p] = df[p].to_numpy(float) * f * pol_f[p] * scalar
            return df

        return Inventory(apply(self._points), apply(self._areas), profiles=self._profiles,
                         name=self.name)

    def totals(self, by: str | None = "sector", units: str = "t/yr") -> pd.DataFrame:
        """Annual totals per group (rows) and pollutant (columns) in ``units``.

        ``by`` is ``"sector"``, ``"kind"``, ``"id"``, another text column, or None for the total.
        """
        if by is not None:
            reject_unknown_fields([by], ("id", "kind") + TEXT_FIELDS,
                                  f"inventory {self.name!r} totals(by=)")
        table = self._table("all")
        if by is not None and by not in table.columns:
            table[by] = ""
        rates = table[list(self._pollutants)]
        factor = 1.0 / rate_to_gps(1.0, units, field="totals")
        if by is None:
            out = rates.sum().to_frame("total").T * factor
        else:
            out = rates.groupby(table[by].fillna("").astype(str)).sum() * factor
        out.attrs["units"] = units
        return out

    # ------------------------------------------------------------------ output
    def to_csv(self, folder: str | os.PathLike, units: str = "g/s") -> dict[str, Path]:
        """Write ``points.csv`` and/or ``areas.csv`` (atomically) with emissions in ``units``.

        Polygons are written as WKT. Returns ``{"points": path, "areas": path}`` for the tables
        present; read them back with ``Inventory.from_csv(..., units=units)``.
        """
        from ..io.netcdf import atomic_write_text

        factor = 1.0 / rate_to_gps(1.0, units, field="to_csv")
        folder = Path(folder)
        paths = {}
        for key, df in (("points", self._points), ("areas", self._areas)):
            if df is None:
                continue
            df = df.copy()
            df[list(self._pollutants)] = df[list(self._pollutants)].to_numpy(float) * factor
            if "polygon" in df.columns:
                df["polygon"] = [polygon_to_wkt(p) if isinstance(p, np.ndarray) else ""
                                 for p in df["polygon"]]
            paths[key] = atomic_write_text(folder / f"{key}.csv", df.to_csv(index=False))
        return paths

    def to_dataset(self) -> xr.Dataset:
        """The inventory as a CF-annotated :class:`xarray.Dataset` (see :meth:`to_netcdf`)."""
        ds = xr.Dataset(attrs={"title": f"ecodss emission inventory {self.name}".strip(),
                               "inventory_name": self.name,
                               "source_kinds": " ".join(
                                   k for k in KINDS if getattr(self, f"n_{k}s"))})
        for kind in KINDS:
            df = self._points if kind == "point" else self._areas
            if df is not None:
                ds = ds.merge(_table_to_dataset(df, kind, self._pollutants))
        if self._profiles is not None:
            import yaml

            ds.attrs["temporal_profiles"] = yaml.safe_dump(
                {"sectors": self._profiles.to_dict(), "aliases": self._profiles._aliases})
        return ds

    def to_netcdf(self, path: str | os.PathLike) -> Path:
        """Write CF NetCDF-4 atomically: dims ``point``/``area`` (one per kind present).

        Emissions are ``point_emission(point, pollutant)`` and ``area_emission(area, pollutant)``
        [g s-1, annual mean]; polygons use the CF contiguous ragged geometry encoding (CF 1.10
        §7.5: ``area_node_count``, ``area_node_x``, ``area_node_y``; 0 nodes for rectangles).
        """
        from ..io.netcdf import write_netcdf

        return write_netcdf(self.to_dataset(), path)


# ---------------------------------------------------------------------------------------------
# helpers: time, CSV, NetCDF, polygon rasterization
# ---------------------------------------------------------------------------------------------
def _utc_times(times) -> pd.DatetimeIndex:
    """Times as a naive UTC DatetimeIndex (aware times are converted)."""
    if isinstance(times, xr.DataArray):
        times = times.values
    try:
        t = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(np.asarray(times)))
                             if not isinstance(times, pd.DatetimeIndex) else times)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"times are not datetimes: {exc}", field="times",
                                where="hourly emissions") from None
    if t.tz is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    if t.isna().any():
        raise InvalidValueError("times contain NaT", field="times", where="hourly emissions")
    return t.as_unit("ns")


def _read_csv(path) -> pd.DataFrame:
    text_dtypes = dict.fromkeys(("id", "polygon") + TEXT_FIELDS, str)
    try:
        return pd.read_csv(path, dtype=text_dtypes, skipinitialspace=True)
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such inventory file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot parse inventory CSV: {exc}") from None


_CF = {
    "x": {"units": "m", "standard_name": "projection_x_coordinate"},
    "y": {"units": "m", "standard_name": "projection_y_coordinate"},
    "stack_height": {"units": "m", "long_name": "stack height above ground"},
    "stack_diameter": {"units": "m", "long_name": "stack inner diameter at the top"},
    "exit_velocity": {"units": "m s-1", "long_name": "stack gas exit velocity"},
    "exit_temperature": {"units": "K", "long_name": "stack gas exit temperature"},
    "width": {"units": "m", "long_name": "area source extent along x"},
    "height": {"units": "m", "long_name": "area source extent along y"},
    "release_height": {"units": "m", "long_name": "area source release height"},
}


def _table_to_dataset(df: pd.DataFrame, kind: str, pollutants) -> xr.Dataset:
    dim = kind
    data = {}
    for col in df.columns:
        if col in ("id", "polygon") or col in POLLUTANTS:
            continue
        values = df[col].to_numpy(dtype=object if col in TEXT_FIELDS else float)
        data[f"{kind}_{col}"] = (dim, values, _CF.get(col, {"long_name": col}))
    data[f"{kind}_emission"] = ((dim, "pollutant"), df[list(pollutants)].to_numpy(float),
                                {"units": "g s-1", "long_name": f"{kind} source emission rate",
                                 "cell_methods": "time: mean (annual)"})
    if kind == "area" and "polygon" in df.columns:
        data[f"{kind}_emission"][2]["geometry"] = "area_geometry"
    coords = {dim: (dim, df["id"].to_numpy(dtype=object), {"long_name": f"{kind} source id"}),
              "pollutant": ("pollutant", np.array(pollutants, dtype=object))}
    if kind == "area" and "polygon" in df.columns:
        polys = [p if isinstance(p, np.ndarray) else np.empty((0, 2)) for p in df["polygon"]]
        nodes = np.vstack(polys)
        data["area_node_count"] = (dim, np.array([len(p) for p in polys], np.int32),
                                   {"units": "1", "long_name": "polygon vertices per area"})
        data["area_node_x"] = ("area_node", nodes[:, 0], {"units": "m", "axis": "X"})
        data["area_node_y"] = ("area_node", nodes[:, 1], {"units": "m", "axis": "Y"})
        data["area_geometry"] = ((), np.int32(0), {
            "geometry_type": "polygon", "node_count": "area_node_count",
            "node_coordinates": "area_node_x area_node_y"})
    return xr.Dataset(data, coords=coords)


def _table_from_dataset(ds: xr.Dataset, kind: str) -> pd.DataFrame | None:
    if kind not in ds.dims:
        return None
    out = {"id": ds[kind].values.astype(str)}
    prefix = f"{kind}_"
    for name, var in ds.data_vars.items():
        if name.startswith(prefix) and var.dims == (kind,) and name != "area_node_count":
            out[name[len(prefix):]] = var.values
    emis = ds[f"{kind}_emission"]
    for p in ds["pollutant"].values.astype(str):
        out[p] = emis.sel(pollutant=p).values
    if kind == "area" and "area_node_count" in ds:
        counts = ds["area_node_count"].values.astype(int)
        xy = np.column_stack([ds["area_node_x"].values, ds["area_node_y"].values])
        splits = np.split(xy, np.cumsum(counts)[:-1])
        out["polygon"] = pd.Series([s if len(s) else None for s in splits], dtype=object)
    return pd.DataFrame(out)


def _rasterize_polygon(verts: np.ndarray, resolution: float | None, sid) -> tuple:
    """Sub-rectangles (n, 4: x, y, w, h) and equal shares of one polygon (see area_rectangles)."""
    from matplotlib.path import Path as MplPath

    lo, hi = verts.min(axis=0), verts.max(axis=0)
    size = hi - lo
    r = float(resolution) if resolution is not None else float(size.max()) / 50.0
    n = np.maximum(np.ceil(size / r - 1e-9).astype(int), 1)
    if n[0] * n[1] > MAX_SUBCELLS:
        raise InvalidValueError(f"resolution={r} m rasterizes the polygon into {n[0] * n[1]} "
                                f"sub-cells (> {MAX_SUBCELLS}); use a coarser resolution",
                                field="resolution", where=f"area source {sid!r}")
    cx = lo[0] + (np.arange(n[0]) + 0.5) * r
    cy = lo[1] + (np.arange(n[1]) + 0.5) * r
    xx, yy = np.meshgrid(cx, cy)
    centres = np.column_stack([xx.ravel(), yy.ravel()])
    inside = MplPath(verts).contains_points(centres)
    if not inside.any():  # polygon thinner than a sub-cell: keep its bounding box
        return np.array([[*(lo + hi) / 2, *np.maximum(size, 1e-9)]]), np.ones(1)
    c = centres[inside]
    geo = np.column_stack([c, np.full((len(c), 2), r)])
    return geo, np.full(len(c), 1.0 / len(c))
