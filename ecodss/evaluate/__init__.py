"""Forecast verification and model evaluation.

Every score takes numpy arrays, pandas objects or (dask-backed) xarray DataArrays, drops pairs
with a missing (NaN) value, and reduces over ``dim`` (xarray dimension names or numpy axes;
default all, ``()`` for none) — the same numbers for every array type.

Modules
-------
metrics         Chang & Hanna (2004) / EPA statistics: FB, NMSE, MG, VG, FAC2, NMB, NME, R, RMSE,
                MB, MAE (:func:`evaluate` computes several at once).
continuous      bias, NMB, NME, RMSE, MAE, R, MSE skill against a reference.
references      persistence and climatology reference forecasts.
categorical     2 × 2 contingency table (POD, FAR, CSI/TS, HSS, …), multi-category scores.
probabilistic   Brier score and decomposition, reliability curve, CRPS (ensemble, quantiles),
                pinball loss, interval coverage, exceedance probability from quantiles.
resampling      paired moving-block bootstrap of score differences.
benchmarks      Huang et al. (2021) PM2.5 goal/criteria flags.
report          verification report (CSV tables, PNG figures).
"""

from .benchmarks import HUANG2021_PM25, pm25_benchmarks
from .categorical import Contingency, contingency, event, multicategory
from .continuous import bias, continuous_scores, correlation, mse_skill
from .metrics import METRICS, evaluate, fac2, fb, mae, mb, mg, nmb, nme, nmse, pearson_r, rmse, vg
from .probabilistic import (
    brier_decomposition,
    brier_score,
    crps_ensemble,
    crps_quantiles,
    exceedance_probability,
    interval_coverage,
    pinball_loss,
    reliability_curve,
)
from .references import climatology, climatology_quantiles, persistence
from .report import verification_report
from .resampling import block_indices, bootstrap_difference

#: Scores usable by name in :func:`bootstrap_difference` (each takes ``dim=``).
SCORES = {"rmse": rmse, "mae": mae, "bias": bias, "nmb": nmb, "nme": nme, "r": correlation,
          "brier_score": brier_score, "crps_ensemble": crps_ensemble}

__all__ = [
    "METRICS", "evaluate", "fb", "nmse", "mg", "vg", "fac2", "nmb", "nme", "pearson_r", "rmse",
    "mb", "mae", "bias", "correlation", "mse_skill", "continuous_scores",
    "persistence", "climatology", "climatology_quantiles",
    "Contingency", "contingency", "event", "multicategory",
    "brier_score", "brier_decomposition", "reliability_curve", "crps_ensemble", "crps_quantiles",
    "pinball_loss", "interval_coverage", "exceedance_probability",
    "block_indices", "bootstrap_difference", "SCORES",
    "HUANG2021_PM25", "pm25_benchmarks", "verification_report",
]
