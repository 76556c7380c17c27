"""Classic closed-form river solutions: Streeter–Phelps oxygen sag and 1-D advection–dispersion.

All functions are written so that they keep full double precision where the textbook forms lose
it or overflow:

* Streeter–Phelps: the term ``(exp(-kr t) - exp(-ka t)) / (ka - kr)`` is evaluated as
  ``t exp(-min(ka, kr) t) phi(|ka - kr| t)`` with ``phi(z) = -expm1(-z)/z`` (``phi(0) = 1``), so
  ``ka = kr`` is exact and ``|ka - kr| t`` down to 1e-10 and below loses nothing; the critical time
  uses ``log1p(u)/u``.
* Advection–dispersion: ``exp(p) erfc(z)`` products whose factors over/underflow at large Peclet
  numbers are written with the scaled complementary error function ``erfcx(z) = exp(z^2) erfc(z)``
  and the exponent combined analytically.

Every function accepts numpy arrays (broadcast) or xarray DataArrays (numpy or dask backed, via
``xr.apply_ufunc(..., dask="parallelized")``) and gives the same numbers either way. Inputs are
checked inside the kernel, so bad values raise the specific :mod:`ecodss.errors` subclass (for
dask inputs at compute time).

References
----------
Streeter, H. W. and Phelps, E. B. (1925) A study of the pollution and natural purification of the
Ohio River. Public Health Bulletin 146, US Public Health Service.
Chapra, S. C. (1997) Surface Water-Quality Modeling. McGraw-Hill. Lecture 21 (Streeter–Phelps),
Lecture 9–10 (advection–dispersion, slug release), Lecture 29 (lakes).
Ogata, A. and Banks, R. B. (1961) A solution of the differential equation of longitudinal
dispersion in porous media. USGS Professional Paper 411-A.
van Genuchten, M. Th. and Alves, W. J. (1982) Analytical solutions of the one-dimensional
convective-dispersive solute transport equation. USDA Technical Bulletin 1661.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import InvalidValueError
from ..validation import check_finite, check_nonnegative, check_range

__all__ = ["streeter_phelps", "critical_point", "streeter_phelps_chain", "ChainResult",
           "ogata_banks", "van_genuchten_alves", "ade_slug"]


# --------------------------------------------------------------------------- array plumbing
def _is_xarray(*args) -> bool:
    import xarray as xr

    return any(isinstance(a, xr.DataArray) for a in args)


def _squeeze(a):
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


def apply_elementwise(kernel: Callable, *args, n_out: int = 1, **kwargs):
    """Apply a broadcasting numpy ``kernel`` to numpy inputs, or to xarray inputs via
    ``xr.apply_ufunc(..., dask="parallelized")`` (used by every water kernel)."""
    if _is_xarray(*args):
        import xarray as xr

        return xr.apply_ufunc(kernel, *args, kwargs=kwargs, dask="parallelized",
                              output_dtypes=[float] * n_out, output_core_dims=[()] * n_out)
    out = kernel(*[np.asarray(a, dtype=float) for a in args], **kwargs)
    return tuple(_squeeze(o) for o in out) if n_out > 1 else _squeeze(out)


def elementwise(kernel: Callable) -> Callable:
    """Decorator: a broadcasting numpy formula that also takes (dask-backed) xarray inputs,
    through :func:`apply_elementwise` (keyword arguments are bound to their positions)."""
    signature = inspect.signature(kernel)

    @functools.wraps(kernel)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return apply_elementwise(kernel, *bound.args)

    return wrapper


# --------------------------------------------------------------------------- stable helpers
def _phi(z: np.ndarray) -> np.ndarray:
    """``(1 - exp(-z)) / z`` for z >= 0, equal to 1 at z = 0, to full precision."""
    z = np.asarray(z, dtype=float)
    safe = np.where(z == 0.0, 1.0, z)
    return np.where(z == 0.0, 1.0, -np.expm1(-safe) / safe)


def _log1p_ratio(u: np.ndarray) -> np.ndarray:
    """``log(1 + u) / u`` for u > -1, equal to 1 at u = 0, to full precision."""
    u = np.asarray(u, dtype=float)
    safe = np.where(u == 0.0, 1.0, u)
    return np.where(u == 0.0, 1.0, np.log1p(safe) / safe)


def _check_rates(where: str, **rates) -> None:
    for name, value in rates.items():
        check_nonnegative(value, name, kind=where, units="1/d")


# --------------------------------------------------------------------------- Streeter–Phelps
def _sp_kernel(L0, D0, kd, kr, ka, t):
    check_nonnegative(L0, "L0", kind="streeter_phelps", units="mg/L")
    check_finite(D0, "D0", kind="streeter_phelps", units="mg/L")
    _check_rates("streeter_phelps", kd=kd, kr=kr, ka=ka)
    check_nonnegative(t, "t", kind="streeter_phelps", units="d")
    L = L0 * np.exp(-kr * t)
    # (exp(-kr t) - exp(-ka t)) / (ka - kr) = t exp(-min(ka,kr) t) phi(|ka-kr| t)
    sag = t * np.exp(-np.minimum(ka, kr) * t) * _phi(np.abs(ka - kr) * t)
    D = D0 * np.exp(-ka * t) + kd * L0 * sag
    return L, D


def streeter_phelps(L0, D0, kd, kr, ka, t):
    """BOD remaining and dissolved-oxygen deficit below a point load (Streeter–Phelps).

    Parameters
    ----------
    L0 : array_like  [mg/L]
        Ultimate CBOD just below the load (after mixing).
    D0 : array_like  [mg/L]
        DO deficit (saturation minus DO) just below the load.
    kd : array_like  [1/d]
        CBOD decomposition (deoxygenation) rate in the deficit source term.
    kr : array_like  [1/d]
        Total CBOD removal rate, decomposition plus settling (``kr = kd + ks``); ``kr = kd``
        without settling.
    ka : array_like  [1/d]
        Reaeration rate.
    t : array_like  [d]
        Travel time below the load (``x / U``).

    Returns
    -------
    L, D : arrays  [mg/L]
        CBOD and DO deficit at ``t`` (broadcast shape; DataArrays for xarray input).

    Notes
    -----
    Chapra (1997) Lecture 21, eqs. 21.7 and 21.12 (Streeter and Phelps 1925)::

        L = L0 exp(-kr t)
        D = D0 exp(-ka t) + kd L0 / (ka - kr) (exp(-kr t) - exp(-ka t))

    evaluated as ``D = D0 exp(-ka t) + kd L0 t exp(-min(ka,kr) t) phi(|ka-kr| t)`` with
    ``phi(z) = -expm1(-z)/z``; at ``ka = kr`` this is Chapra's eq. 21.14,
    ``D = D0 exp(-ka t) + kd t L0 exp(-ka t)``, exactly.

    Examples
    --------
    >>> L, D = streeter_phelps(10.0, 1.0, 0.3, 0.3, 0.6, 2.0)
    >>> round(float(D), 4)
    2.7774
    """
    return apply_elementwise(_sp_kernel, L0, D0, kd, kr, ka, t, n_out=2)


def _cp_kernel(L0, D0, kd, kr, ka):
    check_nonnegative(L0, "L0", kind="critical_point", units="mg/L")
    check_finite(D0, "D0", kind="critical_point", units="mg/L")
    _check_rates("critical_point", kd=kd)
    check_range(kr, "kr", 0.0, None, lo_inclusive=False, kind="critical_point", units="1/d")
    check_range(ka, "ka", 0.0, None, lo_inclusive=False, kind="critical_point", units="1/d")
    source = kd * L0
    interior = source > ka * D0  # deficit still rising at t = 0 (dD/dt = kd L0 - ka D0 > 0)
    delta = ka - kr
    ratio = np.where(interior, D0 / np.where(source > 0, source, 1.0), 0.0)
    # t_c = ln(ka/kr)/(ka-kr) + ln(1 - (ka-kr) D0/(kd L0))/(ka-kr), with log1p(u)/u forms
    arg = np.where(interior, -delta * ratio, 0.0)
    never = arg <= -1.0  # supersaturated start, kr > ka: D rises towards 0 without a maximum
    t_c = _log1p_ratio(delta / kr) / kr - ratio * _log1p_ratio(np.where(never, 0.0, arg))
    t_c = np.where(interior, np.maximum(t_c, 0.0), 0.0)
    D_c = np.where(interior, kd / ka * L0 * np.exp(-kr * t_c), D0)
    t_c = np.where(never, np.inf, t_c)
    D_c = np.where(never, 0.0, D_c)
    return t_c, D_c


def critical_point(L0, D0, kd, kr, ka):
    """Time and size of the maximum DO deficit of the Streeter–Phelps sag.

    Parameters
    ----------
    L0, D0 : array_like  [mg/L]
        Initial ultimate CBOD and DO deficit.
    kd, kr, ka : array_like  [1/d]
        Deoxygenation, total CBOD removal and reaeration rates (``kr, ka > 0``).

    Returns
    -------
    t_c : array  [d]
        Critical travel time; 0 where the deficit falls from the start (``kd L0 <= ka D0``);
        ``inf`` in the supersaturated case where the deficit rises towards 0 without a maximum.
    D_c : array  [mg/L]
        Critical (maximum) deficit; ``D0`` where ``t_c = 0``; 0 where ``t_c = inf``.

    Notes
    -----
    Chapra (1997) Lecture 21, eqs. 21.15–21.16 (and 21.17 for ``ka = kr``)::

        t_c = 1/(ka - kr) ln[ ka/kr (1 - D0 (ka - kr) / (kd L0)) ]
        D_c = kd/ka L0 exp(-kr t_c)

    written as ``t_c = g(d/kr)/kr - r g(-d r)`` with ``d = ka - kr``, ``r = D0/(kd L0)`` and
    ``g(u) = log1p(u)/u`` (``g(0) = 1``), which is exact at ``ka = kr``
    (``t_c = 1/kr - D0/(kd L0)``) and keeps full precision for tiny ``|ka - kr|``.
    """
    return apply_elementwise(_cp_kernel, L0, D0, kd, kr, ka, n_out=2)


# --------------------------------------------------------------------------- chains of reaches
@dataclass(frozen=True)
class ChainResult:
    """Streeter–Phelps along a chain of reaches (arrays ``(reach, *scenario)``; profile
    arrays ``(reach, point, *scenario)``).

    Attributes
    ----------
    flow : [m3/s] flow in each reach (after inflow and withdrawal at its head).
    L_head, D_head : [mg/L] CBOD and deficit at the reach head, after mixing.
    L_end, D_end : [mg/L] at the reach end.
    t_critical : [d] travel time of the maximum deficit inside the reach, from its head.
    D_max : [mg/L] the maximum deficit inside the reach (head, end or interior critical point).
    fractions : (point,) positions along each reach as fractions of its travel time.
    L_profile, D_profile : [mg/L] values at ``fractions``.
    """

    flow: np.ndarray
    L_head: np.ndarray
    D_head: np.ndarray
    L_end: np.ndarray
    D_end: np.ndarray
    t_critical: np.ndarray
    D_max: np.ndarray
    fractions: np.ndarray
    L_profile: np.ndarray
    D_profile: np.ndarray


def streeter_phelps_chain(Q0, L0, D0, travel_time, kd, kr, ka, *, inflow=0.0, inflow_L=0.0,
                          inflow_D=0.0, withdrawal=0.0, fractions=None) -> ChainResult:
    """Streeter–Phelps through reaches in series, with flow-weighted mixing at their heads.

    At the head of reach *i* the upstream water (flow ``Q``, CBOD ``L``, deficit ``D``) mixes with
    an inflow (outfall or tributary: ``inflow[i]``, ``inflow_L[i]``, ``inflow_D[i]``)::

        Q' = Q + Q_in,   L' = (Q L + Q_in L_in) / Q',   D' = (Q D + Q_in D_in) / Q'

    (complete mixing, Chapra 1997 Lecture 21 / Lecture 9 mass balance at a junction), then a
    withdrawal removes ``withdrawal[i]`` at the mixed concentration; the reach then follows
    :func:`streeter_phelps` for ``travel_time[i]``. Mixing deficits assumes the same DO
    saturation on both sides (same temperature).

    Parameters
    ----------
    Q0, L0, D0 : array_like  [m3/s], [mg/L], [mg/L]
        Upstream boundary flow, CBOD and deficit; broadcast over a scenario shape.
    travel_time, kd, kr, ka : array_like, leading axis = reach  [d], [1/d]
        Per-reach travel time and rates, shape ``(n_reach,)`` or ``(n_reach, *scenario)``.
    inflow, inflow_L, inflow_D, withdrawal : array_like, leading axis = reach  [m3/s], [mg/L]
        Point inflow at each reach head and its CBOD and deficit; withdrawal at the head
        (0 where absent). Scalars apply to every reach.
    fractions : array_like, optional
        Positions along each reach (fractions of its travel time) for the profiles; default
        ``linspace(0, 1, 11)``.

    Returns
    -------
    ChainResult
        Arrays of shape ``(n_reach, *scenario)`` (profiles ``(n_reach, n_point, *scenario)``).

    Notes
    -----
    Reaches are processed in order (each one's head depends on the previous one's end); all
    scenarios are computed at once by broadcasting.
    """
    tt = np.atleast_1d(np.asarray(travel_time, dtype=float))
    n = tt.shape[0]
    check_nonnegative(tt, "travel_time", kind="reach", units="d")
    frac = np.linspace(0.0, 1.0, 11) if fractions is None else np.asarray(fractions, float)
    check_range(frac, "fractions", 0.0, 1.0)

    def per_reach(a, name):
        a = np.asarray(a, dtype=float)
        if a.ndim == 0:
            a = np.broadcast_to(a, (n,))
        if a.shape[0] != n:
            raise InvalidValueError(f"{name} has {a.shape[0]} reaches, travel_time has {n}",
                                    field=name, where="streeter_phelps_chain")
        return a

    kd, kr, ka = (per_reach(v, k) for v, k in ((kd, "kd"), (kr, "kr"), (ka, "ka")))
    q_in, l_in, d_in, q_out = (per_reach(v, k) for v, k in (
        (inflow, "inflow"), (inflow_L, "inflow_L"), (inflow_D, "inflow_D"),
        (withdrawal, "withdrawal")))
    for name, v in (("inflow", q_in), ("inflow_L", l_in), ("withdrawal", q_out)):
        check_nonnegative(v, name, kind="reach")
    check_nonnegative(Q0, "Q0", units="m3/s")
    check_nonnegative(L0, "L0", units="mg/L")
    Q, L, D = (np.asarray(v, dtype=float) for v in (Q0, L0, D0))
    nd = max(np.ndim(Q), np.ndim(L), np.ndim(D),
             *(a.ndim - 1 for a in (tt, kd, kr, ka, q_in, l_in, d_in, q_out)))
    out = {k: [] for k in ("flow", "L_head", "D_head", "L_end", "D_end", "t_critical", "D_max",
                           "L_profile", "D_profile")}
    for i in range(n):  # sequential along the chain: reach i starts where reach i-1 ends
        q_mix = Q + q_in[i]
        if np.any(q_mix <= 0):
            raise InvalidValueError(f"flow at the head of reach {i} is {np.min(q_mix)} m3/s; "
                                    "must be > 0", field="inflow", where=f"reach {i}")
        L = (Q * L + q_in[i] * l_in[i]) / q_mix
        D = (Q * D + q_in[i] * d_in[i]) / q_mix
        Q = q_mix - q_out[i]
        if np.any(Q <= 0):
            raise InvalidValueError(f"withdrawal {np.max(q_out[i])} m3/s leaves no flow in reach "
                                    f"{i}", field="withdrawal", where=f"reach {i}")
        rates = (kd[i], kr[i], ka[i])
        Lp, Dp = streeter_phelps(L, D, *rates, frac.reshape((-1,) + (1,) * nd) * tt[i])
        t_c, d_c = critical_point(L, D, *rates)
        inside = (t_c > 0) & (t_c < tt[i])
        d_end = Dp[-1]
        out["D_max"].append(np.where(inside, d_c, np.maximum(D, d_end)))
        out["t_critical"].append(np.where(inside, t_c, np.where(d_end > D, tt[i], 0.0)))
        out["flow"].append(np.broadcast_to(Q, np.shape(d_end)).copy())
        out["L_head"].append(np.broadcast_to(L, np.shape(d_end)).copy())
        out["D_head"].append(np.broadcast_to(D, np.shape(d_end)).copy())
        out["L_end"].append(Lp[-1])
        out["D_end"].append(d_end)
        out["L_profile"].append(Lp)
        out["D_profile"].append(Dp)
        L, D = Lp[-1], d_end
    arrays = {k: np.stack(np.broadcast_arrays(*v)) for k, v in out.items()}
    return ChainResult(fractions=frac, **arrays)


# --------------------------------------------------------------------------- advection–dispersion
def _check_ade(x, t, u, D, k, where, semi_infinite=True):
    if semi_infinite:
        check_nonnegative(x, "x", kind=where, units="m")
    else:
        check_finite(x, "x", kind=where, units="m")
    check_nonnegative(t, "t", kind=where, units="s")
    check_nonnegative(u, "velocity", kind=where, units="m/s")
    check_range(D, "dispersion", 0.0, None, lo_inclusive=False, kind=where, units="m2/s")
    check_nonnegative(k, "decay", kind=where, units="1/s")


def _continuous_kernel(x, t, u, D, k, c0):
    _check_ade(x, t, u, D, k, "van_genuchten_alves")
    check_finite(c0, "c0")
    w = np.sqrt(u * u + 4.0 * k * D)
    tt = np.where(t > 0, t, 1.0)
    root = 2.0 * np.sqrt(D * tt)
    a = (x - w * tt) / root
    b = (x + w * tt) / root
    # common exponent of exp(p) erfc(z) after writing erfc(z) = exp(-z^2) erfcx(z):
    expo = -((x - u * tt) ** 2) / (4.0 * D * tt) - k * tt
    # (u - w) x / (2D) = -2 k x / (u + w), free of cancellation and of 1/D
    uw = u + w
    first_neg = np.exp(-2.0 * k * x / np.where(uw > 0, uw, 1.0)) * special.erfc(np.minimum(a, 0))
    first_pos = np.exp(expo) * special.erfcx(np.maximum(a, 0))
    first = np.where(a < 0, first_neg, first_pos)
    second = np.exp(expo) * special.erfcx(b)
    c = 0.5 * c0 * (first + second)
    return np.where(t > 0, c, np.where(x == 0, c0, 0.0))


def van_genuchten_alves(x, t, velocity, dispersion, decay, c0=1.0):
    """Continuous injection with first-order decay into a semi-infinite stream.

    Solves ``dC/dt = E d2C/dx2 - U dC/dx - k C`` for ``x >= 0``, ``C(x, 0) = 0``,
    ``C(0, t) = c0``, ``C(inf, t) = 0``.

    Parameters
    ----------
    x : array_like  [m]
        Distance below the injection point (>= 0).
    t : array_like  [s]
        Time since the injection started (>= 0).
    velocity : array_like  [m/s]
        Mean velocity ``U`` (>= 0).
    dispersion : array_like  [m2/s]
        Longitudinal dispersion coefficient ``E`` (> 0).
    decay : array_like  [1/s]
        First-order decay rate ``k`` (>= 0; 0 gives :func:`ogata_banks`).
    c0 : array_like  [any concentration unit]
        Boundary concentration.

    Returns
    -------
    array  [units of c0]

    Notes
    -----
    van Genuchten and Alves (1982), solution for a first-type inlet condition with decay
    (their eq. A1 form, no production, R = 1)::

        C/c0 = 1/2 exp((U-W)x/(2E)) erfc((x - W t)/(2 sqrt(E t)))
             + 1/2 exp((U+W)x/(2E)) erfc((x + W t)/(2 sqrt(E t))),   W = sqrt(U^2 + 4 k E)

    Both products are evaluated as ``exp(P) erfcx(z)`` with the exponent combined analytically,
    ``P = -(x - U t)^2/(4 E t) - k t``, and ``(U-W)x/(2E) = -2kx/(U+W)``; no overflow at any
    Peclet number. For a retarded solute divide ``U``, ``E`` and ``k`` by ``R``.
    """
    return apply_elementwise(_continuous_kernel, x, t, velocity, dispersion, decay, c0)


def ogata_banks(x, t, velocity, dispersion, c0=1.0):
    """Continuous injection of a conservative substance, Ogata and Banks (1961), both terms.

    ``C/c0 = 1/2 [erfc((x - U t)/(2 sqrt(E t))) + exp(U x / E) erfc((x + U t)/(2 sqrt(E t)))]``
    (Ogata and Banks 1961, eq. 9), evaluated with ``exp(Ux/E) erfc(b) = exp(-a^2) erfcx(b)``,
    ``a = (x - U t)/(2 sqrt(E t))``, so it stays finite at any Peclet number ``U x / E``.
    Units and conventions as :func:`van_genuchten_alves` (``decay = 0``).
    """
    return van_genuchten_alves(x, t, velocity, dispersion, 0.0, c0)


def _slug_kernel(x, t, mass, area, u, D, k):
    _check_ade(x, t, u, D, k, "ade_slug", semi_infinite=False)
    check_nonnegative(mass, "mass", kind="ade_slug", units="g")
    check_range(area, "area", 0.0, None, lo_inclusive=False, kind="ade_slug", units="m2")
    tt = np.where(t > 0, t, 1.0)
    c = mass / (area * np.sqrt(4.0 * np.pi * D * tt)) * np.exp(
        -((x - u * tt) ** 2) / (4.0 * D * tt) - k * tt)
    return np.where(t > 0, c, 0.0)


def ade_slug(x, t, mass, area, velocity, dispersion, decay=0.0):
    """Concentration after an instantaneous (slug) release spread over the cross-section.

    Parameters
    ----------
    x : array_like  [m]
        Distance below the release (negative: upstream).
    t : array_like  [s]
        Time since the release (>= 0; the value at ``t = 0`` is returned as 0).
    mass : array_like  [g]
        Mass released.
    area : array_like  [m2]
        Cross-sectional area ``A``.
    velocity, dispersion, decay : array_like  [m/s], [m2/s], [1/s]
        ``U``, ``E`` (> 0), ``k``.

    Returns
    -------
    array  [g/m3 = mg/L]

    Notes
    -----
    Chapra (1997) Lecture 9, eq. 9.40 with decay (Fischer et al. 1979 §2.2)::

        C = M / (A sqrt(4 pi E t)) exp(-(x - U t)^2 / (4 E t) - k t)
    """
    return apply_elementwise(_slug_kernel, x, t, mass, area, velocity, dispersion, decay)
