"""The sample river as a network: structure, flow and mass balances, kinetics, scenarios."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ecodss.errors import InvalidValueError, UnknownFieldError
from ecodss.water.kinetics import ConservativeTracer
from ecodss.water.sample_network import load_sample_river, sample_river_steady
from ecodss.water.steady import conservative_mass_balance, solve_steady

FOLDER = Path(__file__).resolve().parents[2] / "data" / "samples" / "river"


@pytest.fixture(scope="module")
def river():
    return load_sample_river()


@pytest.fixture(scope="module")
def steady(river):
    return river.solve()


def test_tree_sources_and_output_points_follow_the_files(river):
    net = river.network
    reaches = pd.read_csv(FOLDER / "reaches.csv")
    assert set(net.reaches["reach"]) == set(reaches["id"])
    heads = net.sources[net.sources["kind"] == "headwater"].set_index("name")["flow"]
    assert heads.to_dict() == {"M1": 5.5, "T1": 2.2}          # river.yaml headwaters
    src = net.sources.set_index("name")
    # a point on a reach boundary belongs to the downstream reach (QUAL2K convention)
    assert (src.loc["WWTP1", "reach"], src.loc["WWTP1", "x"]) == ("M3", 0.0)
    assert (src.loc["MILL1", "reach"], src.loc["INTAKE1", "reach"]) == ("M5", "M6")
    assert src.loc["WWTP2", "reach"] == "T1" and src.loc["WWTP2", "x"] == pytest.approx(8000.0)
    assert src.loc["IRR1", "kind"] == "withdrawal" and src.loc["IRR1", "x"] == pytest.approx(5000)
    # the outlet carries every inflow minus the withdrawals
    sources = pd.read_csv(FOLDER / "sources.csv")
    sign = np.where(sources["kind"] == "outfall", 1.0, -1.0)
    expected = 5.5 + 2.2 + float(np.sum(sign * sources["flow_m3s"]))
    q = net.flows()
    assert q[net.elements.downstream < 0][0] == pytest.approx(expected, rel=1e-12)
    # sections sit in the element that holds them; the tributary joins the head of M4
    el = net.element_table()
    sec = river.sections.set_index("id")
    assert el.loc[sec.loc["UP", "element"], "reach"] == "M1"
    assert el.loc[sec.loc["OUT", "element"], "x_start"] == pytest.approx(8000.0)
    last_t2 = el.index[el["reach"] == "T2"][-1]
    assert el.loc[el.loc[last_t2, "downstream"], "reach"] == "M4"


def test_conservative_tracer_mass_balance_closes(river):
    net = river.network
    rng = np.random.default_rng(7)
    names = net.sources["name"][~net.sources["kind"].str.contains("withdrawal")]
    bnd = pd.DataFrame({"tracer": rng.uniform(1.0, 50.0, len(names))}, index=names.to_numpy())
    c = solve_steady(net, ConservativeTracer(), bnd)["tracer"].values
    q = net.source_flows()
    load = float(np.sum(q * bnd.reindex(net.sources["name"]).fillna(0.0)["tracer"].to_numpy()))
    mb = conservative_mass_balance(net, c, load * 86400.0)
    assert abs(mb["relative_imbalance"][0]) < 1e-10
    assert mb["withdrawal"][0] > 0.2 * mb["inflow"]   # irrigation + intake take a real share


def test_nitrogen_is_conserved_by_nitrification_and_mixing(river, steady):
    # no denitrification, settling or uptake is set: NH4 -> NO3 leaves total N conservative, so
    # total N at the outlet is the flow-weighted mixture of all inflows (withdrawals take the
    # local mixture); computed here from the files by hand
    meta = yaml.safe_load((FOLDER / "river.yaml").read_text())["headwaters"]
    src = pd.read_csv(FOLDER / "sources.csv").set_index("id")

    def tn(row):
        return row["NH3_N"] + row["NO3_N"] + row["org_N"]

    def mix(*parts):
        q = sum(p[0] for p in parts)
        return q, sum(p[0] * p[1] for p in parts) / q

    out = src.loc["WWTP1"], src.loc["WWTP2"], src.loc["MILL1"]
    q_m3, c_m3 = mix((meta["Qingshui"]["flow_m3s"], tn(meta["Qingshui"])),
                     (out[0]["flow_m3s"], tn(out[0])))
    q_m3 -= src.loc["IRR1", "flow_m3s"]
    q_t, c_t = mix((meta["Sha"]["flow_m3s"], tn(meta["Sha"])), (out[1]["flow_m3s"], tn(out[1])))
    q_m5, c_m5 = mix((q_m3, c_m3), (q_t, c_t), (out[2]["flow_m3s"], tn(out[2])))
    total = (steady["nh4"] + steady["no3"] + steady["org_n"]).values / 1000.0
    outlet = river.network.elements.downstream < 0
    assert total[outlet][0] == pytest.approx(c_m5, rel=1e-8)
    # and nitrification really runs: NH4 falls below its mixed value downstream of the mill
    assert steady["NH3_N"].values[outlet][0] < 0.97 * steady["NH3_N"].values[
        river.outfalls.set_index("id").loc["MILL1", "element"]]


def test_cbod_decays_and_settles_as_a_cstr_chain(river, steady):
    # reaches M1-M2 have no sources; with E < U dx/2 the bulk dispersion is 0 (QUAL2K), so each
    # element is a CSTR: c_i = c_{i-1} Q / (Q + k_i V), k = kdc 1.047^(T-20) (1 - e^{-0.6 DO}) +
    # vs/H  (QUAL2K CBOD oxidation with exponential O2 inhibition; Chapra 1997 Lect. 21 settling)
    hyd = river.network.hydraulics()
    el = river.network.element_table()
    idx = el.index[el["reach"].isin(["M1", "M2"])].to_numpy()
    assert np.all(hyd.dispersion[idx] < hyd.velocity[idx] * el["length"].to_numpy()[idx] / 2)
    rates = yaml.safe_load((FOLDER / "river.yaml").read_text())["rates"]
    do, temp = steady["do"].values[idx], steady["temperature"].values[idx]
    k = (rates["cbod_decay_20C_per_d"] * 1.047 ** (temp - 20.0) * (1.0 - np.exp(-0.6 * do))
         + rates["cbod_settling_m_per_d"] / hyd.depth[idx])
    ratio = hyd.flow[idx] * 86400.0 / (hyd.flow[idx] * 86400.0 + k * hyd.volume[idx])
    cb = steady["cbod_fast"].values[idx]
    np.testing.assert_allclose(cb[1:] / cb[:-1], ratio[1:], rtol=1e-8)


def test_scenarios_at_once_equal_single_runs_and_sections(river):
    ds, sec = sample_river_steady(load_multipliers={"MILL1": np.array([1.0, 2.5])},
                                  headwater_flow_factor=np.array([1.0, 0.5]),
                                  temperature=np.array([12.0, 24.0]))
    one = river.solve(load_multipliers={"MILL1": 2.5}, headwater_flow_factor=0.5,
                      temperature=24.0)
    for name in ("DO", "NH3_N", "CODMn", "TP"):
        np.testing.assert_allclose(ds[name].isel(scenario=1).values, one[name].values,
                                   rtol=1e-8, atol=1e-10)
    # sections upstream of every outfall do not see the load multiplier
    up = sec.sel(section="UP")
    assert float(up["CODMn"].isel(scenario=0)) == pytest.approx(3.0, rel=1e-10)
    assert (sec["compliant"] == (sec["water_class"] <= sec["target_class"])).all()
    assert float(sec["CODMn"].sel(section="OUT").isel(scenario=1)) > float(
        sec["CODMn"].sel(section="OUT").isel(scenario=0))


def test_bad_inputs_name_the_field(river, tmp_path):
    with pytest.raises(UnknownFieldError):
        river.solve(load_multipliers={"WWTP9": 2.0})
    with pytest.raises(InvalidValueError, match="different lengths"):
        river.solve(load_multipliers={"WWTP1": [1.0, 2.0]}, headwater_flow_factor=[1, 1, 1])
    for f in FOLDER.glob("*.*"):
        if f.suffix in (".csv", ".yaml"):
            (tmp_path / f.name).write_text(f.read_text())
    src = pd.read_csv(tmp_path / "sources.csv")
    src.loc[0, "x_km"] = 75.0
    src.to_csv(tmp_path / "sources.csv", index=False)
    with pytest.raises(InvalidValueError, match="WWTP1"):
        load_sample_river(tmp_path)
