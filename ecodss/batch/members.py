"""Member workflows: what one member of a batch computes, as a function ``f(ctx) -> xr.Dataset``.

A scenario's ``workflow`` is a name registered here or ``"package.module:function"`` (your own
callable, taking a :class:`MemberContext`). Built-in workflows:

* ``box_model`` — city one-box model (cheap: milliseconds per member);
* ``station_plume`` — Gaussian plume (ISC3) at the city's monitoring stations;
* ``regional_forecast`` — the Eulerian forecast of the regional 2+26 sample.

All three produce the same daily layout: ``pm25_daily``, ``aqi``, ``alert_level`` with dims
``(city, date)`` (complete CST days only), so batches of any of them combine and give alert-level
probabilities. Parameters: ``cut_<sector>`` (fractional emission cut of a sector, 0-1),
``level`` (alert level 1-3: the 2018 scheme's reduction shares of SO2, NOx, PM and VOCs applied to
all sectors — the uniform cut of an emergency drill), ensemble parameters
(:func:`ecodss.batch.design.ensemble_members`) and ``hours`` (regional run length).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError

#: Parameters the ensemble design adds to each member.
ENSEMBLE_PARAMETERS = ("ensemble_member", "ensemble_seed", "perturb", "wind_speed_sigma_ln",
                       "wind_direction_sigma_deg", "mixing_height_sigma_ln",
                       "stability_sigma_class", "correlation_hours", "min_wind_speed")
#: City-sample sector groups a ``cut_<group>`` may name besides the sectors themselves.
SECTOR_GROUPS = {"industry": ("iron_steel", "cement", "coking", "glass", "chemicals", "boilers")}
#: Inventory pollutants each alert-scheme reduction pollutant covers.
REDUCTION_COVERS = {"SO2": ("SO2",), "NOx": ("NOx",), "PM": ("PM2.5", "PM10"), "VOCs": ("VOCs",)}


@dataclass(frozen=True)
class MemberContext:
    """Everything a member workflow receives (picklable: it travels to cluster workers)."""

    label: str
    params: dict[str, Any]
    model_parameters: dict[str, Any] = field(default_factory=dict)
    inputs: Any = None
    chunks: dict | None = None


@dataclass(frozen=True)
class Workflow:
    func: Any
    parameters: tuple[str, ...]
    summary: str


def _registry() -> dict[str, Workflow]:
    common = ("cut_*", "level", "start_date") + ENSEMBLE_PARAMETERS
    return {
        "box_model": Workflow(box_model, common, "city one-box model (Jacob 1999, §3.1)"),
        "station_plume": Workflow(station_plume, common,
                                  "Gaussian plume at the city's stations"),
        "regional_forecast": Workflow(regional_forecast, common + ("hours",),
                                      "Eulerian forecast of the regional sample"),
    }


def resolve_workflow(name: str):
    """The member function of a registered workflow or of ``"module:function"``."""
    reg = _registry()
    if name in reg:
        return reg[name].func
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            func = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot import workflow {name!r}: {exc}") from None
        if not callable(func):
            raise ConfigError(f"workflow {name!r} is not callable")
        return func
    raise ConfigError(f"unknown workflow {name!r}; registered: {sorted(reg)} "
                      f"or 'package.module:function'")


def workflow_parameters(name: str) -> tuple[str, ...] | None:
    """Member parameters a registered workflow takes (``cut_*``: a family); None: any."""
    reg = _registry()
    if name in reg:
        return reg[name].parameters
    resolve_workflow(name)
    return None


def list_workflows() -> dict[str, str]:
    """``{name: summary}`` of the registered member workflows."""
    return {k: w.summary for k, w in _registry().items()}


# ----------------------------------------------------------------------------- shared steps
_SAMPLE_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _city_case_cached(sample: str | None):
    from ..samples import load_sample

    return load_sample(sample)


def _city_case(sample: str | None):
    with _SAMPLE_LOCK:
        return _city_case_cached(sample)


def _cut_factors(params: dict, sectors, groups: dict) -> dict[str, float]:
    """Multiplier of each sector's emissions from ``cut_<sector|group>`` parameters."""
    factors = dict.fromkeys(sectors, 1.0)
    for key, value in params.items():
        if not key.startswith("cut_"):
            continue
        name = key[4:]
        members = groups.get(name, (name,) if name in factors else None)
        if members is None:
            raise ConfigError(f"parameter {key!r}: no sector {name!r}; sectors: "
                              f"{sorted(factors)}, groups: {sorted(groups)}")
        if not 0.0 <= float(value) <= 1.0:
            raise ConfigError(f"parameter {key!r} = {value} must be a fraction in [0, 1]")
        for s in members:
            factors[s] *= 1.0 - float(value)
    return factors


