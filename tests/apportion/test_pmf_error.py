"""PMF error estimation: bootstrap coverage and mapping, DISP dQ targets, Fpeak behaviour."""

import numpy as np
import pytest

from ecodss.apportion import pmf
from ecodss.apportion.pmf import fit_models
from ecodss.apportion.pmf_error import block_indices
from ecodss.apportion.pmf_synthetic import match_factors, synthetic_pmf_data


def _well_determined(n, m, k, seed):
    """Zeros in both F and G pin the rotation, so the truth is the unique solution."""
    X, U, Gt, Ft = synthetic_pmf_data(n_samples=n, n_species=m, n_factors=k, background=0.0,
                                      shared=False, g_zero_fraction=0.2, seed=seed)
    r = pmf(X, U, k, robust=False, seed=0, n_models=4)
    order, _ = match_factors(r.F.to_numpy(), Ft.to_numpy())
    return r, Ft.to_numpy(), order


def test_block_indices_are_contiguous_blocks():
    idx = block_indices(50, 3, 5, np.random.default_rng(0))
    assert idx.shape == (3, 50) and idx.max() < 50
    assert (np.diff(idx.reshape(3, 10, 5), axis=2) == 1).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_bootstrap_intervals_cover_truth(seed):
    r, ft, order = _well_determined(120, 12, 3, seed)
    b = r.bootstrap(n_boot=100, seed=1)
    lo, hi = (a.to_numpy()[order] for a in b.interval(5, 95))
    assert ((lo <= ft) & (ft <= hi)).mean() >= 0.8
    # mapping table: every replicate factor maps back to the base factor it started from
    assert b.mapping.shape == (3, 4)
    assert (np.diag(b.mapping.to_numpy()) >= 90).all()
    assert b.mapping.to_numpy().sum() == 3 * 100


@pytest.mark.parametrize("dq_max", [4.0, 25.0])
def test_disp_reaches_dqmax_and_contains_truth(dq_max):
    r, ft, order = _well_determined(60, 8, 2, 0)
    d = r.disp(dq_max=dq_max)
    up, lo = d.upper.to_numpy(), d.lower.to_numpy()
    assert (lo <= r.F.to_numpy() + 1e-12).all() and (up >= r.F.to_numpy() - 1e-12).all()
    # every displaced bound: Q(refit) - Q(base) = dQmax within 1 %; lower bounds clamped at 0
    # are the only exception and must stay below dQmax
    assert np.allclose(d.dq_upper.to_numpy(), dq_max, rtol=0.01)
    dql = d.dq_lower.to_numpy()
    assert np.allclose(dql[lo > 0], dq_max, rtol=0.01) and (dql[lo == 0] <= dq_max * 1.01).all()
    assert d.max_decrease < 1e-3
    if dq_max == 25.0:
        assert ((lo[order] <= ft) & (ft <= up[order])).all()


def test_disp_bound_confirmed_by_independent_refit():
    r, *_ = _well_determined(60, 8, 2, 1)
    d = r.disp(dq_max=8.0)
    p, j = np.unravel_index(np.argmax(r.F.to_numpy()), r.F.shape)
    x, u = r.X.to_numpy()[None], r.U.to_numpy()[None]
    opts = {**r.options, "converge_delta": 1e-6, "max_iter": 20000}
    base = fit_models(x, u, r.G.to_numpy()[None], r.F.to_numpy()[None], **opts)
    fit = fit_models(x, u, r.G.to_numpy()[None], r.F.to_numpy()[None],
                     fixed_f=(np.array([p]), np.array([j]), np.array([d.upper.iloc[p, j]])),
                     g_mean_one=np.array([p]), **opts)
    assert fit.q_robust[0] - base.q_robust[0] == pytest.approx(8.0, rel=0.02)


def test_fpeak_zero_is_base_and_q_rises_with_strength():
    r, *_ = _well_determined(60, 8, 2, 0)
    base = r.fpeak(0.0)
    assert base.q_robust == pytest.approx(r.q_robust, rel=1e-6)
    assert np.allclose(base.F.to_numpy(), r.F.to_numpy(), rtol=1e-3, atol=1e-4)
    for sign in (1, -1):
        q = [r.fpeak(sign * s).q_robust for s in (0.0, 0.05, 0.1, 0.3, 0.5)]
        assert np.all(np.diff(q) >= -1e-6 * q[0]) and q[-1] > 1.5 * q[0]
    # positive Fpeak sharpens F (more near-zero profile elements), negative sharpens G
    small = 1e-3 * r.F.to_numpy().max()
    assert (r.fpeak(0.3).F.to_numpy() < small).sum() >= (r.F.to_numpy() < small).sum()
    assert (r.fpeak(-0.3).G.to_numpy() < 1e-3).sum() >= (r.G.to_numpy() < 1e-3).sum()
