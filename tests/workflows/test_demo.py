"""`ecodss demo` end to end on the bundled sample: products, CF metadata, decision consistency."""

import json

import numpy as np
import pytest
import xarray as xr

from ecodss.cli import main
from ecodss.emergency import iaqi


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--case", "city", "--out", str(out)]) == 0
    return out


def test_demo_writes_products(demo_out, capsys):
    assert (demo_out / "forecast.nc").is_file()
    assert (demo_out / "decision.json").is_file()
    pngs = sorted(demo_out.glob("pm25_*.png"))
    assert len(pngs) >= 3 and all(p.stat().st_size > 10_000 for p in pngs)
    assert not list(demo_out.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_forecast_netcdf_is_cf(demo_out):
    with xr.open_dataset(demo_out / "forecast.nc") as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        for name in ("local_pm25", "pm25", "daily_pm25"):
            assert ds[name].attrs["units"] == "ug m-3"
            assert ds[name].attrs["grid_mapping"] == "crs"
        assert ds["crs"].attrs["grid_mapping_name"] == "transverse_mercator"
        assert ds["lon"].attrs["units"] == "degrees_east"
        assert ds.sizes["time"] == 120 and ds.sizes["y"] == 60 and ds.sizes["x"] == 60
        # total = local + regional background: never below the local part
        assert float((ds["pm25"] - ds["local_pm25"]).min()) > 0
        assert float(ds["local_pm25"].min()) >= 0


def test_decision_is_consistent_with_the_rules(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    days = [day for day in d["daily"] if day["aqi"] is not None]
    assert len(days) >= 4
    # each complete day's AQI follows from its city PM2.5 at least (AQI = max over pollutants)
    for day in days:
        pm_iaqi = float(iaqi(day["pm25_ug_m3"], "PM2.5", "24h", standard=d["standard"]))
        assert day["aqi"] >= pm_iaqi - 1
    heavy = [day["aqi"] > 200 for day in days]
    if sum(heavy) >= 4 and sum(day["aqi"] > 300 for day in days) >= 2:
        assert d["alert"]["level_name"] == "red"
    shares = d["alert"]["reduction_share"]
    assert shares and all(0 < v <= 1 for v in shares.values())
    assert set(d["station_aqi"]) and all(len(v) == len(d["daily"]) for v in
                                         d["station_aqi"].values())


def test_models_command_lists_registry(capsys):
    assert main(["models"]) == 0
    assert "gaussian_plume" in capsys.readouterr().out


def test_decision_days_are_cst(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    assert d["days_utc_offset_hours"] == 8
    # the sample starts 2026-01-10 00 UTC = 08 CST: the first CST day has only 16 hours
    assert d["daily"][0]["aqi"] is None and np.isfinite(d["daily"][1]["aqi"])


def _alert_day_emissions(decision, pollutant) -> float:
    """The sample inventory's emission of ``pollutant`` over the CST alert days [t] (from the
    inventory and its temporal profiles, independently of the plan)."""
    import pandas as pd

    from ecodss.inventory import Inventory
    from ecodss.samples import load_sample

    case = load_sample()
    inv = Inventory.from_points(case.points, units="t/yr").combine(
        Inventory.from_areas(case.areas, units="t/yr"))
    days = np.array(decision["emergency_plan"]["cities"][0]["alert_days"], "datetime64[h]")
    local = (days[:, None] + np.arange(24).astype("timedelta64[h]")).ravel()
    utc = pd.DatetimeIndex(local - np.timedelta64(8, "h"))
    total = sum(float(inv.hourly(utc, pollutant, kind=k).sum()) for k in ("point", "area"))
    return total * 3600.0 / 1e6


def test_plan_meets_the_red_level_shares_from_its_table(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    plan = d["emergency_plan"]
    assert plan["status"] == "optimal" and plan["meets_level"]
    assert plan["cities"][0]["level"] == 3 and len(plan["cities"][0]["alert_days"]) >= 3
    shares = d["alert"]["reduction_share"]
    acts = plan["actions"]
    assert {a["kind"] for a in acts} == {"enterprise", "sector"}
    for group, pollutant in (("SO2", "SO2"), ("NOx", "NOx"), ("PM", "PM10"),
                             ("VOCs", "VOCs")):
        cut = sum(a[f"cut_{pollutant}"] for a in acts)  # [t] over the alert days
        need = shares[group] * _alert_day_emissions(d, pollutant)
        assert cut >= need * (1 - 1e-5) - 5e-3, (group, cut, need)  # JSON: 4 decimals
    assert plan["cost_cny"] == pytest.approx(sum(a["cost"] for a in acts), rel=1e-6)
    # an enterprise takes at most one production action
    ents = [a["target"] for a in acts if a["kind"] == "enterprise"]
    assert len(ents) == len(set(ents))


def test_with_plan_forecast_is_lower_on_alert_days(demo_out):
    d = json.loads((demo_out / "decision.json").read_text())
    city = d["emergency_plan"]["cities"][0]
    on = set(city["alert_days"])
    for i, day in enumerate(city["dates"]):
        if city["pm25"][i] is None:
            continue
        assert city["pm25_with_plan"][i] <= city["pm25"][i] + 1e-9
        assert city["aqi_with_plan"][i] <= city["aqi"][i]
        if day in on:
            assert city["pm25_with_plan"][i] < city["pm25"][i] - 1.0
    assert (demo_out / d["emergency_plan"]["map"]).stat().st_size > 10_000
    with xr.open_dataset(demo_out / "forecast.nc") as ds:
        diff = ds["daily_pm25"] - ds["daily_pm25_with_plan"]
        assert float(diff.min()) >= -1e-9 and float(diff.max()) > 1.0
        assert ds["daily_pm25_with_plan"].attrs["units"] == "ug m-3"


def test_report_shows_the_plan(demo_out, capsys):
    from ecodss.cli import report

    class Result:  # the report needs only the decision and the timings
        decision = json.loads((demo_out / "decision.json").read_text())
        timings = {}

    text = report(Result, demo_out)
    assert "emergency plan (1 city on alert): optimal" in text
    assert "without -> with the plan" in text and "pm25_with_plan_" in text
