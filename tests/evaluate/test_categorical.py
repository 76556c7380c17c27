"""Contingency-table and multi-category scores: hand-computed tables, scikit-learn agreement."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix

from ecodss.errors import InvalidValueError
from ecodss.evaluate import Contingency, contingency, event, multicategory


def _pairs(a, b, c, d):
    """Event vectors giving a hits, b false alarms, c misses, d correct negatives."""
    obs = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    fcst = np.r_[np.ones(a), np.ones(b), np.zeros(c), np.zeros(d)]
    return obs, fcst


def test_finley_tornado_table():
    # Finley (1884) tornado forecasts as tabulated by Wilks (2011, Table 8.1a):
    # a = 28, b = 72, c = 23, d = 2680, n = 2803.
    t = contingency(*_pairs(28, 72, 23, 2680))
    assert (t.hits, t.false_alarms, t.misses, t.correct_negatives) == (28, 72, 23, 2680)
    assert t.pod == pytest.approx(28 / 51)
    assert t.far == pytest.approx(72 / 100)
    assert t.csi == pytest.approx(28 / 123) and t.ts == t.csi
    assert t.bias_score == pytest.approx(100 / 51)
    assert t.accuracy == pytest.approx(2708 / 2803)
    # HSS = 2(ad - bc)/[(a+c)(c+d) + (a+b)(b+d)] = 2(75040 - 1656)/(51*2703 + 100*2752)
    assert t.hss == pytest.approx(2 * (28 * 2680 - 72 * 23) / (51 * 2703 + 100 * 2752))
    assert t.hss == pytest.approx(0.355, abs=5e-4)  # Wilks (2011) quotes HSS = 0.36
    assert t.pss == pytest.approx(28 / 51 - 72 / 2752)


def test_small_table_by_hand():
    t = contingency([1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0])
    # a = 2, b = 1, c = 1, d = 2
    assert t.to_dict()["pod"] == pytest.approx(2 / 3)
    assert t.far == pytest.approx(1 / 3) and t.csi == pytest.approx(0.5)
    assert t.hss == pytest.approx(2 * (4 - 1) / (3 * 3 + 3 * 3))
    assert t.bias_score == pytest.approx(1.0)


def test_zero_denominators_are_nan():
    t = contingency([0, 0, 0], [0, 0, 0])
    assert np.isnan(t.pod) and np.isnan(t.far) and np.isnan(t.bias_score)
    assert t.n == 3 and t.accuracy == 1.0


def test_missing_values_stay_missing():
    obs = np.array([160.0, np.nan, 100.0, 200.0])
    fcst = np.array([170.0, 180.0, np.nan, 120.0])
    np.testing.assert_array_equal(event(obs, 150), [1.0, np.nan, 0.0, 1.0])
    t = contingency(obs, fcst, threshold=150)
    assert t.n == 2 and t.hits == 1 and t.misses == 1  # the NaN rows are not "no event"
    s = pd.Series(obs)
    assert event(s, 150).isna().tolist() == [False, True, False, False]


def test_confusion_accuracy_and_hss_agree_with_sklearn():
    rng = np.random.default_rng(5)
    obs = rng.integers(1, 7, 400)
    fcst = np.clip(obs + rng.integers(-1, 2, 400), 1, 6)
    acc, hss, conf = multicategory(obs, fcst, categories=range(1, 7))
    np.testing.assert_array_equal(conf.values, confusion_matrix(obs, fcst, labels=range(1, 7)))
    assert acc == pytest.approx(accuracy_score(obs, fcst))
    # The multi-category HSS [sum p_ii - sum p_i. p_.i]/[1 - sum p_i. p_.i] is algebraically the
    # *unweighted* Cohen kappa; the weighted kappas are different statistics.
    assert hss == pytest.approx(cohen_kappa_score(obs, fcst))
    assert hss != pytest.approx(cohen_kappa_score(obs, fcst, weights="linear"))


def test_multicategory_hand_table_and_two_category_reduction():
    obs = ["good", "good", "heavy", "light", "light", np.nan]
    fcst = ["good", "light", "heavy", "light", "good", "heavy"]
    acc, hss, conf = multicategory(obs, fcst, ["good", "light", "heavy"])
    assert conf.loc["good", "good"] == 1 and conf.loc["good", "light"] == 1
    assert conf.values.sum() == 5  # the NaN pair is dropped
    assert acc == pytest.approx(3 / 5)
    # p_obs = (2, 2, 1)/5, p_fcst = (2, 2, 1)/5 -> chance = 9/25
    assert hss == pytest.approx((3 / 5 - 9 / 25) / (1 - 9 / 25))
    o2, f2 = _pairs(28, 72, 23, 2680)
    assert multicategory(o2, f2, [0.0, 1.0])[1] == pytest.approx(contingency(o2, f2).hss)


def test_xarray_counts_per_station_and_dask(field, chunked):
    obs, fcst = field
    t = contingency(chunked(obs), chunked(fcst), threshold=100.0, dim=("lead", "time"))
    assert isinstance(t, Contingency) and t.hits.dims == ("station",)
    ref = contingency(event(obs.values, 100.0), event(fcst.values, 100.0), dim=(1, 2))
    np.testing.assert_allclose(t.csi.values, ref.csi, rtol=1e-12)
    np.testing.assert_allclose(t.hss.values, ref.hss, rtol=1e-12)
    acc, hss, conf = multicategory(chunked(event(obs, 100.0)), chunked(event(fcst, 100.0)),
                                   [0.0, 1.0], dim=("lead", "time"))
    assert conf.dims == ("station", "observed", "forecast")
    np.testing.assert_allclose(np.asarray(hss), ref.hss, rtol=1e-12)
    np.testing.assert_allclose(conf.sel(observed=1.0, forecast=1.0).values, ref.hits)


def test_invalid_inputs():
    with pytest.raises(InvalidValueError, match="fcst_event"):
        contingency([1, 0], [1, 2])
    with pytest.raises(InvalidValueError, match="'severe'"):
        multicategory(["good"], ["severe"], ["good", "light"])
    assert isinstance(contingency(xr.DataArray([1.0, 0.0]), xr.DataArray([1.0, 1.0])).far,
                      xr.DataArray)
