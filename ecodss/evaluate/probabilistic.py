"""Scores of probabilistic forecasts: Brier score and its decomposition, reliability diagram,
CRPS of ensembles and of quantile sets, pinball loss, interval coverage.

References
----------
Brier, G. W. (1950). Verification of forecasts expressed in terms of probability. *Mon. Weather
Rev.* 78, 1–3.
Murphy, A. H. (1973). A new vector partition of the probability score. *J. Appl. Meteorol.* 12,
595–600 — BS = REL − RES + UNC.
Wilks, D. S. (2011). *Statistical Methods in the Atmospheric Sciences*, 3rd ed., §8.4.2–8.4.4
(Brier score, its algebraic decomposition, reliability diagram), §8.5.1 (CRPS).
Hersbach, H. (2000). Decomposition of the continuous ranked probability score for ensemble
prediction systems. *Wea. Forecasting* 15, 559–570.
Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. *J. Am. Stat. Assoc.* 102, 359–378, §4.2 (CRPS = E|X − y| − ½ E|X − X'|).
Koenker, R. and Bassett, G. (1978). Regression quantiles. *Econometrica* 46, 33–50 (check loss).
Laio, F. and Tamea, S. (2007). Verification tools for probabilistic forecasts of continuous
hydrological variables. *Hydrol. Earth Syst. Sci.* 11, 1267–1277 — CRPS = 2 ∫₀¹ QS_τ dτ;
Gneiting, T. and Ranjan, R. (2011). Comparing density forecasts using threshold- and
quantile-weighted scoring rules. *J. Bus. Econ. Stat.* 29, 411–422 (same identity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError, OutOfRangeError
from ._apply import apply_score, masked_mean, valid_mask

_DECOMPOSITION = ("reliability", "resolution", "uncertainty", "brier")


def _check_probability(p: np.ndarray, valid: np.ndarray, field: str, where: str) -> None:
    bad = valid & ((p < 0) | (p > 1))
    if bad.any():
        raise OutOfRangeError(f"{field}={p[bad].ravel()[0]} must be in [0, 1]", field=field,
                              where=where)


def _check_events(o: np.ndarray, where: str) -> None:
    bad = ~np.isnan(o) & (o != 0) & (o != 1)
    if bad.any():
        raise InvalidValueError(f"obs_event={o[bad].ravel()[0]} must be 0/1 (NaN = missing)",
                                field="obs_event", where=where)


def _brier_kernel(o, p):
    valid = valid_mask(o, p)
    _check_events(o, "brier_score")
    _check_probability(p, valid, "prob", "brier_score")
    return masked_mean((p - o) ** 2, valid)


def brier_score(obs_event, prob, dim=None):
    """Brier score ⟨(p − o)²⟩ [1] of probability forecasts of a binary event (Brier 1950).

    Parameters
    ----------
    obs_event : array-like, pandas or xarray.DataArray
        Observed event, 1/0 (or bool); NaN = missing.
    prob : same type
        Forecast probability of the event [1], in [0, 1].
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce; default all.
    """
    return apply_score(_brier_kernel, obs_event, prob, dim=dim, where="brier_score")


def _edges(bins) -> np.ndarray:
    edges = np.linspace(0.0, 1.0, int(bins) + 1) if np.ndim(bins) == 0 else np.asarray(
        bins, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any() or edges[0] > 0 \
            or edges[-1] < 1:
        raise InvalidValueError("bins must be a count >= 1 or increasing edges covering [0, 1]",
                                field="bins", where="brier_decomposition")
    return edges


def _bin_onehot(p: np.ndarray, valid: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """One-hot bin membership [..., n, K]; bins are [e_k, e_k+1), the last one closed.

    Probabilities are rounded to 12 decimals first, so that a probability equal to an edge
    (0.3 with 10 bins) falls in the bin it opens despite floating-point edges.
    """
    k = np.searchsorted(np.round(edges, 12), np.round(p, 12), side="right") - 1
    k = np.clip(k, 0, len(edges) - 2)
    return (k[..., None] == np.arange(len(edges) - 1)) & valid[..., None]


def _decomposition_kernel(o, p, *, edges):
    valid = valid_mask(o, p)
    _check_events(o, "brier_decomposition")
    _check_probability(p, valid, "prob", "brier_decomposition")
    hot = _bin_onehot(p, valid, edges)
    o0, p0 = np.where(valid, o, 0.0), np.where(valid, p, 0.0)
    n_k = hot.sum(axis=-2)
    n = n_k.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_k = np.einsum("...nk,...n->...k", hot, p0) / n_k
        o_k = np.einsum("...nk,...n->...k", hot, o0) / n_k
        obar = o0.sum(axis=-1) / n
        rel = np.nansum(n_k * (p_k - o_k) ** 2, axis=-1) / n
        res = np.nansum(n_k * (o_k - obar[..., None]) ** 2, axis=-1) / n
    unc = obar * (1.0 - obar)
    bs = masked_mean((p - o) ** 2, valid)
    out = np.stack([rel, res, unc, bs], axis=-1)
    return np.where((n > 0)[..., None], out, np.nan)


def brier_decomposition(obs_event, prob, bins=10, dim=None):
    """Murphy (1973) decomposition of the Brier score: BS = REL − RES + UNC.

    Parameters
    ----------
    obs_event, prob, dim
        As :func:`brier_score`.
    bins : int or sequence of float
        Number of equal-width probability bins on [0, 1], or the bin edges.

    Returns
    -------
    dict (numpy/pandas) or xarray.Dataset with ``reliability`` = (1/N) Σ_k n_k (p̄_k − ō_k)²,
    ``resolution`` = (1/N) Σ_k n_k (ō_k − ō)², ``uncertainty`` = ō (1 − ō) and ``brier``, the
    Brier score itself [all 1]. p̄_k is the mean forecast probability in bin k, ō_k the observed
    frequency there, ō the overall frequency.

    Notes
    -----
    The identity REL − RES + UNC = BS is exact when every forecast in a bin has the same
    probability (forecasts issued as bin values; Wilks 2011, §8.4.3). Otherwise the difference
    is the within-bin variance and covariance terms of Stephenson, Coelho & Jolliffe (2008,
    *Wea. Forecasting* 23, 752–757); ``brier`` is always the exact score.
    """
    edges = _edges(bins)
    return apply_score(_decomposition_kernel, obs_event, prob, dim=dim, outputs=_DECOMPOSITION,
                       where="brier_decomposition", kwargs={"edges": edges})


def reliability_curve(obs_event, prob, bins=10) -> pd.DataFrame:
    """Reliability-diagram data: per probability bin, mean forecast and observed frequency.

    Parameters
    ----------
    obs_event, prob : array-like, pandas or xarray.DataArray
        As :func:`brier_score`; all dimensions are pooled.
    bins : int or sequence of float
        Number of equal-width bins or their edges.

    Returns
    -------
    pandas.DataFrame, one row per bin: ``bin_lower``, ``bin_upper``, ``count``,
    ``forecast_probability`` (mean p in the bin; NaN if empty) and ``observed_frequency``
    (Wilks 2011, §8.4.4).
    """
    edges = _edges(bins)
    o = np.asarray(obs_event, dtype=float).ravel()
    p = np.asarray(prob, dtype=float).ravel()
    if o.shape != p.shape:
        raise InvalidValueError(f"obs_event has {o.size} values, prob {p.size}", field="prob",
                                where="reliability_curve")
    valid = valid_mask(o, p)
    _check_events(o, "reliability_curve")
    _check_probability(p, valid, "prob", "reliability_curve")
    hot = _bin_onehot(p, valid, edges)
    count = hot.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fp = (hot * np.where(valid, p, 0.0)[:, None]).sum(axis=0) / count
        of = (hot * np.where(valid, o, 0.0)[:, None]).sum(axis=0) / count
    return pd.DataFrame({"bin_lower": edges[:-1], "bin_upper": edges[1:], "count": count,
                         "forecast_probability": fp, "observed_frequency": of})


def _crps_ensemble_kernel(y, x):
    """Per sample: (1/M) Σ|x_i − y| − (1/M²) Σ_i (2i − M − 1) x_(i) (sorted members, i = 1..M).

    The second term is ½ E|X − X'| = (1/(2M²)) Σ_i Σ_j |x_i − x_j| written with the sorted
    members, O(M log M) instead of O(M²).
    """
    valid = ~np.isnan(y) & ~np.isnan(x).any(axis=-1)
    m = x.shape[-1]
    xs = np.sort(np.where(valid[..., None], x, 0.0), axis=-1)
    y0 = np.where(valid, y, 0.0)
    spread = (xs * (2.0 * np.arange(1, m + 1) - m - 1)).sum(axis=-1) / m**2
    crps = np.abs(xs - y0[..., None]).mean(axis=-1) - spread
    return masked_mean(crps, valid)


def crps_ensemble(obs, members, member_axis: int | str = -1, dim=None):
    """Continuous ranked probability score of an ensemble forecast [unit of obs].

    CRPS = ∫ (F(x) − H(x − y))² dx with F the ensemble's empirical CDF (Hersbach 2000), computed
    in the equivalent form E|X − y| − ½ E|X − X'| (Gneiting & Raftery 2007, §4.2).

    Parameters
    ----------
    obs : array-like, pandas or xarray.DataArray
        Observations; NaN = missing.
    members : array-like or xarray.DataArray
        Ensemble members, the sample shape of ``obs`` plus one member axis. A sample with a
        NaN member is dropped.
    member_axis : int or str
        Member axis (numpy) or dimension name (xarray; an int picks ``members.dims[i]``).
    dim : str, int or sequence, optional
        Sample dimension(s)/axes to average over; default all; ``()`` for per-sample CRPS.
    """
    return apply_score(_crps_ensemble_kernel, obs, members, dim=dim, extra={1: member_axis},
                       where="crps_ensemble")


def _check_levels(levels) -> np.ndarray:
    levels = np.atleast_1d(np.asarray(levels, dtype=float))
    if levels.ndim != 1 or ((levels <= 0) | (levels >= 1)).any() or (np.diff(levels) <= 0).any():
        raise OutOfRangeError(f"quantile levels {levels.tolist()} must increase strictly "
                              "inside (0, 1)", field="levels", where="crps_quantiles")
    return levels


def _pinball(y, q, tau):
    u = y - q
    return np.maximum(tau * u, (tau - 1.0) * u)


def _crps_quantiles_kernel(y, q, *, levels):
    if q.shape[-1] != len(levels):
        raise InvalidValueError(f"{q.shape[-1]} quantiles for {len(levels)} levels",
                                field="quantiles", where="crps_quantiles")
    valid = ~np.isnan(y) & ~np.isnan(q).any(axis=-1)
    if (valid[..., None] & (np.diff(q, axis=-1, prepend=-np.inf) < 0)).any():
        raise InvalidValueError("quantiles decrease with the level (crossing quantiles); sort "
                                "them along the level axis first", field="quantiles",
                                where="crps_quantiles")
    loss = _pinball(np.where(valid, y, 0.0)[..., None], np.where(valid[..., None], q, 0.0),
                    levels)
    return masked_mean(2.0 * loss.mean(axis=-1), valid)


def crps_quantiles(obs, quantiles, levels, axis: int | str = -1, dim=None):
    """CRPS approximated from a set of forecast quantiles [unit of obs].

    CRPS = 2 ∫₀¹ QS_τ(q_τ, y) dτ with the quantile (pinball) score QS_τ (Laio & Tamea 2007;
    Gneiting & Ranjan 2011); the integral is approximated by the mean over the K levels,
    2/K Σ_k QS_τk — exact in the limit of many equally spaced levels (midpoint rule for
    τ_k = (k − ½)/K).

    Parameters
    ----------
    obs : array-like, pandas or xarray.DataArray
        Observations.
    quantiles : array-like, pandas DataFrame (columns = levels) or xarray.DataArray
        Forecast quantiles, the sample shape of ``obs`` plus the level axis, non-decreasing
        along it.
    levels : sequence of float
        The K quantile levels, strictly increasing in (0, 1).
    axis : int or str
        Level axis (numpy) or dimension name (xarray).
    dim : str, int or sequence, optional
        Sample dimension(s)/axes to average over; default all; ``()`` per sample.
    """
    levels = _check_levels(levels)
    return apply_score(_crps_quantiles_kernel, obs, quantiles, dim=dim, extra={1: axis},
                       where="crps_quantiles", kwargs={"levels": levels})


def _pinball_kernel(y, q, *, level):
    valid = valid_mask(y, q)
    return masked_mean(_pinball(y, q, level), valid)


def pinball_loss(obs, q, level: float, dim=None):
    """Mean pinball (check, quantile) loss ⟨ρ_τ(y − q)⟩ [unit of obs] (Koenker & Bassett 1978).

    ρ_τ(u) = τ u for u ≥ 0 and (τ − 1) u for u < 0.

    Parameters
    ----------
    obs, q : array-like, pandas or xarray.DataArray
        Observations and the forecast ``level``-quantile.
    level : float
        Quantile level τ in (0, 1).
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce; default all.
    """
    level = float(_check_levels([level])[0])
    return apply_score(_pinball_kernel, obs, q, dim=dim, where="pinball_loss",
                       kwargs={"level": level})


def _coverage_kernel(y, lo, hi):
    valid = valid_mask(y, lo, hi)
    if (valid & (lo > hi)).any():
        raise InvalidValueError("lower bound above upper bound", field="lower",
                                where="interval_coverage")
    return masked_mean(((y >= lo) & (y <= hi)).astype(float), valid)


def interval_coverage(obs, lower, upper, dim=None):
    """Fraction of observations inside the forecast interval [lower, upper] [1].

    For a central (1 − α) prediction interval a calibrated forecast covers 1 − α of the
    observations (e.g. 0.8 for the 10–90 % interval; Gneiting, Balabdaoui & Raftery 2007,
    *J. R. Stat. Soc. B* 69, 243–268, on calibration and sharpness).

    Parameters
    ----------
    obs, lower, upper : array-like, pandas or xarray.DataArray
        Observations and interval bounds [same unit]; NaN in any drops the sample.
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce; default all.
    """
    return apply_score(_coverage_kernel, obs, lower, upper, dim=dim, where="interval_coverage")


def exceedance_probability(quantiles, levels, threshold, axis: int | str = -1):
    """P(Y > threshold) from forecast quantiles, by linear interpolation of the CDF [1].

    Between two quantiles the CDF is interpolated linearly; below the lowest quantile it is
    taken as 0 and from the highest on as 1 (so a threshold outside the forecast's quantile
    range gives probability 1 or 0 — a coarse tail; use many levels or a parametric tail when
    the tail matters). This is ``tails="clamped"`` of
    :func:`ecodss.stats.predictive.exceedance_probability`, which also offers linear and
    log-normal tails.

    Parameters
    ----------
    quantiles : array-like, pandas DataFrame (columns = levels) or xarray.DataArray
        Forecast quantiles, non-decreasing along ``axis``.
    levels : sequence of float
        Their levels in (0, 1).
    threshold : float or array-like
        Event threshold [unit of the quantiles], broadcasting with the sample shape.
    axis : int or str
        Level axis (numpy) or dimension (xarray).

    Returns
    -------
    Same sample shape as ``quantiles`` without the level axis (NaN where a quantile is NaN).
    """
    from ..stats.predictive import exceedance_probability as predictive_exceedance

    return predictive_exceedance(quantiles, levels, threshold, tails="clamped", axis=axis)


__all__ = ["brier_score", "brier_decomposition", "reliability_curve", "crps_ensemble",
           "crps_quantiles", "pinball_loss", "interval_coverage", "exceedance_probability"]
