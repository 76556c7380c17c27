"""Least-cost emergency curtailment plan for a heavy-pollution alert (mixed-integer program).

For the alert level of each city (2018 unified scheme, :mod:`ecodss.emergency.alerts`) the plan
chooses per-enterprise actions (binary: own measures, production limits, partial or full stops,
restricted by the enterprise's performance grade, MEE 2020 technical guide 340号) and per-sector
measures (continuous penetration: traffic, dust, residential) that

(a) cut SO2, NOx, PM and VOCs by at least the level's share of the city's whole-inventory
    emissions over the alert period (Tianjin plan: "SO2、NOx、PM、VOCs 在黄色、橙色和红色预警期间的减排量
    分别达到全社会排放总量的10%、20%和30%以上"; PM = primary PM10 by default);
(b) optionally bring each city's forecast daily PM2.5 to the alert threshold or below (the PM2.5
    concentration at AQI = 200, 150 µg m-3 in HJ 633 Table 1), with the linear source–receptor
    contributions: ``C_with = C_forecast − Σ_v x_v · Δc_v``;
(c) respect the grades and mutually exclusive measures,

at least economic cost (lost value added of production cuts, daily cost of sector measures),
solved by HiGHS branch and cut (:func:`scipy.optimize.milp`; proven optimal for small
plans, within a 0.01 % gap for large ones, :func:`default_gap`). When no
plan meets every target, the result carries an
:class:`~ecodss.optimize.solver.InfeasibilityReport` naming the binding targets (elastic program)
and the cheapest best-effort plan, instead of raising.

Linear assumptions: actions add their cuts on the emissions they cover (no sector may carry both
enterprise actions and a sector measure), and a source's contribution at a receptor scales with its
emission (exact for the Gaussian plume/puff and the linear Eulerian model; for secondary PM it is
the tagged-contribution approximation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

from ..errors import ConfigError, InvalidValueError, MissingFieldError
from ..inventory.measures import Measures, enterprise_table, load_grade_rules
from ..optimize.solver import InfeasibilityReport, TargetProgram, diagnose, solve_program
from ..validation import check_range
from .alerts import REDUCTION_POLLUTANTS, alert_level, load_rules
from .uncertainty import _aqi_to_pm25

#: Binary variables up to which the default plan is proven optimal (gap 0); above, the default
#: relative gap is :data:`LARGE_MIP_GAP`. The covering MILP's LP bound is tight but proving the
#: last 0.01 % costs most of the time (benchmarks/optimize.py, 2,000 enterprises: gap 1e-3
#: 1.5 s, 1e-4 3.6 s, 1e-5 40 s, 0 hits the 120 s limit); 0.01 % is far below the uncertainty
#: of the value-added costs themselves.
EXACT_MIP_UP_TO = 500
LARGE_MIP_GAP = 1e-4


def default_gap(n_binary: int) -> float:
    """HiGHS ``mip_rel_gap`` used when :func:`plan` is not given one."""
    return 0.0 if n_binary <= EXACT_MIP_UP_TO else LARGE_MIP_GAP


#: Inventory pollutant standing for each reduction group (PM configurable).
GROUP_POLLUTANT = {"SO2": "SO2", "NOx": "NOx", "PM": "PM10", "VOCs": "VOCs"}
_LOCAL_OFFSET_H = 8.0


@dataclass
class EmergencyPlan:
    """A curtailment plan and its justification (:func:`plan`).

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"infeasible"`` (then ``table`` is the best-effort plan and ``report``
        names the binding targets), ``"no alert"`` or a solver status.
    table : DataFrame
        One row per action: ``city, kind`` (enterprise|sector), ``target`` (enterprise id or
        sector), ``name, sector, grade, measure, action, level`` (1 for enterprise actions, the
        penetration for sector measures), ``days``, ``cut_<pollutant>`` [t over the alert period],
        ``cost`` [CNY].
    reductions : DataFrame
        Per city and group (SO2, NOx, PM, VOCs): ``pollutant``, ``total_t``, ``required_share``,
        ``required_t``, ``achieved_t``, ``achieved_share``, ``met``.
    concentrations : xr.Dataset
        (city, date): forecast ``pm25`` and ``pm25_with_plan`` [µg m-3], ``aqi`` and
        ``aqi_with_plan``, ``alert_day``; ``level`` per city.
    cost : float
        Total cost [CNY].
    """

    status: str
    table: pd.DataFrame
    reductions: pd.DataFrame
    concentrations: xr.Dataset
    cost: float
    levels: dict
    report: InfeasibilityReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "no alert")

    def to_dict(self) -> dict:
        """JSON-ready summary (plan rows, reductions, per-city forecasts, report)."""
        conc = self.concentrations
        cities = []
        for c in conc["city"].values.tolist():  # output formatting, one entry per city
            sub = conc.sel(city=c)
            cities.append({"city": str(c), "level": int(self.levels.get(c, 0)),
                           "dates": [str(d)[:10] for d in sub["date"].values],
                           **{v: [None if not np.isfinite(x) else round(float(x), 2)
                                  for x in sub[v].values]
                              for v in ("pm25", "pm25_with_plan", "aqi", "aqi_with_plan")}})
        table = self.table.copy()
        for col in table.select_dtypes("number").columns:
            table[col] = table[col].astype(float).round(4)
        return {"status": self.status, "cost_cny": round(float(self.cost), 2),
                "actions": table.to_dict(orient="records"),
                "reductions": self.reductions.round(4).to_dict(orient="records"),
                "cities": cities, "notes": list(self.notes),
                "infeasibility": self.report.to_dict() if self.report is not None else None}


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
def _forecast_dataset(forecast, city_dim: str) -> xr.Dataset:
    """Daily forecast as a Dataset (city, date) with at least ``PM2.5`` [µg m-3]."""
    if isinstance(forecast, xr.DataArray):
        forecast = forecast.to_dataset(name=forecast.name or "PM2.5")
    if not isinstance(forecast, xr.Dataset):
        raise InvalidValueError("forecast must be an xarray Dataset/DataArray of daily "
                                "concentrations (city, date)", field="forecast")
    ds = forecast.rename({k: "PM2.5" for k in ("PM2_5", "PM25") if k in forecast})
    if "PM2.5" not in ds:
        raise MissingFieldError("the forecast needs daily PM2.5 [ug m-3]", field="PM2.5",
                                where="forecast")
    if "date" not in ds.dims:
        raise MissingFieldError(f"the forecast needs a 'date' dim, has {tuple(ds.dims)}",
                                field="date", where="forecast")
    if city_dim not in ds.dims:
        ds = ds.expand_dims({city_dim: ["city"]})
    if city_dim != "city":
        ds = ds.rename({city_dim: "city"})
    if "city" not in ds.coords:
        ds = ds.assign_coords(city=np.arange(ds.sizes["city"]).astype(str))
    ds = ds.assign_coords(city=ds["city"].astype(str).values)
    return ds.transpose("city", "date", ...)


def _alert(ds: xr.Dataset, aqi_da: xr.DataArray, level, rules, days):
    """Per city: level (int), alert-day mask (city, date)."""
    valid = np.isfinite(aqi_da.values)
    cities = ds["city"].values.tolist()
    n_c, n_d = aqi_da.shape
    decided = np.zeros(n_c, int)
    episode = np.zeros((n_c, n_d), bool)
    if valid.any(axis=1).any():
        keep = valid.all(axis=0)  # partial first/last days carry no AQI
        sub = aqi_da.isel(date=np.flatnonzero(keep))
        dec = alert_level(sub.clip(0, 500), rules=rules, day_dim="date", city_dim="city")
        decided = np.atleast_1d(np.asarray(dec.dataset["level"].values, int))
        episode[:, keep] = np.atleast_2d(dec.dataset["day_level"].values) > 0
        period = np.zeros((n_c, n_d), bool)
        period[:, keep] = np.atleast_2d(dec.dataset["alert_period"].values)
    else:
        period = np.zeros((n_c, n_d), bool)
    names = rules.level_names
    if level is None:
        levels = decided
    else:
        mapping = level if isinstance(level, dict) else dict.fromkeys(cities, level)
        raw = [mapping.get(c, 0) for c in cities]
        levels = np.array([names.index(v) if isinstance(v, str) else int(v) for v in raw], int)
        check_range(levels, "level", 0, len(names) - 1, ids=cities, kind="city")
        period = np.where(levels[:, None] == decided[:, None], period, episode)
        none_yet = (levels > 0) & ~period.any(axis=1)
        period[none_yet] = valid[none_yet]  # forced level without an episode: every valid day
    if days is not None:
        wanted = np.asarray(pd.to_datetime(list(days)).values.astype("datetime64[D]"))
        have = ds["date"].values.astype("datetime64[D]")
        period = np.broadcast_to(np.isin(have, wanted), period.shape) & (levels[:, None] > 0)
    period &= levels[:, None] > 0
    return levels, period


def _source_cities(inventory, cities) -> np.ndarray:
    table = inventory._table("all")
    if "city" in table.columns and (table["city"] != "").any():
        src_city = table["city"].astype(str).to_numpy(dtype=object)
        unknown = sorted(set(src_city) - set(cities))
        if unknown:
            raise InvalidValueError(f"inventory cities {unknown[:5]} are not in the forecast "
                                    f"{cities}", field="city", where="inventory")
        return src_city
    if len(cities) != 1:
        raise MissingFieldError(f"the forecast has {len(cities)} cities but the inventory has no "
                                "'city' column to assign its sources", field="city",
                                where="inventory")
    return np.full(len(table), cities[0], dtype=object)


def _period_emissions(inventory, src_city, cities, dates, period, temporal: bool):
    """Emissions of each source over its city's alert days [t], (source, pollutant)."""
    table = inventory._table("all")
    pols = list(inventory.pollutants)
    city_idx = pd.Index(cities).get_indexer(src_city)
    if not temporal:
        n_days = period.sum(axis=1)[city_idx]
        return table[pols].to_numpy(float) * (86400.0 * n_days / 1e6)[:, None]
    day0 = np.asarray(dates, dtype="datetime64[D]").astype("datetime64[h]")
    local = (day0[:, None] + np.arange(24).astype("timedelta64[h]")[None, :]).ravel()
    utc = pd.DatetimeIndex(local - np.timedelta64(int(_LOCAL_OFFSET_H), "h"))
    fac = inventory.hourly_factors(utc, kind="all", utc_offset_hours=_LOCAL_OFFSET_H).values
    hour_on = np.repeat(period, 24, axis=1)  # (city, hour)
    hours = (fac * hour_on[city_idx].T).sum(axis=0)  # (source,) hours at full annual-mean rate
    return table[pols].to_numpy(float) * (3600.0 * hours / 1e6)[:, None]


