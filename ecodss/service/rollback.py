"""Proportional rollback of a daily forecast: the cheap what-if model of the ``rollback`` process.

Linear rollback (de Nevers & Morris 1975, *J. Air Pollut. Control Assoc.* 25(9):943-947, Eq. 1):
the part of a concentration above the regional background scales with the local emissions,

.. math:: C' = B + (1 - r) (C - B)

with ``C`` the forecast [ug m-3], ``B`` the background and ``r`` the fractional emission cut of
the pollutant's precursors. ``cut`` applies one ``r`` to every pollutant; ``level`` applies the
2018 scheme's reduction shares of an alert level (SO2 -> SO2, NOx -> NO2, PM -> PM2.5/PM10,
VOCs -> O3; CO is left unchanged). Proportionality ignores chemistry and transport from outside
the region — a screening estimate for an officer, not a forecast model.

The member function reads the uploaded forecast from the file the server wrote
(``ctx.inputs.sample``, content-addressed) and returns the batch's daily layout: ``pm25_daily``,
``aqi``, ``alert_level`` over ``(city, date)``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

#: Alert-scheme reduction pollutant that drives each AQI pollutant under ``level``.
LEVEL_DRIVER = {"SO2": "SO2", "NO2": "NOx", "PM2.5": "PM", "PM10": "PM", "O3": "VOCs"}
POLLUTANTS = ("SO2", "NO2", "PM10", "PM2.5", "CO", "O3")


def rollback(conc, background, cut):
    """Concentration after a fractional cut of local emissions (de Nevers & Morris 1975, Eq. 1).

    Parameters
    ----------
    conc : array_like  [ug m-3]
        Forecast concentration.
    background : array_like  [ug m-3]
        Regional background, unaffected by the cut (clipped to ``conc``).
    cut : array_like  [1]
        Fraction of local emissions removed, 0-1.
    """
    conc = np.asarray(conc, dtype=float)
    b = np.minimum(np.asarray(background, dtype=float), conc)
    return b + (1.0 - np.asarray(cut, dtype=float)) * (conc - b)


def pollutant_cuts(params: dict) -> dict[str, float]:
    """Cut of each AQI pollutant from member parameters ``cut`` and/or ``level``."""
    from ..emergency.alerts import load_rules

    cut = float(params.get("cut", 0.0))
    shares = dict.fromkeys(POLLUTANTS, 0.0)
    level = int(params.get("level", 0) or 0)
    if level:
        row = load_rules().reduction_shares(level)
        shares.update({p: row[d] for p, d in LEVEL_DRIVER.items()})
    return {p: 1.0 - (1.0 - cut) * (1.0 - s) for p, s in shares.items()}


def forecast_dataset(records: list[dict]) -> xr.Dataset:
    """Tidy ``{city, date, <pollutant>...}`` records as a Dataset over (date, city)."""
    frame = pd.DataFrame.from_records(records)
    frame["date"] = pd.to_datetime(frame["date"])
    cols = [p for p in POLLUTANTS if p in frame and frame[p].notna().any()]
    ds = frame.set_index(["date", "city"])[cols].to_xarray()
    for p in cols:
        ds[p].attrs["units"] = "mg m-3" if p == "CO" else "ug m-3"
    return ds


def member(ctx) -> xr.Dataset:
    """Batch member: the uploaded forecast rolled back by the member's cut, AQI and alert level."""
    from ..emergency import alert_level, aqi

    with open(ctx.inputs.sample, encoding="utf-8") as fh:
        upload = json.load(fh)
    ds = forecast_dataset(upload["forecast"])
    cuts = pollutant_cuts(ctx.params)
    background = upload.get("background", {})
    scaled = xr.Dataset({p: ds[p].copy(data=rollback(ds[p].values, background.get(p, 0.0),
                                                     cuts[p])).assign_attrs(ds[p].attrs)
                         for p in ds.data_vars})
    table = aqi(scaled, averaging="24h")
    levels = alert_level(table["aqi"].transpose("date", "city"), day_dim="date")
    out = xr.Dataset({
        "aqi": table["aqi"].assign_attrs(units="1", long_name="daily AQI (HJ 633)"),
        "alert_level": levels.dataset["day_level"].astype(np.int8).assign_attrs(
            units="1", long_name="heavy-pollution alert level of the day's episode",
            flag_values=np.arange(4, dtype=np.int8), flag_meanings="none yellow orange red"),
    })
    names = {"PM2.5": "pm25_daily", "PM10": "pm10_daily", "SO2": "so2_daily",
             "NO2": "no2_daily", "CO": "co_daily", "O3": "o3_8h_daily"}
    for p, var in scaled.data_vars.items():
        out[names[p]] = var.assign_attrs(long_name=f"daily {p} after the cut (rollback)")
    out.attrs["references"] = "de Nevers & Morris (1975) JAPCA 25:943; HJ 633-2012; 2018 scheme"
    return out.transpose("city", "date")
