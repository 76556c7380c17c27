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