def _level_shares(level) -> dict[str, float]:
    """Inventory pollutant -> reduction share of alert ``level`` (2018 scheme), {} for 0/None."""
    from ..emergency.alerts import load_rules

    if level in (None, 0):
        return {}
    row = load_rules().reduction_shares(level)
    return {p: row[k] for k, pols in REDUCTION_COVERS.items() for p in pols}


def _scaled_table(df: pd.DataFrame, factors: dict, shares: dict) -> pd.DataFrame:
    """Emission columns times the sector factor and (1 - level share) of each pollutant."""
    out = df.copy()
    f = out["sector"].map(factors).to_numpy(float)
    for p in ("SO2", "NOx", "PM2.5", "PM10", "VOCs", "NH3", "CO"):
        if p in out:
            out[p] = out[p].to_numpy(float) * f * (1.0 - shares.get(p, 0.0))
    return out


def city_inventory(case, params: dict):
    """The city sample's inventory with the member's cuts applied (rates in t/yr)."""
    from ..inventory import Inventory

    sectors = set(case.points["sector"]) | set(case.areas["sector"])
    factors = _cut_factors(params, sectors, SECTOR_GROUPS)
    shares = _level_shares(params.get("level"))
    return Inventory.from_points(_scaled_table(case.points, factors, shares), units="t/yr").combine(
        Inventory.from_areas(_scaled_table(case.areas, factors, shares), units="t/yr"))


def member_met(met: xr.Dataset, params: dict) -> xr.Dataset:
    """``met`` perturbed for an ensemble member (unchanged for the control / other designs)."""
    from .ensemble import perturb_met

    if not params.get("perturb", False):
        return met
    spreads = {k: params[k] for k in ENSEMBLE_PARAMETERS[3:] if k in params}
    return perturb_met(met, int(params["ensemble_seed"]), **spreads)


def daily_products(hourly: xr.Dataset, city_dim: str = "city") -> xr.Dataset:
    """Daily PM2.5/PM10, AQI and alert level per city on complete CST days (>= 20 h).

    ``hourly`` has PM2.5 (and optionally PM10, SO2, NO2) [ug m-3] with dims (time, city); the
    AQI covers the pollutants given (the city members give PM2.5 and PM10, the pollutants that
    decide winter alerts; the regional one PM2.5, SO2, NO2 like its forecast). AQI after HJ 633-2012 from the 24-h means (:func:`ecodss.emergency.aqi`); alert level of each
    day's episode after the 2018 scheme (:func:`ecodss.emergency.alert_level`).
    """
    from ..emergency import alert_level, aqi
    from ..timeutil import daily_mean

    daily = xr.Dataset({k: daily_mean(v) for k, v in hourly.data_vars.items()})
    for k in daily.data_vars:
        daily[k].attrs["units"] = "ug m-3"
    table = aqi(daily, averaging="24h")
    complete = np.isfinite(table["aqi"]).all(city_dim)
    daily, table = daily.sel(date=complete), table.sel(date=complete)
    levels = alert_level(table["aqi"].transpose("date", city_dim), day_dim="date",
                         city_dim=city_dim)
    out = xr.Dataset({
        "pm25_daily": daily["PM2.5"].assign_attrs(
            units="ug m-3", long_name="daily mean PM2.5 (CST day)"),
        "aqi": table["aqi"].assign_attrs(units="1", long_name="daily AQI (HJ 633)"),
        "alert_level": levels.dataset["day_level"].astype(np.int8).assign_attrs(
            units="1", long_name="heavy-pollution alert level of the day's episode",
            flag_values=np.arange(4, dtype=np.int8), flag_meanings="none yellow orange red"),
    })
    if "PM10" in daily:
        out["pm10_daily"] = daily["PM10"].assign_attrs(units="ug m-3",
                                                        long_name="daily mean PM10 (CST day)")
    return out.transpose(city_dim, "date")


