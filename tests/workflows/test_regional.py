"""The regional chain and `ecodss demo` (regional by default) on the 2+26 sample."""

import json

import numpy as np
import pytest
import xarray as xr

import ecodss
from ecodss.air import chemistry
from ecodss.cli import main


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
