"""A finished job's results in every representation the API offers.

The source is the batch's combined NetCDF (``member``, ``city``, ``date`` …) written by
:mod:`ecodss.batch.products`, whose members are recorded with checksums in the run store:

* JSON ``{meta, results}`` — member parameters and each member's daily city values;
* GeoJSON (RFC 7946, WGS84 lon/lat) — one Point feature per city (and per station when the
  workflow gives station values) with the selected member's daily values;
* NetCDF — the combined file's bytes;
* PNG — a map: the gridded daily PM2.5 field when the workflow gives one, else the cities
  coloured by their AQI category (HJ 633-2012 Table 2 colours).

City coordinates come from the bundled gazetteers (the regional sample's ``cities.csv``, the city
sample's ``stations.csv`` and ``domain.yaml``) or the job's uploaded ``locations``.
"""

from __future__ import annotations

import io
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..config import REPO_ROOT

#: Daily per-city variables reported in JSON and GeoJSON (when present).
CITY_VARIABLES = ("aqi", "alert_level", "pm25_daily", "pm10_daily", "so2_daily", "no2_daily",
                  "co_daily", "o3_8h_daily")
LEVEL_NAMES = ("none", "yellow", "orange", "red")


def _clean(values) -> list:
    """JSON-safe list: NaN -> None, numpy scalars -> Python."""
    out = []
    for v in np.asarray(values).tolist():
        out.append(None if isinstance(v, float) and not math.isfinite(v) else v)
    return out


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, dict]:
    """City and station name -> {id, name, lon, lat, kind} from the bundled samples."""
    places: dict[str, dict] = {}
    samples = REPO_ROOT / "data" / "samples"
    regional = samples / "regional" / "cities.csv"
    if regional.is_file():
        for row in pd.read_csv(regional).itertuples():
            entry = {"id": row.id, "name": row.name, "lon": float(row.lon), "lat": float(row.lat),
                     "kind": "city"}
            places[row.name] = entry
    stations = samples / "stations.csv"
    if stations.is_file():
        for row in pd.read_csv(stations).itertuples():
            places[str(row.id)] = {"id": str(row.id), "name": str(row.name),
                                   "lon": float(row.lon), "lat": float(row.lat),
                                   "kind": "station"}
    return places


def place(name: str, extra: dict | None = None) -> dict | None:
    """Coordinates of a city/station by name or id (uploaded ``extra`` locations first)."""
    if extra and name in extra:
        lon, lat = extra[name]
        return {"id": name, "name": name, "lon": float(lon), "lat": float(lat), "kind": "city"}
    places = gazetteer()
    if name in places:
        return places[name]
    return next((p for p in places.values() if p["id"] == name), None)


def open_combined(path: str | Path) -> xr.Dataset:
    """The combined results, loaded (the file is closed again)."""
    with xr.open_dataset(path) as ds:
        return ds.load()


def _member_index(ds: xr.Dataset, member: str | None) -> int:
    labels = [str(m) for m in ds["member"].values]
    if member is None:
        return 0
    if member not in labels:
        from .problems import Problem

        raise Problem(404, f"no member {member!r}; members: {labels[:20]}")
    return labels.index(member)


def city_values(ds: xr.Dataset, member: int) -> list[dict]:
    """Daily values of every city for one member."""
    sub = ds.isel(member=member)
    dates = [str(d)[:10] for d in sub["date"].values]
    rows = []
    for i, city in enumerate(sub["city"].values):  # output formatting, one entry per city
        row = {"city": str(city), "member": str(sub["member"].values), "dates": dates}
        for var in CITY_VARIABLES:
            if var in sub and set(sub[var].dims) == {"city", "date"}:
                row[var] = _clean(sub[var].isel(city=i).transpose("date").values)
        rows.append(row)
    return rows


def json_document(meta: dict, ds: xr.Dataset, members: pd.DataFrame) -> dict:
    """The ``{meta, results}`` envelope of a job."""
    units = {v: ds[v].attrs.get("units") for v in CITY_VARIABLES if v in ds}
    member_rows = []
    for row in members.itertuples():
        member_rows.append({"label": row.label, "parameters": json.loads(row.params),
                            "status": row.status, "sha256": row.sha256,
                            "seconds": None if pd.isna(row.seconds) else float(row.seconds)})
    cities = [c for m in range(ds.sizes["member"]) for c in city_values(ds, m)]
    results = {"members": member_rows, "cities": cities}
    if "alert_level" in ds and ds.sizes["member"] > 1:
        level = ds["alert_level"]
        prob = {LEVEL_NAMES[k]: (level >= k).mean("member") for k in (1, 2, 3)}
        results["alert_probability"] = [
            {"city": str(c), "dates": [str(d)[:10] for d in ds["date"].values],
             **{k: _clean(v.sel(city=c).values) for k, v in prob.items()}}
            for c in ds["city"].values]
    return {"meta": {**meta, "units": units, "variables": sorted(map(str, ds.data_vars)),
                     "dims": {k: int(v) for k, v in ds.sizes.items()}},
            "results": results}


