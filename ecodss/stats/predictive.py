"""Predictive distribution from a set of forecast quantiles: quantile function, CDF, exceedance.

Quantile forecasts ``q_k`` at levels ``tau_k`` (k = 1..K, K >= 2) become a continuous
distribution by interpolating between the points ``(g(q_k), h(tau_k))`` linearly; ``tails``
chooses the transforms ``g``, ``h`` and what happens outside ``[q_1, q_K]``:

``"lognormal"``
    ``g = log1p``, ``h = Phi^-1`` (standard-normal score): ``log(1 + q)`` is interpolated
    linearly in the normal score and the outer segments are extended, so between two levels the
    distribution is log-normal and the tails are log-normal with the scale of the adjacent
    segment (a log-normal forecast given by any three quantiles is reproduced exactly). This is
    the quantile-interpolation idea of Quiñonero-Candela et al. (2006) with parametric tails;
    ``log1p`` keeps zero concentrations finite, and values the lower tail would put below zero
    are set to zero (a point mass at 0). Quantiles must be >= 0 (concentrations).
``"linear"``
    ``g``, ``h`` the identity: the CDF is piecewise linear through the quantiles and the end
    segments are extended linearly, clipped to [0, 1] (uniform tails).
``"clamped"``
    Piecewise linear between the quantiles; the CDF is 0 below the lowest and 1 from the highest
    quantile on (point masses ``tau_1`` at ``q_1`` and ``1 - tau_K`` at ``q_K``): a coarse tail,
    exact only for levels that reach far into the tails.

The CDF is right-continuous, ``F(y) = P(Y <= y)``; :func:`exceedance_probability` gives
``P(Y > y) = 1 - F(y)`` or, for "higher is better" quantities, ``P(Y < y) = F(y-)`` (the two
differ only at a point mass, e.g. tied quantiles). An end segment of zero width (tied end
quantiles) makes an extended tail a point mass. Quantiles are sorted along the level axis first
(the rearrangement of crossing quantiles, Chernozhukov, Fernández-Val & Galichon 2010).

All three functions take numpy arrays (level axis ``axis``), pandas DataFrames (columns = levels)
and xarray DataArrays (``axis`` = level dimension name; dask-backed ones stay lazy), and give
the same numbers for each; NaN in any quantile gives NaN.

References
----------
Quiñonero-Candela, J. et al. (2006) Evaluating predictive uncertainty challenge. LNCS 3944, 1-27.
Chernozhukov, V., Fernández-Val, I. and Galichon, A. (2010) Quantile and probability curves
without crossing. Econometrica 78, 1093-1125.
Wilks, D. S. (2011) Statistical Methods in the Atmospheric Sciences, 3rd ed., §8.5 (probability
forecasts for continuous predictands from quantiles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from ..errors import InvalidValueError, OutOfRangeError

TAILS = ("lognormal", "linear", "clamped")


def check_levels(levels, where: str = "predictive") -> np.ndarray:
    """Quantile levels as a 1-D float array; :class:`OutOfRangeError` unless >= 2 of them
    increase strictly inside (0, 1)."""
    tau = np.atleast_1d(np.asarray(levels, dtype=float))
    if tau.ndim != 1 or tau.size < 2 or not np.all((tau > 0) & (tau < 1)) \
            or np.any(np.diff(tau) <= 0):
        raise OutOfRangeError(f"quantile levels {tau.tolist()} must be >= 2 values increasing "
                              "strictly inside (0, 1)", field="levels", where=where)
    return tau


def _check_tails(tails: str, where: str) -> str:
    if tails not in TAILS:
        raise InvalidValueError(f"tails={tails!r} must be one of {TAILS}", field="tails",
                                where=where)
    return tails


def _nodes(q: np.ndarray, levels: np.ndarray, tails: str, where: str):
    """Sorted interpolation nodes ``(g(q), h(tau))``."""
    q = np.sort(q, axis=-1)
    if tails != "lognormal":
        return q, levels
    if np.any(q[np.isfinite(q)] < 0):
        raise InvalidValueError("quantiles must be >= 0 for log-normal tails (a concentration)",
                                field="quantiles", where=where)
    return np.log1p(q), special.ndtri(levels)


def _segment(x: np.ndarray, s: np.ndarray, seg: np.ndarray):
    """Start node, start score and slope dx/ds of segment ``seg`` (leading axes broadcast)."""
    x0 = np.take_along_axis(x, seg, axis=-1)
    x1 = np.take_along_axis(x, seg + 1, axis=-1)
    s0, s1 = s[seg], s[seg + 1]
    return x0, s0, (x1 - x0) / (s1 - s0)


def _cdf_kernel(q, y, *, levels, tails, left=False, complement=False, where="cdf"):
    """F(y) (``left``: F(y-); ``complement``: 1 - that) for quantiles ``q (..., K)`` and values
    ``y`` broadcasting with ``q[..., 0]``."""
    x, s = _nodes(q, levels, tails, where)
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        xy = (np.log1p(y) if tails == "lognormal" else y)[..., None]
    shape = np.broadcast_shapes(x.shape[:-1], xy.shape[:-1])
    x = np.broadcast_to(x, shape + x.shape[-1:])
    xy = np.broadcast_to(xy, shape + (1,))
    n_below = ((x < xy) if left else (x <= xy)).sum(axis=-1, keepdims=True)
    seg = np.clip(n_below - 1, 0, levels.size - 2)
    x0, s0, slope = _segment(x, s, seg)
    above = (xy > x0) if left else (xy >= x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(slope > 0, s0 + (xy - x0) / slope, np.where(above, np.inf, -np.inf))
    if tails == "lognormal":  # ndtr(-z) keeps small exceedance probabilities accurate
        f = special.ndtr(-score if complement else score)
    else:
        f = np.clip(score, 0.0, 1.0)
        if tails == "clamped":
            f = np.where(n_below == 0, 0.0, np.where(n_below == levels.size, 1.0, f))
        f = 1.0 - f if complement else f
    missing = np.isnan(x).any(axis=-1) | np.isnan(xy[..., 0])
    return np.where(missing, np.nan, f[..., 0])


def _quantile_kernel(q, p, *, levels, tails, where="quantile_function"):
    x, s = _nodes(q, levels, tails, where)
    sp = special.ndtri(p) if tails == "lognormal" else p
    shape = np.broadcast_shapes(x.shape[:-1], sp.shape[:-1])
    x = np.broadcast_to(x, shape + x.shape[-1:])
    sp = np.broadcast_to(sp, shape + sp.shape[-1:])
    if tails == "clamped":
        sp = np.clip(sp, s[0], s[-1])
    seg = np.clip(np.searchsorted(s, sp, side="right") - 1, 0, levels.size - 2)
    x0, s0, slope = _segment(x, s, seg)
    v = x0 + (sp - s0) * slope
    return np.maximum(np.expm1(v), 0.0) if tails == "lognormal" else v


def _level_dim(quantiles: xr.DataArray, axis) -> str:
    return axis if isinstance(axis, str) else quantiles.dims[axis]


def cdf(quantiles, levels, value, *, tails: str = "lognormal", axis: int | str = -1):
    """Predictive CDF ``F(value) = P(Y <= value)`` [1] from forecast quantiles (module notes).

    Parameters
    ----------
    quantiles : array-like, pandas DataFrame (columns = levels) or xarray.DataArray
        Forecast quantiles [unit of Y] along ``axis``.
    levels : sequence of float
        Their K >= 2 levels, strictly increasing in (0, 1).
    value : float, array-like or xarray.DataArray
        Value(s) [unit of Y], broadcasting with the quantiles without the level axis.
    tails : {"lognormal", "linear", "clamped"}
        Interpolation and tail convention (module notes).
    axis : int or str
        Level axis (numpy) or dimension name (xarray).

    Returns
    -------
    The sample shape of ``quantiles`` (pandas: a Series), NaN where a quantile or the value is NaN.
    """
    return _apply_cdf(quantiles, levels, value, tails=tails, axis=axis, left=False,
                      complement=False, where="cdf")


def exceedance_probability(quantiles, levels, threshold, *, tails: str = "lognormal",
                           higher_is_better: bool = False, axis: int | str = -1):
    """Probability [1] of being worse than ``threshold``: ``P(Y > threshold) = 1 - F(threshold)``,
    or ``P(Y < threshold)`` when ``higher_is_better`` (e.g. dissolved oxygen).

    Parameters
    ----------
    quantiles, levels, tails, axis
        As :func:`cdf`.
    threshold : float, array-like or xarray.DataArray
        Event threshold [unit of Y], broadcasting with the quantiles without the level axis
        (e.g. 150 ug m-3 PM2.5, daily AQI 200; a GB 3838 class limit).
    higher_is_better : bool
        Give the probability of falling below ``threshold``.

    Returns
    -------
    As :func:`cdf`.
    """
    return _apply_cdf(quantiles, levels, threshold, tails=tails, axis=axis,
                      left=higher_is_better, complement=not higher_is_better,
                      where="exceedance_probability")


def _apply_cdf(quantiles, levels, value, *, tails, axis, left, complement, where):
    tau = check_levels(levels, where)
    _check_tails(tails, where)

    kwargs = {"levels": tau, "tails": tails, "left": left, "complement": complement,
              "where": where}
    if isinstance(quantiles, xr.DataArray):
        return xr.apply_ufunc(_cdf_kernel, quantiles, value, kwargs=kwargs,
                              input_core_dims=[[_level_dim(quantiles, axis)], []],
                              dask="parallelized", output_dtypes=[float])
    q = np.moveaxis(np.asarray(quantiles, dtype=float), axis, -1)
    out = _cdf_kernel(q, np.asarray(value, dtype=float), **kwargs)
    if isinstance(quantiles, pd.DataFrame):
        return pd.Series(out, index=quantiles.index)
    return out


def quantile_function(quantiles, levels, probs, *, tails: str = "lognormal",
                      axis: int | str = -1):
    """Value of the predictive distribution at probabilities ``probs`` (module notes).

    Parameters
    ----------
    quantiles, levels, tails, axis
        As :func:`cdf`.
    probs : array-like
        Probabilities in [0, 1]. numpy: ``(..., M)``, the leading axes broadcasting with the
        quantiles' other axes; pandas and xarray: a 1-D sequence.

    Returns
    -------
    numpy ``(..., M)`` with the M axis at ``axis``; a DataFrame with columns ``probs``; or a
    DataArray whose level dimension holds ``probs`` [unit of Y].
    """
    where = "quantile_function"
    tau = check_levels(levels, where)
    _check_tails(tails, where)
    p = np.asarray(probs, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise OutOfRangeError(f"probabilities {p.ravel().tolist()} must lie in [0, 1]",
                              field="probs", where=where)
    kwargs = {"levels": tau, "tails": tails}
    if isinstance(quantiles, xr.DataArray):
        name = _level_dim(quantiles, axis)
        out = xr.apply_ufunc(_quantile_kernel, quantiles, kwargs={"p": p, **kwargs},
                             input_core_dims=[[name]], output_core_dims=[[name]],
                             exclude_dims={name}, dask="parallelized", output_dtypes=[float],
                             dask_gufunc_kwargs={"output_sizes": {name: p.size}})
        return out.assign_coords({name: p})
    q = np.moveaxis(np.asarray(quantiles, dtype=float), axis, -1)
    out = np.moveaxis(_quantile_kernel(q, p, **kwargs), -1, axis)
    if isinstance(quantiles, pd.DataFrame):
        return pd.DataFrame(out, index=quantiles.index, columns=p)
    return out


__all__ = ["TAILS", "check_levels", "cdf", "exceedance_probability", "quantile_function"]
