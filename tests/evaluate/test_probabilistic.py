"""Probabilistic scores against independent definitions, closed forms and scikit-learn."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, mean_pinball_loss

from ecodss.errors import InvalidValueError, OutOfRangeError
from ecodss.evaluate import (
    brier_decomposition,
    brier_score,
    crps_ensemble,
    crps_quantiles,
    exceedance_probability,
    interval_coverage,
    pinball_loss,
    reliability_curve,
)


def _crps_gaussian(y, mu, sigma):
    """Closed form for a normal forecast (Gneiting et al. 2005, Mon. Weather Rev. 133, Eq. 5)."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


def _crps_integral(y, members):
    """∫ (F(x) − H(x − y))² dx with the empirical CDF, integrated numerically piece by piece."""
    xs = np.sort(members)
    lo, hi = min(xs[0], y) - 1.0, max(xs[-1], y) + 1.0
    knots = np.unique(np.r_[lo, xs, y, hi])

    def integrand(x):
        return (np.searchsorted(xs, x, side="right") / len(xs) - float(x >= y)) ** 2

    return sum(integrate.quad(integrand, a, b)[0] for a, b in zip(knots[:-1], knots[1:],
                                                                   strict=True))


def test_brier_matches_sklearn_and_hand_value():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=300)
    o = (rng.uniform(size=300) < p).astype(float)
    assert brier_score(o, p) == pytest.approx(brier_score_loss(o, p), rel=1e-12)
    assert brier_score([1, 0, 1], [0.9, 0.2, 0.4]) == pytest.approx((0.01 + 0.04 + 0.36) / 3)


def test_decomposition_by_hand():
    d = brier_decomposition([1, 0, 1, 1], [0.8, 0.2, 0.8, 0.5])
    # bins: {0.8: obs 1, 1}, {0.2: obs 0}, {0.5: obs 1}; obar = 3/4
    assert d["reliability"] == pytest.approx((2 * 0.2**2 + 0.2**2 + 0.5**2) / 4)
    assert d["resolution"] == pytest.approx((2 * 0.25**2 + 0.75**2 + 0.25**2) / 4)
    assert d["uncertainty"] == pytest.approx(0.75 * 0.25)


def test_decomposition_identity_exact_for_bin_values_only():
    rng = np.random.default_rng(1)
    p = rng.integers(0, 11, 2000) / 10.0  # forecasts issued as 0, 0.1, ..., 1
    o = (rng.uniform(size=2000) < np.clip(p + 0.1, 0, 1)).astype(float)
    edges = np.r_[0.0, np.arange(0.05, 1.0, 0.1), 1.0]  # one bin around each value k/10
    d = brier_decomposition(o, p, bins=edges)
    assert d["reliability"] - d["resolution"] + d["uncertainty"] == pytest.approx(
        d["brier"], abs=1e-14)
    assert d["brier"] == pytest.approx(brier_score_loss(o, p), rel=1e-12)
    q = rng.uniform(size=2000)  # continuous probabilities: identity no longer exact
    d2 = brier_decomposition(o, q, bins=5)
    assert abs(d2["reliability"] - d2["resolution"] + d2["uncertainty"] - d2["brier"]) > 1e-6
    assert d2["brier"] == pytest.approx(brier_score_loss(o, q), rel=1e-12)


def test_reliability_curve_table():
    r = reliability_curve([1, 0, 1, 1, np.nan], [0.8, 0.2, 0.8, 0.5, 0.9], bins=5)
    assert r["count"].tolist() == [0, 1, 1, 0, 2]
    assert r.loc[4, "observed_frequency"] == 1.0 and r.loc[4, "forecast_probability"] == 0.8
    assert np.isnan(r.loc[0, "observed_frequency"])


def test_crps_ensemble_equals_integral_definition():
    rng = np.random.default_rng(2)
    members = rng.normal(50, 20, size=(6, 9))
    obs = np.array([40.0, 50.0, 120.0, -10.0, 55.0, 49.0])
    per_sample = crps_ensemble(obs, members, dim=())
    expected = [_crps_integral(y, m) for y, m in zip(obs, members, strict=True)]
    np.testing.assert_allclose(per_sample, expected, rtol=1e-7)
    assert crps_ensemble(obs, members) == pytest.approx(np.mean(expected), rel=1e-7)


