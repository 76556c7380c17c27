"""GB 3838-2002 single-factor classification against the Table 1 limits."""

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import UnitError, UnknownFieldError
from ecodss.water import gb3838


def test_boundaries_follow_table_1():
    # NH3-N limits 0.15/0.5/1.0/1.5/2.0 mg/L: value == limit belongs to that class
    v = np.array([0.15, 0.1500001, 0.5, 1.0, 1.5, 2.0, 2.01, np.nan])
    assert gb3838.classify(v, "NH3-N").tolist() == [1, 2, 2, 3, 4, 5, 6, 0]


def test_do_higher_is_better_and_saturation_rule():
    v = np.array([8.0, 7.5, 7.49, 6.0, 5.0, 3.0, 2.0, 1.99])
    assert gb3838.classify(v, "DO").tolist() == [1, 1, 2, 2, 3, 4, 5, 6]
    # 7.0 mg/L at 90 % of a 7.7 mg/L saturation (warm water) is class I
    assert gb3838.classify(7.0, "DO", do_saturation=7.7) == 1
    assert gb3838.classify(7.0, "DO", do_saturation=9.0) == 2


def test_lake_tp_column():
    assert gb3838.classify(0.04, "TP", "river") == 2
    assert gb3838.classify(0.04, "TP", "lake") == 3
    assert gb3838.limits("TP", "lake").tolist() == [0.01, 0.025, 0.05, 0.1, 0.2]


def test_single_factor_worst_item_and_tn_rivers():
    ds = xr.Dataset({
        "DO": (("station", "time"), [[8.0, 4.0], [6.5, 6.5]]),
        "NH3_N": (("station", "time"), [[0.3, 0.3], [1.8, np.nan]]),
        "CODMn": (("station", "time"), [[3.0, 3.0], [5.0, 5.0]]),
        "TN": (("station", "time"), [[3.0, 3.0], [3.0, 3.0]]),
    })
    river = gb3838.classify_dataset(ds, "river")
    assert river["water_class"].values.tolist() == [[2, 4], [5, 3]]
    assert river["limiting_item"].values.tolist() == [["NH3-N", "DO"], ["NH3-N", "CODMn"]]
    lake = gb3838.classify_dataset(ds, "lake")  # TN 3.0 > 2.0: worse than V in a lake
    assert (lake["water_class"] == 6).all()


def test_dask_and_units():
    da = xr.DataArray(np.array([0.05, 0.25, 0.45]), dims="t", attrs={"units": "mg/L"}).chunk(1)
    assert gb3838.classify(da, "TP").compute().values.tolist() == [2, 4, 6]
    with pytest.raises(UnitError):
        gb3838.classify(da.assign_attrs(units="ug/L"), "TP")
    with pytest.raises(UnknownFieldError, match="did you mean"):
        gb3838.classify([1.0], "CODMm")


def test_exceedance_multiple():
    assert gb3838.exceedance_multiple(1.5, "NH3-N", 3) == pytest.approx(0.5)
    assert gb3838.exceedance_multiple(4.0, "DO", 3) == pytest.approx(0.2)
