"""Regional forecast chain: gridded emissions → Eulerian model with secondary PM → city PM2.5 and
AQI → heavy-pollution alert per city (the "2+26" sample by default).

Emission injection layers (fixed layer interfaces, documented assumptions): power plants release
into layer 3 (200–600 m: tall stacks plus rise), industry into layer 2 (50–200 m), all other
sectors at the surface layer. Primary PM2.5 is carried as ``PPM25``; PM2.5 = PPM25 + sulfate +
neutralised nitrate + ammonium (:func:`ecodss.air.chemistry.pm25`). Inflow composition comes from
the sample's boundary data (primary part = PM2.5 − SO4 − NO3 − NH4).

Emergency plan: each grid cell's emissions belong to the nearest of the sample's cities (an
assumption: the sample has no prefecture boundaries); the plan (:func:`ecodss.emergency.plan`)
uses the sample's sector measures (traffic, dust, residential: the regional sample has no
enterprises), and when they cannot reach the level's reduction shares it reports the binding
constraint and the cheapest best-effort plan. The with-plan forecast adds one Eulerian run of
the primary PM2.5 the plan removes (linear transport and deposition, no chemistry; the
secondary-PM response to the SO2/NOx cuts is left out, so the with-plan PM2.5 is conservative).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..io.netcdf import atomic_write_text, write_netcdf
from ..timeutil import daily_mean
from ..units import tpy_to_gps
from . import _plan
from ._timing import StepTimer

#: Eulerian species of the regional run and the inventory pollutant each is emitted as.
SPECIES = ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4", "PPM25")
EMITTED_AS = {"SO2": "SO2", "NOx": "NOx", "NH3": "NH3", "PPM25": "PM2.5"}
#: Layer (index into the model's interfaces) receiving each sector's emissions.
INJECTION_LAYER = {"power": 2, "industry": 1}
STEPS = ("inputs", "Eulerian run", "AQI and alerts", "emergency plan", "with-plan run",
         "products written")


@dataclass
class RegionalForecast:
    """Products of one regional run."""

    surface: xr.Dataset  # hourly surface species and PM2.5 (time, y, x)
    city_daily: xr.Dataset  # daily PM2.5, SO2, NO2 and AQI per city
    decision: dict
    timings: dict = field(default_factory=dict)
    plan: object | None = None  # EmergencyPlan for the forecast alerts
    pm25_with_plan: xr.DataArray | None = None  # hourly surface PM2.5 with the plan (time, y, x)


def eulerian_emissions(sample, interfaces) -> xr.DataArray:
    """Sector emissions [g/s per cell] as (sector, species, z, y, x) for :func:`eulerian`."""
    em = sample.emissions
    nz = len(interfaces) - 1
    sectors = [str(s) for s in em["sector"].values]
    out = np.zeros((len(sectors), len(SPECIES), nz, em.sizes["y"], em.sizes["x"]))
    for s, name in enumerate(SPECIES):
        if name in EMITTED_AS:
            out[:, s] = sector_layers(em[EMITTED_AS[name]], nz)
    return xr.DataArray(out, dims=("sector", "species", "z", "y", "x"),
                        coords={"sector": sectors, "species": list(SPECIES)},
                        attrs={"units": "g s-1"})


def sector_layers(em: xr.DataArray, nz: int) -> np.ndarray:
    """Sector emissions (sector, y, x) [t/yr] as (sector, z, y, x) [g/s per cell], each sector in
    its :data:`INJECTION_LAYER`."""
    out = np.zeros((em.sizes["sector"], nz, em.sizes["y"], em.sizes["x"]))
    for k, sector in enumerate(em["sector"].values):  # six sectors, each into its release layer
        layer = min(INJECTION_LAYER.get(str(sector), 0), nz - 1)
        out[k, layer] = tpy_to_gps(em.sel(sector=sector).transpose("y", "x").values)
    return out


def boundary_species(sample) -> dict:
    """Inflow [µg/m³] per model species from the sample's edge data (hourly series)."""
    inflow = sample.inflow()
    out = {s: inflow[s] for s in ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4") if s in inflow}
    if "PM2.5" in inflow:
        secondary = sum(inflow.get(s, 0.0) for s in ("SO4", "NO3", "NH4"))
        out["PPM25"] = np.maximum(inflow["PM2.5"] - secondary, 0.0)
    return out


def met_with_kz(sample, interfaces):
    """The sample's gridded met plus Kz at the internal interfaces (:func:`kz_profile`)."""
    from ..met.gridded import kz_profile

    met = sample.met
    speed = np.hypot(met["u"], met["v"])
    kz = kz_profile(np.asarray(interfaces[1:-1], float), met["mixing_height"],
                    met["stability_class"], speed)
    kz = xr.DataArray(np.asarray(kz), dims=("z_face",) + met["u"].dims).transpose(
        "time", "z_face", "y", "x")
    return met.assign(kz=kz)


def run_regional_forecast(sample=None, *, model_parameters: dict | None = None, out_dir=None,
                          hours: int | None = None, progress=None) -> RegionalForecast:
    """Run the regional chain on a :class:`ecodss.samples_regional.RegionalSample`.

    ``model_parameters`` (from ``models/regional_eulerian.yaml``) are passed to
    :func:`ecodss.air.eulerian.eulerian` (scheme, kh, interfaces, cfl, chunks, ...), plus
    ``ozone_ppm`` for the chemistry. ``hours`` limits the run (tests).
    """
    from ..air import chemistry
    from ..air.eulerian import DEFAULT_INTERFACES, SecondaryPM, eulerian
    from ..samples_regional import load_regional_sample

    step = StepTimer(progress)

    if sample is None:
        sample = load_regional_sample()
    elif not hasattr(sample, "emissions"):
        from ..errors import ConfigError

        raise ConfigError("the regional forecast takes a RegionalSample "
                          "(ecodss.samples_regional.load_regional_sample), not a folder")
    params = dict(model_parameters or {})
    ozone = float(params.pop("ozone_ppm", 0.03))
    interfaces = tuple(params.pop("interfaces", DEFAULT_INTERFACES))
    met = met_with_kz(sample, interfaces)
    if hours is not None:
        met = met.isel(time=slice(0, hours))
    emis = eulerian_emissions(sample, interfaces)
    bc = {k: np.asarray(v)[: met.sizes["time"]] for k, v in boundary_species(sample).items()}
    step("inputs")
    ds = eulerian(emis, met, sample.grid, boundary=bc, interfaces=interfaces,
                  chemistry=SecondaryPM(sample.grid, ozone_ppm=ozone),
                  deposition_velocity={s: v for s, v in chemistry.DEPOSITION_VELOCITY.items()
                                       if s in SPECIES}, **params)
    step("Eulerian run")
    conc = ds["concentration"]
    surface = conc.to_dataset("species")
    surface["PM2.5"] = xr.DataArray(chemistry.pm25(conc.transpose("species", ...).values,
                                                   SPECIES), dims=("time", "y", "x"))
    for name in surface.data_vars:
        surface[name].attrs = {"units": "ug m-3", "long_name": f"surface-layer {name}"}
    surface["PM2.5"].attrs["standard_name"] = (
        "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air")
    city_daily, decision = _city_decisions(sample, surface)
    step("AQI and alerts")
    plan_result = emergency_plan(sample, city_daily)
    step("emergency plan")
    with_plan = _with_plan(sample, plan_result, surface, met, interfaces, params)
    decision["emergency_plan"] = _plan_record(sample, plan_result, surface, with_plan)
    step("with-plan run")
    result = RegionalForecast(surface, city_daily, decision, step.timings, plan_result,
                              with_plan)
    if out_dir is not None:
        write_products(result, sample, Path(out_dir))
        step("products written")
    return result


def _city_decisions(sample, surface):
    """Daily means at the city cells (CST days, ≥ 20 h), city AQI, alert level per city."""
    from ..air import arm2_no2
    from ..emergency import alert_level, aqi

    cities = sample.cities
    iy, ix = sample.grid.cell_index(cities["x"].to_numpy(), cities["y"].to_numpy())
    pick = {"y": xr.DataArray(iy, dims="city"), "x": xr.DataArray(ix, dims="city")}
    at = surface[["PM2.5", "SO2", "NOx"]].isel(pick).assign_coords(
        city=cities["name"].to_numpy(str))
    hourly = xr.Dataset({"PM2.5": at["PM2.5"], "SO2": at["SO2"],
                         "NO2": xr.apply_ufunc(arm2_no2, at["NOx"])})
    daily = xr.Dataset({k: daily_mean(v) for k, v in hourly.data_vars.items()})
    for k in daily.data_vars:
        daily[k].attrs["units"] = "ug m-3"
    city_aqi = aqi(daily, averaging="24h")
    complete = city_aqi["aqi"].dropna("date", how="any")  # days with < 20 h carry no AQI
    alerts = alert_level(complete.transpose("date", "city"), day_dim="date",
                         city_dim="city") if complete.sizes["date"] else None
    daily = daily.assign(aqi=city_aqi["aqi"], primary_pollutant=city_aqi["primary_pollutant"])
    levels = alerts.dataset if alerts is not None else xr.Dataset()
    decision = {
        "region": sample.domain.get("name", "regional sample"),
        "standard": city_aqi.attrs.get("standard", ""),
        "pollutants_in_aqi": ["PM2.5", "SO2", "NO2"],
        "days_utc_offset_hours": 8,
        "dates": [str(d)[:10] for d in daily["date"].values],
        "cities": {},
    }
    names = levels["level_name"] if "level_name" in levels else None
    for i, city in enumerate(daily["city"].values):  # ~28 cities: one JSON record each
        rec = {"pm25_daily": [None if not np.isfinite(v) else round(float(v), 1)
                              for v in daily["PM2.5"].sel(city=city).values],
               "aqi": [None if not np.isfinite(v) else int(v)
                       for v in daily["aqi"].sel(city=city).values]}
        if names is not None:
            rec["alert"] = str(np.asarray(names.values).reshape(-1)[i]
                               if names.ndim else names.values)
        decision["cities"][str(city)] = rec
    decision["alerts"] = alerts.to_dict() if alerts is not None else None
    return daily, decision


def city_of_cells(sample) -> np.ndarray:
    """Index (into ``sample.cities``) of the nearest city of every grid cell, (y, x)."""
    g = sample.grid
    xx, yy = np.meshgrid(g.x, g.y)
    d2 = (xx[..., None] - sample.cities["x"].to_numpy(float)) ** 2 + \
        (yy[..., None] - sample.cities["y"].to_numpy(float)) ** 2
    return np.argmin(d2, axis=-1)


def regional_inventory(sample):
    """The gridded emissions as one area source per city and sector [t/yr] (cells assigned to
    their nearest city, :func:`city_of_cells`), with a ``city`` column for the plan."""
    from ..inventory import Inventory

    em = sample.emissions
    owner = city_of_cells(sample).ravel()
    pols = [p for p in em.data_vars if "sector" in em[p].dims]
    n_city = len(sample.cities)
    sectors = [str(s) for s in em["sector"].values]
    totals = {p: np.stack([np.bincount(owner, weights=em[p].sel(sector=s).values.ravel(),
                                       minlength=n_city) for s in sectors], axis=1).ravel()
              for p in pols}  # (city, sector) flattened; six sectors
    cities = sample.cities.iloc[np.repeat(np.arange(n_city), len(sectors))]
    table = pd.DataFrame({
        "id": (cities["id"].to_numpy(str).astype(object) + "-" +
               np.tile(np.asarray(sectors, dtype=object), n_city)),
        "sector": np.tile(np.asarray(sectors, dtype=object), n_city),
        "city": cities["name"].to_numpy(str), "x": cities["x"].to_numpy(float),
        "y": cities["y"].to_numpy(float), "width": sample.grid.dx, "height": sample.grid.dy,
        **totals})
    return Inventory.from_areas(table, units="t/yr", name="regional sample by city and sector")


def emergency_plan(sample, city_daily):
    """Least-cost plan for each city's forecast alert with the sample's sector measures.

    Emissions at the annual-mean rate (the regional run has no temporal profiles); no
    source–receptor matrix (the with-plan forecast is :func:`_with_plan`'s run).
    """
    from ..emergency import plan
    from ..samples_measures import load_measures

    forecast = city_daily[["PM2.5", "SO2", "NO2"]]
    return plan(forecast, regional_inventory(sample), load_measures(), temporal=False)


def _with_plan(sample, result, surface, met, interfaces, params):
    """Hourly surface PM2.5 with the plan: the forecast minus an Eulerian run of the primary
    PM2.5 the plan removes on each city's alert days (None when nothing is cut)."""
    from ..air import chemistry
    from ..air.eulerian import eulerian
    from ..samples_measures import load_measures

    inv = regional_inventory(sample)
    cuts = _plan.source_cut_fractions(result, inv, load_measures(), ["PM2.5"])["PM2.5"]
    if not (cuts > 0).any():
        return None
    times = met["time"].values
    owner = city_of_cells(sample)
    names = result.concentrations["city"].values.tolist()
    order = pd.Index(names).get_indexer(sample.cities["name"].astype(str))
    on = _plan.alert_hours(result, times)[order]  # (sample city, time)
    hours = np.flatnonzero(on.any(axis=0))
    t0, t1 = int(hours[0]), int(hours[-1]) + 1
    em = sample.emissions["PM2.5"]
    sectors = [str(s) for s in em["sector"].values]
    f = cuts.reindex([f"{c}-{s}" for c in sample.cities["id"] for s in sectors]).to_numpy(
        float).reshape(len(sample.cities), len(sectors))  # (city, sector)
    removed = sector_layers(em, len(interfaces) - 1) * f[owner].transpose(2, 0, 1)[:, None]
    static = removed.sum(axis=0)  # (z, y, x) [g/s]
    on_cell = on[:, t0:t1][owner].transpose(2, 0, 1)  # (time, y, x)
    rates = xr.DataArray(on_cell[:, None, None] * static[None, None],
                         dims=("time", "species", "z", "y", "x"),
                         coords={"time": times[t0:t1], "species": ["PPM25"]})
    ds = eulerian(rates, met.isel(time=slice(t0, t1)), sample.grid, interfaces=interfaces,
                  deposition_velocity={"PPM25": chemistry.DEPOSITION_VELOCITY["PPM25"]},
                  **params)
    delta = np.zeros((len(times),) + owner.shape)
    delta[t0:t1] = ds["concentration"].sel(species="PPM25").values
    out = (surface["PM2.5"] - delta).clip(min=0.0)
    return out.assign_attrs(units="ug m-3", long_name="surface PM2.5 with the emergency plan "
                            "(primary PM2.5 cuts; secondary PM unchanged)")


def _plan_record(sample, result, surface, with_plan) -> dict:
    """``decision["emergency_plan"]``: the plan, with the with-plan city PM2.5/AQI of the run."""

    peak = _plan.peak_alert_day(result, result.concentrations["pm25"].values)
    pm_with = aqi_with = None
    if with_plan is not None:
        daily_with, _ = _city_decisions(sample, surface.assign({"PM2.5": with_plan}))
        daily_with = daily_with.sel(city=result.concentrations["city"].values)
        pm_with = daily_with["PM2.5"].transpose("city", "date").values
        aqi_with = daily_with["aqi"].transpose("city", "date").values
    notes = ["the regional sample has no enterprises: only the sector measures (traffic, dust, "
             "residential) are available, so the level's SO2/NOx/VOCs shares, mostly emitted by "
             "power and industry, may be out of reach",
             "each grid cell's emissions are assigned to the nearest city",
             "with-plan PM2.5: Eulerian run of the removed primary PM2.5 (no chemistry); the "
             "secondary-PM response to SO2/NOx cuts is not included (conservative); AQI with "
             "PM2.5, SO2 and NO2, the latter two unchanged"]
    rec = _plan.plan_record(result, aqi_with_plan=aqi_with, basis="Eulerian run of the removed "
                            "primary PM2.5", map_file=None if peak is None or with_plan is None
                            else f"pm25_with_plan_{peak}.png", notes=notes)
    if pm_with is not None and rec["cities"]:
        for i, city in enumerate(rec["cities"]):  # one entry per city
            city["pm25_with_plan"] = [None if not np.isfinite(v) else round(float(v), 2)
                                      for v in pm_with[i]]
    rec["peak_day"] = peak
    return rec


def write_products(result: RegionalForecast, sample, out: Path):
    """regional_forecast.nc (CF, atomic), decision.json and daily PM2.5 maps."""
    from .. import plot

    out.mkdir(parents=True, exist_ok=True)
    grid = sample.grid
    coords = grid.coords(lonlat=True)
    ds = result.surface.assign_coords(coords)
    daily = daily_mean(result.surface["PM2.5"]).assign_coords(x=("x", grid.x), y=("y", grid.y))
    daily_with = None
    if result.pm25_with_plan is not None:
        daily_with = daily_mean(result.pm25_with_plan).assign_coords(
            x=("x", grid.x), y=("y", grid.y))
        ds["daily_pm25_with_plan"] = daily_with.assign_attrs(
            units="ug m-3", long_name="daily mean PM2.5 with the emergency plan (CST days)")
    ds["crs"] = grid.crs_variable()
    for name in ds.data_vars:
        if name != "crs":
            ds[name].attrs.update({"grid_mapping": "crs", "coordinates": "lat lon"})
    write_netcdf(ds, out / "regional_forecast.nc", title="ecodss regional PM2.5 forecast")
    atomic_write_text(out / "decision.json", json.dumps(result.decision, indent=2,
                                                        ensure_ascii=False))
    cities = pd.DataFrame({"x": sample.cities["x"], "y": sample.cities["y"]})
    plot.daily_maps(daily, out, stations=cities, label="cities")
    peak = result.decision.get("emergency_plan", {}).get("peak_day")
    if daily_with is not None and peak is not None:
        plot.plan_map(daily.sel(date=peak), daily_with.sel(date=peak),
                      out / f"pm25_with_plan_{peak}.png", stations=cities, label="cities",
                      title=f"{result.decision['region']} {peak}: emergency plan "
                            f"({_plan.status_label(result.plan.status)})")
