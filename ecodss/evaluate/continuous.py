"""Scores of point forecasts of a continuous quantity (concentration, flow, temperature).

Forecast minus observation throughout (bias > 0 = over-forecast). The formulas are those of
Wilks (2011) §8.3.2 (mean error, MAE, MSE/RMSE, correlation) and §8.3.3 (MSE skill score
SS = 1 − MSE/MSE_ref), and of
Boylan & Russell (2006) / U.S. EPA (2007) for NMB and NME (see :mod:`ecodss.evaluate.metrics`).

References
----------
Wilks, D. S. (2011). *Statistical Methods in the Atmospheric Sciences*, 3rd ed., Academic Press,
ch. 8 "Forecast verification".
Murphy, A. H. (1988). Skill scores based on the mean square error and their relationships to the
correlation coefficient. *Mon. Weather Rev.* 116, 2417–2424.
"""

from __future__ import annotations

import numpy as np

from ._apply import apply_score, masked_mean, valid_mask
from .metrics import _metrics_kernel, mae, mb, nmb, nme, pearson_r, rmse

#: Keys of :func:`continuous_scores` → metric kernel name in :mod:`.metrics`.
_CONTINUOUS = {"bias": "MB", "nmb": "NMB", "nme": "NME", "rmse": "RMSE", "mae": "MAE",
               "r": "R"}


def bias(obs, fcst, dim=None):
    """Mean error ⟨F − O⟩ [units of the data]; > 0 = over-forecast (Wilks 2011, §8.3.2).

    Parameters
    ----------
    obs, fcst : array-like, pandas or xarray.DataArray
        Paired observations and forecasts [same unit]; NaN in either drops the pair.
    dim : str, int or sequence, optional
        Dimension(s) (xarray) or axes (numpy) to reduce; default all.
    """
    return mb(obs, fcst, dim)


def correlation(obs, fcst, dim=None):
    """Pearson correlation coefficient of the valid pairs [1] (Wilks 2011, §3.5.2)."""
    return pearson_r(obs, fcst, dim)


def _skill_kernel(o, f, ref):
    valid = valid_mask(o, f, ref)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - masked_mean((f - o) ** 2, valid) / masked_mean((ref - o) ** 2, valid)


def mse_skill(obs, fcst, reference, dim=None):
    """MSE skill score 1 − MSE(fcst)/MSE(reference) [1] (Murphy 1988; Wilks 2011, §8.3.3).

    1 is a perfect forecast, 0 no better than the reference (persistence, climatology), < 0
    worse. Both MSEs use the same samples: those where obs, fcst and reference are all valid.

    Parameters
    ----------
    obs, fcst, reference : array-like, pandas or xarray.DataArray
        Observations, the forecast and the reference forecast [same unit].
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce; default all.

    Examples
    --------
    >>> round(mse_skill([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [2.0, 3.0, 4.0]), 4)
    0.6667
    """
    return apply_score(_skill_kernel, obs, fcst, reference, dim=dim, where="mse_skill")


def _continuous_kernel(o, f, *ref):
    if ref:
        o = np.where(np.isnan(ref[0]), np.nan, o)
    scores = _metrics_kernel(o, f, names=tuple(_CONTINUOUS.values()), ncore=1, min_value=None,
                             below="clip")
    n = valid_mask(o, f).sum(axis=-1)[..., None].astype(float)
    parts = [n, scores] + ([_skill_kernel(o, f, ref[0])[..., None]] if ref else [])
    return np.concatenate(parts, axis=-1)


def continuous_scores(obs, fcst, reference=None, dim=None):
    """All continuous scores of a point forecast on one common set of valid samples.

    Parameters
    ----------
    obs, fcst : array-like, pandas or xarray.DataArray
        Observations and forecasts [same unit]; NaN marks a missing value.
    reference : same type, optional
        Reference forecast (persistence, climatology); adds ``mse_skill`` and restricts every
        score to the samples where the reference is valid too, so that they are comparable.
    dim : str, int or sequence, optional
        Dimension(s)/axes to reduce; default all.

    Returns
    -------
    dict (numpy/pandas) or xarray.Dataset with ``n`` (valid pairs), ``bias`` [data unit],
    ``nmb`` [1], ``nme`` [1], ``rmse`` [data unit], ``mae`` [data unit], ``r`` [1] and, with a
    reference, ``mse_skill`` [1].
    """
    names = ["n", *_CONTINUOUS] + (["mse_skill"] if reference is not None else [])
    inputs = (obs, fcst) if reference is None else (obs, fcst, reference)
    return apply_score(_continuous_kernel, *inputs, dim=dim, outputs=names,
                       where="continuous_scores")


__all__ = ["bias", "nmb", "nme", "rmse", "mae", "correlation", "mse_skill", "continuous_scores"]
