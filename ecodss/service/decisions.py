"""The synchronous decision calls: ``POST /aqi`` and ``POST /alert-level``.

Both call the library functions (:func:`ecodss.emergency.aqi`, :func:`ecodss.emergency.alert_level`)
on the whole request at once — one vectorized call per table version — and reshape the result into
JSON records.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from .schemas import POLLUTANT_FIELDS, POLLUTANT_NAMES, AlertRequest, AQIRequest


def _today_cst() -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()


def compute_aqi(body: AQIRequest) -> dict:
    """IAQI/AQI/primary pollutant/category of every record (HJ 633-2012 Eq. 1-2, Table 2)."""
    from ..emergency import aqi, standard_for_date

    frame = pd.DataFrame([[getattr(r, f) for f in POLLUTANT_FIELDS] for r in body.records],
                         columns=list(POLLUTANT_NAMES), dtype=float)
    frame = frame.loc[:, frame.notna().any()]
    if body.standard is not None:
        standards = np.full(len(body.records), body.standard, dtype=object)
    else:
        today = _today_cst()
        standards = np.asarray([standard_for_date(r.date or today) for r in body.records],
                               dtype=object)
    results: list[dict | None] = [None] * len(body.records)
    for std in np.unique(standards):  # at most the two table versions
        rows = np.flatnonzero(standards == std)
        sub = frame.iloc[rows]
        sub = sub.loc[:, sub.notna().any()]
        ds = xr.Dataset({c: ("record", sub[c].to_numpy()) for c in sub.columns})
        table = aqi(ds, averaging=body.averaging, standard=str(std))
        aqi_v, iaqi = table["aqi"].values, table["iaqi"].transpose("record", "pollutant").values
        pols = [str(p) for p in table["pollutant"].values]
        for k, i in enumerate(rows):  # output formatting, one record each
            rec = body.records[i]
            value = aqi_v[k]
            results[i] = {
                "id": rec.id, "date": rec.date, "standard": str(std),
                "aqi": None if np.isnan(value) else int(value) if value == int(value)
                else float(value),
                "iaqi": {p: None if np.isnan(v) else float(v) for p, v in zip(pols, iaqi[k],
                                                                                strict=True)},
                "primary_pollutant": [p for p in str(table["primary_pollutant"].values[k])
                                      .split(",") if p],
                "category": int(table["category"].values[k]),
                "category_name": str(table["category_name"].values[k]),
                "category_name_zh": str(table["category_name_zh"].values[k]),
                "colour": str(table["colour"].values[k]),
            }
    return {"averaging": body.averaging,
            "references": "HJ 633-2012 (and HJ 633-2026 where in force), Table 1-2, Eq. 1-2",
            "results": results}


def compute_alert(body: AlertRequest) -> dict:
    """Alert level, periods and reduction shares of every city (2018 scheme)."""
    from ..emergency import alert_level

    values = np.asarray([c.daily_aqi for c in body.cities], dtype=float).T  # (date, city)
    days = np.datetime64(body.start, "D") + np.arange(values.shape[0])
    da = xr.DataArray(values, dims=("date", "city"),
                      coords={"date": days, "city": [c.city for c in body.cities]})
    return alert_level(da, orange_requires_300=body.orange_requires_300,
                       day_dim="date").to_dict()
