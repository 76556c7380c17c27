"""Predictive distribution from quantiles: the three tail conventions, inverses, array types."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from ecodss.errors import InvalidValueError, OutOfRangeError
from ecodss.stats.predictive import cdf, exceedance_probability, quantile_function

LEVELS = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
TAILS = ("lognormal", "linear", "clamped")


def _quantiles(n=40, seed=3):
    """Log-normal forecasts: log1p(Y) ~ N(mu, sigma^2)."""
    rng = np.random.default_rng(seed)
    mu, sigma = rng.uniform(2, 5, n), rng.uniform(0.2, 0.8, n)
    return np.expm1(mu[:, None] + sigma[:, None] * stats.norm.ppf(LEVELS)), mu, sigma


def test_lognormal_tails_match_the_analytic_distribution_beyond_the_levels():
    q, mu, sigma = _quantiles()
    y = np.expm1(mu + 2.5 * sigma)  # far above the 0.9 quantile
    np.testing.assert_allclose(exceedance_probability(q, LEVELS, y), stats.norm.sf(2.5),
                               rtol=1e-9)
    np.testing.assert_allclose(quantile_function(q, LEVELS, [[0.01, 0.99]]),
                               np.expm1(mu[:, None] + sigma[:, None] * stats.norm.ppf(
                                   [0.01, 0.99])), rtol=1e-9)


@pytest.mark.parametrize("tails", TAILS)
def test_cdf_inverts_the_quantile_function_and_passes_through_the_quantiles(tails):
    q, _, _ = _quantiles()
    np.testing.assert_allclose(cdf(q, LEVELS, q[:, 2], tails=tails), 0.5, rtol=1e-12)
    np.testing.assert_allclose(quantile_function(q, LEVELS, LEVELS[None, :], tails=tails), q,
                               rtol=1e-12)
    probs = np.array([[0.15, 0.4, 0.6, 0.85]])
    x = quantile_function(q, LEVELS, probs, tails=tails)
    f = np.stack([cdf(q, LEVELS, x[:, j], tails=tails) for j in range(probs.size)], axis=-1)
    np.testing.assert_allclose(f, np.broadcast_to(probs, f.shape), rtol=1e-10)


def test_tail_conventions_below_and_above_the_quantile_range():
    q = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    # clamped: all mass inside [q_0.1, q_0.9]
    assert cdf(q, LEVELS, 5.0, tails="clamped") == 0.0
    assert cdf(q, LEVELS, 50.0, tails="clamped") == 1.0
    # linear: the end segment 0.75 -> 0.9 over 10 units goes on with slope 0.015 per unit
    assert cdf(q, LEVELS, 55.0, tails="linear") == pytest.approx(0.9 + 5 * 0.015)
    assert cdf(q, LEVELS, 500.0, tails="linear") == 1.0
    assert cdf(q, LEVELS, 0.0, tails="linear") == pytest.approx(0.0)  # 0.1 - 10 * 0.015 < 0
    # log-normal tails never reach 0 or 1 at finite values
    assert 0.9 < cdf(q, LEVELS, 55.0, tails="lognormal") < 1.0


def test_point_mass_at_tied_quantiles_and_higher_is_better():
    q = np.array([10.0, 20.0, 20.0, 30.0, 40.0])  # a point mass of 0.25 at 20
    for tails in TAILS:
        above = exceedance_probability(q, LEVELS, 20.0, tails=tails)
        below = exceedance_probability(q, LEVELS, 20.0, tails=tails, higher_is_better=True)
        assert above == pytest.approx(0.5)  # P(Y > 20) = 1 - F(20), F(20) = 0.5
        assert below == pytest.approx(0.25)  # P(Y < 20) = F(20-)


def test_tied_end_quantiles_make_a_point_mass_tail():
    q = np.array([10.0, 10.0, 20.0, 30.0, 30.0])
    for tails in TAILS:
        assert exceedance_probability(q, LEVELS, 5.0, tails=tails) == 1.0
        assert exceedance_probability(q, LEVELS, 30.0, tails=tails) == 0.0


def test_nan_sorting_axis_and_validation():
    q, _, _ = _quantiles(5)
    q[1, 2] = np.nan
    p = exceedance_probability(q, LEVELS, 50.0, tails="linear")
    assert np.isnan(p[1]) and np.isfinite(np.delete(p, 1)).all()
    assert np.isnan(cdf(q[0], LEVELS, np.nan))
    crossed = q[:, ::-1]  # crossing quantiles are sorted (rearranged) first
    np.testing.assert_array_equal(exceedance_probability(crossed, LEVELS, 50.0),
                                  exceedance_probability(q, LEVELS, 50.0))
    np.testing.assert_array_equal(exceedance_probability(q.T, LEVELS, 50.0, axis=0),
                                  exceedance_probability(q, LEVELS, 50.0))
    with pytest.raises(OutOfRangeError):
        cdf(q, [0.5, 0.1, 0.9, 0.95, 0.99], 1.0)
    with pytest.raises(InvalidValueError):
        cdf(q, LEVELS, 1.0, tails="gaussian")
    with pytest.raises(InvalidValueError):
        cdf(-q, LEVELS, 1.0, tails="lognormal")
    with pytest.raises(OutOfRangeError):
        quantile_function(q, LEVELS, [1.5])


@pytest.mark.parametrize("chunked", [False, True])
def test_pandas_xarray_and_dask_match_numpy(chunked):
    q, _, _ = _quantiles(12)
    da = xr.DataArray(q.reshape(3, 4, 5), dims=("station", "time", "quantile"),
                      coords={"quantile": LEVELS})
    if chunked:
        da = da.chunk({"station": 1})
    thr = xr.DataArray([30.0, 60.0, 90.0], dims="station")
    for tails in TAILS:
        p = exceedance_probability(da, LEVELS, thr, tails=tails, axis="quantile")
        expected = exceedance_probability(q.reshape(3, 4, 5), LEVELS,
                                          np.array([30.0, 60.0, 90.0])[:, None], tails=tails)
        np.testing.assert_allclose(p.values, expected, rtol=1e-12)
        x = quantile_function(da, LEVELS, [0.05, 0.5, 0.95], tails=tails, axis="quantile")
        assert x.sizes["quantile"] == 3
        np.testing.assert_allclose(x.values, quantile_function(
            q.reshape(3, 4, 5), LEVELS, [0.05, 0.5, 0.95], tails=tails), rtol=1e-12)
    frame = pd.DataFrame(q, columns=LEVELS)
    pd.testing.assert_series_equal(cdf(frame, LEVELS, 40.0),
                                   pd.Series(cdf(q, LEVELS, 40.0), index=frame.index))
