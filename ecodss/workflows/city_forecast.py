"""City forecast chain: hourly emissions → Gaussian plume → daily PM2.5/AQI → alert level.

This is what ``ecodss demo`` runs on the bundled sample city. Each step is a public function of
its own module; this runner only strings them together and writes the products atomically.
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
from ._timing import StepTimer

#: Progress steps reported by :func:`run_city_forecast`, in order.
STEPS = ("inputs read and validated", "station forecasts", "AQI and alert level",
         "stacks on the grid", "area sources on the grid", "gridded PM2.5", "products written")
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


def _local_fields(inv, met, grid, urban, z_anem, area_subdivisions, chunks, step):
    """Hourly PM2.5 [µg/m³] on the grid: stacks directly, area cells by convolution."""
    rec = Receptors.from_grid(grid)
    pts = gaussian_plume(inv.select(kind="point"), met, rec, pollutant="PM2.5", urban=urban,
                         anemometer_height=z_anem, chunks=chunks)["concentration"]
    step("stacks on the grid")
    total = pts
    areas = inv.areas
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
    local = {p: gaussian_plume(inv, met, rec, pollutant=p, urban=urban, anemometer_height=z_anem,
                               area_subdivisions=area_subdivisions)["concentration"]
             for p in STATION_POLLUTANTS}  # one model run per pollutant (five)
    step("station forecasts")
    bg = case.background.set_index(pd.DatetimeIndex(case.background["time"]).tz_localize(None))
    bg = bg.reindex(pd.DatetimeIndex(times))
    coords = {"time": times, "station": st["id"].to_numpy(str)}

    def total(local_da, bg_col, scale=1.0):
        return xr.DataArray(local_da.values * scale + bg[bg_col].to_numpy(float)[:, None],
                            dims=("time", "station"), coords=coords)

    stations = xr.Dataset({
        "PM2.5": total(local["PM2.5"], "PM2.5"), "PM10": total(local["PM10"], "PM10"),
        "SO2": total(local["SO2"], "SO2"),
        "NO2": xr.DataArray(arm2_no2(local["NOx"].values), dims=("time", "station"),
                            coords=coords) + bg["NO2"].to_numpy(float)[:, None],
        "CO": total(local["CO"], "CO", scale=1e-3),  # µg/m³ → mg/m³
        "O3": xr.DataArray(np.broadcast_to(bg["O3"].to_numpy(float)[:, None],
                                           (len(times), len(st))), dims=("time", "station"),
                           coords=coords),
    })
    for name in stations.data_vars:
        stations[name].attrs = {"units": "mg m-3" if name == "CO" else "ug m-3",
                                "long_name": f"hourly {name} (local plume + regional background)"}
    stations = stations.assign_coords(city=("station", st["city"].to_numpy(str)))

    daily = aqi_from_hourly(stations)
    station_aqi = aqi(daily, averaging="24h")
    city_daily = daily.drop_vars("city").mean("station")  # HJ 663: city = mean of stations
    city_aqi = aqi(city_daily, averaging="24h")
    # days with < 20 valid hours (the forecast's partial first/last CST day) carry no AQI
    complete = city_aqi["aqi"].where(np.isfinite(city_aqi["aqi"]), drop=True)
    alert = alert_level(complete)
    step("AQI and alert level")

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

    decision = _decision(case, city_aqi, station_aqi, alert, city_daily)
    result = CityForecast(field_ds, stations, station_aqi, city_aqi, decision, st,
                          step.timings)
    if out_dir is not None:
        write_products(result, grid, daily_field, Path(out_dir))
        step("products written")
    return result


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


def write_products(result: CityForecast, grid: Grid, daily_field: xr.DataArray, out: Path):
    """forecast.nc (CF, atomic), decision.json (atomic) and PNG maps of daily PM2.5."""
    from .. import plot

    out.mkdir(parents=True, exist_ok=True)
    ds = result.grid_pm25.assign_coords({k: v for k, v in grid.coords(lonlat=True).items()})
    ds["daily_pm25"] = daily_field.assign_coords(
        {k: v for k, v in grid.coords(lonlat=True).items()})
    ds["daily_pm25"].attrs.update({"units": "ug m-3", "long_name": "daily mean PM2.5 (CST days)"})
    ds["crs"] = grid.crs_variable()
    for name in ("local_pm25", "pm25", "daily_pm25"):
        ds[name].attrs["grid_mapping"] = "crs"
        ds[name].attrs["coordinates"] = "lat lon"
    write_netcdf(ds, out / "forecast.nc", title="ecodss city PM2.5 forecast")
    atomic_write_text(out / "decision.json", json.dumps(result.decision, indent=2,
                                                        ensure_ascii=False))
    plot.daily_maps(daily_field, out, stations=result.station_table)
