"""Solar position against published worked examples and almanac facts."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.met.solar import is_daytime, solar_altitude, solar_position, sunrise_sunset


def _utc(*stamps):
    return np.array(stamps, dtype="datetime64[ns]")


def test_nrel_spa_worked_example():
    # Reda & Andreas (2004), NREL/TP-560-34302, worked example: 2003-10-17 12:30:30 MST (UTC-7),
    # 39.742476 N, 105.1786 W -> topocentric zenith 50.11162 deg. That value includes ~0.016 deg
    # of refraction (820 hPa, 11 C), which the geometric altitude here does not.
    t = pd.DatetimeIndex([pd.Timestamp("2003-10-17 12:30:30-07:00")])
    zenith = 90.0 - solar_altitude(t, -105.1786, 39.742476)[0]
    assert zenith == pytest.approx(50.11162 + 0.016, abs=0.01)


def test_solstice_noon_altitude():
    # Noon altitude = 90 - lat + declination; declination at the June 2021 solstice 23.437 deg
    # (Astronomical Almanac). Sample a whole day each minute and take the maximum.
    t = pd.date_range("2021-06-21 12:00", periods=24 * 60, freq="1min").values  # lon -75: noon ~17 UT
    alt = solar_altitude(t, -75.0, 40.0)
    assert alt.max() == pytest.approx(90.0 - 40.0 + 23.437, abs=0.02)
    _, _, decl = solar_position(t[:1], -75.0, 40.0)
    assert decl[0] == pytest.approx(23.437, abs=0.01)


def test_sunrise_sunset_london_solstice():
    # Greenwich, 21 June 2021: sunrise 04:43 BST, sunset 21:21 BST (HM Nautical Almanac Office /
    # timeanddate) = 03:43 and 20:21 UTC.
    sunrise, sunset = sunrise_sunset(_utc("2021-06-21T12:00"), 0.0, 51.4769)
    assert abs((sunrise[0] - np.datetime64("2021-06-21T03:43")) / np.timedelta64(1, "m")) < 1.5
    assert abs((sunset[0] - np.datetime64("2021-06-21T20:21")) / np.timedelta64(1, "m")) < 1.5


def test_equator_equinox_day_is_a_bit_longer_than_12_hours():
    # At the equator refraction and the solar semi-diameter lengthen the day by ~2 x 3.5 min.
    sunrise, sunset = sunrise_sunset(_utc("2021-03-20T12:00"), 0.0, 0.0)
    minutes = (sunset - sunrise)[0] / np.timedelta64(1, "m")
    assert 725.0 < minutes < 729.0


def test_sun_at_sunrise_is_on_the_apparent_horizon():
    sunrise, sunset = sunrise_sunset(_utc("2022-01-15T05:00"), 116.4, 39.9)  # Beijing
    alt = solar_altitude(np.concatenate([sunrise, sunset]), 116.4, 39.9)
    np.testing.assert_allclose(alt, -0.833, atol=1e-3)


def test_turner_daytime_margin():
    sunrise, _ = sunrise_sunset(_utc("2022-07-01T12:00"), 116.4, 39.9)
    half_hour_after = sunrise + np.timedelta64(30, "m")
    assert is_daytime(half_hour_after, 116.4, 39.9)[0]
    assert not is_daytime(half_hour_after, 116.4, 39.9, margin_hours=1.0)[0]
    assert is_daytime(sunrise + np.timedelta64(70, "m"), 116.4, 39.9, margin_hours=1.0)[0]


def test_polar_night_and_midnight_sun():
    t = pd.date_range("2021-12-21", periods=24, freq="h").values
    assert not is_daytime(t, 0.0, 80.0).any()
    assert is_daytime(pd.date_range("2021-06-21", periods=24, freq="h").values, 0.0, 80.0).all()


def test_xarray_dask_grid_matches_numpy():
    times = pd.date_range("2021-05-01", periods=48, freq="h")
    lon = xr.DataArray([100.0, 116.4, 121.5], dims="x")
    lat = xr.DataArray([30.0, 39.9], dims="y")
    t = xr.DataArray(times, dims="time").chunk(12)
    lazy = solar_altitude(t, lon, lat)
    assert lazy.chunks is not None
    lazy = lazy.compute().transpose("time", "y", "x")
    eager = solar_altitude(times.values[:, None, None], lon.values[None, None, :],
                           lat.values[None, :, None])
    np.testing.assert_allclose(lazy.values, eager, rtol=0, atol=1e-12)


def test_timezone_aware_input_is_converted_to_utc():
    local = pd.DatetimeIndex(["2021-06-21 12:00"]).tz_localize("Asia/Shanghai")
    utc = _utc("2021-06-21T04:00")
    assert solar_altitude(local, 116.4, 39.9)[0] == pytest.approx(
        solar_altitude(utc, 116.4, 39.9)[0], abs=1e-9)
