"""SARIMAX baseline: regression on target-day met with ARMA errors, on transformed daily means.

    z_d = x_d' beta + u_d,   phi(B) Phi(B^s) u_d = theta(B) Theta(B^s) e_d,   e_d ~ N(0, sigma^2)

(regression with SARIMA errors, Hyndman & Athanasopoulos 2021 §10.1; fitted by exact maximum
likelihood in state-space form with statsmodels ``SARIMAX``, Durbin & Koopman 2012 ch. 3 and 8).
The *L*-day forecast from origin *o* uses the filtered state :math:`a_{o|o}, P_{o|o}`:

    E[u_{o+L}] = Z T^L a_{o|o},
    Var[z_{o+L}] = Z (T^L P_{o|o} T^L' + sum_{j<L} T^j R Q R' T^j') Z' + H

(Durbin & Koopman 2012 §4.11), evaluated for every origin at once. Quantiles are Gaussian in the
transformed scale. One model per station (stations are fitted in a loop: each is its own model).

References
----------
Durbin, J. and Koopman, S. J. (2012) Time Series Analysis by State Space Methods, 2nd ed., OUP.
Hyndman, R. J. and Athanasopoulos, G. (2021) Forecasting: principles and practice, 3rd ed., OTexts.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats


def _with_constant(exog: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(exog)), exog])


def fit_sarimax(z: np.ndarray, exog: np.ndarray, order, seasonal_order):
    """Fit one station: ``z`` (date,) transformed series (NaN = missing), ``exog`` (date, k)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(z, exog=_with_constant(exog), order=order,
                        seasonal_order=seasonal_order)
        return model.fit(disp=False, maxiter=200)


def sarimax_forecast(result, z: np.ndarray, exog: np.ndarray, lead: int):
    """Mean and s.d. (transformed scale) of the ``lead``-day forecast of every day.

    Position ``d`` holds the forecast *for* day ``d`` from origin ``d - lead`` (NaN for the first
    ``lead`` days). The fitted parameters are kept; the filter is re-run on ``z``/``exog``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = result.apply(z, exog=_with_constant(exog))
    m = res.model
    design, transition = m["design"][:, :], m["transition"][:, :]
    if design.ndim == 3:
        design = design[..., 0]
    if transition.ndim == 3:
        transition = transition[..., 0]
    selection = m["selection"][..., 0] if m["selection"].ndim == 3 else m["selection"]
    state_cov = m["state_cov"][..., 0] if m["state_cov"].ndim == 3 else m["state_cov"]
    obs_cov = float(np.ravel(m["obs_cov"])[0])
    intercept = np.ravel(m["obs_intercept"])  # x_d' beta per day (column 0 = constant)
    a = res.filter_results.filtered_state  # (k, n)
    p = res.filter_results.filtered_state_cov  # (k, k, n)
    t_l = np.linalg.matrix_power(transition, lead)
    rqr = selection @ state_cov @ selection.T
    noise = sum(np.linalg.matrix_power(transition, j) @ rqr @ np.linalg.matrix_power(transition, j).T
                for j in range(lead))
    za = design @ t_l  # (1, k)
    mean_u = (za @ a)[0]
    var = np.einsum("ik,kln,jl->n", za, p, za) + (design @ noise @ design.T)[0, 0] + obs_cov
    n = z.size
    mean = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    mean[lead:] = intercept[lead:] + mean_u[:-lead]
    sd[lead:] = np.sqrt(np.maximum(var[:-lead], 0.0))
    return mean, sd


def gaussian_quantiles(mean: np.ndarray, sd: np.ndarray, levels) -> np.ndarray:
    """Quantiles ``(..., level)`` of N(mean, sd^2)."""
    return mean[..., None] + stats.norm.ppf(np.asarray(levels))[None, :] * sd[..., None]
