"""Emergency plan pieces shared by the city and regional forecast chains (``ecodss demo``).

The plan itself is :func:`ecodss.emergency.plan`; this module turns its table back into emission
cuts per inventory source, the hourly alert mask, and the JSON record of ``decision.json``.
Everything stays linear, as in the plan: a source's cut fraction of pollutant ``p`` is the sum
over the plan rows covering it of ``level × η_p`` (capped at 1), applied on its city's alert days
only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Local time of the forecast days (China Standard Time) [h].
UTC_OFFSET_H = 8


def source_cities(inventory, cities) -> np.ndarray:
    """City of each source of ``inventory._table("all")``: its ``city``, else the one city."""
    table = inventory._table("all")
    if "city" in table.columns and (table["city"] != "").any():
        return table["city"].astype(str).to_numpy(dtype=object)
    return np.full(len(table), str(list(cities)[0]), dtype=object)


def source_cut_fractions(result, inventory, measures, pollutants) -> pd.DataFrame:
    """Fraction [1] of each source's emission of each pollutant cut by the plan on alert days.

    Parameters
    ----------
    result : EmergencyPlan
        :func:`ecodss.emergency.plan` output (its ``table``: one row per applied action).
    inventory : Inventory
        The inventory planned for; rows follow ``inventory._table("all")`` (as the plan's).
    measures : Measures
    pollutants : list of str

    Returns
    -------
    DataFrame (source id × pollutant), values in [0, 1]. Enterprise rows cover the point
    sources of their enterprise, sector rows every source of their sector in their city.
    """
    table = inventory._table("all")
    pols = list(pollutants)
    rows = result.table
    out = pd.DataFrame(0.0, index=table["id"].astype(str), columns=pols)
    if not len(rows):
        return out
    mt = measures.table
    eff = pd.DataFrame(measures.efficiencies(pols), index=mt["measure"].to_numpy(), columns=pols)
    per_row = eff.reindex(rows["measure"]).to_numpy(float) * rows["level"].to_numpy(float)[:, None]
    city = source_cities(inventory, result.levels)
    ent = table["enterprise"].astype(str) if "enterprise" in table.columns else \
        pd.Series("", index=table.index)
    ent = ent.where(ent != "", table["id"].astype(str)).where(table["kind"] == "point", "")
    src_key = {"enterprise": ("E|" + ent).to_numpy(dtype=object),
               "sector": ("S|" + pd.Series(city) + "|" + table["sector"].astype(str)).to_numpy(
                   dtype=object)}
    row_key = np.where(rows["kind"] == "enterprise", "E|" + rows["target"].astype(str),
                       "S|" + rows["city"].astype(str) + "|" + rows["target"].astype(str))
    f = np.zeros((len(table), len(pols)))
    for kind, keys in src_key.items():  # two kinds of plan rows
        sel = (rows["kind"] == kind).to_numpy()
        if sel.any():
            summed = pd.DataFrame(per_row[sel], index=row_key[sel]).groupby(level=0).sum()
            f += summed.reindex(keys).fillna(0.0).to_numpy(float)
    out[:] = np.clip(f, 0.0, 1.0)
    return out


def label_cut_fractions(fractions: pd.DataFrame, inventory, labels, by: str) -> pd.DataFrame:
    """Emission-weighted cut fractions of groups of sources (``labels`` of column ``by``)."""
    table = inventory._table("all")
    key = table[by].astype(str).to_numpy()
    e = table[list(fractions.columns)].to_numpy(float)
    cut = pd.DataFrame(e * fractions.to_numpy(float), columns=fractions.columns).groupby(key).sum()
    tot = pd.DataFrame(e, columns=fractions.columns).groupby(key).sum()
    share = (cut / tot.where(tot > 0)).fillna(0.0)
    return share.reindex(list(labels)).fillna(0.0)


def alert_hours(result, times, city=None) -> np.ndarray:
    """Hourly alert mask (time,) or (city, time): hours whose CST day is one of the plan's days."""
    conc = result.concentrations
    day = (np.asarray(times, "datetime64[h]") + np.timedelta64(UTC_OFFSET_H, "h")).astype(
        "datetime64[D]")
    dates = conc["date"].values.astype("datetime64[D]")
    on = np.asarray(conc["alert_day"].values, bool)  # (city, date)
    idx = pd.Index(dates).get_indexer(day)
    mask = np.where(idx[None, :] >= 0, on[:, np.maximum(idx, 0)], False)
    if city is not None:
        return mask[conc["city"].values.tolist().index(city)]
    return mask


def peak_alert_day(result, pm25) -> str | None:
    """The alert day with the highest forecast PM2.5 (mean over the cities on alert)."""
    conc = result.concentrations
    on = np.asarray(conc["alert_day"].values, bool)
    if not on.any():
        return None
    values = np.where(on & np.isfinite(pm25), np.asarray(pm25, float), 0.0)
    score = values.sum(axis=0) / np.maximum(on.sum(axis=0), 1)
    return str(conc["date"].values[int(np.argmax(np.where(on.any(axis=0), score, -np.inf)))])[:10]


def status_label(status: str) -> str:
    """Short label of a plan status for titles."""
    return "best effort: no plan meets the level" if status == "infeasible" else status


def plan_record(result, *, aqi_with_plan=None, basis: str, map_file: str | None,
                notes=()) -> dict:
    """The ``emergency_plan`` entry of ``decision.json``.

    ``aqi_with_plan`` (city, date), when given, replaces the plan's PM2.5-only AQI with the AQI
    recomputed from every AQI pollutant with the plan's cuts.
    """
    if not (np.asarray(result.concentrations["level"].values) > 0).any():
        return {"status": "no alert, no plan", "cost_cny": 0.0, "actions": [], "reductions": [],
                "cities": [], "notes": ["the forecast triggers no alert: no plan is needed"],
                "infeasibility": None, "map": None}
    rec = result.to_dict()
    conc = result.concentrations
    days = conc["alert_day"].values
    for i, city in enumerate(rec["cities"]):  # one entry per city
        city["alert_days"] = [str(d)[:10] for d in conc["date"].values[days[i]]]
        if aqi_with_plan is not None:
            city["aqi_with_plan"] = [None if not np.isfinite(v) else int(v)
                                     for v in np.asarray(aqi_with_plan)[i]]
    rec["notes"] = list(rec["notes"]) + list(notes)
    rec["with_plan_basis"] = basis
    rec["meets_level"] = bool(result.status == "optimal")
    rec["map"] = map_file
    return rec
