"""Regional forecast chain: gridded emissions → Eulerian model with secondary PM → city PM2.5 and
AQI → heavy-pollution alert per city (the "2+26" sample by default).

Emission injection layers (fixed layer interfaces, documented assumptions): power plants release
into layer 3 (200–600 m: tall stacks plus rise), industry into layer 2 (50–200 m), all other
sectors at the surface layer. Primary PM2.5 is carried as ``PPM25``; PM2.5 = PPM25 + sulfate +
neutralised nitrate + ammonium (:func:`ecodss.air.chemistry.pm25`). Inflow composition comes from
the sample's boundary data (primary part = PM2.5 − SO4 − NO3 − NH4).
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
from ._timing import StepTimer

#: Eulerian species of the regional run and the inventory pollutant each is emitted as.
SPECIES = ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4", "PPM25")
EMITTED_AS = {"SO2": "SO2", "NOx": "NOx", "NH3": "NH3", "PPM25": "PM2.5"}
#: Layer (index into the model's interfaces) receiving each sector's emissions.
INJECTION_LAYER = {"power": 2, "industry": 1}
STEPS = ("inputs", "Eulerian run", "AQI and alerts", "products written")


@dataclass
class RegionalForecast:
    """Products of one regional run."""

    surface: xr.Dataset  # hourly surface species and PM2.5 (time, y, x)
    city_daily: xr.Dataset  # daily PM2.5, SO2, NO2 and AQI per city
    decision: dict
    timings: dict = field(default_factory=dict)


def eulerian_emissions(sample, interfaces) -> xr.DataArray:
    """Sector emissions [g/s per cell] as (sector, species, z, y, x) for :func:`eulerian`."""
    em = sample.emissions
    nz = len(interfaces) - 1
    sectors = [str(s) for s in em["sector"].values]
    out = np.zeros((len(sectors), len(SPECIES), nz, em.sizes["y"], em.sizes["x"]))
    for k, sector in enumerate(sectors):  # six sectors, each into its release layer
        layer = min(INJECTION_LAYER.get(sector, 0), nz - 1)
        for s, name in enumerate(SPECIES):
            if name in EMITTED_AS:
                out[k, s, layer] = tpy_to_gps(em[EMITTED_AS[name]].sel(sector=sector).values)
    return xr.DataArray(out, dims=("sector", "species", "z", "y", "x"),
                        coords={"sector": sectors, "species": list(SPECIES)},
                        attrs={"units": "g s-1"})


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
    result = RegionalForecast(surface, city_daily, decision, step.timings)
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


def write_products(result: RegionalForecast, sample, out: Path):
    """regional_forecast.nc (CF, atomic), decision.json and daily PM2.5 maps."""
    from .. import plot

    out.mkdir(parents=True, exist_ok=True)
    grid = sample.grid
    coords = grid.coords(lonlat=True)
    ds = result.surface.assign_coords(coords)
    ds["crs"] = grid.crs_variable()
    for name in ds.data_vars:
        if name != "crs":
            ds[name].attrs.update({"grid_mapping": "crs", "coordinates": "lat lon"})
    write_netcdf(ds, out / "regional_forecast.nc", title="ecodss regional PM2.5 forecast")
    atomic_write_text(out / "decision.json", json.dumps(result.decision, indent=2,
                                                        ensure_ascii=False))
    daily = daily_mean(result.surface["PM2.5"]).assign_coords(
        x=("x", grid.x), y=("y", grid.y))
    cities = pd.DataFrame({"x": sample.cities["x"], "y": sample.cities["y"]})
    plot.daily_maps(daily, out, stations=cities, label="cities")