def time_shift(first_time, params: dict) -> np.timedelta64:
    """Offset moving a sample's first hour to ``start_date`` (operational cycle), else 0.

    The samples stand in for the day's forecast met: the cycle re-stamps them to the cycle date
    (same hour of day) so that dates, CST days and the AQI standard in force follow that date.
    """
    if not params.get("start_date"):
        return np.timedelta64(0, "s")
    first = np.datetime64(pd.Timestamp(first_time).tz_localize(None), "s")
    start = np.datetime64(str(params["start_date"]), "D") + (first - first.astype("datetime64[D]"))
    return (start - first).astype("timedelta64[s]")


def _city_met(case, params: dict) -> xr.Dataset:
    from ..met.dataset import met_from_dataframe

    met = met_from_dataframe(case.met, units={"cloud_cover": "tenths"})
    shift = time_shift(met["time"].values[0], params)
    return met.assign_coords(time=met["time"].values + shift) if shift else met


def _background(case, times, params: dict) -> pd.DataFrame:
    bg = case.background.set_index(pd.DatetimeIndex(case.background["time"]).tz_localize(None))
    bg.index = bg.index + pd.Timedelta(time_shift(bg.index[0], params))
    return bg.reindex(pd.DatetimeIndex(times))


# ----------------------------------------------------------------------------- workflows
def box_model(ctx: MemberContext) -> xr.Dataset:
    """City one-box model: hourly PM2.5/PM10 of the city box, daily AQI and alert level.

    Steady-state box of side ``L`` (the sample grid's extent) and height ``h`` (mixing height)
    ventilated by the wind ``U``: ``C = C_b + E / (U h L)`` with ``E`` the box's total emission
    rate [g s-1] (Jacob 1999, *Introduction to Atmospheric Chemistry*, §3.1, one-box model at
    steady state with ventilation lifetime ``L/U``), ``C_b`` the regional background. Cheap by
    design: the scheduling and crash-safety tests and the response-surface smoke runs use it.
    """
    case = _city_case(ctx.inputs.sample if ctx.inputs is not None else None)
    met = member_met(_city_met(case, ctx.params), ctx.params)
    inv = city_inventory(case, ctx.params)
    grid = case.domain["grid"]
    side = float(np.sqrt(grid["nx"] * grid["dx"] * grid["ny"] * grid["dy"]))  # [m]
    times = met["time"].values
    bg = _background(case, times, ctx.params)
    ventilation = met["wind_speed"] * met["mixing_height"] * side  # [m3 s-1]
    hourly = {}
    for p in ("PM2.5", "PM10"):
        rate = inv.hourly(times, p, kind="all").sum("source")  # [g s-1]
        local = (rate.values * 1e6) / ventilation.values  # [ug m-3]
        hourly[p] = xr.DataArray((local + bg[p].to_numpy(float))[:, None], dims=("time", "city"),
                                 coords={"time": times, "city": [case.domain["city"]]})
    return daily_products(xr.Dataset(hourly))


