"""Power-law wind profile with ISC3 exponents."""

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ecodss.errors import NegativeValueError, OutOfRangeError
from ecodss.met.profile import ISC_MIN_WIND_SPEED, wind_at_height, wind_profile_exponent

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
TEST_ST_OUT = SHARED / "air" / "iscst3_testst" / "TEST-ST.OUT"


def test_exponents_isc3_table():
    np.testing.assert_allclose(wind_profile_exponent(np.arange(1, 7)),
                               [0.07, 0.07, 0.10, 0.15, 0.35, 0.55])
    np.testing.assert_allclose(wind_profile_exponent(np.arange(1, 7), urban=True),
                               [0.15, 0.15, 0.20, 0.25, 0.30, 0.30])


def test_rural_exponents_match_iscst3_output_table():
    if not TEST_ST_OUT.exists():
        pytest.skip(f"EPA TEST-ST output not found at {TEST_ST_OUT}")
    text = TEST_ST_OUT.read_text(errors="replace")
    block = text.split("*** WIND PROFILE EXPONENTS ***")[1].splitlines()
    rows = [line.split() for line in block if re.match(r"^\s+[A-F]\s+\.\d", line)][:6]
    assert [r[0] for r in rows] == list("ABCDEF")
    printed = np.array([[float(v) for v in r[1:]] for r in rows])  # 6 wind-speed categories
    np.testing.assert_allclose(printed, np.repeat(wind_profile_exponent(np.arange(1, 7))[:, None],
                                                  6, axis=1), rtol=1e-6)


def test_power_law_analytic():
    # F rural: u(100 m) = 2 * 10**0.55 ; D urban from 6.1 m to 35 m.
    assert wind_at_height(2.0, 100.0, 10.0, 6) == pytest.approx(2.0 * 10**0.55, rel=1e-12)
    assert wind_at_height(3.0, 35.0, 6.096, 4, urban=True) == pytest.approx(
        3.0 * (35.0 / 6.096) ** 0.25, rel=1e-12)
    assert wind_at_height(3.0, 10.0, 10.0, 2) == pytest.approx(3.0)


def test_isc_minimum_speed_is_optional():
    assert wind_at_height(0.5, 20.0, 10.0, 4) == pytest.approx(0.5 * 2**0.15)
    assert wind_at_height(0.5, 20.0, 10.0, 4, min_speed=ISC_MIN_WIND_SPEED) == pytest.approx(
        1.0 * 2**0.15)
    assert wind_at_height(3.0, 20.0, 10.0, 4, min_speed=1.0) == pytest.approx(3.0 * 2**0.15)


def test_dask_twin():
    cls = np.array([1, 2, 3, 4, 5, 6] * 4)
    u = np.linspace(0.5, 8.0, cls.size)
    eager = wind_at_height(u, 35.0, 6.096, cls, min_speed=1.0)
    lazy = wind_at_height(xr.DataArray(u, dims="time").chunk(5), 35.0, 6.096,
                          xr.DataArray(cls, dims="time").chunk(5), min_speed=1.0)
    np.testing.assert_array_equal(lazy.values, eager)


@pytest.mark.parametrize("cls", [0, 7, 2.5, np.nan])
def test_bad_class_raises(cls):
    with pytest.raises(OutOfRangeError, match="stability_class"):
        wind_profile_exponent(np.array([4, cls]))


def test_bad_heights_and_speed_raise():
    with pytest.raises(OutOfRangeError, match="z_ref"):
        wind_at_height(2.0, 10.0, 0.0, 4)
    with pytest.raises(NegativeValueError, match="u_ref"):
        wind_at_height(-2.0, 10.0, 10.0, 4)
