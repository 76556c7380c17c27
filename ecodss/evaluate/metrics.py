"""Model-evaluation statistics (paired observed vs. modelled values).

Sources
-------
* Chang, J. C. and Hanna, S. R. (2004). Air quality model performance evaluation. *Meteorol.
  Atmos. Phys.* 87, 167–196, §3 (Eqs. for FB, NMSE, MG, VG, FAC2, R). "Good" research-grade
  dispersion models have a relative mean bias below ~30 % and a relative scatter below ~a factor
  of two (abstract).
* Boylan, J. W. and Russell, A. G. (2006). PM and light extinction model performance metrics,
  goals, and criteria for three-dimensional air quality models. *Atmos. Environ.* 40, 4946–4959;
  U.S. EPA (2007) EPA-454/B-07-002 — NMB, NME, MB (model minus observation) as used in
  photochemical-model evaluation.

Sign conventions (exactly as in the sources, and they differ!):

* **FB** = 2(Ō − P̄)/(Ō + P̄) and **MG** = exp(⟨ln O⟩ − ⟨ln P⟩) follow Chang & Hanna:
  FB > 0 and MG > 1 mean **under**-prediction.
* **MB** = ⟨P − O⟩ and **NMB** = Σ(P − O)/ΣO follow EPA/Boylan & Russell: > 0 means
  **over**-prediction.

Pairs where either value is NaN are treated as missing and dropped (pairwise); ±inf raises.
The same kernel runs on numpy, pandas and (dask-backed) xarray inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import (
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    ValidationError,
)
from ..validation import reject_unknown_fields

#: Metric name → (long name, dimensionless?) ; the order is the default output order.
METRICS: dict[str, tuple[str, bool]] = {
    "FB": ("fractional bias 2(mean_obs - mean_mod)/(mean_obs + mean_mod); > 0 under-prediction",
           True),
    "NMSE": ("normalized mean square error mean((obs - mod)^2)/(mean_obs mean_mod)", True),
    "MG": ("geometric mean bias exp(mean ln obs - mean ln mod); > 1 under-prediction", True),
    "VG": ("geometric variance exp(mean (ln obs - ln mod)^2)", True),
    "FAC2": ("fraction of pairs with 0.5 <= mod/obs <= 2", True),
    "NMB": ("normalized mean bias sum(mod - obs)/sum(obs); > 0 over-prediction", True),
    "NME": ("normalized mean error sum|mod - obs|/sum(obs)", True),
    "R": ("Pearson correlation coefficient", True),
    "RMSE": ("root mean square error sqrt(mean (mod - obs)^2)", False),
    "MB": ("mean bias mean(mod - obs); > 0 over-prediction", False),
    "MAE": ("mean absolute error mean|mod - obs|", False),
}
_BELOW_MODES = ("clip", "exclude")


class _Pairs:
    """Paired values with missing pairs zeroed out and the count ``n`` along the last axis."""

    def __init__(self, obs: np.ndarray, mod: np.ndarray):
        self.valid = ~(np.isnan(obs) | np.isnan(mod))
        self.n = self.valid.sum(axis=-1)
        self.obs = np.where(self.valid, obs, 0.0)
        self.mod = np.where(self.valid, mod, 0.0)

    def mean(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.valid, values, 0.0).sum(axis=-1) / self.n


def _log_ratio(pairs: _Pairs, min_value, below: str):
    """ln(obs) − ln(mod) on the pairs used for MG/VG, and their count."""
    obs, mod, use = pairs.obs, pairs.mod, pairs.valid
    if min_value is None:
        nonpositive = use & ((obs <= 0) | (mod <= 0))
        if nonpositive.any():
            raise OutOfRangeError("MG and VG need obs > 0 and mod > 0; pass min_value (e.g. the "
                                  "detection limit) as Chang & Hanna (2004) recommend",
                                  field="obs/mod", where="evaluate")
    elif below == "clip":
        obs, mod = np.maximum(obs, min_value), np.maximum(mod, min_value)
    else:
        use = use & (obs >= min_value) & (mod >= min_value)
    diff = np.where(use, np.log(np.where(use, obs, 1.0)) - np.log(np.where(use, mod, 1.0)), 0.0)
    return diff, use.sum(axis=-1)


def _fb(pr, **_):
    o, p = pr.mean(pr.obs), pr.mean(pr.mod)
    return 2.0 * (o - p) / (o + p)


def _nmse(pr, **_):
    return pr.mean((pr.obs - pr.mod) ** 2) / (pr.mean(pr.obs) * pr.mean(pr.mod))


def _mg(pr, min_value=None, below="clip"):
    diff, m = _log_ratio(pr, min_value, below)
    return np.exp(diff.sum(axis=-1) / m)


def _vg(pr, min_value=None, below="clip"):
    diff, m = _log_ratio(pr, min_value, below)
    return np.exp((diff**2).sum(axis=-1) / m)


def _fac2(pr, **_):
    if ((pr.obs < 0) | (pr.mod < 0)).any():
        raise NegativeValueError("FAC2 needs obs >= 0 and mod >= 0", field="obs/mod",
                                 where="evaluate")
    within = pr.valid & (pr.mod >= 0.5 * pr.obs) & (pr.mod <= 2.0 * pr.obs)
    return within.sum(axis=-1) / pr.n


def _nmb(pr, **_):
    return (pr.mod - pr.obs).sum(axis=-1) / pr.obs.sum(axis=-1)


def _nme(pr, **_):
    return np.abs(pr.mod - pr.obs).sum(axis=-1) / pr.obs.sum(axis=-1)


def _r(pr, **_):
    do = np.where(pr.valid, pr.obs - pr.mean(pr.obs)[..., None], 0.0)
    dp = np.where(pr.valid, pr.mod - pr.mean(pr.mod)[..., None], 0.0)
    return (do * dp).sum(axis=-1) / np.sqrt((do**2).sum(axis=-1) * (dp**2).sum(axis=-1))


def _rmse(pr, **_):
    return np.sqrt(pr.mean((pr.mod - pr.obs) ** 2))


def _mb(pr, **_):
    return pr.mean(pr.mod - pr.obs)


def _mae(pr, **_):
    return pr.mean(np.abs(pr.mod - pr.obs))


_KERNELS = {"FB": _fb, "NMSE": _nmse, "MG": _mg, "VG": _vg, "FAC2": _fac2, "NMB": _nmb,
            "NME": _nme, "R": _r, "RMSE": _rmse, "MB": _mb, "MAE": _mae}


def _metrics_kernel(obs, mod, *, names: Sequence[str], ncore: int, min_value, below: str):
    """All requested metrics over the last ``ncore`` axes → array [..., len(names)]."""
    obs, mod = np.broadcast_arrays(np.asarray(obs, dtype=float), np.asarray(mod, dtype=float))
    lead = obs.shape[:obs.ndim - ncore]
    obs, mod = obs.reshape(lead + (-1,)), mod.reshape(lead + (-1,))
    for field, values in (("obs", obs), ("mod", mod)):
        if np.isinf(values).any():
            raise NonFiniteValueError(f"{field} contains inf (NaN marks a missing pair; inf is "
                                      "an error)", field=field, where="evaluate")
    pairs = _Pairs(obs, mod)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = [_KERNELS[n](pairs, min_value=min_value, below=below) for n in names]
    return np.stack(out, axis=-1)


def _metric_names(metrics) -> tuple[str, ...]:
    if metrics is None:
        return tuple(METRICS)
    if isinstance(metrics, str):
        metrics = (metrics,)
    names = tuple(str(m).upper() for m in metrics)
    reject_unknown_fields(names, METRICS, "evaluate metrics")
    return names


def _as_numpy(obs, mod):
    if isinstance(obs, pd.Series | pd.DataFrame) and isinstance(mod, pd.Series | pd.DataFrame):
        same = obs.index.equals(mod.index) and (
            not isinstance(obs, pd.DataFrame) or obs.columns.equals(mod.columns))
        if not same:
            raise ValidationError("obs and mod are not aligned (different index/columns); "
                                  "align them first", field="obs/mod", where="evaluate")
    obs, mod = np.asarray(obs, dtype=float), np.asarray(mod, dtype=float)
    if obs.shape != mod.shape:
        raise ValidationError(f"obs shape {obs.shape} != mod shape {mod.shape}",
                              field="obs/mod", where="evaluate")
    return obs, mod


def _evaluate_xarray(obs, mod, dim, names, kwargs) -> xr.Dataset:
    if not (isinstance(obs, xr.DataArray) and isinstance(mod, xr.DataArray)):
        raise ValidationError("pass obs and mod both as xarray.DataArray (or both as arrays)",
                              field="obs/mod", where="evaluate")
    if dim is None:
        dims = tuple(dict.fromkeys(obs.dims + mod.dims))
    else:
        dims = (dim,) if isinstance(dim, str) else tuple(dim)
    for d in dims:
        if d not in obs.dims or d not in mod.dims:
            raise MissingFieldError(f"dimension {d!r} not in both obs {obs.dims} and mod "
                                    f"{mod.dims}", field=d, where="evaluate")
    result = xr.apply_ufunc(
        _metrics_kernel, obs, mod, input_core_dims=[dims, dims], output_core_dims=[["metric"]],
        kwargs={**kwargs, "names": names, "ncore": len(dims)}, join="exact",
        dask="parallelized", output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {"metric": len(names)}, "allow_rechunk": True})
    ds = result.assign_coords(metric=list(names)).to_dataset(dim="metric").drop_vars(
        "metric", errors="ignore")
    for name in names:
        long_name, dimensionless = METRICS[name]
        ds[name].attrs = {"long_name": long_name}
        if dimensionless:
            ds[name].attrs["units"] = "1"
        elif "units" in obs.attrs:
            ds[name].attrs["units"] = obs.attrs["units"]
    ds.attrs["comment"] = f"evaluated over {list(dims)}; Chang & Hanna (2004) metrics"
    return ds


def evaluate(obs, mod, dim=None, metrics: Iterable[str] | str | None = None, *,
             min_value: float | None = None, below: str = "clip"):
    """Model-evaluation metrics of ``mod`` against ``obs`` (Chang & Hanna 2004; EPA 2007).

    Parameters
    ----------
    obs, mod : array-like, pandas Series/DataFrame (same index) or xarray DataArray
        Paired observed and modelled values [any unit, the same for both]. NaN in either marks
        a missing pair, which is dropped.
    dim : str or sequence, optional
        xarray: dimension(s) to reduce (default all). numpy: axis or axes (default all).
    metrics : sequence of str, optional
        Names from :data:`METRICS` (case-insensitive); default all:
        FB, NMSE, MG, VG, FAC2, NMB, NME, R, RMSE, MB, MAE.
    min_value : float, optional
        Lower threshold for MG and VG, e.g. the detection limit. Chang & Hanna (2004, §3) note
        that MG and VG are undefined for zero values and dominated by very low values, and
        recommend assuming a minimum threshold for the data. Without it, a value ≤ 0 raises.
    below : {"clip", "exclude"}
        With ``min_value``: ``"clip"`` (default) raises every obs/mod below the threshold to the
        threshold; ``"exclude"`` drops pairs with either value below it (MG/VG only).

    Returns
    -------
    dict of float/ndarray (numpy, pandas) or xarray.Dataset (one variable per metric, reduced
    over ``dim``; lazy if the inputs are dask-backed).

    Notes
    -----
    With Ō, P̄ the means over valid pairs:
    FB = 2(Ō − P̄)/(Ō + P̄); NMSE = ⟨(O − P)²⟩/(Ō P̄); MG = exp(⟨ln O⟩ − ⟨ln P⟩);
    VG = exp(⟨(ln O − ln P)²⟩); FAC2 = fraction with 0.5 ≤ P/O ≤ 2, evaluated as
    0.5 O ≤ P ≤ 2 O (boundaries included; a pair with O = 0 counts only if P = 0);
    NMB = Σ(P − O)/ΣO; NME = Σ|P − O|/ΣO; R = Pearson; RMSE = √⟨(P − O)²⟩; MB = ⟨P − O⟩;
    MAE = ⟨|P − O|⟩.
    A group with no valid pair gives NaN.

    Examples
    --------
    >>> res = evaluate([1.0, 2.0, 4.0], [2.0, 4.0, 8.0], metrics=["FB", "MG", "FAC2"])
    >>> round(res["FB"], 4), round(res["MG"], 4), res["FAC2"]
    (-0.6667, 0.5, 1.0)
    """
    names = _metric_names(metrics)
    if below not in _BELOW_MODES:
        raise ValidationError(f"below={below!r} must be one of {_BELOW_MODES}", field="below",
                              where="evaluate")
    if min_value is not None and not min_value > 0:
        raise OutOfRangeError(f"min_value={min_value} must be > 0", field="min_value",
                              where="evaluate")
    kwargs = {"min_value": min_value, "below": below}
    if isinstance(obs, xr.DataArray) or isinstance(mod, xr.DataArray):
        return _evaluate_xarray(obs, mod, dim, names, kwargs)
    obs, mod = _as_numpy(obs, mod)
    axes = tuple(range(obs.ndim)) if dim is None else tuple(np.atleast_1d(dim))
    axes = tuple(a % obs.ndim for a in axes)
    last = tuple(range(obs.ndim - len(axes), obs.ndim))
    obs, mod = np.moveaxis(obs, axes, last), np.moveaxis(mod, axes, last)
    out = _metrics_kernel(obs, mod, names=names, ncore=len(axes), **kwargs)
    return {n: (float(out[..., i]) if out.ndim == 1 else out[..., i]) for i, n in enumerate(names)}


def _one(name: str, obs, mod, dim, kwargs):
    return evaluate(obs, mod, dim=dim, metrics=(name,), **kwargs)[name]


def fb(obs, mod, dim=None):
    """Fractional bias 2(Ō − P̄)/(Ō + P̄), −2…2; > 0 = under-prediction (Chang & Hanna 2004)."""
    return _one("FB", obs, mod, dim, {})


def nmse(obs, mod, dim=None):
    """Normalized mean square error ⟨(O − P)²⟩/(Ō P̄) ≥ 0 (Chang & Hanna 2004)."""
    return _one("NMSE", obs, mod, dim, {})


def mg(obs, mod, dim=None, *, min_value=None, below="clip"):
    """Geometric mean bias exp(⟨ln O⟩ − ⟨ln P⟩); > 1 = under-prediction (Chang & Hanna 2004).
    See :func:`evaluate` for ``min_value`` / ``below``."""
    return _one("MG", obs, mod, dim, {"min_value": min_value, "below": below})


def vg(obs, mod, dim=None, *, min_value=None, below="clip"):
    """Geometric variance exp(⟨(ln O − ln P)²⟩) ≥ 1 (Chang & Hanna 2004).
    See :func:`evaluate` for ``min_value`` / ``below``."""
    return _one("VG", obs, mod, dim, {"min_value": min_value, "below": below})


def fac2(obs, mod, dim=None):
    """Fraction of pairs with 0.5 ≤ P/O ≤ 2, boundaries included (Chang & Hanna 2004)."""
    return _one("FAC2", obs, mod, dim, {})


def nmb(obs, mod, dim=None):
    """Normalized mean bias Σ(P − O)/ΣO; > 0 = over-prediction (Boylan & Russell 2006)."""
    return _one("NMB", obs, mod, dim, {})


def nme(obs, mod, dim=None):
    """Normalized mean error Σ|P − O|/ΣO ≥ 0 (Boylan & Russell 2006)."""
    return _one("NME", obs, mod, dim, {})


def pearson_r(obs, mod, dim=None):
    """Pearson correlation coefficient R of the valid pairs (Chang & Hanna 2004)."""
    return _one("R", obs, mod, dim, {})


def rmse(obs, mod, dim=None):
    """Root mean square error √⟨(P − O)²⟩ [units of the data]."""
    return _one("RMSE", obs, mod, dim, {})


def mb(obs, mod, dim=None):
    """Mean bias ⟨P − O⟩ [units of the data]; > 0 = over-prediction."""
    return _one("MB", obs, mod, dim, {})


def mae(obs, mod, dim=None):
    """Mean absolute error ⟨|P − O|⟩ [units of the data] (Wilks 2011, §8.3.2)."""
    return _one("MAE", obs, mod, dim, {})


__all__ = ["METRICS", "evaluate", "fb", "nmse", "mg", "vg", "fac2", "nmb", "nme", "pearson_r",
           "rmse", "mb", "mae"]