def station_plume(ctx: MemberContext) -> xr.Dataset:
    """Gaussian plume (ISC3 options of the model configuration) at the city's stations.

    Hourly PM2.5 and PM10 at each station = plume from every stack and area source
    (:func:`ecodss.air.gaussian_plume`) + regional background; the city value is the station mean
    (HJ 663-2013); daily AQI and alert level by :func:`daily_products`. Adds ``pm25_station``
    (time, station) hourly.
    """
    from ..air import Receptors, gaussian_plume

    case = _city_case(ctx.inputs.sample if ctx.inputs is not None else None)
    met = member_met(_city_met(case, ctx.params), ctx.params)
    inv = city_inventory(case, ctx.params)
    st = case.stations
    rec = Receptors(x=st["x"].to_numpy(float), y=st["y"].to_numpy(float), names=tuple(st["id"]))
    params = {k: v for k, v in ctx.model_parameters.items()
              if k in ("urban", "anemometer_height", "area_subdivisions", "plume_rise",
                       "downwash", "sigmas", "half_life", "mixing_height", "backend")}
    params.setdefault("urban", case.domain["urban"])
    times = met["time"].values
    bg = _background(case, times, ctx.params)
    chunks = {k: v for k, v in (ctx.chunks or {}).items() if k in ("time",)} or None
    station = {}
    for p in ("PM2.5", "PM10"):
        conc = gaussian_plume(inv, met, rec, pollutant=p, chunks=chunks, **params)["concentration"]
        station[p] = conc.values + bg[p].to_numpy(float)[:, None]
    city = case.domain["city"]
    hourly = xr.Dataset({p: xr.DataArray(v.mean(axis=1)[:, None], dims=("time", "city"),
                                         coords={"time": times, "city": [city]})
                         for p, v in station.items()})
    out = daily_products(hourly)
    out["pm25_station"] = xr.DataArray(
        station["PM2.5"], dims=("time", "station"),
        coords={"time": times, "station": st["id"].to_numpy(str)},
        attrs={"units": "ug m-3", "long_name": "hourly PM2.5 at the station"})
    return out


@lru_cache(maxsize=1)
def _regional_sample_cached():
    from ..samples_regional import load_regional_sample

    return load_regional_sample()


def _regional_sample():
    """The regional sample, read once per process (serialised: netCDF reads are not
    thread-safe)."""
    with _SAMPLE_LOCK:
        return _regional_sample_cached()


def regional_forecast(ctx: MemberContext) -> xr.Dataset:
    """Eulerian regional forecast of the 2+26 sample with the member's cuts / alert level.

    Emissions of every sector times the ``cut_<sector>`` factor and (1 - share) of the ``level``'s
    reduction (2018 scheme: SO2, NOx, PM, VOCs); met perturbed for ensemble members; ``hours``
    shortens the run. Returns the daily city layout plus ``pm25_daily_map`` (date, y, x).
    """
    import dataclasses

    from ..air import arm2_no2
    from ..timeutil import daily_mean
    from ..workflows.regional_forecast import run_regional_forecast

    sample = _regional_sample()
    em = sample.emissions
    factors = _cut_factors(ctx.params, [str(s) for s in em["sector"].values], {})
    shares = _level_shares(ctx.params.get("level"))
    f = xr.DataArray([factors[str(s)] for s in em["sector"].values], dims="sector",
                     coords={"sector": em["sector"]})
    scaled = em.copy()
    for p in em.data_vars:
        if "sector" in em[p].dims:
            scaled[p] = (em[p] * f * (1.0 - shares.get(p, 0.0))).assign_attrs(em[p].attrs)
    met = sample.met
    shift = time_shift(met["time"].values[0], ctx.params)
    if shift:
        met = met.assign_coords(time=met["time"].values + shift)
    sample = dataclasses.replace(sample, emissions=scaled, met=member_met(met, ctx.params))
    params = dict(ctx.model_parameters)
    if ctx.chunks:
        params["chunks"] = {k: v for k, v in ctx.chunks.items() if k in ("y", "x")}
    result = run_regional_forecast(sample, model_parameters=params, hours=ctx.params.get("hours"))
    cities = sample.cities
    iy, ix = sample.grid.cell_index(cities["x"].to_numpy(), cities["y"].to_numpy())
    pick = {"y": xr.DataArray(iy, dims="city"), "x": xr.DataArray(ix, dims="city")}
    at = result.surface[["PM2.5", "SO2", "NOx"]].isel(pick).drop_vars(
        ["y", "x"], errors="ignore").assign_coords(city=cities["name"].to_numpy(str))
    hourly = xr.Dataset({"PM2.5": at["PM2.5"], "SO2": at["SO2"],
                         "NO2": xr.apply_ufunc(arm2_no2, at["NOx"])}).transpose("time", "city")
    out = daily_products(hourly)
    daily_map = daily_mean(result.surface["PM2.5"]).sel(date=out["date"])
    out["pm25_daily_map"] = daily_map.drop_vars(
        [c for c in daily_map.coords if c not in ("date", "y", "x")]).assign_attrs(
        units="ug m-3", long_name="daily mean surface PM2.5 (CST day)")
    return out
