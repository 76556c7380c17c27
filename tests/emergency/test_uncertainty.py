"""Predictive distribution from quantiles, alert-level probabilities, cost-loss verification."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from ecodss.emergency import uncertainty as U
from ecodss.errors import InvalidValueError, OutOfRangeError

LEVELS = (0.1, 0.5, 0.9)
MU, SIGMA = np.log1p(80.0), 0.5  # log1p(X) ~ N(MU, SIGMA^2)


def _lognormal_quantiles(levels=LEVELS, mu=MU, sigma=SIGMA):
    return np.expm1(mu + sigma * stats.norm.ppf(levels))


def test_quantile_function_reproduces_a_lognormal_including_tails():
    q = _lognormal_quantiles()
    probs = np.array([0.01, 0.25, 0.5, 0.8, 0.99])
    expected = np.expm1(MU + SIGMA * stats.norm.ppf(probs))
    np.testing.assert_allclose(U.quantile_function(q, LEVELS, probs), expected, rtol=1e-10)


def test_exceedance_matches_analytic_and_inverts_quantile_function():
    q = np.stack([_lognormal_quantiles(), _lognormal_quantiles(mu=np.log1p(200.0))])
    p = U.exceedance_probability(q, LEVELS, 150.0)
    expected = stats.norm.sf((np.log1p(150.0) - np.array([MU, np.log1p(200.0)])) / SIGMA)
    np.testing.assert_allclose(p, expected, rtol=1e-10)
    x = U.quantile_function(q, LEVELS, [[0.3], [0.3]])[:, 0]
    np.testing.assert_allclose(U.exceedance_probability(q, LEVELS, x), 0.7, rtol=1e-10)


def test_exceedance_nan_and_validation():
    q = np.array([[10.0, np.nan, 30.0]])
    assert np.isnan(U.exceedance_probability(q, LEVELS, 20.0)[0])
    with pytest.raises(InvalidValueError):
        U.exceedance_probability([[-1.0, 2.0, 3.0]], LEVELS, 1.0)
    with pytest.raises(InvalidValueError):
        U.exceedance_probability([[1.0, 2.0, 3.0]], (0.5, 0.1, 0.9), 1.0)


@pytest.mark.parametrize("rho", [0.0, 0.7])
def test_sample_days_marginals_and_correlation(rho):
    q = np.broadcast_to(_lognormal_quantiles(), (3, 3))  # 3 days, same forecast
    s = U.sample_days(q, LEVELS, n_samples=20000, rho=rho, seed=1)
    assert s.shape == (20000, 3)
    np.testing.assert_allclose(np.quantile(s, LEVELS, axis=0).T, q, rtol=0.03)
    z = (np.log1p(s) - MU) / SIGMA
    assert np.corrcoef(z[:, 0], z[:, 1])[0, 1] == pytest.approx(rho, abs=0.03)
    assert np.corrcoef(z[:, 0], z[:, 2])[0, 1] == pytest.approx(rho**2, abs=0.03)
    again = U.sample_days(q, LEVELS, n_samples=20000, rho=rho, seed=1)
    np.testing.assert_array_equal(s, again)  # fixed seed: reproducible decisions


def _issue(days_pm):
    """Near-certain forecasts (tiny spread) for three lead days of one issue."""
    med = np.asarray(days_pm, float)
    q = np.stack([med * 0.999, med, med * 1.001], axis=-1)
    return xr.DataArray(q, dims=("lead", "quantile"),
                        coords={"lead": [1, 2, 3], "quantile": list(LEVELS)})


@pytest.mark.parametrize("days, level", [
    ([50, 60, 70], 0),      # clean
    ([180, 190, 60], 1),    # two days AQI > 200 (PM2.5 > 150): yellow
    ([200, 260, 200], 2),   # three heavy days and one AQI > 300 (PM2.5 > 250): orange
])
def test_alert_probabilities_follow_the_rule_table(days, level):
    forecasts = xr.concat([_issue(days)], dim="issue")
    p = U.alert_probabilities(forecasts, n_samples=200, seed=0)
    assert p["p_level"].sel(level=level).item() == pytest.approx(1.0)
    assert p["p_at_least"].sel(level=0).item() == pytest.approx(1.0)
    heavy = np.asarray(days) > 150
    np.testing.assert_allclose(p["p_heavy_day"].isel(issue=0).values, heavy.astype(float),
                               atol=1e-6)


def test_alert_probability_is_between_for_uncertain_forecasts():
    med = np.array([140.0, 150.0, 140.0])
    q = np.stack([med * 0.5, med, med * 2.0], axis=-1)
    da = xr.DataArray(q[None], dims=("issue", "lead", "quantile"),
                      coords={"lead": [1, 2, 3], "quantile": list(LEVELS)})
    indep = U.alert_probabilities(da, n_samples=4000, rho=0.0, seed=0)
    coupled = U.alert_probabilities(da, n_samples=4000, rho=0.9, seed=0)
    p0 = indep["p_at_least"].sel(level=1).item()
    assert 0.1 < p0 < 0.9
    # runs of heavy days are likelier when the days' errors are correlated
    assert coupled["p_at_least"].sel(level=1).item() > p0


def test_observed_alert_level():
    obs = xr.DataArray([[180.0, 190.0, 60.0], [50.0, np.nan, 60.0]], dims=("issue", "lead"))
    level = U.observed_alert_level(obs)
    assert level.values[0] == 1
    assert np.isnan(level.values[1])


def test_cost_loss_table_hand_computed():
    obs = np.array([1, 0, 1, 0])
    prob = np.array([0.9, 0.4, 0.2, 0.1])
    t = U.cost_loss_table(obs, prob, [0.3]).set_index("policy")
    f = t.loc["forecast"]  # alerts on the first two
    assert (f.hits, f.misses, f.false_alerts, f.correct_negatives) == (1, 1, 1, 1)
    assert f.expense == pytest.approx((2 * 0.3 + 1) / 4)
    # E_clim = min(0.3, 0.5) = 0.3, E_perfect = 0.5 * 0.3 = 0.15 (Richardson 2000)
    assert f.value == pytest.approx((0.3 - 0.4) / (0.3 - 0.15))
    assert t.loc["always", "expense"] == pytest.approx(0.3)
    assert t.loc["never", "expense"] == pytest.approx(0.5)
    assert t.loc["perfect", "value"] == pytest.approx(1.0)
    assert t.loc["always", "value"] == pytest.approx(0.0)
    assert isinstance(t, pd.DataFrame)


def test_cost_loss_validation():
    with pytest.raises(OutOfRangeError):
        U.cost_loss_decision([0.5], 0.0)
    with pytest.raises(OutOfRangeError):
        U.cost_loss_table([1, 0], [1.2, 0.1], [0.3])
    with pytest.raises(InvalidValueError, match="obs_event"):
        U.cost_loss_table([1, 2], [0.5, 0.1], [0.3])  # 2 would silently count as an event
    t = U.cost_loss_table([True, np.nan, False], [0.5, 0.9, 0.1], [0.3])
    assert t.set_index("policy").loc["forecast", "hits"] == 1  # NaN event dropped


def test_pm25_daily_aqi_numpy_and_dask_xarray_agree_with_hj633():
    conc = np.array([0.0, 35.0, 75.0, 150.0, 250.0, 500.0, 900.0])
    # HJ 633-2012 Table 1 breakpoints: PM2.5 24-h 35/75/150/250/500 -> IAQI 50/100/200/300/500
    np.testing.assert_allclose(U.pm25_daily_aqi(conc), [0, 50, 100, 200, 300, 500, 500])
    lazy = xr.DataArray(conc, dims="day").chunk({"day": 3})
    out = U.pm25_daily_aqi(lazy)
    assert isinstance(out, xr.DataArray) and out.chunks is not None
    np.testing.assert_allclose(out.values, U.pm25_daily_aqi(conc))
