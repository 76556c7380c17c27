"""Steady non-uniform river hydraulics as in QUAL2K: depth, velocity, dispersion, travel time.

Every element is computed from its own outflow (QUAL2K's quasi-steady, element-by-element
hydraulics): Manning's equation for a trapezoidal channel, power-law rating curves
``U = a Q^b``, ``H = α Q^β``, or a sharp-crested weir. All functions are vectorized: they take
arrays of any shape (elements × scenarios) and solve every element at once.

References
----------
Chapra, S.C., Pelletier, G.J. and Tao, H. (2008). *QUAL2K: A Modeling Framework for Simulating
River and Stream Water Quality, Version 2.11: Documentation and Users Manual.* Tufts University.
Section 3 "Hydraulic characteristics" (weirs, rating curves, Manning, travel time, longitudinal
dispersion). The formulas are checked against their coding in QUAL2Kw 5.1
(``src/m_hydraulics.f90``: ``MakeHydraulics``, ``depthmanning``).
Fischer, H.B., List, E.J., Koh, R.C.Y., Imberger, J. and Brooks, N.H. (1979). *Mixing in Inland and
Coastal Waters*, Academic Press, Chapter 5 (the 0.011 U²B²/(H u*) estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValueError
from ..validation import check_nonnegative
from .analytic import elementwise

GRAVITY = 9.81  # [m s-2], the value used by QUAL2K (nrtype ``grav``)


def manning_depth(flow, manning_n, bottom_width, side_slope_1, side_slope_2, slope,
                  *, tol: float = 1e-12, max_iter: int = 100):
    """Normal depth of a trapezoidal channel from Manning's equation.

    Solves ``Q = (S^½ / n) A^{5/3} / P^{2/3}`` for H with Newton's method on all elements at
    once, started from QUAL2K's fixed-point iteration value.

    Parameters
    ----------
    flow : array_like  [m3 s-1]
    manning_n : array_like  [s m-1/3]
    bottom_width : array_like  [m]
    side_slope_1, side_slope_2 : array_like  [m m-1] horizontal : vertical
    slope : array_like  [m m-1] channel bottom slope

    Returns
    -------
    ndarray  [m] depth, same shape as the broadcast inputs.

    Notes
    -----
    Chapra et al. (2008) QUAL2K v2.11 documentation, Section 3 (Manning equation): A = (B0 + ½
    (s1+s2) H) H, P = B0 + H√(s1²+1) + H√(s2²+1). QUAL2Kw 5.1 ``depthmanning`` iterates
    H = (Qn)^{3/5} P^{2/5} / ((B0 + ½(s1+s2)H) S^{3/10}); Newton is used here for speed.
    """
    q, n, b, s1, s2, s = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                               (flow, manning_n, bottom_width, side_slope_1,
                                                side_slope_2, slope)))
    k1, k2 = np.sqrt(s1 ** 2 + 1.0), np.sqrt(s2 ** 2 + 1.0)
    m = 0.5 * (s1 + s2)
    target = q * n / np.sqrt(s)
    # start: wide rectangular channel H = (Qn / (B S^½))^{3/5}, guarded for B = 0
    h = np.where(b > 0, (target / np.maximum(b, 1e-12)) ** 0.6, (target / np.maximum(m, 1e-12)) ** 0.375)
    h = np.maximum(h, 1e-9)
    for _ in range(max_iter):
        area = (b + m * h) * h
        perim = b + (k1 + k2) * h
        f = area ** (5.0 / 3.0) / perim ** (2.0 / 3.0) - target
        dfdh = (5.0 / 3.0) * area ** (2.0 / 3.0) * (b + 2.0 * m * h) / perim ** (2.0 / 3.0) \
            - (2.0 / 3.0) * area ** (5.0 / 3.0) * (k1 + k2) / perim ** (5.0 / 3.0)
        step = f / dfdh
        h_new = np.maximum(h - step, 0.5 * h)
        if np.all(np.abs(h_new - h) <= tol * np.maximum(h_new, 1e-12)):
            h = h_new
            break
        h = h_new
    return np.where(q > 0, h, 0.0)


def rating_curve(flow, coefficient, exponent):
    """Power-law rating curve ``a Q^b`` for velocity [m s-1] or depth/width [m].

    Chapra et al. (2008) QUAL2K v2.11 documentation, Section 3 (rating curves, after Leopold and
    Maddock 1953).
    """
    return np.asarray(coefficient, dtype=float) * np.asarray(flow, dtype=float) ** np.asarray(exponent, dtype=float)


def weir_depth(flow, weir_height, weir_width):
    """Depth upstream of a sharp-crested weir: H = H_w + (Q / (1.83 B_w))^{2/3}  [m].

    Chapra et al. (2008) QUAL2K v2.11 documentation, Section 3 (weirs); SI weir coefficient 1.83
    as coded in QUAL2Kw 5.1 ``MakeHydraulics``.
    """
    return np.asarray(weir_height) + (np.asarray(flow) / (1.83 * np.asarray(weir_width))) ** (2.0 / 3.0)


@elementwise
def fischer_dispersion(velocity, width, depth, slope):
    """Longitudinal dispersion coefficient E = 0.011 U² B² / (H u*)  [m2 s-1].

    u* = √(g H S) is the shear velocity. Fischer et al. (1979) Chapter 5; Chapra et al. (2008)
    QUAL2K v2.11 documentation, Section 3 (longitudinal dispersion); QUAL2Kw 5.1
    ``MakeHydraulics``.
    """
    u, b, h, s = (np.asarray(v, dtype=float) for v in (velocity, width, depth, slope))
    return 0.011 * u ** 2 * b ** 2 / (h * np.sqrt(GRAVITY * h * s))


@elementwise
def manning_slope(velocity, manning_n, hydraulic_radius):
    """Energy slope S = (n U / R^{2/3})² [m m-1] used by QUAL2K when the bottom slope is zero.

    Manning's equation U = R^{2/3} S^{1/2} / n (SI) solved for S (Chow, V.T. (1959) Open-Channel
    Hydraulics, McGraw-Hill, Chapter 5); QUAL2Kw 5.1 ``MakeHydraulics``.
    """
    return (np.asarray(manning_n) * np.asarray(velocity) / np.asarray(hydraulic_radius) ** (2.0 / 3.0)) ** 2


@dataclass(frozen=True)
class Hydraulics:
    """Element hydraulics at one flow state; arrays have shape (element,) or (element, scenario).

    Attributes
    ----------
    flow : outflow of each element [m3 s-1]
    depth, width (top width), area (cross-section), velocity, volume [m3],
    bottom_width [m], slope [m m-1], dispersion [m2 s-1] (physical E, given or Fischer),
    travel_time [d] (cumulative, at the element's downstream end).
    """

    flow: np.ndarray
    depth: np.ndarray
    width: np.ndarray
    bottom_width: np.ndarray
    area: np.ndarray
    velocity: np.ndarray
    volume: np.ndarray
    slope: np.ndarray
    dispersion: np.ndarray
    travel_time: np.ndarray

    @property
    def residence_time(self) -> np.ndarray:
        """V / Q of each element [d]."""
        return self.volume / self.flow / 86400.0


def element_hydraulics(flow, geometry: dict, length) -> dict:
    """Depth, widths, area, velocity and dispersion of each element at its outflow.

    Parameters
    ----------
    flow : array_like  [m3 s-1] element outflow, shape (element,) or (element, scenario)
    geometry : dict of per-element arrays (shape (element,)): ``manning_n``, ``bottom_width``,
        ``side_slope_1``, ``side_slope_2``, ``slope``, ``velocity_coef``, ``velocity_exp``,
        ``depth_coef``, ``depth_exp``, ``weir_height``, ``weir_width``, ``dispersion`` (NaN =
        Fischer). Method per element: weir if height and width > 0; rating curve if
        ``manning_n`` = 0; else Manning (QUAL2Kw 5.1 ``MakeHydraulics`` order).
    length : array_like  [m] element length

    Returns
    -------
    dict with ``depth``, ``width``, ``bottom_width``, ``area``, ``velocity``, ``volume``,
    ``slope``, ``dispersion``.
    """
    q = np.asarray(flow, dtype=float)
    check_nonnegative(q, "flow", kind="element", units="m3 s-1")
    extra = (np.newaxis,) * (q.ndim - 1)

    def g(name):
        return np.asarray(geometry[name], dtype=float)[(slice(None), *extra)]

    n, b0, s1, s2, s = g("manning_n"), g("bottom_width"), g("side_slope_1"), g("side_slope_2"), g("slope")
    hw, bw = g("weir_height"), g("weir_width")
    is_weir = (hw > 0) & (bw > 0)
    is_rating = (n <= 0) & ~is_weir
    is_manning = ~is_weir & ~is_rating
    if np.any(is_manning & (s <= 0)):
        raise InvalidValueError("Manning hydraulics need slope > 0", field="slope", where="element")

    qpos = np.maximum(q, 1e-300)
    # Manning (trapezoid)
    h_man = manning_depth(qpos, np.where(is_manning, n, 1.0), np.where(is_manning, b0, 1.0), s1, s2,
                          np.where(is_manning, s, 1.0))
    # rating curves
    u_rat = rating_curve(qpos, g("velocity_coef"), g("velocity_exp"))
    h_rat = rating_curve(qpos, g("depth_coef"), g("depth_exp"))
    # weir
    h_weir = weir_depth(qpos, np.where(is_weir, hw, 0.0), np.where(is_weir, bw, 1.0))

    depth = np.where(is_weir, h_weir, np.where(is_rating, h_rat, h_man))
    area_trap = (b0 + 0.5 * (s1 + s2) * depth) * depth
    with np.errstate(divide="ignore", invalid="ignore"):
        area = np.where(is_rating, qpos / u_rat, np.where(is_weir, depth * b0, area_trap))
        bottom = np.where(is_rating, area / depth, b0)
        top = np.where(is_manning, b0 + (s1 + s2) * depth, bottom)
        velocity = qpos / area
        perim = np.where(is_manning, b0 + depth * (np.sqrt(s1 ** 2 + 1) + np.sqrt(s2 ** 2 + 1)),
                         bottom + 2 * depth)
        slope_eff = np.where((s <= 0) & (n > 0), manning_slope(velocity, n, area / perim), s)
        e_fischer = fischer_dispersion(velocity, bottom, depth, slope_eff)
    e_given = g("dispersion")
    dispersion = np.where(np.isfinite(e_given) & (e_given > 0), e_given,
                          np.where(np.isfinite(e_fischer), e_fischer, 0.0))
    volume = area * np.asarray(length, dtype=float)[(slice(None), *extra)]
    return dict(depth=depth, width=top, bottom_width=bottom, area=area, velocity=velocity,
                volume=volume, slope=slope_eff, dispersion=dispersion)
