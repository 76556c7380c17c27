"""Turner's method against EPA-454/R-99-005 Tables 6-4..6-6 (Turner 1964)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import (
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
)
from ecodss.met.solar import sunrise_sunset
from ecodss.met.stability import (
    insolation_class,
    merge_stable_classes,
    net_radiation_index,
    stability_from_met,
    turner_class,
    wind_speed_knots,
)

# EPA (2000) Table 6-4 as published: rows = 0-1, 2-3, 4-5, 6, 7, 8-9, 10, 11, >=12 kt;
# columns = net radiation index 4, 3, 2, 1, 0, -1, -2.
PUBLISHED_KEY = """
1 1 2 3 4 6 7
1 2 2 3 4 6 7
1 2 3 4 4 5 6
2 2 3 4 4 5 6
2 2 3 4 4 4 5
2 3 3 4 4 4 5
3 3 4 4 4 4 5
3 3 4 4 4 4 4
3 4 4 4 4 4 4
"""
# A speed [m/s] inside each row, and (altitude, cloud tenths, ceiling m, night) giving NRI 4..-2.
ROW_SPEEDS = [0.3, 1.2, 2.3, 3.1, 3.6, 4.4, 5.1, 5.7, 7.5]
NRI_INPUTS = [(70.0, 0, np.inf, False), (45.0, 0, np.inf, False), (25.0, 3, np.inf, False),
              (10.0, 5, np.inf, False), (30.0, 10, 1000.0, False), (-10.0, 7, np.inf, True),
              (-10.0, 2, np.inf, True)]


def _key():
    return np.array(PUBLISHED_KEY.split(), dtype=int).reshape(9, 7)


def test_every_cell_of_turners_key():
    speed = np.array(ROW_SPEEDS)[:, None]
    alt, cloud, ceil, night = (np.array(c)[None, :] for c in zip(*NRI_INPUTS, strict=True))
    np.testing.assert_array_equal(net_radiation_index(alt, cloud, ceil, night)[0],
                                  [4, 3, 2, 1, 0, -1, -2])
    np.testing.assert_array_equal(turner_class(speed, alt, cloud, ceil, night), _key())


def test_knot_rounding_matches_the_m_per_s_ranges_of_the_table():
    # Table 6-4 prints 0-0.7 m/s for 0-1 kt and 0.8-1.8 for 2-3 kt: the edge is 1.5 kt = 0.772 m/s.
    np.testing.assert_array_equal(wind_speed_knots([0.77, 0.78, 5.91, 5.93]), [1, 2, 11, 12])
    # Strong insolation (NRI 4... use NRI 3: alt 45, clear): row 0-1 kt -> A, 2-3 kt -> B.
    np.testing.assert_array_equal(turner_class([0.77, 0.78], 45.0, 0.0, np.inf), [1, 2])
    # 11 kt -> C, >= 12 kt -> D at NRI 3.
    np.testing.assert_array_equal(turner_class([5.91, 5.93], 45.0, 0.0, np.inf), [3, 4])


def test_insolation_class_boundaries_table_6_5():
    np.testing.assert_array_equal(insolation_class([15.0, 15.01, 35.0, 35.01, 60.0, 60.01]),
                                  [1, 2, 2, 3, 3, 4])


@pytest.mark.parametrize("alt, cloud, ceiling, night, expected", [
    (45.0, 7, 1500.0, False, 1),     # cloud > 5/10, ceiling < 7000 ft: 3 - 2
    (45.0, 7, 3000.0, False, 2),     # 7000-16000 ft: 3 - 1
    (45.0, 7, 6000.0, False, 3),     # >= 16000 ft: unchanged
    (45.0, 10, 3000.0, False, 1),    # 10/10, 7000-16000 ft: 3 - 1 - 1
    (45.0, 10, 6000.0, False, 2),    # 10/10, >= 16000 ft: 3 - 1
    (70.0, 5, 1000.0, False, 4),     # cloud 5/10 is not "> 5/10": unchanged
    (10.0, 8, 1000.0, False, 1),     # 1 - 2 -> floor 1
    (-5.0, 10, 1000.0, True, 0),     # step 1 holds at night too
    (-5.0, 10, 3000.0, True, -1),    # overcast but high ceiling: night rule
    (-5.0, 4, np.inf, True, -2),
    (-5.0, 5, np.inf, True, -1),
])
def test_net_radiation_index_table_6_6(alt, cloud, ceiling, night, expected):
    assert int(net_radiation_index(alt, cloud, ceiling, night)) == expected


def test_merge_g_into_f():
    assert int(turner_class(0.5, -20.0, 0.0, np.inf)) == 7
    assert int(turner_class(0.5, -20.0, 0.0, np.inf, merge_g=True)) == 6
    np.testing.assert_array_equal(merge_stable_classes(np.arange(1, 8)), [1, 2, 3, 4, 5, 6, 6])


def test_default_night_is_sun_below_horizon():
    assert int(turner_class(1.0, -1.0, 0.0, np.inf)) == 7
    assert int(turner_class(1.0, 1.0, 0.0, np.inf)) == 3  # weak insolation, NRI 1


@pytest.mark.parametrize("args, error", [
    ((-1.0, 30.0, 0.0, np.inf), NegativeValueError),
    ((np.nan, 30.0, 0.0, np.inf), NonFiniteValueError),
    ((2.0, 30.0, 11.0, np.inf), OutOfRangeError),
    ((2.0, 95.0, 0.0, np.inf), OutOfRangeError),
    ((2.0, 30.0, 3.0, np.nan), NonFiniteValueError),
    ((2.0, 30.0, 3.0, -5.0), NegativeValueError),
])
def test_bad_input_raises_named_error(args, error):
    with pytest.raises(error):
        turner_class(*args)


def test_dask_twin_gives_identical_classes():
    rng = np.random.default_rng(3)
    n = 500
    ws, alt = rng.uniform(0, 9, n), rng.uniform(-30, 80, n)
    cloud, ceil = rng.integers(0, 11, n).astype(float), rng.choice([500.0, 3000.0, np.inf], n)
    eager = turner_class(ws, alt, cloud, ceil)
    da = [xr.DataArray(v, dims="time").chunk(100) for v in (ws, alt, cloud, ceil)]
    lazy = turner_class(*da)
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.values, eager)


def _met(times, ws, cloud, ceiling):
    return xr.Dataset(
        {"wind_speed": ("time", ws, {"units": "m s-1"}),
         "cloud_cover": ("time", cloud, {"units": "1"}),
         "ceiling_height": ("time", ceiling, {"units": "m"})},
        coords={"time": times})


def test_stability_from_met_beijing_summer_day_and_night():
    # Beijing (116.4 E, 39.9 N), 21 June: local noon = 04:14 UTC, sun ~73.5 deg -> insolation 4;
    # clear, 2 m/s (3.9 kt -> 4 kt row): class A. Local midnight, clear: NRI -2 -> F (G merged).
    times = np.array(["2021-06-21T03:45", "2021-06-21T15:45"], dtype="datetime64[ns]")
    ds = _met(times, [2.0, 2.0], [0.0, 0.0], [np.inf, np.inf])
    cls = stability_from_met(ds, 116.4, 39.9)
    np.testing.assert_array_equal(cls.values, [1, 6])
    assert cls.attrs["units"] == "1"


def test_stability_from_met_uses_turners_one_hour_night_margin():
    # The hour starting at sunrise (mid-hour 30 min after sunrise) is still "night" for Turner:
    # clear sky, 1 m/s -> NRI -2 -> class 7 (unmerged), although the sun is above the horizon.
    sunrise, _ = sunrise_sunset(np.array(["2021-06-21T04:00"], "datetime64[ns]"), 116.4, 39.9)
    ds = _met(sunrise, [1.0], [0.0], [np.inf])
    assert int(stability_from_met(ds, 116.4, 39.9, merge_g=False)[0]) == 7
    later = _met(sunrise + np.timedelta64(2, "h"), [1.0], [0.0], [np.inf])
    assert int(stability_from_met(later, 116.4, 39.9, merge_g=False)[0]) < 4


def test_stability_from_met_on_a_grid_matches_pointwise():
    times = pd.date_range("2021-03-01", periods=24, freq="h").values
    ds = _met(times, np.full(24, 2.5), np.full(24, 0.3), np.full(24, np.inf))
    lon = xr.DataArray([100.0, 120.0], dims="x")
    grid = stability_from_met(ds, lon, 35.0)
    for i, x in enumerate(lon.values):
        np.testing.assert_array_equal(grid.isel(x=i).values, stability_from_met(ds, x, 35.0).values)
    assert (grid.isel(x=0).values != grid.isel(x=1).values).any()  # 20 deg = 80 min of sun


def test_stability_from_met_requires_cloud_and_ceiling():
    times = pd.date_range("2021-03-01", periods=2, freq="h").values
    ds = _met(times, [1.0, 1.0], [0.1, 0.1], [np.inf, np.inf]).drop_vars("ceiling_height")
    with pytest.raises(MissingFieldError, match="ceiling_height"):
        stability_from_met(ds, 0.0, 0.0)
