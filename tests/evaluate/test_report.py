"""Verification report and the ``verify`` CLI handler on a synthetic daily series."""

import argparse

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ecodss.evaluate import contingency, crps_quantiles, interval_coverage, rmse
from ecodss.evaluate.cli import add_parser
from ecodss.evaluate.report import verification_report

DAYS = pd.date_range("2014-01-01", periods=200, freq="D")
LEVELS = [0.1, 0.5, 0.9]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(11)
    log_obs = 4.3 + np.cumsum(rng.normal(0, 0.25, len(DAYS))) * 0.3
    obs = pd.Series(np.exp(log_obs + rng.normal(0, 0.3, len(DAYS))), index=DAYS)
    model = obs * np.exp(rng.normal(0, 0.25, len(DAYS)))
    obs.iloc[5] = np.nan
    q = pd.DataFrame({lev: model * np.exp(0.3 * norm.ppf(lev)) for lev in LEVELS}, index=DAYS)
    return obs, {"model": model, "persistence": obs.shift(1)}, q


def test_report_tables_match_direct_scores(case, tmp_path):
    obs, fcst, q = case
    res = verification_report(obs, fcst, quantiles=q, reference="persistence", out_dir=tmp_path,
                              n_boot=200)
    names = {p.name for p in [*res["tables"].values(), *res["figures"].values()]}
    assert {"continuous.csv", "categorical.csv", "probabilistic.csv", "brier.csv",
            "reliability.csv", "confusion.csv", "timeseries.png", "performance.png",
            "reliability.png"} <= names
    for png in res["figures"].values():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    common = obs.notna() & fcst["persistence"].notna()  # day 0 and days 5, 6 drop out
    cont = pd.read_csv(tmp_path / "continuous.csv", index_col="forecast")
    assert cont.loc["model", "n"] == common.sum() == 197
    assert cont.loc["model", "rmse"] == pytest.approx(
        rmse(obs[common], fcst["model"][common]), rel=1e-5)
    assert cont.loc["persistence", "mse_skill"] == pytest.approx(0.0, abs=1e-12)
    assert cont.loc["model", "ci_lower"] < cont.loc["model", "rmse_minus_reference"]
    cat = pd.read_csv(tmp_path / "categorical.csv")
    row = cat[(cat.forecast == "model") & (cat.threshold == 150)].iloc[0]
    t = contingency(obs[common], fcst["model"][common], threshold=150)
    assert row["hits"] == t.hits and row["far"] == pytest.approx(t.far)
    prob = pd.read_csv(tmp_path / "probabilistic.csv").iloc[0]
    assert prob["crps"] == pytest.approx(crps_quantiles(obs[common], q[common], LEVELS),
                                         rel=1e-5)
    assert prob["coverage"] == pytest.approx(interval_coverage(obs[common], q.loc[common, 0.1],
                                                               q.loc[common, 0.9]))
    assert prob["nominal_coverage"] == pytest.approx(0.8)
    conf = pd.read_csv(tmp_path / "confusion.csv", index_col=0)
    assert conf.values.sum() == 197


def test_cli_handler_end_to_end(case, tmp_path, capsys):
    obs, fcst, q = case
    long = pd.DataFrame({"station_id": "s1", "lon": 116.4, "lat": 39.9,
                         "time": obs.index.strftime("%Y-%m-%d"), "pm25": obs.values})
    long.to_csv(tmp_path / "obs.csv", index=False)
    frame = pd.DataFrame({"time": DAYS.strftime("%Y-%m-%d"), "model": fcst["model"].values,
                          **{f"q{lev}": q[lev].values for lev in LEVELS}})
    frame.to_csv(tmp_path / "fcst.csv", index=False)
    parser = argparse.ArgumentParser(prog="ecodss")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["verify", "--obs", str(tmp_path / "obs.csv"), "--forecast",
                              str(tmp_path / "fcst.csv"), "--reference", "persistence",
                              "--out", str(tmp_path / "out"), "--events", "100,150"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "model" in printed and "persistence" in printed and "report written" in printed
    cat = pd.read_csv(tmp_path / "out" / "categorical.csv")
    assert sorted(cat["threshold"].unique()) == [100.0, 150.0]
    assert (tmp_path / "out" / "reliability.png").is_file()