def _daily_contributions(source_receptor, species, ds, cities):
    """Daily contributions (sr_source, city, date) of ``species`` [µg m-3] and SR source labels."""
    if "contribution" not in source_receptor:
        raise MissingFieldError("source_receptor needs a 'contribution' variable",
                                field="contribution", where="source_receptor")
    c = source_receptor["contribution"]
    if "species" in c.dims:
        if species not in c["species"].values:
            raise MissingFieldError(f"no {species!r} in the source-receptor species "
                                    f"{c['species'].values.tolist()}", field=species,
                                    where="source_receptor")
        c = c.sel(species=species)
    if "time" in c.dims:
        from ..timeutil import daily_mean

        c = daily_mean(c)
    recs = c["receptor"].astype(str).values
    if set(recs) >= set(cities):
        c = c.assign_coords(receptor=recs).sel(receptor=list(cities))
    elif "city" in c.coords:
        c = c.groupby(c["city"].astype(str)).mean("receptor").rename(city="receptor")
        c = c.reindex(receptor=list(cities))
    else:
        raise MissingFieldError("source-receptor receptors are neither the forecast cities nor "
                                "carry a 'city' coordinate", field="receptor",
                                where="source_receptor")
    if "date" in c.dims:
        c = c.assign_coords(date=c["date"].values.astype("datetime64[ns]")).reindex(
            date=ds["date"].values.astype("datetime64[ns]"))
        values = c.transpose("source", "receptor", "date").values
    else:  # a period-mean matrix applies to every day
        values = np.repeat(c.transpose("source", "receptor").values[..., None], ds.sizes["date"],
                           axis=2)
    return np.asarray(values, float), c["source"].astype(str).values


