"""PMF input preparation (EPA PMF 5.0 §5.1-5.2)."""

import numpy as np
import pandas as pd
import pytest

from ecodss.apportion import (
    apply_categories,
    categorize,
    fill_missing,
    signal_to_noise,
    uncertainty_from_mdl,
)
from ecodss.errors import InvalidValueError, UnknownFieldError


def test_uncertainty_equations():
    x = pd.DataFrame({"a": [0.005, 0.01, 2.0]})
    u = uncertainty_from_mdl(x, mdl=0.01, error_fraction=0.15)["a"].to_numpy()
    assert u[0] == pytest.approx(0.01 * 5 / 6) and u[1] == pytest.approx(0.01 * 5 / 6)
    assert u[2] == pytest.approx(np.hypot(0.3, 0.005))


def test_epa_baton_rouge_bdl_convention(shared_dir):
    d = shared_dir / "pmf"
    X = pd.read_csv(d / "Dataset-BatonRouge-con.csv", index_col=0)
    U = pd.read_csv(d / "Dataset-BatonRouge-unc.csv", index_col=0)
    bdl = np.isclose(X.to_numpy(), 0.005, rtol=1e-3)
    u = uncertainty_from_mdl(X, mdl=0.01, error_fraction=0.15).to_numpy()
    assert bdl.any() and np.allclose(u[bdl], U.to_numpy()[bdl], rtol=1e-3)  # 5/6 MDL


def test_missing_values_median_and_four_times_uncertainty():
    x = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0]})
    u = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.5]})
    xf, uf, miss = fill_missing(x, u)
    assert xf.loc[1, "a"] == 3.0 and uf.loc[1, "a"] == pytest.approx(4 * 0.25)
    assert miss["a"].tolist() == [False, True, False, False]


def test_signal_to_noise_and_categories():
    x = pd.DataFrame({"s": [10.0, 10.0], "w": [1.5, 0.5], "b": [0.5, 0.5]})
    u = pd.DataFrame({"s": [1.0, 1.0], "w": [1.0, 1.0], "b": [1.0, 1.0]})
    sn = signal_to_noise(x, u)
    assert sn.tolist() == pytest.approx([9.0, 0.25, 0.0])
    assert categorize(pd.Series([2.0, 0.7, 0.1])).tolist() == ["strong", "weak", "bad"]
    X, U, cat = apply_categories(x, u)  # default: every species strong
    assert (cat == "strong").all() and U.equals(u.rename_axis(index="sample", columns="species"))
    X, U, cat = apply_categories(x, u, {"s": "weak"}, auto=True)
    assert list(X.columns) == ["s"] and cat["w"] == cat["b"] == "bad"  # S/N 0.25 and 0
    assert U["s"].tolist() == [3.0, 3.0]
    with pytest.raises(UnknownFieldError):
        apply_categories(x, u, {"zz": "weak"})
    with pytest.raises(InvalidValueError):
        apply_categories(x, u, {"s": "medium"})
