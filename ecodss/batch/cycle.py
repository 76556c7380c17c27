"""The daily operational cycle: forecast -> AQI -> alert probabilities -> plan, as one batch.

``ecodss cycle --date YYYY-MM-DD`` takes a configured region (an ensemble scenario file, default
``scenarios/met_ensemble_alerts.yaml``), stamps it with the date (parameter ``start_date``: the
sample met stands in for the day's forecast), runs it as a batch in the run store and writes
``decision.json`` beside the batch products. The batch identity includes the date, so calling the
cycle again for the same date (cron, SLURM, after a failure) only runs what is missing and
rewrites the products atomically: it is idempotent.

The plan step is pluggable: ``plan="package.module:function"`` is called as
``plan(products, decision, combined)`` with the ensemble products
(:func:`ecodss.batch.products.alert_probabilities`), the decision dict and the combined member
dataset, and returns a JSON-ready dict stored under ``decision["plan"]``. The default,
:func:`emergency_plan_step`, plans for the highest alert level whose probability reaches
:data:`PLAN_PROBABILITY` on some day, with the least-cost planner :func:`ecodss.emergency.plan`
(issue #7) on the ensemble-mean forecast; it reports the step pending where that planner or its
inputs (city sample inventory and measures) are not available.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from ..config import REPO_ROOT
from ..errors import ConfigError
from ..io.netcdf import atomic_write_text

DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "met_ensemble_alerts.yaml"
#: Where the plan step is looked for when none is given (issue #7, ``ecodss.emergency.plan``).
DEFAULT_PLAN = "ecodss.batch.cycle:emergency_plan_step"
#: Probability of an alert level at which the plan is made for it (an operator's choice).
PLAN_PROBABILITY = 0.5
STEPS = ("forecast", "aqi", "alert_probabilities", "plan")


def resolve_plan(plan: str | None):
    """The plan callable or None (pending) — an explicit name that cannot be imported is an error."""
    name = plan or DEFAULT_PLAN
    module, _, attr = name.partition(":")
    try:
        func = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        if plan is None:
            return None
        raise ConfigError(f"cycle plan step {name!r} cannot be imported: {exc}") from None
    return func


def cycle_scenario(date: str, scenario=None, *, members: int | None = None):
    """The scenario of the cycle for ``date``: the region's file stamped with the date."""
    from .runner import as_scenario

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise ConfigError(f"--date {date!r}: expected YYYY-MM-DD") from None
    sc, _ = as_scenario(scenario or DEFAULT_SCENARIO)
    update = {"name": f"{sc.name}-cycle-{day.isoformat()}",
              "parameters": {**sc.parameters, "start_date": day.isoformat()}}
    if members is not None and sc.scenario is not None and sc.scenario.kind == "ensemble":
        update["scenario"] = sc.scenario.model_copy(update={"n": members})
    return sc.model_copy(update=update)


def run_cycle(date: str, scenario=None, *, members: int | None = None, plan: str | None = None,
              quick: bool = False, **run_options) -> dict:
    """Run the cycle of ``date``; returns the decision (also written as ``decision.json``).

    ``run_options`` go to :func:`ecodss.batch.run` (scheduler, workers, store, out, resume).
    """
    from .products import alert_probabilities
    from .runner import run

    sc = cycle_scenario(date, scenario, members=members)
    result = run(sc, quick=quick, **run_options)
    decision = {"date": date, "scenario": result.name, "run_id": result.run_id,
                "members": result.counts, "steps": dict.fromkeys(STEPS, "pending")}
    if not result.ok:
        decision["steps"]["forecast"] = "incomplete"
        _write(result.out_dir, decision)
        return decision
    decision["steps"].update(forecast="done", aqi="done")
    with xr.open_dataset(result.products["combined"]) as combined:
        probs = alert_probabilities(combined.load())
    decision["steps"]["alert_probabilities"] = "done"
    decision["cities"] = _city_probabilities(probs)
    plan_func = resolve_plan(plan)
    with xr.open_dataset(result.products["combined"]) as combined:
        outcome = plan_func(probs, decision, combined.load())
    if isinstance(outcome, str):  # a reason why no plan could be made
        decision["steps"]["plan"] = f"pending: {outcome}"
    else:
        decision["plan"] = outcome
        decision["steps"]["plan"] = "done"
    decision["products"] = result.products
    _write(result.out_dir, decision)
    return decision


def planning_level(probs: xr.Dataset, probability: float = PLAN_PROBABILITY) -> int:
    """Highest alert level k with P(level >= k) >= ``probability`` on some day in some city."""
    p = probs["alert_probability"].max(("city", "date"))
    hit = p["alert_threshold"].values[p.values >= probability]
    return int(hit.max()) if hit.size else 0


def emergency_plan_step(probs: xr.Dataset, decision: dict, combined: xr.Dataset) -> dict | str:
    """Least-cost plan (:func:`ecodss.emergency.plan`) for the ensemble's planning level.

    The forecast handed to the planner is the ensemble mean of daily PM2.5 (and PM10) per city;
    inventory, measures and enterprises are the city sample's. Returns the plan summary, or a
    string saying why the step is pending.
    """
    level = planning_level(probs)
    if level == 0:
        return {"status": "no alert", "level": 0, "probability": PLAN_PROBABILITY}
    try:
        from ..emergency.plan import plan as least_cost_plan
        from ..samples_measures import load_enterprises, load_measures
    except ImportError as exc:
        return f"planner not available ({exc}); issue #7"
    if combined.sizes.get("city", 0) != 1:
        return "the regional plan needs a city-assigned inventory (city sample only for now)"
    from .members import _city_case, city_inventory

    case = _city_case(None)
    forecast = xr.Dataset({name: combined[var].mean("member") for name, var in
                           (("PM2.5", "pm25_daily"), ("PM10", "pm10_daily")) if var in combined})
    city = str(combined["city"].values[0])
    result = least_cost_plan(forecast, city_inventory(case, {}), load_measures(),
                             level={city: level}, enterprises=load_enterprises())
    out = result.to_dict()
    out.update(level=level, probability=PLAN_PROBABILITY)
    return out


def _city_probabilities(probs: xr.Dataset) -> dict:
    """``{city: {"dates": [...], "p_yellow": [...], "p_orange": [...], "p_red": [...]}}``."""
    names = {1: "p_yellow", 2: "p_orange", 3: "p_red"}
    p = probs["alert_probability"]
    out = {}
    for city in p["city"].values:  # a handful of cities
        sub = p.sel(city=city)
        rec = {"dates": [str(d)[:10] for d in sub["date"].values]}
        for k, name in names.items():
            rec[name] = [round(float(v), 3) for v in np.asarray(sub.sel(alert_threshold=k))]
        out[str(city)] = rec
    return out


def _write(out_dir: Path, decision: dict) -> None:
    atomic_write_text(Path(out_dir) / "decision.json",
                      json.dumps(decision, indent=2, ensure_ascii=False, default=str))
