"""PMF base runs: objective, robust mode, batching, result object, EPA acceptance."""

import numpy as np
import pandas as pd
import pytest

from ecodss.apportion import pmf
from ecodss.apportion.pmf import fit_models
from ecodss.apportion.pmf_solver import _project_mean_one, fit_batch, q_values, random_start
from ecodss.apportion.pmf_synthetic import match_factors, synthetic_pmf_data
from ecodss.errors import NonFiniteValueError, OutOfRangeError, UnknownFieldError


@pytest.fixture(scope="module")
def clean():
    return synthetic_pmf_data(n_samples=100, n_species=12, n_factors=3, background=0.0, seed=3)


def test_q_definitions_match_epa_formulas():
    rng = np.random.default_rng(0)
    X, S = rng.uniform(1, 2, (1, 5, 4)), np.full((1, 5, 4), 0.1)
    G, F = np.ones((1, 5, 1)), np.full((1, 1, 4), 1.5)
    e = (X - 1.5) / 0.1
    qt, qr = q_values(X, S, G, F)
    assert qt[0] == pytest.approx((e**2).sum())
    assert qr[0] == pytest.approx(np.where(np.abs(e) > 4, 4 * np.abs(e), e**2).sum())


def test_recovers_exact_low_rank_data(clean):
    X, U, Gt, Ft = clean
    Xe = Gt.to_numpy() @ Ft.to_numpy()
    r = pmf(Xe, U.to_numpy(), 3, robust=False, seed=0, n_models=5, converge_delta=1e-6,
            max_iter=5000)
    assert r.q_true < 1e-3 * Xe.size  # exact data: Q -> 0 and GF reproduces X
    assert np.allclose(r.predicted.to_numpy(), Xe, rtol=0, atol=1e-2 * Xe.mean())
    _, corr = match_factors(r.F.to_numpy(), Ft.to_numpy())
    assert corr.min() > 0.95  # only up to the rotation the zeros leave free


def test_objective_never_increases_and_batch_equals_single(clean):
    X, U, *_ = clean
    x, u = X.to_numpy(), U.to_numpy()
    G0, F0 = random_start(x, 3, 4, np.random.default_rng(1))
    qs = [fit_batch(x[None], u[None], G0, F0, max_iter=it, converge_n=1000).q_true
          for it in (1, 5, 25)]
    assert np.all(np.diff(np.array(qs), axis=0) <= 1e-9)
    both = fit_batch(x[None], u[None], G0, F0, max_iter=300)
    one = fit_batch(x[None], u[None], G0[2:3], F0[2:3], max_iter=300)
    assert one.q_true[0] == pytest.approx(both.q_true[2], rel=1e-10)


def test_robust_mode_recovers_profiles_despite_outliers():
    hits, wins = 0, 0
    for seed in range(3):
        X, U, Gt, Ft = synthetic_pmf_data(outlier_fraction=0.02, outlier_factor=6.0, seed=seed)
        corr = {}
        for robust in (True, False):
            r = pmf(X, U, 4, robust=robust, seed=1, n_models=10)
            _, corr[robust] = match_factors(r.F.to_numpy(), Ft.to_numpy())
        hits += corr[True].min() >= 0.95
        wins += corr[True].min() > corr[False].min()
    assert hits == 3 and wins == 3


def test_result_object(clean):
    X, U, Gt, Ft = clean
    X = X.assign(total=X.sum(axis=1))
    U = U.assign(total=4 * X["total"])  # heavily down-weighted total, as in EPA's examples
    r = pmf(X, U, 3, seed=2, n_models=4, total="total")
    n, m = X.shape
    assert r.q_expected == n * m - 3 * (n + m)
    assert r.q_ratio == pytest.approx(r.q_true / r.q_expected)
    assert list(r.G.columns) == list(r.F.index) and list(r.F.columns) == list(X.columns)
    assert np.allclose(r.G.mean(), 1.0)
    assert (r.G.to_numpy() >= 0).all() and (r.F.to_numpy() >= 0).all()
    e = r.residuals.to_numpy()
    assert (e**2).sum() == pytest.approx(r.q_true, rel=1e-9)
    st = r.species_stats
    assert (st["r2"] > 0.8).all() and st["slope"].between(0.7, 1.3).all()
    c = r.contributions  # factor mass contributions add up to the total
    assert np.corrcoef(c.sum(axis=1), X["total"])[0, 1] > 0.99
    assert c.sum(axis=1).mean() == pytest.approx(X["total"].mean(), rel=0.05)
    assert len(r.models) == 4 and r.best_model == r.models["q_robust"].idxmin()
    ds = r.to_dataset()
    assert ds["G"].dims == ("sample", "factor")


def test_plots(clean):
    import matplotlib

    matplotlib.use("Agg")
    X, U, *_ = clean
    r = pmf(X, U, 3, seed=0, n_models=2)
    assert len(r.plot_profiles()) == 3
    assert len(r.plot_contributions().lines) == 3


def test_reproducible_and_dask_chunks_agree(clean):
    X, U, *_ = clean
    a = pmf(X, U, 3, seed=7, n_models=6)
    b = pmf(X, U, 3, seed=7, n_models=6)
    c = pmf(X, U, 3, seed=7, n_models=6, client="dask")
    assert a.q_robust == b.q_robust
    pd.testing.assert_frame_equal(a.F, b.F)
    assert c.q_robust == pytest.approx(a.q_robust, rel=1e-9)


def test_input_validation(clean):
    X, U, *_ = clean
    bad = X.copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(NonFiniteValueError):
        pmf(bad, U, 3)
    with pytest.raises(OutOfRangeError):
        pmf(X, U * 0, 3)
    with pytest.raises(UnknownFieldError, match="did you mean"):
        pmf(X, U, 3, total="V1")


def test_mean_one_projection_is_optimal():
    rng = np.random.default_rng(4)
    t, a = rng.normal(0.8, 1.0, (3, 20)), rng.uniform(0.2, 2.0, (3, 20))
    y = _project_mean_one(t, a)
    assert np.allclose(y.mean(1), 1.0) and (y >= 0).all()
    # KKT: a_i (y_i - t_i) is the same (-mu) for every positive y_i
    g = a * (y - t)
    for row, yy in zip(g, y, strict=True):
        assert np.ptp(row[yy > 0]) < 1e-9


# ------------------------------------------------------------------------- EPA acceptance
EPA_TARGETS = [  # (data set, robust, objective, ESAT's value to reach; README in ../shared/pmf)
    ("BatonRouge", False, "q_true", 64_570.0),
    ("BatonRouge", True, "q_robust", 54_967.0),
    ("StLouis", False, "q_true", 6_562.0),
]


@pytest.mark.parametrize(("name", "robust", "objective", "target"), EPA_TARGETS)
def test_acceptance_epa_examples_4_of_5_seeds(shared_dir, name, robust, objective, target):
    """ACCEPTANCE (issue #5): 6 factors, 20 models, all species strong, >= 4 of 5 seeds."""
    d = shared_dir / "pmf"
    X = pd.read_csv(d / f"Dataset-{name}-con.csv", index_col=0)
    U = pd.read_csv(d / f"Dataset-{name}-unc.csv", index_col=0)
    x, u = X.to_numpy(float), U.to_numpy(float)
    ok = 0
    for seed in range(5):  # the same starts pmf(seed=seed) uses
        G0, F0 = random_start(x, 6, 20, np.random.default_rng(seed))
        fit = fit_models(x[None], u[None], G0, F0, robust=robust)
        ok += getattr(fit, objective).min() <= target
        if ok >= 4:
            break
    assert ok >= 4
