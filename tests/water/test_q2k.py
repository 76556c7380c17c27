"""QUAL2Kw .q2k reader on the Boulder Creek input (skipped without ../shared)."""

import numpy as np
import pytest

from ecodss.errors import DataFileError
from ecodss.water.q2k import read_q2k

Q2K = "water/qual2kw_boulder_creek_BC_1987-08-21.q2k"


@pytest.fixture(scope="module")
def case(shared_dir):
    return read_q2k(shared_dir / Q2K)


def test_reaches_and_flows(case):
    assert len(case.reaches) == 17
    assert case.reaches["x_up_km"].iloc[0] == pytest.approx(13.6)
    assert case.reaches["x_km"].iloc[-1] == pytest.approx(0.0)
    assert case.headwater_reach["flow"] == pytest.approx(0.71348, rel=1e-5)   # 8.2579e-6 × 86400
    assert case.reaches["bottom_width"].eq(12.5).all()
    assert case.reach_rates["ka"].iloc[0] == pytest.approx(11.8313061808271)
    assert case.reach_rates["kn"].isna().all()                               # -999 = global rate


def test_sources_rates_and_options(case):
    wwtp = case.point_sources.set_index("name").loc["Boulder WWTP"]
    assert wwtp["flow"] == pytest.approx(0.75) and wwtp["x_km"] == pytest.approx(13.6)
    assert case.point_source_quality["Boulder WWTP"].loc["nh4", "mean"] == pytest.approx(11221.1100094504)
    src = case.source_table()
    assert src.loc[src.kind == "withdrawal", "flow"].item() == pytest.approx(1.9)
    assert src.loc[src.kind == "diffuse", "flow"].sum() == pytest.approx(0.5, rel=1e-12)
    r = case.qual2k_rates()
    assert (r.kn, r.ron, r.roc, r.kdt, r.vdt) == pytest.approx((2.1554, 4.57, 2.69, 2.7754, 3.89475))
    assert r.o2_model_nitrification == "exponential"
    assert case.options["reaeration"] == "Internal" and case.options["calc_sed_flux"] == "Option 1"
    assert case.headwater.shape == (24, 17)


def test_observations(case, shared_dir):
    import pandas as pd

    obs = case.observations
    np.testing.assert_allclose(obs["hydraulics"]["travel_time"], [0.21, 0.53])
    wq = pd.read_csv(shared_dir / "water/boulder_creek_1987-08-21_observed_wq.csv")
    mean = wq[wq.statistic == "mean"]
    np.testing.assert_allclose(obs["wq_mean"]["do"], mean["DO_mgL"], rtol=1e-12)
    np.testing.assert_allclose(obs["wq_max"]["nh4"], wq[wq.statistic == "max"]["NH4_ugNL"], rtol=1e-12)
    assert len(obs["temperature"]) == 5


def test_boundary_daily_means_equal_hourly_means(case):
    b = case.boundary()
    assert b.loc["R01", "do"] == pytest.approx(case.headwater["do"].mean())
    hourly = np.mean([case.boundary(t).loc["R01", "do"] for t in np.arange(24) / 24])
    assert hourly == pytest.approx(b.loc["R01", "do"], rel=1e-12)
    net = case.network()
    f = case.boundary_function(net, ("do", "nh4"))
    t = 0.37
    arr = f(t)
    bt = case.boundary(t).reindex(net.sources["name"]).fillna(0.0)
    np.testing.assert_allclose(arr, bt[["do", "nh4"]].to_numpy().T, rtol=1e-12)


def test_read_errors(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        read_q2k(tmp_path / "missing.q2k")
    bad = tmp_path / "bad.q2k"
    bad.write_text("hello,world\n")
    with pytest.raises(DataFileError, match="not a QUAL2K"):
        read_q2k(bad)
    short = tmp_path / "short.q2k"
    short.write_text('"QUAL2Kw version 5 input data"\n"a","b","c","d"\n8,21,1987\n')
    with pytest.raises(DataFileError, match="ends early"):
        read_q2k(short)
