"""Continuous scores: hand-computed series, scikit-learn/scipy agreement, array-type parity."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import pearsonr
from sklearn.metrics import mean_absolute_error, mean_squared_error

from ecodss.errors import MissingFieldError, NonFiniteValueError, ValidationError
from ecodss.evaluate import (
    bias,
    continuous_scores,
    correlation,
    mae,
    mse_skill,
    nmb,
    nme,
    rmse,
)

OBS = np.array([10.0, 20.0, 30.0, 40.0])
FCST = np.array([12.0, 18.0, 33.0, 47.0])  # errors +2, -2, +3, +7


def test_hand_computed_series():
    # errors e = (2, -2, 3, 7): mean 10/4, |e| mean 14/4, e^2 mean 66/4, sum obs 100
    assert bias(OBS, FCST) == pytest.approx(2.5)
    assert mae(OBS, FCST) == pytest.approx(3.5)
    assert rmse(OBS, FCST) == pytest.approx(np.sqrt(16.5))
    assert nmb(OBS, FCST) == pytest.approx(0.10)
    assert nme(OBS, FCST) == pytest.approx(0.14)
    # persistence-like reference (15, 15, 25, 35): errors 5, -5, -5, -5 -> MSE 25
    assert mse_skill(OBS, FCST, np.array([15.0, 15.0, 25.0, 35.0])) == pytest.approx(1 - 16.5 / 25)


def test_agrees_with_sklearn_and_scipy():
    rng = np.random.default_rng(3)
    obs = rng.gamma(2.0, 40.0, 500)
    fcst = obs + rng.normal(5.0, 20.0, 500)
    assert rmse(obs, fcst) == pytest.approx(np.sqrt(mean_squared_error(obs, fcst)), rel=1e-12)
    assert mae(obs, fcst) == pytest.approx(mean_absolute_error(obs, fcst), rel=1e-12)
    assert correlation(obs, fcst) == pytest.approx(pearsonr(obs, fcst).statistic, rel=1e-12)


def test_missing_pairs_dropped_and_common_sample_with_reference():
    obs = np.array([10.0, np.nan, 30.0, 40.0, 50.0])
    fcst = np.array([12.0, 99.0, 33.0, 47.0, np.nan])
    assert rmse(obs, fcst) == pytest.approx(np.sqrt((4 + 9 + 49) / 3))
    ref = np.array([np.nan, 1.0, 25.0, 35.0, 45.0])
    s = continuous_scores(obs, fcst, reference=ref)
    # only samples 3 and 4 (indices 2, 3) are valid for all three
    assert s["n"] == 2
    assert s["rmse"] == pytest.approx(np.sqrt((9 + 49) / 2))
    assert s["mse_skill"] == pytest.approx(1 - (9 + 49) / (25 + 25))


def test_continuous_scores_keys_and_values():
    s = continuous_scores(OBS, FCST)
    assert set(s) == {"n", "bias", "nmb", "nme", "rmse", "mae", "r"}
    assert s["n"] == 4 and s["nmb"] == pytest.approx(0.10) and s["mae"] == pytest.approx(3.5)


def test_xarray_dim_matches_numpy_axis_and_dask(field, chunked):
    obs, fcst = field
    ref = obs.shift(time=1)
    res = continuous_scores(chunked(obs), chunked(fcst), reference=chunked(ref), dim="time")
    assert isinstance(res, xr.Dataset) and res["rmse"].dims == ("station", "lead")
    ref_np = continuous_scores(obs.values, fcst.values, reference=ref.values, dim=-1)
    for name in ref_np:
        np.testing.assert_allclose(res[name].values, ref_np[name], rtol=1e-12, err_msg=name)
    # reduce two dims at once = numpy axes (1, 2)
    two = rmse(chunked(obs), chunked(fcst), dim=("lead", "time"))
    np.testing.assert_allclose(np.asarray(two), rmse(obs.values, fcst.values, dim=(1, 2)),
                               rtol=1e-12)


def test_pandas_series_same_as_numpy():
    idx = pd.date_range("2014-01-01", periods=4, freq="D")
    assert continuous_scores(pd.Series(OBS, idx), pd.Series(FCST, idx)) == pytest.approx(
        continuous_scores(OBS, FCST))


def test_errors_name_the_problem(field):
    obs, fcst = field
    with pytest.raises(MissingFieldError, match="day"):
        mse_skill(obs, fcst, fcst, dim="day")
    with pytest.raises(ValidationError, match="aligned"):
        continuous_scores(pd.Series(OBS), pd.Series(FCST, index=[3, 2, 1, 0]))
    with pytest.raises(NonFiniteValueError):
        continuous_scores(OBS, np.array([1.0, np.inf, 1.0, 1.0]))
    with pytest.raises(ValidationError, match="broadcast"):
        mse_skill(OBS, FCST[:3], FCST)
