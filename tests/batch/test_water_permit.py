"""The water-load permit scenario: it validates, its --quick version runs, results are sound."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from ecodss.batch import run
from ecodss.batch.cli import main
from ecodss.batch.design import members
from ecodss.batch.members import MemberContext
from ecodss.batch.schema import load_scenario_file
from ecodss.errors import ConfigError
from ecodss.registry import get_model
from ecodss.water.batch import permit_member
from ecodss.water.permit import river_permit

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "water_load_permit.yaml"
RIVER = ROOT / "data" / "samples" / "river"


def codmn_outlet(m_wwtp1, m_wwtp2, m_mill, flow_factor):
    """CODMn below the mill by flow-weighted mixing, from the sample files (conservative item;
    withdrawals take the local mixture)."""
    hw = yaml.safe_load((RIVER / "river.yaml").read_text())["headwaters"]
    s = pd.read_csv(RIVER / "sources.csv").set_index("id")
    q1 = hw["Qingshui"]["flow_m3s"] * flow_factor
    c3 = (q1 * hw["Qingshui"]["CODMn"] + s.loc["WWTP1", "flow_m3s"] * m_wwtp1
          * s.loc["WWTP1", "CODMn"]) / (q1 + s.loc["WWTP1", "flow_m3s"])
    q3 = q1 + s.loc["WWTP1", "flow_m3s"] - s.loc["IRR1", "flow_m3s"]
    q2 = hw["Sha"]["flow_m3s"] * flow_factor
    ct = (q2 * hw["Sha"]["CODMn"] + s.loc["WWTP2", "flow_m3s"] * m_wwtp2
          * s.loc["WWTP2", "CODMn"]) / (q2 + s.loc["WWTP2", "flow_m3s"])
    qt = q2 + s.loc["WWTP2", "flow_m3s"]
    qm = s.loc["MILL1", "flow_m3s"]
    return (q3 * c3 + qt * ct + qm * m_mill * s.loc["MILL1", "CODMn"]) / (q3 + qt + qm)


def test_scenario_validates_as_a_30_member_latin_hypercube():
    sc = load_scenario_file(SCENARIO)
    assert sc.is_batch and sc.scenario.kind == "latin_hypercube"
    rows = members(sc)
    assert len(rows) == 30
    loads = np.array([[r[f"load_{k}"] for k in ("WWTP1", "WWTP2", "MILL1")] for r in rows])
    assert loads.min() >= 0.25 and loads.max() <= 2.0
    # Latin hypercube: one point in each of the 30 strata of every factor
    strata = np.floor((loads - 0.25) / (1.75 / 30)).astype(int)
    assert all(len(set(np.clip(col, 0, 29))) == 30 for col in strata.T)
    assert set(rows[0]) == {"load_WWTP1", "load_WWTP2", "load_MILL1"}
    assert get_model("river_permit").domain == "water"       # the model configuration's model


def test_quick_run_gives_sound_permit_results(tmp_path):
    result = run(SCENARIO, quick=True, scheduler="threads", store=tmp_path / "s.sqlite",
                 out=str(tmp_path), progress=False)
    assert result.ok and result.counts["done"] == 3
    with xr.open_dataset(result.products["combined"]) as ds:
        assert set(ds["DO"].dims) == {"member", "section", "condition"}
        assert ds.sizes["condition"] == 4                      # 2 flows x 2 temperatures
        # the control section lies upstream of every outfall: loads cannot move it
        up = ds["NH3_N_max"].sel(section="UP").values
        np.testing.assert_allclose(up, up[0], rtol=1e-10)
        # CODMn is carried without decay: the worst case equals hand mixing at the low flow
        for j in range(ds.sizes["member"]):
            p = {k: float(ds[f"param_load_{k}"][j]) for k in ("WWTP1", "WWTP2", "MILL1")}
            expected = max(codmn_outlet(p["WWTP1"], p["WWTP2"], p["MILL1"], f) for f in (1, .5))
            assert float(ds["CODMn_max"].isel(member=j).sel(section="OUT")) == pytest.approx(
                expected, rel=1e-8)
        assert (ds["DO_min"] <= ds["DO"].min("condition") + 1e-12).all()
        assert (ds["compliant"] == (ds["water_class"] <= ds["target_class"])).all()
        assert (ds["permit_ok"] == ds["compliant"].all("section")).all()
    table = pd.read_csv(result.products["summary"])
    assert {"load_WWTP1", "load_MILL1", "sha256"} <= set(table) and len(table) == 3


def test_cli_quick_exit_code_0(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(SCENARIO), "--quick", "--store", str(tmp_path / "s.sqlite"),
                 "--no-progress"]) == 0
    assert "done 3/3" in capsys.readouterr().out


def test_member_refuses_unknown_parameters_and_outfalls():
    with pytest.raises(ConfigError, match="unknown parameter"):
        permit_member(MemberContext("m", {"cut_power": 0.2}))
    with pytest.raises(ValueError, match="WWTP7"):
        permit_member(MemberContext("m", {"load_WWTP7": 2.0}))
    # today's loads at today's flow meet every target (the permit baseline) ...
    assert int(river_permit()["permit_ok"]) == 1
    # ... and three times the mill's load at half the flow breaks the intake's class III
    heavy = river_permit({"MILL1": 3.0}, design_flow_factors=[0.5])
    assert int(heavy["compliant"].sel(section="INTAKE1")) == 0