def _sr_weights(inventory, sr_sources, pollutant) -> sp.csr_array:
    """(inventory source, SR source) emission shares: a source's part of its SR source's emission.

    SR sources are matched by source id, else enterprise, else sector (any mix).
    """
    table = inventory._table("all")
    lookup = pd.Index(sr_sources)
    j = lookup.get_indexer(table["id"].astype(str))
    for col in ("enterprise", "sector"):
        if col in table.columns:
            alt = lookup.get_indexer(table[col].astype(str))
            j = np.where(j < 0, alt, j)
    e = table[pollutant].to_numpy(float) if pollutant in table.columns else np.zeros(len(table))
    ok = j >= 0
    total = np.bincount(j[ok], weights=e[ok], minlength=len(lookup))
    w = np.where(ok, e / np.where(total[np.maximum(j, 0)] > 0, total[np.maximum(j, 0)], 1), 0)
    return sp.csr_array((w[ok], (np.flatnonzero(ok), j[ok])), shape=(len(table), len(lookup))), ok


# ---------------------------------------------------------------------------------------------
# the program
# ---------------------------------------------------------------------------------------------
def _variables(ent, inv_table, src_city, measures, grade_rules, cities, levels,
               enforce_minimum):
    """Enterprise (binary) and sector (continuous) decision variables, as index arrays."""
    active = dict(zip(cities, levels > 0, strict=True))
    em = measures.select(horizon="emergency", scope="enterprise")
    sm = measures.select(horizon="emergency", scope="sector")
    # enterprise × measure: grade rules, sector applicability, city on alert
    et = em.table
    allowed = grade_rules.allowed(ent["grade"].to_numpy(dtype=object),
                                  et["action"].to_numpy(dtype=object),
                                  enforce_minimum=enforce_minimum) if len(et) else \
        np.zeros((len(ent), 0), bool)
    ok = allowed & em.applies(ent["sector"].to_numpy(dtype=object)).T
    ok &= np.isin(ent["city"].to_numpy(dtype=object),
                  np.asarray(cities, dtype=object)[levels > 0])[:, None]
    e_idx, m_idx = np.nonzero(ok)
    # city × sector × sector-measure
    st = sm.table
    pairs = pd.DataFrame({"city": src_city, "sector": inv_table["sector"].astype(str)})
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs = pairs[pairs["city"].map(active).fillna(False).astype(bool)].reset_index(drop=True)
    app = sm.applies(pairs["sector"].to_numpy(dtype=object)) if len(st) else \
        np.zeros((0, len(pairs)), bool)
    sm_idx, p_idx = np.nonzero(app)
    clash = set(pairs["sector"].to_numpy()[p_idx]) & set(ent["sector"].to_numpy()[e_idx])
    if clash:
        raise ConfigError(f"sector(s) {sorted(clash)} carry both enterprise actions and sector "
                          "measures; their cuts would be counted twice")
    return em, e_idx, m_idx, sm, sm_idx, pairs.iloc[p_idx].reset_index(drop=True)


