"""Bootstrap confidence intervals for score differences, with moving blocks for serial correlation.

Daily pollution series are autocorrelated (episodes last days), so resampling single days
understates the sampling variability. The moving-block bootstrap (Künsch 1989) resamples blocks
of ``block`` consecutive times; ``block=1`` is Efron's ordinary bootstrap. Both forecasts are
scored on the *same* resampled times (a paired bootstrap), and the interval is the percentile
interval of the differences (Efron & Tibshirani 1993, ch. 13). Resampling runs as one index
matrix (n_boot × n) and one vectorized score evaluation — no loop over replicates.

References
----------
Künsch, H. R. (1989). The jackknife and the bootstrap for general stationary observations.
*Ann. Stat.* 17, 1217–1241.
Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
Wilks, D. S. (2011). *Statistical Methods in the Atmospheric Sciences*, 3rd ed., §5.3.5 (moving-
blocks bootstrap for time series).
Hall, P., Horowitz, J. L. and Jing, B.-Y. (1995). On blocking rules for the bootstrap with
dependent data. *Biometrika* 82, 561–574 — block length ∝ n^(1/3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from ..errors import InvalidValueError, OutOfRangeError


def block_indices(n: int, n_boot: int, block: int = 1, seed=None) -> np.ndarray:
    """Moving-block bootstrap index matrix (n_boot × n) into a series of length ``n``.

    Each row concatenates ⌈n/block⌉ blocks of ``block`` consecutive indices whose starts are
    drawn uniformly from 0 … n − block (Künsch 1989), truncated to n.
    """
    if not 1 <= block <= n:
        raise OutOfRangeError(f"block={block} must be in [1, n={n}]", field="block",
                              where="bootstrap")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_boot, n_blocks * block)
    return idx[:, :n]


def _score_callable(score) -> Callable:
    if callable(score):
        return score
    from . import SCORES

    if score not in SCORES:
        raise InvalidValueError(f"unknown score {score!r}; one of {sorted(SCORES)} or a callable "
                                "score(obs, fcst, dim=...)", field="score", where="bootstrap")
    return SCORES[score]


def _time_last(obs, forecasts, dim: str) -> list[np.ndarray]:
    """numpy arrays with obs' time axis last; forecasts may add trailing axes (members)."""
    if isinstance(obs, xr.DataArray):
        if dim not in obs.dims:
            raise InvalidValueError(f"dimension {dim!r} not in obs {obs.dims}", field="dim",
                                    where="bootstrap")
        order = [d for d in obs.dims if d != dim] + [dim]
        return [np.asarray(x.transpose(*order, ...).values, dtype=float)
                for x in (obs, *forecasts)]
    return [np.asarray(x, dtype=float) for x in (obs, *forecasts)]


def bootstrap_difference(score, obs, fcst_a, fcst_b, n_boot: int = 1000, block: int | str = 1,
                         level: float = 0.90, seed=None, *, dim: str = "time") -> dict:
    """Paired (block-)bootstrap interval of score(obs, fcst_a) − score(obs, fcst_b).

    Parameters
    ----------
    score : callable or str
        ``score(obs, fcst, dim=axes)`` reducing the given numpy axes (every ecodss score does),
        or the name of one (``"rmse"``, ``"mae"``, ``"bias"``, ``"crps_ensemble"`` …, see
        :data:`ecodss.evaluate.SCORES`).
    obs, fcst_a, fcst_b : array-like, pandas or xarray.DataArray
        Observations and the two forecasts. numpy/pandas: time is the last axis; xarray: the
        dimension ``dim`` (other dimensions, e.g. stations, are kept together in each resample,
        which preserves their cross-correlation). Forecasts may carry trailing extra axes after
        those of ``obs`` (ensemble members, quantile levels) for scores that take them. NaN
        pairs are dropped by the score.
    n_boot : int
        Number of bootstrap replicates.
    block : int or "auto"
        Block length in time steps (1 = ordinary bootstrap); ``"auto"`` uses round(n^(1/3))
        (Hall et al. 1995).
    level : float
        Confidence level of the percentile interval, e.g. 0.90.
    seed : int or numpy Generator, optional
        For reproducible resamples.
    dim : str
        Time dimension of xarray inputs.

    Returns
    -------
    dict with ``estimate`` (difference on the full sample), ``lower``, ``upper`` (percentile
    interval), ``std`` (bootstrap standard error), ``p_below_zero`` (fraction of replicates
    with a negative difference), ``n_boot``, ``block``, ``level``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> obs = rng.normal(size=200)
    >>> res = bootstrap_difference("rmse", obs, obs + 0.1 * rng.normal(size=200),
    ...                            obs + rng.normal(size=200), seed=1)
    >>> bool(res["upper"] < 0)  # forecast a is clearly better (lower RMSE)
    True
    """
    if not 0 < level < 1:
        raise OutOfRangeError(f"level={level} must be in (0, 1)", field="level",
                              where="bootstrap")
    fn = _score_callable(score)
    o, a, b = _time_last(obs, (fcst_a, fcst_b), dim)
    t = o.ndim - 1  # the time axis, in obs and in both forecasts
    n = o.shape[t]
    block = max(1, round(n ** (1 / 3))) if block == "auto" else int(block)
    idx = block_indices(n, int(n_boot), block, seed)
    axes = tuple(range(o.ndim))
    estimate = fn(o, a, dim=axes) - fn(o, b, dim=axes)

    def resampled(x):  # (..., n, [extra]) -> (n_boot, ..., n, [extra])
        return np.moveaxis(np.take(x, idx, axis=t), t, 0)

    boot_axes = tuple(range(1, o.ndim + 1))
    ro = resampled(o)
    diff = np.asarray(fn(ro, resampled(a), dim=boot_axes) - fn(ro, resampled(b), dim=boot_axes))
    alpha = (1.0 - level) / 2.0
    lower, upper = np.nanquantile(diff, [alpha, 1.0 - alpha])
    return {"estimate": float(estimate), "lower": float(lower), "upper": float(upper),
            "std": float(np.nanstd(diff, ddof=1)), "p_below_zero": float(np.mean(diff < 0)),
            "n_boot": int(n_boot), "block": block, "level": level}


__all__ = ["block_indices", "bootstrap_difference"]
