"""Power-law wind profile with the ISC3 regulatory exponents.

Source: U.S. EPA (1995). *User's Guide for the Industrial Source Complex (ISC3) Dispersion
Models*, Vol. II, *Description of Model Algorithms*, EPA-454/B-95-003b, Eq. 1-6
(u_s = u_ref (h_s / z_ref)^p) and the regulatory default exponents given with it; ISCST3 echoes the
same table in its output ("WIND PROFILE EXPONENTS", e.g. the TEST-ST example). ISC3 also sets
u_ref = 1.0 m/s when the measured speed is below 1.0 m/s.
"""

from __future__ import annotations

import numpy as np

from ..errors import OutOfRangeError
from ..validation import check_nonnegative
from ._kernel import apply_kernel

#: Wind profile exponents p by class 1–6 (A–F); ISC3 Vol. II, with Eq. 1-6 (regulatory defaults).
WIND_PROFILE_EXPONENTS = {
    "rural": (0.07, 0.07, 0.10, 0.15, 0.35, 0.55),
    "urban": (0.15, 0.15, 0.20, 0.25, 0.30, 0.30),
}
#: ISC3 minimum reference wind speed [m s-1].
ISC_MIN_WIND_SPEED = 1.0


def _exponent_kernel(stability_class, urban=False):
    cls = np.asarray(stability_class)
    if cls.size and ((cls.dtype.kind == "f" and not np.isfinite(cls).all())
                     or np.any(cls < 1) or np.any(cls > 6) or np.any(cls != np.rint(cls))):
        bad = cls.ravel()[~np.isin(cls.ravel(), np.arange(1, 7))][0]
        raise OutOfRangeError(f"stability_class={bad} must be an integer 1..6 (A..F); merge "
                              "class 7 into 6 first (merge_stable_classes)",
                              field="stability_class", where="wind profile")
    table = np.array((np.nan,) + WIND_PROFILE_EXPONENTS["urban" if urban else "rural"])
    return table[cls.astype(np.intp)]


def wind_profile_exponent(stability_class, urban: bool = False):
    """Power-law exponent p for stability class 1–6 (ISC3 Vol. II, with Eq. 1-6).

    Rural A–F: 0.07, 0.07, 0.10, 0.15, 0.35, 0.55; urban: 0.15, 0.15, 0.20, 0.25, 0.30, 0.30.

    Parameters
    ----------
    stability_class : int array or DataArray  [1]
    urban : bool
        Urban (True) or rural (False) exponents.

    Returns
    -------
    float array or DataArray  [1]
    """
    return apply_kernel(_exponent_kernel, stability_class, urban=urban)


def _wind_kernel(u_ref, z, z_ref, stability_class, urban=False, min_speed=None):
    check_nonnegative(u_ref, "u_ref", kind="wind profile input", units="m s-1")
    for name, height in (("z", z), ("z_ref", z_ref)):
        h = np.asarray(height, dtype=float)
        if not (np.isfinite(h).all() and (h > 0).all()):
            raise OutOfRangeError(f"{name} must be finite and > 0 m", field=name,
                                  where="wind profile")
    u = np.asarray(u_ref, dtype=float)
    if min_speed is not None:
        u = np.maximum(u, min_speed)
    return u * (np.asarray(z, float) / np.asarray(z_ref, float)) ** _exponent_kernel(
        stability_class, urban)


def wind_at_height(u_ref, z, z_ref, stability_class, urban: bool = False, min_speed=None):
    """Wind speed at height ``z`` from the power law u(z) = u_ref (z / z_ref)^p.

    ISC3 Vol. II Eq. 1-6 with p from :func:`wind_profile_exponent`.

    Parameters
    ----------
    u_ref : numeric or DataArray  [m s-1]
        Wind speed measured at the anemometer height ``z_ref``.
    z : numeric or DataArray  [m]
        Target height (e.g. stack height), > 0.
    z_ref : numeric or DataArray  [m]
        Anemometer height, > 0.
    stability_class : int array or DataArray  [1]
        Class 1–6 (A–F).
    urban : bool
        Urban exponents instead of rural.
    min_speed : float, optional  [m s-1]
        Floor applied to ``u_ref`` before extrapolating. ISC3 uses 1.0 m/s
        (:data:`ISC_MIN_WIND_SPEED`); the default ``None`` applies no floor.

    Returns
    -------
    float array or DataArray  [m s-1]

    Examples
    --------
    >>> round(float(wind_at_height(2.0, 100.0, 10.0, 6)), 4)   # F rural: 2 · 10^0.55
    7.0963
    """
    return apply_kernel(_wind_kernel, u_ref, z, z_ref, stability_class, urban=urban,
                        min_speed=min_speed)