def plan(forecast, inventory, measures, source_receptor: xr.Dataset | None = None, *,
         level=None, enterprises: pd.DataFrame | None = None, pm_pollutant: str = "PM10",
         pm25_target: bool = False, pm25_threshold: float | None = None,
         alert_rules="2018", grade_rules="2020", enforce_grade_minimum: bool = False,
         default_grade: str | None = None, temporal: bool = True, days=None,
         city_dim: str = "city", mip_rel_gap: float | None = None,
         time_limit: float | None = 120.0) -> EmergencyPlan:
    """Least-cost emergency curtailment plan for the forecast alert (MILP, HiGHS).

    Parameters
    ----------
    forecast : xr.Dataset or DataArray
        Daily forecast (``city``, ``date``; local CST dates) with ``PM2.5`` [µg m-3] and
        optionally the other HJ 633 pollutants (``PM10 SO2 NO2 CO O3_8h``) for the AQI.
    inventory : Inventory
        The whole inventory (all sectors); a ``city`` column assigns sources to cities (needed
        when the forecast has several). Point sources carry ``enterprise`` and ``grade``.
    measures : Measures, DataFrame or path
        Measures table; its ``horizon == "emergency"`` rows are used.
    source_receptor : xr.Dataset, optional
        ``contribution`` (source, receptor, species[, time|date]) [µg m-3] in the agreed layout
        (:mod:`ecodss.apportion.source_receptor`); sources may be stack ids, enterprises or
        sectors, receptors cities or stations with a ``city`` coordinate. Needed for
        ``pm25_target`` and for the with-plan forecast.
    level : int, str or {city: level}, optional
        Alert level to plan for (1 yellow, 2 orange, 3 red); default: the level the forecast
        triggers per city (:func:`~ecodss.emergency.alerts.alert_level`).
    enterprises : DataFrame, optional
        ``enterprise, grade, value_added`` [CNY d-1] (needed for value-added costs).
    pm_pollutant : {"PM10", "PM2.5"}
        Inventory pollutant of the "PM" reduction share.
    pm25_target : bool
        Also require the with-plan daily PM2.5 of every city to be <= ``pm25_threshold`` on its
        alert days (default threshold: the concentration at AQI = 200, 150 µg m-3).
    alert_rules, grade_rules
        Alert scheme (``"2018"``) and grade rules (``"2020"``), names, paths or objects.
    enforce_grade_minimum : bool
        Every enterprise of a city on alert takes at least its grade's guide action.
    temporal : bool
        Period emissions with the inventory's temporal profiles (else annual-mean rates).
    days : list of dates, optional
        Alert days to plan for (default: the alert period of each city).
    mip_rel_gap, time_limit
        HiGHS options; default gap: 0 (proven optimum) up to :data:`EXACT_MIP_UP_TO` binary
        variables, else :data:`LARGE_MIP_GAP` (:func:`default_gap`).

    Returns
    -------
    EmergencyPlan
    """
    from .aqi import aqi as aqi_fn

    rules = load_rules(alert_rules)
    grades = load_grade_rules(grade_rules)
    ms = Measures.coerce(measures)
    if pm_pollutant not in ("PM10", "PM2.5"):
        raise InvalidValueError(f"pm_pollutant={pm_pollutant!r} must be 'PM10' or 'PM2.5'",
                                field="pm_pollutant")
    group_pol = {**GROUP_POLLUTANT, "PM": pm_pollutant}
    for g in REDUCTION_POLLUTANTS:
        inventory.check_pollutant(group_pol[g])
    ds = _forecast_dataset(forecast, city_dim)
    cities = ds["city"].values.tolist()
    dates = ds["date"].values.astype("datetime64[D]")
    aqi_without = aqi_fn(ds[[v for v in ds.data_vars if v in
                             ("PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "O3_8h")]],
                         averaging="24h")["aqi"].transpose("city", "date")
    levels, period = _alert(ds, aqi_without, level, rules, days)
    shares = rules.reduction_table()[levels]  # (city, group)

    inv_table = inventory._table("all")
    pols = list(inventory.pollutants)
    src_city = _source_cities(inventory, cities)
    e_period = _period_emissions(inventory, src_city, cities, dates, period, temporal)
    city_of_src = pd.Index(cities).get_indexer(src_city)
    totals = np.zeros((len(cities), len(pols)))
    np.add.at(totals, city_of_src, e_period)
    n_days = period.sum(axis=1)

    # enterprises (point sources) and sector groups
    ent = enterprise_table(inventory, enterprises, grade_rules=grades,
                           default_grade=default_grade)
    if "city" not in ent.columns or (ent["city"] == "").all() or len(cities) == 1:
        pts_city = src_city[inv_table["kind"].to_numpy() == "point"]
        first = pd.Series(pts_city).groupby(_enterprise_key(inventory)).first()
        ent["city"] = first.reindex(ent["enterprise"]).to_numpy(dtype=object)
    em, e_idx, m_idx, sm, sm_idx, pairs = _variables(ent, inv_table, src_city, ms, grades,
                                                     cities, levels, enforce_grade_minimum)
    n_e, n_s = len(e_idx), len(sm_idx)
    n = n_e + n_s
    ms.select(horizon="emergency").check_additivity(inv_table["sector"].astype(str).unique())

    # coverage K (variable × inventory source) and cuts per variable [t over the period]
    is_point = inv_table["kind"].to_numpy() == "point"
    src_ent = pd.Index(ent["enterprise"]).get_indexer(_enterprise_key(inventory, all_rows=True))
    src_ent = np.where(is_point, src_ent, -1)
    ent_src = sp.csr_array((np.ones(is_point.sum()), (src_ent[is_point], np.flatnonzero(
        is_point))), shape=(len(ent), len(inv_table)))
    pair_key = pd.MultiIndex.from_arrays([src_city, inv_table["sector"].astype(str)])
    pair_idx = pd.MultiIndex.from_frame(pairs[["city", "sector"]]).get_indexer(pair_key) \
        if n_s else np.full(len(inv_table), -1)
    hit = pair_idx >= 0
    pair_src = sp.csr_array((np.ones(hit.sum()), (pair_idx[hit], np.flatnonzero(hit))),
                            shape=(max(len(pairs), 0), len(inv_table)))
    K = sp.vstack([ent_src[e_idx], pair_src[np.arange(n_s)] if n_s else
                   sp.csr_array((0, len(inv_table)))], format="csr")
    eff = np.vstack([em.efficiencies(pols)[m_idx], sm.efficiencies(pols)[sm_idx]])
    cuts = eff * (K @ e_period)  # (variable, pollutant) [t]
    var_city = np.concatenate([pd.Index(cities).get_indexer(ent["city"].to_numpy()[e_idx]),
                               pd.Index(cities).get_indexer(pairs["city"].to_numpy())])
    var_days = n_days[var_city] if n else np.zeros(0)

    # costs [CNY over the period]
    et, st = em.table, sm.table
    basis = np.concatenate([et["cost_basis"].to_numpy(dtype=object)[m_idx],
                            st["cost_basis"].to_numpy(dtype=object)[sm_idx]])
    unit = np.concatenate([et["cost"].to_numpy(float)[m_idx], st["cost"].to_numpy(float)[sm_idx]])
    ref = np.concatenate([et["cost_pollutant"].to_numpy(dtype=object)[m_idx],
                          st["cost_pollutant"].to_numpy(dtype=object)[sm_idx]])
    va = np.concatenate([ent["value_added"].to_numpy(float)[e_idx], np.zeros(n_s)])
    ref_i = np.maximum(pd.Index(pols).get_indexer(ref), 0)  # unknown -> column 0
    ref_cut = cuts[np.arange(n), ref_i] if n else np.zeros(0)
    cost = np.select([basis == "value_added", basis == "daily", basis == "annual",
                      basis == "per_tonne"],
                     [unit * va * var_days, unit * var_days, unit * var_days / 365.0,
                      unit * ref_cut], 0.0)
    if n_e and (va[:n_e][basis[:n_e] == "value_added"] == 0).any():
        notes_va = ["some enterprises have no value added: their production cuts cost 0"]
    else:
        notes_va = []

    # targets: reduction shares per (city, group)
    t_rows, t_rhs, t_names, t_meta = [], [], [], []
    for gi, g in enumerate(REDUCTION_POLLUTANTS):  # four groups
        p = pols.index(group_pol[g])
        need = shares[:, gi] * totals[:, p]
        rows = np.flatnonzero((levels > 0) & (need > 0))
        if not rows.size:
            continue
        sel = np.isin(var_city, rows)
        r_map = pd.Index(rows).get_indexer(var_city[sel])
        t_rows.append(sp.csr_array((cuts[sel, p], (r_map, np.flatnonzero(sel))),
                                   shape=(rows.size, n)))
        t_rhs.append(need[rows])
        t_names += [f"{g} reduction >= {shares[r, gi]:.0%} of {cities[r]}'s emissions "
                    f"({group_pol[g]})" for r in rows.tolist()]
        t_meta += [("share", cities[r], g) for r in rows.tolist()]

    # PM2.5 concentration effects of each variable (city, date)
    notes = list(notes_va)
    conc_effect = None
    if source_receptor is not None:
        contrib, sr_src = _daily_contributions(source_receptor, "PM2.5", ds, cities)
        W, represented = _sr_weights(inventory, sr_src, "PM2.5")
        if (~represented & (inv_table["PM2.5"].to_numpy(float) > 0)).any():
            notes.append(f"{int((~represented).sum())} inventory sources are not in the "
                         "source-receptor matrix: their cuts do not change concentrations")
        R = (K @ W) * eff[:, [pols.index("PM2.5")]] if "PM2.5" in pols else (K @ W) * 0
        flat = np.nan_to_num(contrib.reshape(contrib.shape[0], -1))  # (sr, city*date)
        conc_effect = np.asarray(R @ flat).reshape(n, len(cities), len(dates))
        conc_effect *= period[var_city][:, None, :]  # a city's actions work on its alert days
    elif pm25_target:
        raise MissingFieldError("pm25_target=True needs a source_receptor matrix",
                                field="source_receptor")
    pm25 = ds["PM2.5"].transpose("city", "date").values
    threshold = (pm25_threshold if pm25_threshold is not None
                 else _aqi_to_pm25(rules.heavy_above, "HJ633-2012"))
    if pm25_target:
        on = np.zeros_like(period)
        on[:, :] = period.any(axis=0)[None, :] & (pm25 > threshold)
        ci, di = np.nonzero(on)
        if ci.size:
            t_rows.append(sp.csr_array(conc_effect[:, ci, di].T))
            t_rhs.append(pm25[ci, di] - threshold)
            t_names += [f"PM2.5 <= {threshold:g} ug/m3 in {cities[c]} on {dates[d]} "
                        "(ug/m3 cut)"
                        for c, d in zip(ci.tolist(), di.tolist(), strict=True)]
            t_meta += [("pm25", cities[c], str(dates[d])) for c, d in
                       zip(ci.tolist(), di.tolist(), strict=True)]

    # structure: exclusive groups, grade minimums
    s_rows, s_lo, s_hi = [], [], []
    group = np.concatenate([et["exclusive_group"].to_numpy(dtype=object)[m_idx],
                            st["exclusive_group"].to_numpy(dtype=object)[sm_idx]])
    owner = np.concatenate([ent["enterprise"].to_numpy(dtype=object)[e_idx],
                            (pairs["city"] + "|" + pairs["sector"]).to_numpy(dtype=object)])
    grouped = group != ""
    if grouped.any():
        codes, _ = pd.factorize(pd.Series(owner[grouped]).astype(str) + "||" +
                                pd.Series(group[grouped]).astype(str))
        s_rows.append(sp.csr_array((np.ones(grouped.sum()), (codes, np.flatnonzero(grouped))),
                                   shape=(codes.max() + 1, n)))
        s_lo.append(np.full(codes.max() + 1, -np.inf))
        s_hi.append(np.ones(codes.max() + 1))
    if enforce_grade_minimum and n_e:
        need_min = grades.guide_severity(ent["grade"].to_numpy(dtype=object)) > 0
        on_alert = np.isin(pd.Index(cities).get_indexer(ent["city"].to_numpy()),
                           np.flatnonzero(levels > 0))
        must = np.flatnonzero(need_min & on_alert)
        if must.size:
            r_map = pd.Index(must).get_indexer(e_idx)
            sel = r_map >= 0
            s_rows.append(sp.csr_array((np.ones(sel.sum()), (r_map[sel], np.flatnonzero(sel))),
                                       shape=(must.size, n)))
            s_lo.append(np.ones(must.size))
            s_hi.append(np.full(must.size, np.inf))
    upper = np.concatenate([np.ones(n_e), st["max_penetration"].to_numpy(float)[sm_idx]])
    program = TargetProgram(
        cost, sp.vstack(t_rows, format="csr") if t_rows else sp.csr_array((0, n)),
        np.concatenate(t_rhs) if t_rhs else np.zeros(0), np.array(t_names, dtype=object),
        np.zeros(n), upper,
        sp.vstack(s_rows, format="csr") if s_rows else None,
        np.concatenate(s_lo) if s_lo else None, np.concatenate(s_hi) if s_hi else None,
        np.concatenate([np.ones(n_e, int), np.zeros(n_s, int)]))

    if not (levels > 0).any():
        status, x, report = "no alert", np.zeros(n), None
    else:
        if mip_rel_gap is None:
            mip_rel_gap = default_gap(n_e)
        sol = solve_program(program, mip_rel_gap=mip_rel_gap, time_limit=time_limit)
        report = None
        if sol.ok:
            status, x = "optimal", sol.x
        elif sol.status == "infeasible":
            report = diagnose(program, mip_rel_gap=mip_rel_gap, time_limit=time_limit)
            status = "infeasible"
            x = report.best_effort.x if report.best_effort is not None else np.zeros(n)
        else:
            status, x = sol.status, np.nan_to_num(sol.x)
            notes.append(f"solver: {sol.message}")

    # outputs
    used = x > 1e-9
    kind = np.array(["enterprise"] * n_e + ["sector"] * n_s, dtype=object)
    target = np.concatenate([ent["enterprise"].to_numpy(dtype=object)[e_idx],
                             pairs["sector"].to_numpy(dtype=object)])
    name = np.concatenate([ent["name"].to_numpy(dtype=object)[e_idx] if "name" in ent
                           else ent["enterprise"].to_numpy(dtype=object)[e_idx],
                           st["name"].to_numpy(dtype=object)[sm_idx]])
    table = pd.DataFrame({
        "city": np.asarray(cities, dtype=object)[var_city] if n else [],
        "kind": kind, "target": target, "name": name,
        "sector": np.concatenate([ent["sector"].to_numpy(dtype=object)[e_idx],
                                  pairs["sector"].to_numpy(dtype=object)]),
        "grade": np.concatenate([ent["grade"].to_numpy(dtype=object)[e_idx],
                                 np.full(n_s, "", dtype=object)]),
        "measure": np.concatenate([et["measure"].to_numpy(dtype=object)[m_idx],
                                   st["measure"].to_numpy(dtype=object)[sm_idx]]),
        "action": np.concatenate([et["action"].to_numpy(dtype=object)[m_idx],
                                  st["action"].to_numpy(dtype=object)[sm_idx]]),
        "level": x, "days": var_days,
        **{f"cut_{p}": cuts[:, i] * x for i, p in enumerate(pols)},
        "cost": cost * x})[used].sort_values(["city", "kind", "cost"],
                                              ascending=[True, True, False])
    achieved = np.zeros((len(cities), len(pols)))
    np.add.at(achieved, var_city[used], cuts[used] * x[used, None])
    red = []
    for gi, g in enumerate(REDUCTION_POLLUTANTS):
        p = pols.index(group_pol[g])
        total_t = totals[:, p]
        req = shares[:, gi] * total_t
        red.append(pd.DataFrame({
            "city": cities, "group": g, "pollutant": group_pol[g], "total_t": total_t,
            "required_share": shares[:, gi], "required_t": req, "achieved_t": achieved[:, p],
            "achieved_share": np.divide(achieved[:, p], total_t, out=np.zeros(len(cities)),
                                        where=total_t > 0),
            "met": achieved[:, p] >= req * (1 - 1e-9) - 1e-9}))
    reductions = pd.concat(red, ignore_index=True).sort_values(["city", "group"],
                                                               ignore_index=True)
    conc = _with_plan(ds, aqi_without, x, conc_effect, period, levels, aqi_fn)
    return EmergencyPlan(status, table.reset_index(drop=True), reductions, conc,
                         float(cost @ x) if n else 0.0,
                         dict(zip(cities, levels.tolist(), strict=True)), report, notes)


def _enterprise_key(inventory, all_rows: bool = False) -> np.ndarray:
    """Enterprise of each point source (its id if it has none); all_rows: aligned to all sources."""
    table = inventory._table("all") if all_rows else inventory.points
    ent = table["enterprise"].astype(str) if "enterprise" in table.columns else \
        pd.Series("", index=table.index)
    ent = ent.where(ent != "", table["id"].astype(str))
    return ent.to_numpy(dtype=object)


def _with_plan(ds, aqi_without, x, conc_effect, period, levels, aqi_fn) -> xr.Dataset:
    pm25 = ds["PM2.5"].transpose("city", "date")
    out = xr.Dataset({"pm25": pm25.assign_attrs(units="ug m-3",
                                                long_name="forecast daily PM2.5 without plan"),
                      "aqi": aqi_without.assign_attrs(units="1", long_name="AQI without plan")})
    if conc_effect is None:
        out["pm25_with_plan"] = pm25 * np.nan
        out["aqi_with_plan"] = aqi_without * np.nan
    else:
        delta = np.tensordot(x, conc_effect, axes=(0, 0)) if x.size else 0.0
        with_plan = ds.copy()
        with_plan["PM2.5"] = pm25 - delta
        out["pm25_with_plan"] = with_plan["PM2.5"].assign_attrs(
            units="ug m-3", long_name="forecast daily PM2.5 with the plan")
        out["aqi_with_plan"] = aqi_fn(with_plan[[v for v in with_plan.data_vars if v in (
            "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "O3_8h")]], averaging="24h")[
            "aqi"].transpose("city", "date").assign_attrs(units="1", long_name="AQI with plan")
    out["alert_day"] = (("city", "date"), period)
    out["level"] = ("city", levels)
    return out
