"""Block bootstrap: index structure, analytic standard errors (iid and AR(1)), array types."""

import numpy as np
import pytest
import xarray as xr
from scipy.signal import lfilter

from ecodss.errors import InvalidValueError, OutOfRangeError
from ecodss.evaluate import bias, block_indices, bootstrap_difference, crps_ensemble, rmse


def test_block_indices_are_runs_of_consecutive_times():
    idx = block_indices(100, 50, block=7, seed=0)
    assert idx.shape == (50, 100) and idx.min() >= 0 and idx.max() <= 99
    steps = np.diff(idx.reshape(50, -1), axis=1)
    inside = np.ones(99, bool)
    inside[6::7] = False  # the step from one block to the next
    assert (steps[:, inside] == 1).all()
    np.testing.assert_array_equal(block_indices(100, 50, 7, seed=0), idx)  # reproducible


def test_estimate_is_the_full_sample_difference_and_equal_forecasts_give_zero():
    rng = np.random.default_rng(1)
    obs = rng.gamma(2, 40, 300)
    a, b = obs + rng.normal(0, 10, 300), obs + rng.normal(0, 20, 300)
    res = bootstrap_difference("rmse", obs, a, b, n_boot=500, seed=2)
    assert res["estimate"] == pytest.approx(rmse(obs, a) - rmse(obs, b), rel=1e-12)
    assert res["lower"] < res["estimate"] < res["upper"] < 0
    same = bootstrap_difference(rmse, obs, a, a, n_boot=200, seed=2)
    assert same["lower"] == same["upper"] == 0.0


def test_iid_and_block_standard_errors_match_theory():
    # difference of biases = mean of d_t = e_a - e_b; for iid d the standard error is s/sqrt(n),
    # for AR(1) d with coefficient phi it is larger by sqrt((1 + phi)/(1 - phi)) = 3 for 0.8.
    n, phi = 2000, 0.8
    rng = np.random.default_rng(3)
    obs = np.zeros(n)
    iid = rng.normal(0, 1, n)
    res = bootstrap_difference(bias, obs, iid, np.zeros(n), n_boot=1000, seed=4)
    assert res["std"] == pytest.approx(iid.std(ddof=1) / np.sqrt(n), rel=0.1)
    ar = lfilter([1.0], [1.0, -phi], rng.normal(0, 1, n))  # x_t = phi x_(t-1) + e_t
    theory = ar.std(ddof=1) / np.sqrt(n) * np.sqrt((1 + phi) / (1 - phi))
    iid_res = bootstrap_difference(bias, obs, ar, np.zeros(n), n_boot=1000, seed=5)
    block_res = bootstrap_difference(bias, obs, ar, np.zeros(n), n_boot=1000, block=60, seed=5)
    assert iid_res["std"] < 0.5 * theory  # the ordinary bootstrap understates it ...
    assert block_res["std"] == pytest.approx(theory, rel=0.25)  # ... moving blocks do not


def test_station_time_xarray_equals_numpy_and_ensemble_scores():
    rng = np.random.default_rng(6)
    obs = xr.DataArray(rng.gamma(2, 40, (3, 80)), dims=("station", "time"))
    a = obs + rng.normal(0, 10, obs.shape)
    b = obs + rng.normal(0, 15, obs.shape)
    res = bootstrap_difference("mae", obs, a, b.T, n_boot=300, block=4, seed=7)  # any dim order
    ref = bootstrap_difference("mae", obs.values, a.values, b.values, n_boot=300, block=4, seed=7)
    assert res == pytest.approx(ref)
    members = obs.values[..., None] + rng.normal(0, 10, (3, 80, 5))
    ens = bootstrap_difference(crps_ensemble, obs.values, members, members * 1.5, n_boot=200,
                               seed=8)
    assert ens["estimate"] == pytest.approx(crps_ensemble(obs.values, members)
                                            - crps_ensemble(obs.values, members * 1.5))
    assert ens["upper"] < 0


def test_bad_arguments():
    x = np.arange(10.0)
    with pytest.raises(OutOfRangeError, match="block"):
        bootstrap_difference("rmse", x, x, x, block=11)
    with pytest.raises(InvalidValueError, match="rmsee"):
        bootstrap_difference("rmsee", x, x, x)
    with pytest.raises(OutOfRangeError, match="level"):
        bootstrap_difference("rmse", x, x, x, level=90)
