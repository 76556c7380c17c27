"""Section forecasts, GB 3838 exceedance probabilities and warning levels."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from ecodss import samples_river
from ecodss.water.warning import (
    SectionForecaster,
    class_probabilities,
    exceedance_probability,
    mse_skill_vs_persistence,
    warning_level,
)

LEVELS = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])


def test_probabilities_are_calibrated_on_synthetic_data():
    """Outcomes drawn from known predictive distributions: reliability within 10 points."""
    rng = np.random.default_rng(7)
    n = 20000
    mu = rng.normal(1.0, 0.4, n)
    sd = rng.uniform(0.1, 0.4, n)
    y = rng.normal(mu, sd)
    q = mu[:, None] + sd[:, None] * stats.norm.ppf(LEVELS)[None, :]
    limit = 1.0  # e.g. NH3-N class III
    p = exceedance_probability(q, LEVELS, limit)
    bins = np.linspace(0, 1, 11)
    idx = np.clip(np.digitize(p, bins) - 1, 0, 9)
    for b in range(10):
        sel = idx == b
        if sel.sum() >= 100:
            assert abs((y[sel] > limit).mean() - p[sel].mean()) <= 0.10, b
    # DO is "higher is better": probability of falling below
    p_do = exceedance_probability(q, LEVELS, 1.0, higher_is_better=True)
    np.testing.assert_allclose(p_do, 1 - p, atol=1e-12)


def test_exceedance_probability_edges():
    q = np.array([[1.0, 2.0, 3.0]])
    lev = np.array([0.1, 0.5, 0.9])
    assert exceedance_probability(q, lev, 2.0)[0] == pytest.approx(0.5)
    assert exceedance_probability(q, lev, 2.5)[0] == pytest.approx(0.3)
    assert exceedance_probability(q, lev, 100.0)[0] == 0.0
    assert exceedance_probability(q, lev, -100.0)[0] == 1.0
    assert np.isnan(exceedance_probability(np.full((1, 3), np.nan), lev, 1.0)[0])


def test_warning_levels_follow_the_rule():
    p = xr.Dataset({"p_worse_NH3_N": (("time", "gb_class"), [
        [1.0, 0.9, 0.2, 0.1, 0.0],   # P(worse than III) 0.2 -> none
        [1.0, 1.0, 0.6, 0.3, 0.1],   # yellow
        [1.0, 1.0, 0.9, 0.7, 0.2],   # orange
        [1.0, 1.0, 1.0, 0.9, 0.8],   # red
    ])}, coords={"gb_class": np.arange(1, 6)})
    lv = warning_level(p, target_class=3, p_warn=0.5)
    assert lv["level"].values.tolist() == [0, 1, 2, 3]


def test_sample_files_are_reproducible():
    folder = Path(__file__).resolve().parents[2] / "data" / "samples" / "river"
    if not (folder / "monitoring_daily.csv").is_file():
        pytest.skip("data/samples/river not present")
    fresh = samples_river.monitoring_series()
    stored = pd.read_csv(folder / "monitoring_daily.csv")
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), stored, check_dtype=False)
    tables = samples_river.river_tables()
    assert set(tables["reaches"]["downstream"].fillna("")) <= set(tables["reaches"]["id"]) | {""}


def test_written_sample_is_byte_identical_and_leaves_no_temp_files(tmp_path):
    folder = Path(__file__).resolve().parents[2] / "data" / "samples" / "river"
    if not (folder / "river.yaml").is_file():
        pytest.skip("data/samples/river not present")
    samples_river.write_river_sample(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["monitoring_daily.csv", "reaches.csv", "river.yaml", "sections.csv",
                       "sources.csv"]  # atomic writes: no .tmp left behind
    for name in written:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_backtest_beats_persistence_at_leads_1_to_3():
    ds = samples_river.load_monitoring().sel(time=slice("2021-01-01", None))
    fc = SectionForecaster(items=["NH3_N"], upstream="UP", quantiles=(0.1, 0.5, 0.9),
                           forecaster_kwargs=dict(gbm_params=dict(max_iter=40), n_folds=2),
                           n_threads=1)
    fc.fit(ds, "OUT", until="2023-01-01")
    out = fc.predict(ds, start="2023-01-01")
    skill = mse_skill_vs_persistence(ds["NH3_N"].sel(section="OUT"), out["NH3_N_mean"])
    assert skill.sizes["lead"] == 3
    assert (skill > 0).all(), skill.values
    probs = class_probabilities(out)
    assert float(probs["p_worse_NH3_N"].min()) >= 0.0
    # P(worse than class k) cannot increase from class k to a worse class
    step = probs["p_worse_NH3_N"].diff("gb_class")
    assert ((step <= 1e-12) | step.isnull()).all()
    assert probs["p_worse_NH3_N"].notnull().mean() > 0.9
