"""Least-cost emergency curtailment plan for the sample city's forecast haze episode.

Runs the Gaussian plume on the Shijiazhuang sample (sector contributions at the seven stations,
:func:`ecodss.apportion.source_receptor.source_receptor` when available), forms the city's daily
PM2.5 forecast (local sources + regional background), and plans the forecast alert with
:func:`ecodss.emergency.plan`: first the required emission-reduction shares, then also the PM2.5
threshold, which the background alone exceeds — the infeasibility report says so.

    python examples/emergency_plan.py
"""

import time

import numpy as np
import pandas as pd
import xarray as xr

from ecodss.apportion.source_receptor import source_receptor
from ecodss.emergency import plan
from ecodss.inventory import Inventory
from ecodss.met.dataset import met_from_dataframe
from ecodss.samples import load_sample
from ecodss.samples_measures import load_enterprises, load_measures
from ecodss.timeutil import daily_mean


def sector_contributions(inv, met, stations, urban):
    """Hourly PM2.5 contribution of each sector at each station [µg m-3] (time, source,
    receptor), from the source–receptor matrix of the plume model."""
    sr = source_receptor("gaussian_plume", inv, met, stations[["id", "x", "y"]], by="sector",
                         pollutant="PM2.5", average=False,
                         model_kwargs={"urban": urban, "area_subdivisions": 3})
    return sr["contribution"].sel(species="PM2.5")


def main():
    start = time.perf_counter()
    case = load_sample()
    city = case.domain["city"]
    inv = Inventory.from_points(case.points, units="t/yr").combine(
        Inventory.from_areas(case.areas, units="t/yr"))
    met = met_from_dataframe(case.met, units={"cloud_cover": "tenths"})
    contrib = sector_contributions(inv, met, case.stations, urban=bool(case.domain["urban"]))
    # city = mean of its stations (HJ 663); source-receptor matrix with the city as receptor
    city_contrib = contrib.mean("receptor").expand_dims(receptor=[city])
    sr = xr.Dataset({"contribution": city_contrib.expand_dims(species=["PM2.5"])})
    bg = case.background.set_index(pd.DatetimeIndex(case.background["time"]).tz_localize(None))
    bg_pm = xr.DataArray(bg["PM2.5"].reindex(pd.DatetimeIndex(met["time"].values)).to_numpy(),
                         dims="time", coords={"time": met["time"].values})
    hourly = city_contrib.sum("source").sel(receptor=city) + bg_pm
    daily = daily_mean(hourly).dropna("date")
    forecast = xr.Dataset({"PM2.5": daily.expand_dims(city=[city])})
    print(f"{city}: forecast daily PM2.5 [ug/m3]",
          dict(zip([str(d)[:10] for d in daily["date"].values],
                   np.round(daily.values, 1).tolist(), strict=True)))

    measures, enterprises = load_measures(), load_enterprises()
    result = plan(forecast, inv, measures, sr, enterprises=enterprises)
    level = result.levels[city]
    print(f"\nalert level {level}; plan status {result.status}; cost "
          f"{result.cost / 1e6:.1f} M CNY over {int(result.table['days'].max())} alert days")
    print(result.reductions[["group", "pollutant", "required_share", "achieved_share",
                             "met"]].to_string(index=False))
    summary = result.table.groupby(["kind", "measure"]).agg(
        n=("target", "size"), cost_MCNY=("cost", lambda c: c.sum() / 1e6),
        cut_PM10_t=("cut_PM10", "sum"), cut_NOx_t=("cut_NOx", "sum"))
    print("\n" + summary.round(1).to_string())
    conc = result.concentrations.sel(city=city)
    print("\nPM2.5 without / with plan:", np.round(conc["pm25"].values, 1).tolist(), "/",
          np.round(conc["pm25_with_plan"].values, 1).tolist())
    print("AQI   without / with plan:", conc["aqi"].values.tolist(), "/",
          conc["aqi_with_plan"].values.tolist())

    strict = plan(forecast, inv, measures, sr, enterprises=enterprises, pm25_target=True)
    print(f"\nwith the PM2.5 <= 150 ug/m3 target: status {strict.status}")
    if strict.report is not None:
        print(strict.report.message)
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
