"""Alert decisions under uncertainty: exceedance and alert-level probabilities, cost-loss rule.

Predictive distribution
-----------------------
Quantile forecasts ``q_k`` at levels ``tau_k`` (e.g. 10/50/90 %) become a continuous distribution
by interpolating ``log(1 + q)`` linearly in the standard-normal score ``z_k = Phi^-1(tau_k)``
with log-normal tails: ``tails="lognormal"`` of :mod:`ecodss.stats.predictive`, whose notes give
the construction (after Quiñonero-Candela et al. 2006). Values the lower tail would put below
zero are set to zero (a point mass at 0).

Joint days
----------
Alert levels depend on runs of consecutive days (:mod:`ecodss.emergency.alerts`), so the days of
one forecast must be sampled jointly. Samples use a Gaussian copula whose normal scores follow an
AR(1) over the lead days, ``z_{k+1} = rho z_k + sqrt(1 - rho^2) e`` (Schefzik, Thorarinsdottir &
Gneiting 2013 discuss copula coupling); ``rho = 0`` is independence, ``rho = 1`` the comonotone
limit. :func:`lag_correlation` estimates ``rho`` from past normal scores (PIT values). Samples are
drawn with a fixed seed, vectorized over forecasts and days.

Cost-loss decision
------------------
A user who pays ``C`` to protect (issue an alert, curtail emissions) and loses ``L`` when an
unprotected event occurs minimises the expected expense by acting when the event probability
``p >= C/L`` (Murphy 1977; Richardson 2000, Eq. 1-3). Expenses per forecast, in units of ``L``:
alert ``C/L``; miss ``1``; otherwise ``0``. The relative economic value is
``V = (E_clim - E_fcst) / (E_clim - E_perfect)`` with ``E_clim = min(C/L, s)`` (the better of
always/never acting, base rate ``s``) and ``E_perfect = s C/L`` (Richardson 2000, Eq. 6).

References
----------
Murphy, A. H. (1977) The value of climatological, categorical and probabilistic forecasts in the
cost-loss ratio situation. Mon. Wea. Rev. 105, 803-816.
Quiñonero-Candela, J. et al. (2006) Evaluating predictive uncertainty challenge. LNCS 3944, 1-27.
Richardson, D. S. (2000) Skill and relative economic value of the ECMWF ensemble prediction
system. Q. J. R. Meteorol. Soc. 126, 649-667.
Schefzik, R., Thorarinsdottir, T. L. and Gneiting, T. (2013) Uncertainty quantification in complex
simulation models using ensemble copula coupling. Statist. Sci. 28, 616-640.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..errors import InvalidValueError, MissingFieldError
from ..stats import predictive
from ..validation import check_range
from .alerts import AlertRules, alert_level, load_rules
from .aqi import _table, iaqi

_WHERE = "uncertainty"


def quantile_function(quantiles, levels, probs) -> np.ndarray:
    """Value of the predictive distribution at probabilities ``probs`` (module notes).

    Parameters
    ----------
    quantiles : array_like (..., K)
        Forecast quantiles [e.g. ug m-3] at ``levels`` along the last axis.
    levels : sequence of K floats in (0, 1), increasing
    probs : array_like (..., M)
        Probabilities in [0, 1]; leading axes broadcast with ``quantiles``.

    Returns
    -------
    numpy.ndarray (..., M)
        Concentrations [units of ``quantiles``].
    """
    return predictive.quantile_function(quantiles, levels, probs, tails="lognormal")


def exceedance_probability(quantiles, levels, threshold) -> np.ndarray:
    """P(X > threshold) under the predictive distribution of the module notes.

    Parameters
    ----------
    quantiles : array_like (..., K)
        Forecast quantiles [e.g. ug m-3].
    levels : sequence of K floats
    threshold : float or array_like broadcasting with ``quantiles[..., 0]``
        Threshold [units of ``quantiles``], e.g. 150 ug m-3 PM2.5 (daily AQI 200).

    Returns
    -------
    numpy.ndarray (...)
        Probability in [0, 1]; NaN where a quantile is NaN.
    """
    return predictive.exceedance_probability(quantiles, levels, threshold, tails="lognormal")


def sample_days(quantiles, levels, n_samples: int = 1000, rho: float = 0.0,
                seed: int | None = 0) -> np.ndarray:
    """Joint samples of consecutive forecast days (Gaussian copula with AR(1) normal scores).

    Parameters
    ----------
    quantiles : array_like (..., day, K)
        Quantile forecasts of consecutive days (e.g. leads 1-3 from one origin).
    levels : sequence of K floats
    n_samples : int
    rho : float in [0, 1]
        Lag-1 correlation of the normal scores between successive days.
    seed : int or None
        Seed of ``numpy.random.default_rng`` (fixed by default: reproducible decisions).

    Returns
    -------
    numpy.ndarray (..., sample, day)
    """
    check_range(rho, "rho", -1, 1, kind="argument")
    q = np.asarray(quantiles, float)
    n_days = q.shape[-2]
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(q.shape[:-2] + (n_samples, n_days))
    # AR(1) over days: z_0 = e_0, z_k = rho z_{k-1} + sqrt(1 - rho^2) e_k (loop over <= few leads)
    z = e.copy()
    for k in range(1, n_days):
        z[..., k] = rho * z[..., k - 1] + np.sqrt(1 - rho**2) * e[..., k]
    u = stats.norm.cdf(z)  # (..., sample, day)
    qq = np.broadcast_to(q[..., None, :, :], q.shape[:-2] + (n_samples, n_days, q.shape[-1]))
    return quantile_function(qq, levels, u[..., None])[..., 0]


def lag_correlation(obs, quantiles, levels, day_axis: int = -1) -> float:
    """Lag-1 correlation of the normal scores ``Phi^-1(PIT)`` of past forecasts along days.

    ``obs`` (..., day) and ``quantiles`` (..., day, K) are consecutive days of one lead;
    the PIT is ``1 - exceedance_probability(quantiles, levels, obs)``.
    """
    pit = 1 - exceedance_probability(quantiles, levels, obs)
    z = stats.norm.ppf(np.clip(pit, 1e-4, 1 - 1e-4))
    z = np.moveaxis(z, day_axis, -1)
    a, b = z[..., :-1].ravel(), z[..., 1:].ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def pm25_daily_aqi(conc, standard: str = "HJ633-2012"):
    """Daily AQI of a PM2.5-only day (IAQI of the 24-h mean, HJ 633 Table 1), capped at 500.

    ``conc`` [ug m-3]: array_like, or an xarray DataArray (dask-backed stays lazy) for which a
    DataArray is returned.
    """
    conc = conc if isinstance(conc, xr.DataArray) else np.asarray(conc, float)
    return np.minimum(iaqi(conc, "PM2.5", "24h", standard=standard), 500.0)


def alert_probabilities(quantiles: xr.DataArray, n_samples: int = 1000, rho: float = 0.0,
                        seed: int | None = 0, rules: str | Path | AlertRules = "2018",
                        standard: str = "HJ633-2012", orange_requires_300: bool | None = None,
                        lead_dim: str = "lead", quantile_dim: str = "quantile") -> xr.Dataset:
    """Probabilities of the alert levels over the forecast days of each issue.

    Parameters
    ----------
    quantiles : xarray.DataArray (..., lead, quantile)
        Daily-mean PM2.5 quantile forecasts [ug m-3] of consecutive lead days from one issue
        (e.g. ``StationForecaster.predict`` re-indexed to issue dates); other dims (issue date,
        station) are handled at once. PM2.5 is taken as the primary pollutant (AQI = IAQI PM2.5).
    n_samples, rho, seed
        Joint sampling of the lead days (:func:`sample_days`).
    rules, orange_requires_300
        Alert scheme (:func:`ecodss.emergency.alerts.alert_level`).
    standard : str, default "HJ633-2012"
        AQI table.

    Returns
    -------
    xarray.Dataset
        ``p_level`` (..., level) = P(issued level == k) for ``level`` 0..n (``level_name``), and
        ``p_at_least`` = P(level >= k); ``p_heavy_day`` (..., lead) = P(AQI > heavy threshold).
        NaN where a quantile is missing.
    """
    rules = load_rules(rules)
    for dim in (lead_dim, quantile_dim):
        if dim not in quantiles.dims:
            raise MissingFieldError(f"quantile forecasts need a {dim!r} dim, got "
                                    f"{tuple(quantiles.dims)}", field=dim, where=_WHERE)
    levels = quantiles[quantile_dim].values
    q = quantiles.transpose(..., lead_dim, quantile_dim)
    missing = np.isnan(q.values).any(axis=(-1, -2))
    qv = np.where(missing[..., None, None], 1.0, q.values)
    samples = sample_days(qv, levels, n_samples, rho, seed)  # (..., sample, lead)
    aqi = pm25_daily_aqi(samples, standard)
    other = q.dims[:-2]
    da = xr.DataArray(aqi, dims=(*other, "sample", lead_dim))
    decision = alert_level(da, rules=rules, day_dim=lead_dim,
                           orange_requires_300=orange_requires_300)
    lv = decision.dataset["level"].values  # (..., sample)
    n_levels = len(rules.levels) + 1
    p_eq = (lv[..., None] == np.arange(n_levels)).mean(axis=-2)
    p_ge = np.flip(np.cumsum(np.flip(p_eq, -1), -1), -1)
    c_heavy = _aqi_to_pm25(rules.heavy_above, standard)
    p_heavy = exceedance_probability(qv, levels, c_heavy)
    coords = {d: q[d] for d in other if d in q.coords}
    mask = missing[..., None]
    return xr.Dataset(
        {"p_level": ((*other, "level"), np.where(mask, np.nan, p_eq),
                     {"units": "1", "long_name": "probability of the issued alert level"}),
         "p_at_least": ((*other, "level"), np.where(mask, np.nan, p_ge),
                        {"units": "1", "long_name": "probability of the level or higher"}),
         "p_heavy_day": ((*other, lead_dim), np.where(mask, np.nan, p_heavy),
                         {"units": "1", "long_name": f"P(daily AQI > {rules.heavy_above:g})"})},
        coords={**coords, lead_dim: q[lead_dim], "level": np.arange(n_levels),
                "level_name": ("level", rules.level_names)},
        attrs={"n_samples": n_samples, "rho": rho, "seed": -1 if seed is None else seed,
               "rules": rules.name, "aqi_standard": standard})


def _aqi_to_pm25(aqi_value: float, standard: str) -> float:
    """PM2.5 24-h concentration [ug m-3] whose IAQI equals ``aqi_value`` (inverse of Eq. 1:
    linear between the breakpoints of HJ 633-2012 Table 1)."""
    bp, levels, _ = _table(standard).column("PM2.5", "24h")
    return float(np.interp(aqi_value, levels, bp))


def observed_alert_level(daily_pm25, rules: str | Path | AlertRules = "2018",
                         standard: str = "HJ633-2012", orange_requires_300: bool | None = None,
                         lead_dim: str = "lead") -> xr.DataArray:
    """Level the alert rules give to the observed daily PM2.5 [ug m-3] of the lead days
    (..., lead); NaN where a day is missing."""
    missing = daily_pm25.isnull().any(lead_dim)
    aqi = xr.apply_ufunc(pm25_daily_aqi, daily_pm25.fillna(0.0), kwargs={"standard": standard})
    level = alert_level(aqi, rules=rules, day_dim=lead_dim,
                        orange_requires_300=orange_requires_300).dataset["level"]
    return level.astype(float).where(~missing)


def cost_loss_decision(prob, cost_loss_ratio: float):
    """Alert (True) where the event probability ``prob >= C/L`` (Murphy 1977)."""
    check_range(cost_loss_ratio, "cost_loss_ratio", 0, 1, kind="argument", lo_inclusive=False)
    return np.asarray(prob) >= cost_loss_ratio


def cost_loss_table(obs_event, prob, cost_loss_ratios: Sequence[float]) -> pd.DataFrame:
    """Verification of the cost-loss rule against always/never alerting and a perfect forecast.

    Parameters
    ----------
    obs_event : array_like of bool/0/1 (NaN = unverifiable, dropped)
        Whether the event happened (e.g. the observed days warranted an alert).
    prob : array_like
        Forecast event probability [0-1], same shape.
    cost_loss_ratios : sequence of float in (0, 1]

    Returns
    -------
    pandas.DataFrame
        One row per (C/L, policy in forecast/always/never/perfect): ``hits``, ``misses``,
        ``false_alerts``, ``correct_negatives``, ``expense`` (mean per forecast, units of L),
        ``value`` (Richardson 2000 relative economic value; 1 = perfect, 0 = best fixed policy).
    """
    o = np.asarray(obs_event, float).ravel()
    p = np.asarray(prob, float).ravel()
    if o.shape != p.shape:
        raise InvalidValueError(f"obs_event {o.shape} and prob {p.shape} differ in shape",
                                field="prob", where=_WHERE)
    ok = np.isfinite(o) & np.isfinite(p)
    if not np.isin(o[ok], (0.0, 1.0)).all():
        bad = o[ok][~np.isin(o[ok], (0.0, 1.0))][0]
        raise InvalidValueError(f"obs_event={bad:g} must be 0/1 (or False/True, NaN = missing)",
                                field="obs_event", where=_WHERE)
    o, p = o[ok].astype(bool), p[ok]
    check_range(p, "prob", 0, 1, kind="forecast")
    base = o.mean() if o.size else np.nan
    rows = []
    for r in cost_loss_ratios:  # loop over a few C/L ratios
        policies = {"forecast": cost_loss_decision(p, r), "always": np.ones_like(o),
                    "never": np.zeros_like(o), "perfect": o.copy()}
        e_clim, e_perfect = min(r, base), base * r
        for name, alert in policies.items():
            expense = (alert * r + (~alert & o)).mean()
            value = (e_clim - expense) / (e_clim - e_perfect) if e_clim > e_perfect else np.nan
            rows.append({"cost_loss": r, "policy": name, "hits": int((alert & o).sum()),
                         "misses": int((~alert & o).sum()),
                         "false_alerts": int((alert & ~o).sum()),
                         "correct_negatives": int((~alert & ~o).sum()),
                         "expense": float(expense), "value": float(value)})
    return pd.DataFrame(rows)
