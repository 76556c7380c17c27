"""Hydraulics: Manning, rating curves, weirs, Fischer dispersion (QUAL2K Section 3)."""

import numpy as np
import pytest

from ecodss.errors import NegativeValueError
from ecodss.water.hydraulics import (
    GRAVITY,
    element_hydraulics,
    fischer_dispersion,
    manning_depth,
    rating_curve,
    weir_depth,
)


def manning_flow(h, n, b, s1, s2, s):
    """Independent forward Manning equation Q(H) for a trapezoid."""
    area = (b + 0.5 * (s1 + s2) * h) * h
    perim = b + h * (np.sqrt(s1 ** 2 + 1) + np.sqrt(s2 ** 2 + 1))
    return np.sqrt(s) / n * area ** (5 / 3) / perim ** (2 / 3)


def test_manning_depth_inverts_the_manning_equation_for_many_channels():
    rng = np.random.default_rng(1)
    q = rng.uniform(0.01, 500, 1000)
    n, b = rng.uniform(0.02, 0.1, 1000), rng.uniform(0, 80, 1000)
    s1, s2, s = rng.uniform(0, 3, 1000), rng.uniform(0, 3, 1000), rng.uniform(1e-5, 1e-2, 1000)
    b[:10] = 0.0  # triangular channels
    s1[:10] += 0.5
    h = manning_depth(q, n, b, s1, s2, s)
    np.testing.assert_allclose(manning_flow(h, n, b, s1, s2, s), q, rtol=1e-9)


def test_manning_depth_boulder_creek_headwater_value():
    # QUAL2Kw 5.1 output for the Boulder Creek headwater (rectangular, B = 12.5 m, n = 0.08,
    # S = 0.004, Q = 0.71348 m3/s): H = 0.20934 m
    assert manning_depth(0.71348, 0.08, 12.5, 0, 0, 0.004) == pytest.approx(0.20934, abs=5e-6)  # printed to 5 decimals


def test_rating_curve_weir_and_fischer_formulas():
    assert rating_curve(8.0, 0.2, 1 / 3) == pytest.approx(0.4)
    assert weir_depth(1.83 * 2.0, 1.0, 2.0) == pytest.approx(2.0)
    u, b, h, s = 0.5, 20.0, 1.5, 4e-4
    assert fischer_dispersion(u, b, h, s) == pytest.approx(
        0.011 * 0.25 * 400 / (1.5 * np.sqrt(GRAVITY * 1.5 * 4e-4)), rel=1e-12)


def _geom(n_el, **kw):
    base = dict(manning_n=0.0, bottom_width=0.0, side_slope_1=0.0, side_slope_2=0.0, slope=0.0,
                velocity_coef=0.0, velocity_exp=0.0, depth_coef=0.0, depth_exp=0.0,
                weir_height=0.0, weir_width=0.0, dispersion=np.nan)
    base.update(kw)
    return {k: np.broadcast_to(np.asarray(v, float), (n_el,)) for k, v in base.items()}


def test_element_hydraulics_rating_curves_give_continuity_and_scenarios():
    g = _geom(3, velocity_coef=0.3, velocity_exp=0.4, depth_coef=0.5, depth_exp=0.3, dispersion=10.0)
    q = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    h = element_hydraulics(q, g, np.full(3, 100.0))
    np.testing.assert_allclose(h["velocity"], 0.3 * q ** 0.4)
    np.testing.assert_allclose(h["area"] * h["velocity"], q)
    np.testing.assert_allclose(h["depth"] * h["width"], h["area"])
    np.testing.assert_allclose(h["dispersion"], 10.0)


def test_element_hydraulics_rejects_negative_flow():
    with pytest.raises(NegativeValueError, match="flow"):
        element_hydraulics(np.array([-1.0]), _geom(1, velocity_coef=1.0, depth_coef=1.0), np.ones(1))
