"""Completely mixed lake phosphorus model (settling-velocity form) and Vollenweider loading.

Mass balance of total phosphorus in a well-mixed lake (Vollenweider 1969, 1975; Chapra 1997
Lecture 29, eqs. 29.1–29.8)::

    V dP/dt = W - Q P - v_s A P

with steady state ``P = W / (Q + v_s A)`` and, for constant load and flows,
``P(t) = P0 exp(-lambda t) + P_ss (1 - exp(-lambda t))``, ``lambda = (Q + v_s A)/V = 1/tau_w +
v_s/H`` (Chapra eq. 29.8); ``1 - exp(-x)`` is written ``-expm1(-x)``.

Units: W [g/yr], Q [m3/yr], v_s [m/yr], A [m2], V [m3], t [yr], P [g/m3 = mg/L].

References
----------
Vollenweider, R. A. (1969) Möglichkeiten und Grenzen elementarer Modelle der Stoffbilanz von
Seen. Arch. Hydrobiol. 66, 1-36.
Vollenweider, R. A. (1975) Input-output models with special reference to the phosphorus loading
concept in limnology. Schweiz. Z. Hydrol. 37, 53-84.
Vollenweider, R. A. (1976) Advances in defining critical loading levels for phosphorus in lake
eutrophication. Mem. Ist. Ital. Idrobiol. 33, 53-83.
Chapra, S. C. (1975) Comment on "An empirical method of estimating the retention of phosphorus in
lakes" by W. B. Kirchner and P. J. Dillon. Water Resour. Res. 11, 1033-1034.
Chapra, S. C. (1997) Surface Water-Quality Modeling, McGraw-Hill, Lecture 29.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError
from ..validation import check_nonnegative, check_range
from . import gb3838
from .analytic import apply_elementwise

#: Apparent settling velocity of total P [m/yr], Chapra (1975) fit to Vollenweider's data;
#: Chapra (1997) Lecture 29 quotes 12.4 m/yr (range roughly 5-20 m/yr). A default, not a law.
SETTLING_VELOCITY_DEFAULT = 12.4
#: Trophic boundaries of Vollenweider's loading plot [mg/L TP]: 0.010 ("permissible",
#: oligo/mesotrophic) and 0.020 ("dangerous", meso/eutrophic) (Vollenweider 1975, 1976).
VOLLENWEIDER_LEVELS = {"permissible": 0.010, "dangerous": 0.020}


def _positive(v, name, units):
    check_range(v, name, 0.0, None, lo_inclusive=False, kind="lake", units=units)


def _steady_kernel(W, Q, v_s, A):
    check_nonnegative(W, "load", kind="lake", units="g/yr")
    check_nonnegative(Q, "outflow", kind="lake", units="m3/yr")
    check_nonnegative(v_s, "settling_velocity", kind="lake", units="m/yr")
    _positive(A, "area", "m2")
    denom = Q + v_s * A
    if np.any(denom <= 0):
        raise InvalidValueError("outflow + settling_velocity * area must be > 0",
                                field="outflow", where="lake")
    return W / denom


def steady_phosphorus(load, outflow, area, settling_velocity=SETTLING_VELOCITY_DEFAULT):
    """Steady-state total phosphorus of a completely mixed lake.

    Parameters
    ----------
    load : array_like  [g/yr]
        External TP load ``W``.
    outflow : array_like  [m3/yr]
        Outflow ``Q``.
    area : array_like  [m2]
        Surface area ``A``.
    settling_velocity : array_like  [m/yr]
        Apparent TP settling velocity ``v_s``.

    Returns
    -------
    array  [mg/L]
        ``P = W / (Q + v_s A)`` (Chapra 1997 eq. 29.4; Vollenweider 1975).
    """
    return apply_elementwise(_steady_kernel, load, outflow, settling_velocity, area)


def _transient_kernel(t, P0, W, Q, v_s, A, V):
    check_nonnegative(t, "t", kind="lake", units="yr")
    check_nonnegative(P0, "P0", kind="lake", units="mg/L")
    _positive(V, "volume", "m3")
    p_ss = _steady_kernel(W, Q, v_s, A)
    lam = (Q + v_s * A) / V
    return P0 * np.exp(-lam * t) - p_ss * np.expm1(-lam * t)


def transient_phosphorus(t, P0, load, outflow, area, volume,
                         settling_velocity=SETTLING_VELOCITY_DEFAULT):
    """Total phosphorus after a step change of load or flow (constant thereafter).

    Parameters
    ----------
    t : array_like  [yr]
        Time since the change.
    P0 : array_like  [mg/L]
        Concentration at ``t = 0``.
    load, outflow, area, settling_velocity : see :func:`steady_phosphorus`.
    volume : array_like  [m3]

    Returns
    -------
    array  [mg/L]
        ``P0 exp(-lambda t) + P_ss (1 - exp(-lambda t))``, ``lambda = (Q + v_s A)/V`` (Chapra
        1997 eq. 29.8).
    """
    return apply_elementwise(_transient_kernel, t, P0, load, outflow, settling_velocity, area,
                             volume)


def response_time(outflow, area, volume, settling_velocity=SETTLING_VELOCITY_DEFAULT,
                  fraction=0.95):
    """Time [yr] to cover ``fraction`` of a step change: ``-ln(1 - fraction) / lambda``
    (Chapra 1997 eq. 29.10; the 95 % response time is ``3 / lambda`` to 0.1 %)."""
    check_range(fraction, "fraction", 0.0, 1.0, lo_inclusive=False, hi_inclusive=False)
    lam = (np.asarray(outflow, float) + np.asarray(settling_velocity, float)
           * np.asarray(area, float)) / np.asarray(volume, float)
    return -np.log1p(-np.asarray(fraction, float)) / lam


def vollenweider_critical_loading(mean_depth, residence_time, level="permissible",
                                  form="settling", settling_velocity=SETTLING_VELOCITY_DEFAULT):
    """Critical areal TP loading of Vollenweider's loading plot [g/m2/yr].

    Parameters
    ----------
    mean_depth : array_like  [m]
        ``z = V/A``.
    residence_time : array_like  [yr]
        Hydraulic residence time ``tau_w = V/Q``; areal hydraulic load ``q_s = z / tau_w``.
    level : {"permissible", "dangerous"} or float
        Trophic boundary concentration: 0.010 / 0.020 mg/L, or a value [mg/L].
    form : {"settling", "1976"}
        ``settling``: ``L_c = P_c (q_s + v_s)`` — the settling-velocity form of the plot
        (Chapra 1975; Chapra 1997 Lecture 29); ``1976``: ``L_c = P_c q_s (1 + sqrt(tau_w))``
        (Vollenweider 1976).

    Returns
    -------
    array  [g/m2/yr]
    """
    p_c = VOLLENWEIDER_LEVELS.get(level, level) if isinstance(level, str) else level
    if isinstance(p_c, str):
        raise InvalidValueError(f"level {level!r} must be one of {list(VOLLENWEIDER_LEVELS)} "
                                "or a concentration", field="level")
    _positive(mean_depth, "mean_depth", "m")
    _positive(residence_time, "residence_time", "yr")
    q_s = np.asarray(mean_depth, float) / np.asarray(residence_time, float)
    if form == "settling":
        return p_c * (q_s + np.asarray(settling_velocity, float))
    if form == "1976":
        return p_c * q_s * (1.0 + np.sqrt(np.asarray(residence_time, float)))
    raise InvalidValueError(f"form {form!r} must be 'settling' or '1976'", field="form")


def trophic_state(areal_load, mean_depth, residence_time, form="settling",
                  settling_velocity=SETTLING_VELOCITY_DEFAULT):
    """Position on Vollenweider's plot: 0 below the permissible line (oligotrophic), 1 between
    the lines (mesotrophic), 2 above the dangerous line (eutrophic)."""
    kw = dict(form=form, settling_velocity=settling_velocity)
    lo = vollenweider_critical_loading(mean_depth, residence_time, "permissible", **kw)
    hi = vollenweider_critical_loading(mean_depth, residence_time, "dangerous", **kw)
    L = np.asarray(areal_load, float)
    return (L > lo).astype(np.int8) + (L > hi).astype(np.int8)


def allowable_load(target_class, outflow, area, settling_velocity=SETTLING_VELOCITY_DEFAULT,
                   margin_of_safety=0.0):
    """Largest TP load [g/yr] keeping the steady lake TP within a GB 3838 lake class.

    ``W_allow = (1 - MOS) P_target (Q + v_s A)``, with ``P_target`` the lake/reservoir TP limit of
    ``target_class`` (GB 3838-2002 Table 1: I 0.01, II 0.025, III 0.05, IV 0.1, V 0.2 mg/L) and the
    inverse of :func:`steady_phosphorus`.

    Parameters
    ----------
    target_class : int or str
        1..5 or "I".."V".
    outflow, area, settling_velocity : see :func:`steady_phosphorus`.
    margin_of_safety : float
        Fraction of the loading capacity held back (0 <= MOS < 1), as in a TMDL.
    """
    names = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
    k = names.get(target_class, target_class) if isinstance(target_class, str) else target_class
    if k not in (1, 2, 3, 4, 5):
        raise InvalidValueError(f"target_class {target_class!r} must be 1..5 or I..V",
                                field="target_class")
    check_range(margin_of_safety, "margin_of_safety", 0.0, 1.0, hi_inclusive=False)
    p_target = gb3838.limits("TP", "lake")[k - 1]
    check_nonnegative(outflow, "outflow", kind="lake", units="m3/yr")
    _positive(area, "area", "m2")
    return (1.0 - margin_of_safety) * p_target * (
        np.asarray(outflow, float) + np.asarray(settling_velocity, float) * np.asarray(area, float))
