"""City forecast chain: hourly emissions → Gaussian plume → daily PM2.5/AQI → alert level →
least-cost emergency plan.

This is what ``ecodss demo --case city`` runs on the bundled sample city. Each step is a public
function of its own module; this runner only strings them together and writes the products
atomically. The station runs split the plume by stack (point sources) and by sector (area
sources) at no extra cost; these contributions are the source–receptor matrix of the plan and
give the with-plan forecast of every AQI pollutant (the plume is linear in the emissions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..air import Receptors, arm2_no2, gaussian_plume
from ..air.gridded import gridded_area_plume
from ..grid import Grid
from ..inventory import Inventory
from ..inventory.spatial import grid_emissions
from ..io.netcdf import atomic_write_text, write_netcdf
from ..met.dataset import met_from_dataframe
from ..timeutil import daily_mean
from . import _plan
from ._timing import StepTimer

#: Progress steps reported by :func:`run_city_forecast`, in order.
STEPS = ("inputs read and validated", "station forecasts", "AQI and alert level",
         "emergency plan", "stacks on the grid", "area sources on the grid", "gridded PM2.5",
         "with-plan PM2.5 on the grid", "products written")
#: Pollutants modelled at the stations for the AQI; NO2 comes from NOx by ARM2, O3 from background.
STATION_POLLUTANTS = ("PM2.5", "PM10", "SO2", "NOx", "CO")


@dataclass
class CityForecast:
    """Products of one run: gridded PM2.5, station/city concentrations, daily AQI, the decision."""

    grid_pm25: xr.Dataset
    stations: xr.Dataset
    daily_aqi: xr.Dataset
    city_daily_aqi: xr.Dataset
    decision: dict
    station_table: pd.DataFrame
    timings: dict = field(default_factory=dict)
    plan: object | None = None  # EmergencyPlan for the forecast alert


def _local_fields(inv, met, grid, urban, z_anem, area_subdivisions, chunks, step):
    """Hourly PM2.5 [µg/m³] on the grid: stacks directly, area cells by convolution."""
    rec = Receptors.from_grid(grid)
    total = 0.0
    if inv.n_points:
        total = gaussian_plume(inv.select(kind="point"), met, rec, pollutant="PM2.5",
                               urban=urban, anemometer_height=z_anem,
                               chunks=chunks)["concentration"]
    step("stacks on the grid")
    areas = inv.areas if inv.n_areas else pd.DataFrame({"release_height": []})
    for height in np.unique(areas["release_height"].to_numpy(float)):  # one run per height class
        ids = areas.loc[areas["release_height"] == height, "id"]
        emis = grid_emissions(inv.select(kind="area", ids=ids), grid, "PM2.5",
                              times=met["time"].values, kind="area", warn_outside=False)
        conc = gridded_area_plume(emis.chunk({"time": chunks.get("time", 24)}), met,
                                  release_height=float(height), urban=urban,
                                  anemometer_height=z_anem,
                                  area_subdivisions=area_subdivisions)["concentration"]
        total = total + conc.data
    step("area sources on the grid")
    return total


def station_contributions(inv, met, rec, pollutant, **plume_kwargs) -> xr.DataArray:
    """Hourly contributions (time, label, receptor) [µg/m³] of each stack and area sector.

    Labels are the point sources' ids and the area sources' sectors; they sum to the plume
    forecast of all sources (one run per kind, the same cost as one unsplit run).
    """
    parts = []
    if inv.n_points:
        parts.append(gaussian_plume(inv.select(kind="point"), met, rec, pollutant=pollutant,
                                    split_by="source", **plume_kwargs)["concentration"]
                     .rename(source="label"))
    if inv.n_areas:
        parts.append(gaussian_plume(inv.select(kind="area"), met, rec, pollutant=pollutant,
                                    split_by="sector", **plume_kwargs)["concentration"]
                     .rename(sector="label"))
    out = xr.concat(parts, dim="label") if len(parts) > 1 else parts[0]
    return out.assign_coords(label=out["label"].astype(str).values).transpose(
        "time", "label", "receptor")


def station_dataset(local: dict, bg: pd.DataFrame, times, st: pd.DataFrame) -> xr.Dataset:
    """Hourly station concentrations: local plume (``local[p]``, (time, station)) + background;
    NO2 from NOx by ARM2, CO in mg/m³, O3 the background."""
    coords = {"time": times, "station": st["id"].to_numpy(str)}

    def total(local_da, bg_col, scale=1.0):
        return xr.DataArray(np.asarray(local_da) * scale + bg[bg_col].to_numpy(float)[:, None],
                            dims=("time", "station"), coords=coords)

    stations = xr.Dataset({
        "PM2.5": total(local["PM2.5"], "PM2.5"), "PM10": total(local["PM10"], "PM10"),
        "SO2": total(local["SO2"], "SO2"),
        "NO2": xr.DataArray(arm2_no2(np.asarray(local["NOx"])), dims=("time", "station"),
                            coords=coords) + bg["NO2"].to_numpy(float)[:, None],
        "CO": total(local["CO"], "CO", scale=1e-3),  # µg/m³ → mg/m³
        "O3": xr.DataArray(np.broadcast_to(bg["O3"].to_numpy(float)[:, None],
                                           (len(times), len(st))), dims=("time", "station"),
                           coords=coords),
    })
    for name in stations.data_vars:
        stations[name].attrs = {"units": "mg m-3" if name == "CO" else "ug m-3",
                                "long_name": f"hourly {name} (local plume + regional background)"}
    return stations.assign_coords(city=("station", st["city"].to_numpy(str)))


def run_city_forecast(case, *, out_dir=None, model_parameters: dict | None = None,
                      chunks: dict | None = None, progress=None) -> CityForecast:
    """Run the chain on a :class:`ecodss.samples.SampleCase` and optionally write the products.

    ``model_parameters`` (from a model configuration, ``models/*.yaml``) may set ``urban``,
    ``anemometer_height`` and ``area_subdivisions`` of the Gaussian plume; otherwise the case's
    domain file decides. Writes ``forecast.nc`` (CF), ``decision.json`` and PNG maps into
    ``out_dir`` when given.
    """
    from ..emergency import alert_level, aqi

    step = StepTimer(progress)

    dom = case.domain
    chunks = chunks or {"time": 24, "y": 30, "x": 30}
    grid = Grid(**dom["grid"])
    params = dict(model_parameters or {})
    urban = bool(params.pop("urban", dom["urban"]))
    z_anem = float(params.pop("anemometer_height", dom.get("anemometer_height", 10.0)))
    area_subdivisions = int(params.pop("area_subdivisions", 3))
    inv = Inventory.from_points(case.points, units="t/yr").combine(
        Inventory.from_areas(case.areas, units="t/yr"))
    met = met_from_dataframe(case.met, units={"cloud_cover": "tenths"})
    times = met["time"].values
    step("inputs read and validated")

    # stations: every AQI pollutant, all sources, direct integration
    st = case.stations
    rec = Receptors(x=st["x"].to_numpy(float), y=st["y"].to_numpy(float), names=tuple(st["id"]))
    contrib = {p: station_contributions(inv, met, rec, p, urban=urban, anemometer_height=z_anem,
                                        area_subdivisions=area_subdivisions)
               for p in STATION_POLLUTANTS}  # two model runs per pollutant (stacks, areas)
    step("station forecasts")
    bg = case.background.set_index(pd.DatetimeIndex(case.background["time"]).tz_localize(None))
    bg = bg.reindex(pd.DatetimeIndex(times))
    stations = station_dataset({p: c.sum("label").values for p, c in contrib.items()}, bg,
                               times, st)

    daily = aqi_from_hourly(stations)
    station_aqi = aqi(daily, averaging="24h")
    city_daily = daily.drop_vars("city").mean("station")  # HJ 663: city = mean of stations
    city_aqi = aqi(city_daily, averaging="24h")
    # days with < 20 valid hours (the forecast's partial first/last CST day) carry no AQI
    complete = city_aqi["aqi"].where(np.isfinite(city_aqi["aqi"]), drop=True)
    alert = alert_level(complete)
    step("AQI and alert level")

    plan_result, with_plan = _emergency_plan(case, inv, contrib, bg, times, city_daily)
    step("emergency plan")

    grid_pm25 = _local_fields(inv, met, grid, urban, z_anem, area_subdivisions, chunks, step)
    field_ds = xr.Dataset({"local_pm25": grid_pm25.astype(float)}).compute()
    field_ds["local_pm25"].attrs = {
        "units": "ug m-3", "standard_name": "mass_concentration_of_pm2p5_ambient_aerosol_particles"
        "_in_air", "long_name": "hourly primary PM2.5 from local sources (Gaussian plume)"}
    field_ds["pm25"] = field_ds["local_pm25"] + xr.DataArray(bg["PM2.5"].to_numpy(float),
                                                             dims="time")
    field_ds["pm25"].attrs = {**field_ds["local_pm25"].attrs,
                              "long_name": "hourly PM2.5: local plume + regional background"}
    daily_field = daily_mean(field_ds["pm25"])
    step("gridded PM2.5")

    daily_with = _with_plan_field(plan_result, with_plan["cuts"], inv, met, grid, urban, z_anem,
                                  area_subdivisions, chunks, daily_field)
    step("with-plan PM2.5 on the grid")
    decision = _decision(case, city_aqi, station_aqi, alert, city_daily)
    peak = _plan.peak_alert_day(plan_result, plan_result.concentrations["pm25"].values)
    decision["emergency_plan"] = _plan.plan_record(
        plan_result, aqi_with_plan=with_plan["aqi"], map_file=None if peak is None or
        daily_with is None else f"pm25_with_plan_{peak}.png",
        basis="station plume split by stack and area sector (linear in the emissions): every AQI "
              "pollutant recomputed with the plan's cuts on the alert days", notes=with_plan[
                  "notes"])
    result = CityForecast(field_ds, stations, station_aqi, city_aqi, decision, st,
                          step.timings, plan_result)
    if out_dir is not None:
        write_products(result, grid, daily_field, Path(out_dir), daily_with=daily_with,
                       peak_day=peak)
        step("products written")
    return result


def _emergency_plan(case, inv, contrib, bg, times, city_daily):
    """Least-cost plan for the forecast alert and the with-plan station forecast.

    The source–receptor matrix is the city mean (HJ 663: city = mean of its stations) of the
    stations' PM2.5 contributions by stack and area sector. Returns the plan and a dict with the
    per-source cut fractions (``cuts``), the with-plan city AQI (city, date) from every AQI
    pollutant (``aqi``) and notes.
    """
    from ..emergency import aqi, plan
    from ..samples_measures import load_enterprises, load_measures

    city = case.domain["city"]
    forecast = city_daily.expand_dims(city=[city])
    sr = xr.Dataset({"contribution": contrib["PM2.5"].mean("receptor").rename(label="source")
                     .expand_dims(receptor=[city], species=["PM2.5"])})
    measures = load_measures()
    result = plan(forecast, inv, measures, sr, enterprises=load_enterprises())
    cuts = _plan.source_cut_fractions(result, inv, measures, STATION_POLLUTANTS)
    on = _plan.alert_hours(result, times, city=city)  # (time,) hours of the alert days
    local = {}
    for p, c in contrib.items():  # five pollutants: keep (1 − f) of each label on alert hours
        f = _label_fractions(cuts, inv, c["label"].values, p)
        kept = 1.0 - on[:, None, None] * f[None, :, None]
        local[p] = (c.values * kept).sum(axis=1)
    stations_with = station_dataset(local, bg, times, case.stations)
    daily_with = aqi_from_hourly(stations_with).drop_vars("city").mean("station")
    aqi_with = aqi(daily_with, averaging="24h")["aqi"].values[None, :]
    notes = ["with-plan AQI: all AQI pollutants (PM2.5, PM10, SO2, NO2 via ARM2, CO) with the "
             "plan's cuts; O3 is the regional background, unchanged"]
    return result, {"cuts": cuts, "aqi": aqi_with, "notes": notes}


def _label_fractions(cuts, inv, labels, pollutant) -> np.ndarray:
    """Cut fraction of ``pollutant`` per contribution label (stack id or area sector)."""
    pts = set(inv.points["id"].astype(str)) if inv.n_points else set()
    is_id = np.isin(labels, list(pts))
    out = np.zeros(len(labels))
    if is_id.any():
        out[is_id] = cuts[pollutant].reindex(labels[is_id]).fillna(0.0).to_numpy(float)
    if (~is_id).any():
        areas = inv.select(kind="area")
        f_area = cuts.loc[areas.areas["id"].astype(str)]
        out[~is_id] = _plan.label_cut_fractions(f_area[[pollutant]], areas, labels[~is_id],
                                                "sector")[pollutant].to_numpy(float)
    return out


def _with_plan_field(result, cuts, inv, met, grid, urban, z_anem, area_subdivisions, chunks,
                     daily_field):
    """Daily PM2.5 on the grid with the plan: the forecast minus the plume of the cut PM2.5
    emissions on the alert days (None when nothing is cut)."""
    f = cuts["PM2.5"]
    if not (f > 0).any():
        return None
    cut_inv = _cut_inventory(inv, f)
    delta = _local_fields(cut_inv, met, grid, urban, z_anem, area_subdivisions, chunks,
                          lambda name: None)
    on = _plan.alert_hours(result, met["time"].values)[0]
    delta = xr.DataArray(np.asarray(delta), dims=("time", "y", "x"),
                         coords={"time": met["time"].values}) * xr.DataArray(on, dims="time")
    with_plan = daily_field - daily_mean(delta).reindex(date=daily_field["date"]).values
    return with_plan.assign_attrs(units="ug m-3", long_name="daily mean PM2.5 with the "
                                  "emergency plan (CST days)")


def _cut_inventory(inv, fraction: pd.Series) -> Inventory:
    """The PM2.5 the plan removes, as an inventory of the sources it touches [g/s]."""
    parts = {}
    for kind, table in (("points", inv.points if inv.n_points else None),
                        ("areas", inv.areas if inv.n_areas else None)):
        if table is None:
            continue
        f = fraction.reindex(table["id"].astype(str)).fillna(0.0).to_numpy(float)
        sel = table.loc[f > 0].copy()
        if len(sel):
            pols = [p for p in inv.pollutants if p in sel.columns]
            sel[pols] = 0.0
            sel["PM2.5"] = table.loc[f > 0, "PM2.5"].to_numpy(float) * f[f > 0]
            parts[kind] = sel
    return Inventory(parts.get("points"), parts.get("areas"), profiles=inv.profiles,
                     name="plan cuts")


def aqi_from_hourly(stations: xr.Dataset) -> xr.Dataset:
    """Daily (CST) means with the ≥ 20-valid-hour rule; O3 as its daily maximum 8-h mean."""
    from ..timeutil import max_8h_mean

    daily = xr.Dataset({name: daily_mean(stations[name]) for name in stations.data_vars
                        if name != "O3"})
    daily["O3_8h"] = max_8h_mean(stations["O3"])
    return daily.assign_coords(city=stations["city"])


def _decision(case, city_aqi, station_aqi, alert, city_daily) -> dict:
    """The JSON-ready decision: city AQI per day, per-station AQI, the alert and its reductions."""
    dates = [str(d)[:10] for d in city_aqi["date"].values]

    def as_int(v):
        return None if not np.isfinite(v) else int(v)

    daily = []
    for i, d in enumerate(dates):  # a handful of forecast days
        a = float(city_aqi["aqi"].values[i])
        daily.append({
            "date": d, "aqi": as_int(a),
            "category": str(city_aqi["category_name"].values[i]) if np.isfinite(a)
            else "incomplete day (< 20 valid hours)",
            "primary_pollutant": str(city_aqi["primary_pollutant"].values[i]),
            "pm25_ug_m3": None if not np.isfinite(city_daily["PM2.5"].values[i])
            else round(float(city_daily["PM2.5"].values[i]), 1),
        })
    stations = {str(s): [as_int(v) for v in station_aqi["aqi"].sel(station=s).values]
                for s in station_aqi["station"].values}
    return {"city": case.domain["city"], "standard": city_aqi.attrs.get("standard", ""),
            "days_utc_offset_hours": 8, "daily": daily, "station_aqi": stations,
            "alert": alert.to_dict()}


def write_products(result: CityForecast, grid: Grid, daily_field: xr.DataArray, out: Path, *,
                   daily_with: xr.DataArray | None = None, peak_day: str | None = None):
    """forecast.nc (CF, atomic), decision.json (atomic) and PNG maps of daily PM2.5; with a plan
    also ``daily_pm25_with_plan`` and a map of the peak alert day without/with the plan."""
    from .. import plot

    out.mkdir(parents=True, exist_ok=True)
    coords = grid.coords(lonlat=True)  # one projection to lon/lat for every variable
    ds = result.grid_pm25.assign_coords(coords)
    ds["daily_pm25"] = daily_field.assign_coords(coords)
    ds["daily_pm25"].attrs.update({"units": "ug m-3", "long_name": "daily mean PM2.5 (CST days)"})
    names = ["local_pm25", "pm25", "daily_pm25"]
    if daily_with is not None:
        ds["daily_pm25_with_plan"] = daily_with.assign_coords(coords)
        names.append("daily_pm25_with_plan")
    ds["crs"] = grid.crs_variable()
    for name in names:
        ds[name].attrs["grid_mapping"] = "crs"
        ds[name].attrs["coordinates"] = "lat lon"
    write_netcdf(ds, out / "forecast.nc", title="ecodss city PM2.5 forecast")
    atomic_write_text(out / "decision.json", json.dumps(result.decision, indent=2,
                                                        ensure_ascii=False))
    plot.daily_maps(daily_field, out, stations=result.station_table)
    if daily_with is not None and peak_day is not None:
        plot.plan_map(daily_field.sel(date=peak_day), daily_with.sel(date=peak_day),
                      out / f"pm25_with_plan_{peak_day}.png", stations=result.station_table,
                      title=f"{result.decision['city']} {peak_day}: emergency plan "
                            f"({_plan.status_label(result.plan.status)})")
