"""Each bundled batch scenario runs in its --quick version and gives sound products."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ecodss.batch import run
from ecodss.batch.cli import main
from ecodss.batch.cycle import run_cycle
from ecodss.batch.members import MemberContext, box_model

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def test_response_surface_quick_cuts_lower_pm25(tmp_path):
    r = run(SCENARIOS / "response_surface_50.yaml", quick=True, scheduler="threads",
            store=tmp_path / "s.sqlite", out=str(tmp_path), progress=False)
    assert r.ok and r.counts["done"] == 4
    uncut = box_model(MemberContext("ref", {}))
    with xr.open_dataset(r.products["combined"]) as ds:
        assert set(ds["aqi"].dims) == {"member", "city", "date"}
        assert all(float(ds[f"param_cut_{s}"].max()) > 0 for s in ("power", "dust"))
        # every cut is in (0, 0.6]: each member's PM2.5 lies below the uncut box, above background
        assert (ds["pm25_daily"] < uncut["pm25_daily"]).all()
        assert (ds["pm25_daily"] > 0).all()
    table = pd.read_csv(r.products["summary"])
    assert len(table) == 4 and {"cut_power", "max_pm25_daily", "sha256"} <= set(table)


def test_met_ensemble_quick_gives_probabilities(tmp_path, capsys):
    code = main(["run", str(SCENARIOS / "met_ensemble_alerts.yaml"), "--quick",
                 "--store", str(tmp_path / "s.sqlite"), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    path = next(line.split(": ", 1)[1] for line in out.splitlines() if "ensemble:" in line)
    with xr.open_dataset(path) as probs:
        p = probs["alert_probability"]
        assert set(p.dims) == {"alert_threshold", "city", "date"}
        assert ((p >= 0) & (p <= 1)).all()
        # P(level >= k) cannot increase with k
        assert (p.diff("alert_threshold") <= 0).all()
        assert probs.attrs["n_members"] == 2


def test_regional_drill_quick(tmp_path):
    r = run(SCENARIOS / "emergency_drill_regional.yaml", quick=True, scheduler="synchronous",
            store=tmp_path / "s.sqlite", out=str(tmp_path), progress=False)
    assert r.ok, r.summary["error"].tolist()
    with xr.open_dataset(r.products["combined"]) as ds:
        assert ds.sizes["member"] == 1 and ds.sizes["city"] == 28 and ds.sizes["date"] >= 1
        assert float(ds["param_level"][0]) == 1.0
        assert np.isfinite(ds["pm25_daily"]).all() and (ds["pm25_daily"] > 0).all()


def test_cycle_is_idempotent_and_plans_the_likely_level(tmp_path, monkeypatch):
    scenario = tmp_path / "cycle.yaml"
    scenario.write_text(f"""\
name: box_cycle
workflow: box_model
model: {ROOT / "models" / "city_plume.yaml"}
scenario: {{kind: ensemble, n: 3, seed: 1}}
outputs: {{path: {tmp_path / "out"}}}
""")
    opts = {"store": tmp_path / "s.sqlite", "progress": False, "scheduler": "threads"}
    first = run_cycle("2026-12-20", scenario, **opts)
    assert first["steps"]["alert_probabilities"] == "done"
    p_red = max(first["cities"]["Shijiazhuang"]["p_red"])
    if first["steps"]["plan"] == "done":  # the least-cost planner of issue #7 is present
        assert first["plan"]["level"] == (3 if p_red >= 0.5 else first["plan"]["level"])
        assert first["plan"]["status"] in ("optimal", "infeasible", "no alert")
    else:
        assert first["steps"]["plan"].startswith("pending")
    plugin = tmp_path / "myplan.py"
    plugin.write_text("def plan(probs, decision, combined):\n"
                      "    return {'members': int(combined.sizes['member'])}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    opts["plan"] = "myplan:plan"
    dates = first["cities"]["Shijiazhuang"]["dates"]
    assert dates[0] >= "2026-12-20" and all(d.startswith("2026-12") for d in dates)
    again = run_cycle("2026-12-20", scenario, **opts)
    assert again["run_id"] == first["run_id"] and again["cities"] == first["cities"]
    assert again["plan"] == {"members": 3} and again["steps"]["plan"] == "done"
    written = json.loads((Path(first["products"]["combined"]).parent
                          / "decision.json").read_text())
    assert written["date"] == "2026-12-20"
    other = run_cycle("2026-12-21", scenario, **opts)
    assert other["run_id"] != first["run_id"]
