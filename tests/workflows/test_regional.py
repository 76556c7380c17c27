"""The regional chain and `ecodss demo` (regional by default) on the 2+26 sample."""

import json

import numpy as np
import pytest
import xarray as xr

import ecodss
from ecodss.air import chemistry
from ecodss.cli import main, regional_report
from ecodss.samples_regional import load_regional_sample
from ecodss.timeutil import daily_mean


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("regional")
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_regional_demo_products(demo_out):
    assert (demo_out / "regional_forecast.nc").is_file()
    assert len(list(demo_out.glob("pm25_*.png"))) >= 8
    with xr.open_dataset(demo_out / "regional_forecast.nc") as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        assert ds["PM2.5"].attrs["units"] == "ug m-3" and ds["PM2.5"].attrs["grid_mapping"] == "crs"
        pm = ds["PM2.5"].values
        parts = np.stack([ds[s].values for s in chemistry.SPECIES if s in ds and s != "VOC"])
        assert np.all(pm >= 0) and np.all(pm <= parts.sum(0) + 1e-9)  # PM2.5 ⊂ its species


def test_episode_gives_regional_alerts_and_clears(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    assert len(d["cities"]) == 28
    levels = [c["alert"] for c in d["cities"].values()]
    assert levels.count("red") >= 5  # a multi-day regional heavy-pollution episode
    for rec in d["cities"].values():
        aqi = [a for a in rec["aqi"] if a is not None]
        assert max(aqi) > 200 or rec["alert"] == "none"
        assert aqi[-1] < max(aqi)  # the cold front clears the air at the end


def test_forecast_runs_named_configurations(tmp_path):
    short = ecodss.forecast("regional_eulerian", hours=48, out_dir=tmp_path, scheme="vanleer")
    assert short.surface.sizes["time"] == 48
    assert short.decision["cities"]["Beijing"]["aqi"][1] is not None
    with pytest.raises(ecodss.ConfigError, match="kh_typo"):
        ecodss.forecast("regional_eulerian", hours=2, kh_typo=1.0)


def test_regional_plan_reports_what_the_sector_measures_cannot_reach(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    plan = d["emergency_plan"]
    levels = {c["city"]: c["level"] for c in plan["cities"]}
    assert sum(v > 0 for v in levels.values()) >= 20
    # only sector measures: the sample has no enterprises
    assert plan["actions"] and {a["kind"] for a in plan["actions"]} == {"sector"}
    reds = plan["reductions"]
    # achieved amounts are the sums of the table's cuts, per city and group
    for r in reds:
        cut = sum(a[f"cut_{r['pollutant']}"] for a in plan["actions"] if a["city"] == r["city"])
        assert cut == pytest.approx(r["achieved_t"], rel=1e-5, abs=1e-3)  # JSON: 4 decimals
        need = r["required_share"] * r["total_t"]
        assert cut >= need - 1e-3 if r["met"] else cut < need - 1e-3
    # the cities' totals partition the domain's emissions (annual rate × alert days)
    em = load_regional_sample().emissions
    days = {c["city"]: len(c["alert_days"]) for c in plan["cities"]}
    if all(days.values()):
        for pol in ("SO2", "PM10"):
            annual = sum(r["total_t"] * 365.0 / days[r["city"]] for r in reds
                         if r["pollutant"] == pol)
            assert annual == pytest.approx(float(em[pol].sum()), rel=1e-6)
    if plan["meets_level"]:
        assert all(r["met"] for r in reds if r["required_share"] > 0)
    else:  # an infeasibility report naming the binding constraints
        assert plan["status"] == "infeasible"
        binding = plan["infeasibility"]["binding"]
        unmet = {(r["city"], r["group"]) for r in reds if not r["met"]}
        assert binding and len(binding) == len(unmet)
        assert all(any(f"of {c}'s" in b and b.startswith(g) for b in binding) for c, g in unmet)
    report = regional_report(type("R", (), {"decision": d, "timings": {}}), demo_out)
    assert "emergency plan" in report
    assert plan["meets_level"] or "NO PLAN MEETS THE ALERT LEVEL" in report


def test_regional_with_plan_pm25_is_not_higher(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    plan = d["emergency_plan"]
    lowered = 0
    for c in plan["cities"]:
        for i, (a, b) in enumerate(zip(c["pm25"], c["pm25_with_plan"], strict=True)):
            if a is not None:
                assert b <= a + 1e-9
                assert c["aqi_with_plan"][i] <= c["aqi"][i]
                lowered += b < a - 1.0
    assert lowered >= 20
    assert (demo_out / plan["map"]).is_file()
    with xr.open_dataset(demo_out / "regional_forecast.nc") as ds:
        daily = daily_mean(ds["PM2.5"])
        with_plan = ds["daily_pm25_with_plan"]
        assert with_plan.attrs["units"] == "ug m-3"
        assert float((daily - with_plan).min()) >= -1e-6 and float(with_plan.min()) >= 0.0
        assert float((daily - with_plan).max()) > 5.0
