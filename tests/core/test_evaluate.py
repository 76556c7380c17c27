"""Model-evaluation metrics: analytic cases, the GRAL AGA-Texas scores, array-type parity."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import (
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnknownFieldError,
    ValidationError,
)
from ecodss.evaluate import METRICS, evaluate, fac2, fb, mb, mg, nmb, nme, nmse, pearson_r, rmse, vg

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
AGA = SHARED / "air" / "gral_aga_texas" / "observed_arcmax.csv"

OBS = np.array([1.0, 2.0, 4.0, 8.0])


def test_perfect_model():
    res = evaluate(OBS, OBS)
    expected = {"FB": 0, "NMSE": 0, "MG": 1, "VG": 1, "FAC2": 1, "NMB": 0, "NME": 0, "R": 1,
                "RMSE": 0, "MB": 0, "MAE": 0}
    assert set(res) == set(METRICS)
    for name, value in expected.items():
        assert res[name] == pytest.approx(value, abs=1e-12), name


def test_model_twice_the_observations():
    res = evaluate(OBS, 2.0 * OBS)
    # FB = 2(O - 2O)/(O + 2O) = -2/3 (over-prediction is negative), MG = 1/2,
    # VG = exp(ln(2)^2), FAC2 = 1 (P/O = 2 is inside the inclusive bounds), NMB = NME = 1.
    assert res["FB"] == pytest.approx(-2.0 / 3.0, rel=1e-12)
    assert res["MG"] == pytest.approx(0.5, rel=1e-12)
    assert res["VG"] == pytest.approx(np.exp(np.log(2.0) ** 2), rel=1e-12)
    assert res["FAC2"] == 1.0
    assert res["NMB"] == pytest.approx(1.0) and res["NME"] == pytest.approx(1.0)
    assert res["R"] == pytest.approx(1.0)
    # NMSE = mean(O^2)/(mean(O) * 2 mean(O)) = (85/4) / (2 * (15/4)^2)
    assert res["NMSE"] == pytest.approx((85 / 4) / (2 * (15 / 4) ** 2), rel=1e-12)
    assert res["MB"] == pytest.approx(15 / 4) and res["RMSE"] == pytest.approx(np.sqrt(85 / 4))
    assert res["MAE"] == pytest.approx(15 / 4)  # |2O - O| = O


def test_half_the_observations_is_the_mirror_image():
    res = evaluate(OBS, 0.5 * OBS)
    assert res["FB"] == pytest.approx(2.0 / 3.0)  # under-prediction: positive
    assert res["MG"] == pytest.approx(2.0)
    assert res["VG"] == pytest.approx(np.exp(np.log(2.0) ** 2))
    assert res["FAC2"] == 1.0
    assert res["NMB"] == pytest.approx(-0.5)


def test_constant_offset():
    c = 1.5
    res = evaluate(OBS, OBS + c)
    assert res["MB"] == pytest.approx(c)
    assert res["RMSE"] == pytest.approx(c)
    assert res["R"] == pytest.approx(1.0)
    assert res["NMB"] == pytest.approx(c * 4 / OBS.sum())
    assert res["FB"] == pytest.approx(-2 * c / (2 * OBS.mean() + c))
    assert res["NMSE"] == pytest.approx(c**2 / (OBS.mean() * (OBS.mean() + c)))


def test_fac2_boundaries_are_inclusive():
    obs = np.array([10.0, 10.0, 10.0, 10.0])
    mod = np.array([5.0, 20.0, 4.999, 20.001])
    assert fac2(obs, mod) == pytest.approx(0.5)


def test_pearson_r_against_numpy_and_sign():
    rng = np.random.default_rng(0)
    o, p = rng.gamma(2.0, 3.0, 200), rng.gamma(2.0, 3.0, 200)
    assert pearson_r(o, p) == pytest.approx(np.corrcoef(o, p)[0, 1], rel=1e-12)
    assert pearson_r(o, -o + 100) == pytest.approx(-1.0)


def test_single_metric_functions_agree_with_evaluate():
    rng = np.random.default_rng(1)
    o, p = rng.lognormal(size=50), rng.lognormal(size=50)
    res = evaluate(o, p)
    for name, func in [("FB", fb), ("NMSE", nmse), ("MG", mg), ("VG", vg), ("FAC2", fac2),
                       ("NMB", nmb), ("NME", nme), ("R", pearson_r), ("RMSE", rmse), ("MB", mb)]:
        assert func(o, p) == pytest.approx(res[name], rel=1e-14), name


def test_missing_pairs_are_dropped():
    o = np.array([1.0, np.nan, 4.0, 8.0, 3.0])
    p = np.array([2.0, 5.0, 8.0, 16.0, np.nan])
    res = evaluate(o, p)
    assert res["FB"] == pytest.approx(-2.0 / 3.0) and res["MG"] == pytest.approx(0.5)


def test_all_missing_gives_nan_not_a_number():
    res = evaluate([np.nan, 1.0], [2.0, np.nan])
    assert all(np.isnan(v) for v in res.values())


def test_mg_vg_thresholds():
    obs = np.array([0.0, 1.0, 2.0, 4.0])
    mod = np.array([0.5, 2.0, 4.0, 8.0])
    with pytest.raises(OutOfRangeError, match="min_value"):
        mg(obs, mod)
    # exclude: the pair with obs = 0 < 0.1 drops out -> exactly a factor 2
    assert mg(obs, mod, min_value=0.1, below="exclude") == pytest.approx(0.5)
    # clip: obs 0 -> 0.5 (the threshold), pair (0.5, 0.5) is perfect: MG = exp(3 ln(1/2) / 4)
    assert mg(obs, mod, min_value=0.5) == pytest.approx(np.exp(3 * np.log(0.5) / 4))
    assert vg(obs, mod, min_value=0.5) == pytest.approx(np.exp(3 * np.log(2.0) ** 2 / 4))


def test_gral_aga_texas_published_scores():
    if not AGA.exists():
        pytest.skip(f"GRAL AGA Texas data not found at {AGA}")
    df = pd.read_csv(AGA)
    assert len(df) == 61
    res = evaluate(df["observed_arcmax"], df["gral_arcmax"], metrics=["FB", "NMSE", "FAC2"])
    # Published (GRAL validation spreadsheet): FB = -0.12, NMSE = 0.95 (two decimals);
    # FAC2 = 0.475 recomputed from the same 61 arc maxima (29/61).
    assert res["FB"] == pytest.approx(-0.12, abs=0.005)
    assert res["NMSE"] == pytest.approx(0.95, abs=0.005)
    assert res["FAC2"] == pytest.approx(0.475, abs=0.0005)


@pytest.fixture
def fields():
    rng = np.random.default_rng(7)
    obs = xr.DataArray(rng.lognormal(size=(4, 3, 60)), dims=("station", "x", "time"),
                       coords={"time": pd.date_range("2024-01-01", periods=60, freq="h")},
                       attrs={"units": "ug m-3"})
    mod = obs * rng.lognormal(0.1, 0.5, size=obs.shape)
    obs[0, 0, 5] = np.nan
    return obs, mod


def test_xarray_reduces_over_dim_and_matches_numpy(fields):
    obs, mod = fields
    res = evaluate(obs, mod, dim="time")
    assert isinstance(res, xr.Dataset) and res["FB"].dims == ("station", "x")
    ref = evaluate(obs.values, mod.values, dim=-1)
    for name in METRICS:
        np.testing.assert_allclose(res[name].values, ref[name], rtol=1e-13, err_msg=name)
    assert res["RMSE"].attrs["units"] == "ug m-3" and res["FB"].attrs["units"] == "1"
    # one group by hand
    o, p = obs.values[1, 2], mod.values[1, 2]
    assert float(res["FB"][1, 2]) == pytest.approx(2 * (o.mean() - p.mean()) / (o.mean() + p.mean()))


def test_dask_twin_is_lazy_and_identical(fields):
    obs, mod = fields
    eager = evaluate(obs, mod, dim=("x", "time"))
    lazy = evaluate(obs.chunk({"station": 2, "time": 20}), mod.chunk({"station": 2, "time": 20}),
                    dim=("x", "time"))
    assert lazy["NMSE"].chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-13)


def test_reduce_all_dims_and_pandas_series(fields):
    obs, mod = fields
    everything = evaluate(obs, mod)
    flat = evaluate(pd.Series(obs.values.ravel()), pd.Series(mod.values.ravel()))
    for name in METRICS:
        assert float(everything[name]) == pytest.approx(flat[name], rel=1e-13)


def test_input_errors(fields):
    obs, mod = fields
    with pytest.raises(UnknownFieldError, match="FAC2"):
        evaluate(OBS, OBS, metrics=["FAC3"])
    with pytest.raises(MissingFieldError, match="hour"):
        evaluate(obs, mod, dim="hour")
    with pytest.raises(ValidationError, match="shape"):
        evaluate(OBS, OBS[:3])
    with pytest.raises(ValidationError, match="aligned"):
        evaluate(pd.Series(OBS), pd.Series(OBS, index=[3, 2, 1, 0]))
    with pytest.raises(NonFiniteValueError):
        evaluate(OBS, np.array([1.0, np.inf, 1.0, 1.0]))
    with pytest.raises(NegativeValueError):
        fac2(OBS, -OBS)
    with pytest.raises(OutOfRangeError):
        mg(OBS, OBS, min_value=0.0)