def geojson_document(meta: dict, ds: xr.Dataset, member: str | None,
                     locations: dict | None = None) -> dict:
    """GeoJSON FeatureCollection (RFC 7946: WGS84 lon/lat) of city and station values."""
    m = _member_index(ds, member)
    features = []
    for row in city_values(ds, m):
        where = place(row["city"], locations)
        if where is None:
            continue
        features.append({"type": "Feature", "id": f"city:{row['city']}",
                         "geometry": {"type": "Point", "coordinates": [where["lon"], where["lat"]]},
                         "properties": {"kind": "city", "city_id": where["id"], **row}})
    if "pm25_station" in ds:
        sub = ds["pm25_station"].isel(member=m)
        mean = sub.mean("time")
        for st in sub["station"].values:
            where = place(str(st))
            if where is None:
                continue
            features.append({
                "type": "Feature", "id": f"station:{st}",
                "geometry": {"type": "Point", "coordinates": [where["lon"], where["lat"]]},
                "properties": {"kind": "station", "station": str(st), "name": where["name"],
                               "pm25_mean": _clean([float(mean.sel(station=st))])[0],
                               "units": "ug m-3"}})
    return {"type": "FeatureCollection", "features": features,
            "meta": {**meta, "member": str(ds["member"].values[m]), "crs": "WGS84 (lon, lat)"}}


def png_map(ds: xr.Dataset, member: str | None, date: str | None,
            locations: dict | None = None) -> bytes:
    """A PNG map of one member and day (the first of each by default)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..emergency.aqi import category, load_tables

    m = _member_index(ds, member)
    sub = ds.isel(member=m)
    dates = [str(d)[:10] for d in sub["date"].values]
    if date is not None and date not in dates:
        from .problems import Problem

        raise Problem(404, f"no date {date!r}; dates: {dates}")
    di = dates.index(date) if date else 0
    fig = Figure(figsize=(7, 5.5), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    title = f"{ds.attrs.get('title', 'ecodss')} — {sub['member'].values} — {dates[di]}"
    if "pm25_daily_map" in sub:
        field = sub["pm25_daily_map"].isel(date=di)
        mesh = ax.pcolormesh(field["x"].values / 1e3, field["y"].values / 1e3, field.values,
                             shading="auto", cmap="magma_r")
        fig.colorbar(mesh, ax=ax, label="daily PM2.5 [ug m-3]")
        ax.set_xlabel("x [km]")
        ax.set_ylabel("y [km]")
    else:
        cats = load_tables().categories
        colours = ["#BBBBBB"] + [c.colour for c in cats]
        for row in city_values(ds, m):
            where = place(row["city"], locations)
            aqi = row.get("aqi", [None] * len(dates))[di]
            if where is None:
                continue
            cat = int(category(np.nan if aqi is None else aqi))  # 0 = missing
            ax.scatter(where["lon"], where["lat"], s=160, c=colours[cat], edgecolors="k")
            ax.annotate(f"{row['city']} {'' if aqi is None else int(aqi)}",
                        (where["lon"], where["lat"]), xytext=(6, 6), textcoords="offset points",
                        fontsize=8)
        ax.set_xlabel("longitude [deg E]")
        ax.set_ylabel("latitude [deg N]")
        ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def city_summary(ds: xr.Dataset) -> dict:
    """Per city: the first member's daily forecast, AQI and alert decision (for /cities)."""
    from ..emergency import alert_level

    rows = {r["city"]: r for r in city_values(ds, 0)}
    if "aqi" in ds:
        try:
            decision = alert_level(ds["aqi"].isel(member=0).transpose("date", "city"),
                                   day_dim="date").to_dict()
            for entry in decision["cities"]:
                rows[str(entry["city"])]["decision"] = {
                    k: entry[k] for k in ("level", "level_name", "level_name_zh", "response",
                                          "alert_periods", "reduction_share")}
        except Exception as exc:  # noqa: BLE001 - incomplete days: no decision, say why
            for row in rows.values():
                row["decision"] = {"error": f"{type(exc).__name__}: {exc}"}
    return rows
