"""Demo plan helpers: cut fractions per source reproduce the plan's cuts; no alert, no plan."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.emergency import plan
from ecodss.inventory import Inventory
from ecodss.samples_measures import load_measures
from ecodss.workflows import _plan

DATES = pd.date_range("2026-01-10", periods=4).values
POLS = ["SO2", "NOx", "PM2.5", "PM10", "VOCs"]


def _inventory():
    rng = np.random.default_rng(4)
    pts = pd.DataFrame({"id": [f"S{i}" for i in range(6)], "x": np.arange(6) * 1e3, "y": 0.0,
                        "stack_height": 60.0, "stack_diameter": 2.0, "exit_velocity": 12.0,
                        "exit_temperature": 420.0, "sector": "industry",
                        "enterprise": ["E0", "E0", "E1", "E2", "E3", "E4"],
                        "grade": ["B", "B", "C", "D", "A", "B"],
                        **{p: rng.uniform(50, 500, 6) for p in POLS}})
    areas = pd.DataFrame({"id": ["T", "D", "R"], "x": 0.0, "y": 0.0, "width": 5e3,
                          "height": 5e3, "sector": ["traffic", "dust", "residential"],
                          **{p: rng.uniform(100, 800, 3) for p in POLS}})
    return Inventory.from_points(pts, units="t/yr").combine(
        Inventory.from_areas(areas, units="t/yr"))


def _forecast(pm25):
    return xr.Dataset({"PM2.5": (("city", "date"), np.asarray(pm25, float)[None, :])},
                      coords={"city": ["C"], "date": DATES})


def test_cut_fractions_reproduce_the_plan_table():
    inv, measures = _inventory(), load_measures()
    ent = pd.DataFrame({"enterprise": [f"E{i}" for i in range(5)],
                        "grade": ["B", "C", "D", "A", "B"],
                        "value_added": [4e6, 2e6, 1e6, 8e6, 3e6]})
    res = plan(_forecast([180, 260, 320, 240]), inv, measures, enterprises=ent,
               temporal=False)
    assert res.status == "optimal" and len(res.table)
    f = _plan.source_cut_fractions(res, inv, measures, POLS)
    assert ((f >= 0) & (f <= 1)).all().all()
    days = res.table["days"].max()
    period_t = inv._table("all")[POLS].to_numpy(float) * 86400.0 * days / 1e6  # [t]
    cut_from_fractions = (f.to_numpy() * period_t).sum(axis=0)
    cut_from_table = res.table[[f"cut_{p}" for p in POLS]].sum().to_numpy(float)
    np.testing.assert_allclose(cut_from_fractions, cut_from_table, rtol=1e-9)
    # the hourly mask covers exactly the CST hours of the alert days
    times = pd.date_range("2026-01-09T16:00", periods=24 * 5, freq="h").values  # UTC
    on = _plan.alert_hours(res, times, city="C")
    cst_day = (times + np.timedelta64(8, "h")).astype("datetime64[D]")
    alert_days = DATES[res.concentrations["alert_day"].values[0]].astype("datetime64[D]")
    np.testing.assert_array_equal(on, np.isin(cst_day, alert_days))
    rec = _plan.plan_record(res, basis="test", map_file=None)
    assert rec["meets_level"] and rec["cities"][0]["alert_days"] == [
        str(d)[:10] for d in alert_days]


def test_no_alert_gives_no_plan():
    inv, measures = _inventory(), load_measures()
    res = plan(_forecast([40, 60, 55, 70]), inv, measures, temporal=False)
    assert res.table.empty
    rec = _plan.plan_record(res, basis="test", map_file="x.png")
    assert rec["status"] == "no alert, no plan" and rec["actions"] == [] and rec["map"] is None
    assert rec["cost_cny"] == pytest.approx(0.0)