def test_crps_ensemble_of_one_member_is_absolute_error_and_gaussian_limit():
    assert crps_ensemble([3.0, 5.0], [[1.0], [9.0]]) == pytest.approx(3.0)
    rng = np.random.default_rng(3)
    big = rng.normal(0.0, 1.0, size=(1, 20000))
    assert crps_ensemble([0.7], big) == pytest.approx(_crps_gaussian(0.7, 0, 1), rel=1e-2)


def test_crps_quantiles_is_twice_mean_pinball_and_converges():
    levels = np.array([0.1, 0.5, 0.9])
    q = np.array([[10.0, 20.0, 40.0]])
    y = np.array([35.0])
    by_hand = 2 * np.mean([0.1 * 25, 0.5 * 15, 0.1 * 5])  # y above q1,q2 ; below q3
    assert crps_quantiles(y, q, levels) == pytest.approx(by_hand)
    assert crps_quantiles(y, q, levels) == pytest.approx(
        2 * np.mean([pinball_loss(y, q[:, k], lev) for k, lev in enumerate(levels)]))
    k = 400
    tau = (np.arange(k) + 0.5) / k  # midpoint rule on (0, 1)
    for y0 in (-1.3, 0.2, 2.5):
        approx = crps_quantiles([y0], norm.ppf(tau)[None, :], tau)
        assert approx == pytest.approx(_crps_gaussian(y0, 0.0, 1.0), rel=2e-3)


def test_pinball_matches_sklearn():
    rng = np.random.default_rng(4)
    y, q = rng.gamma(2, 30, 200), rng.gamma(2, 30, 200)
    for lev in (0.1, 0.5, 0.9):
        assert pinball_loss(y, q, lev) == pytest.approx(mean_pinball_loss(y, q, alpha=lev))


def test_interval_coverage_and_exceedance():
    obs = np.array([5.0, 15.0, 25.0, np.nan])
    assert interval_coverage(obs, [0, 0, 0, 0], [10, 20, 20, 20]) == pytest.approx(2 / 3)
    q = np.array([[10.0, 20.0, 30.0], [100.0, 200.0, 300.0]])
    p = exceedance_probability(q, [0.1, 0.5, 0.9], 15.0)
    np.testing.assert_allclose(p, [1 - 0.3, 1.0])  # 15 halfway 10..20 -> F = 0.3; below q0.1
    assert exceedance_probability(q, [0.1, 0.5, 0.9], 35.0)[0] == 0.0
    frame = pd.DataFrame(q, columns=[0.1, 0.5, 0.9])
    assert exceedance_probability(frame, [0.1, 0.5, 0.9], 25.0).iloc[0] == pytest.approx(0.3)


def test_xarray_and_dask_match_numpy(field, chunked):
    obs, fcst = field
    levels = np.array([0.1, 0.5, 0.9])
    spread = xr.DataArray(np.array([0.6, 1.0, 1.5]), dims="quantile")
    q = (fcst * spread).transpose("station", "lead", "time", "quantile")
    res = crps_quantiles(chunked(obs), chunked(q), levels, axis="quantile", dim="time")
    ref = crps_quantiles(obs.values, q.values, levels, dim=-1)
    np.testing.assert_allclose(res.values, ref, rtol=1e-12)
    members = (fcst * spread.rename(quantile="member"))
    res_e = crps_ensemble(chunked(obs), chunked(members), member_axis="member", dim="time")
    ref_e = crps_ensemble(obs.values, members.transpose(..., "member").values, dim=-1)
    np.testing.assert_allclose(res_e.values, ref_e, rtol=1e-12)
    ev = (obs > 100).astype(float).where(obs.notnull())
    prob = xr.apply_ufunc(np.clip, fcst / 300, 0, 1).round(1)
    d = brier_decomposition(chunked(ev), chunked(prob), dim=("lead", "time"))
    d_np = brier_decomposition(ev.values, prob.values, dim=(1, 2))
    for name in d_np:
        np.testing.assert_allclose(d[name].values, d_np[name], rtol=1e-12, err_msg=name)


def test_invalid_inputs():
    with pytest.raises(OutOfRangeError, match="prob"):
        brier_score([1, 0], [0.5, 1.2])
    with pytest.raises(InvalidValueError, match="obs_event"):
        brier_score([2, 0], [0.5, 0.2])
    with pytest.raises(InvalidValueError, match="crossing"):
        crps_quantiles([1.0], [[3.0, 2.0]], [0.25, 0.75])
    with pytest.raises(OutOfRangeError, match="levels"):
        crps_quantiles([1.0], [[1.0, 2.0]], [0.5, 1.0])
    with pytest.raises(InvalidValueError, match="lower"):
        interval_coverage([1.0], [2.0], [1.0])
