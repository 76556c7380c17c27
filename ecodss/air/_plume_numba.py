"""Compiled (numba) twin of :func:`ecodss.air._plume_kernel.concentration_block`.

Same formulas, same cut-offs and the same summation order as the numpy kernel (tests hold them to
1e-12); it exists because the benchmark (``benchmarks/plume.py``) shows the numpy kernel is bound
by memory traffic on its (hour × source × receptor) temporaries, while a compiled loop skips
upwind pairs before any arithmetic and keeps every intermediate in registers.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from . import plume
from ._plume_kernel import SourceHours

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None

_SQRT2PI = math.sqrt(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
_REACH = math.sqrt(-2.0 * math.log(1e-12))  # image truncation as in plume.vertical_term
_SWITCH = plume.IMAGE_FOURIER_SWITCH
_RBLOCK = 512  # receptors per parallel job


def _tables():
    """Per-class padded σz tables: edges (7, 10) [km], a and b (7, 11)."""
    edges = np.full((7, 10), np.inf)
    a = np.full((7, 11), np.nan)
    b = np.full((7, 11), np.nan)
    nedge = np.zeros(7, np.int64)
    for k in range(1, 7):
        e, coef = plume._PG_Z[k]
        edges[k, :len(e)] = e
        nedge[k] = len(e)
        a[k, :len(coef)] = [c[0] for c in coef]
        b[k, :len(coef)] = [c[1] for c in coef]
    return edges, a, b, nedge


def _kernel(rx, ry, rz, sx, sy_, q, he, us, sinp, cosp, cls, zi, lid, decay, urban,
            has_bid, fb, fm, vs, sst, xfb, xfm, dhf, has_width, wa, wb, split,
            pg_c, pg_d, urb_y, urb_za, urb_zb, urb_zp, edges, ta, tb, nedge, out):
    T, S = q.shape
    R = rx.size
    nblk = (R + _RBLOCK - 1) // _RBLOCK
    for job in numba.prange(T * nblk):  # (hour, receptor block) jobs own disjoint output
        t = job // nblk
        r0 = (job % nblk) * _RBLOCK
        r1 = min(r0 + _RBLOCK, R)
        k = cls[t]
        sp = sinp[t]
        cp = cosp[t]
        lz = zi[t]
        has_lid = lid[t]
        for s in range(S):  # per-(hour, source) constants hoisted out of the receptor loop
            qq = q[t, s]
            if qq <= 0.0:
                continue
            u = us[t, s]
            h = he[t, s]
            psi = decay[t, s]
            xf = max(xfb[t, s], xfm[t, s]) if has_bid else 0.0
            half = 0.5 * (wa[t, s] + wb[t, s]) if has_width else 0.0
            so = s if split else 0
            for r in range(r0, r1):
                dx = rx[r] - sx[s]
                dy = ry[r] - sy_[s]
                x = sp * dx + cp * dy
                if x < 1.0:
                    continue
                y = cp * dx - sp * dy
                if not has_width and abs(y) > 1.191754 * x:
                    continue
                xk = x * 1e-3
                lx = math.log(xk)
                if urban:
                    sig_y = urb_y[k] * x / math.sqrt(1.0 + 0.0004 * x)
                else:
                    sig_y = 465.11628 * xk * math.tan(0.017453293 * (pg_c[k] - pg_d[k] * lx))
                dh = 0.0
                if has_bid:
                    dh = dhf[t, s]
                    if x < xf:
                        dh = _gradual(x, fb[t, s], fm[t, s], u, vs[t, s], sst[t, s], xfb[t, s],
                                      xfm[t, s], dh)
                    sig_y = math.sqrt(sig_y * sig_y + (dh / 3.5) ** 2)
                if abs(y) - half > 8.5 * sig_y:
                    continue
                if urban:
                    sig_z = min(urb_za[k] * x * (1.0 + urb_zb[k] * x) ** urb_zp[k], 5000.0)
                elif k == 1 and xk > 3.11:
                    sig_z = 5000.0
                else:
                    j = 0
                    while j < nedge[k] and edges[k, j] < xk:
                        j += 1
                    sig_z = min(ta[k, j] * math.exp(tb[k, j] * lx), 5000.0)
                if has_bid:
                    sig_z = math.sqrt(sig_z * sig_z + (dh / 3.5) ** 2)
                z = rz[r]
                if has_width:
                    vfy = _vertical(z, h, sig_z, lz, has_lid, 0.0) * _crosswind_area(
                        y, sig_y, wa[t, s], wb[t, s])
                else:  # lateral Gaussian folded into the vertical exponentials
                    vfy = _vertical(z, h, sig_z, lz, has_lid, -0.5 * (y / sig_y) ** 2) / (
                        _SQRT2PI * sig_y)
                conc = qq * 1e6 * vfy / (_SQRT2PI * u * sig_z)
                if psi > 0.0:
                    conc *= math.exp(-psi * x / u)
                out[t, so, r] += conc


def _gradual(x, fb, fm, u, vs, st, xfb, xfm, dhf):
    """plume.gradual_plume_rise for one element."""
    dh_b = 1.60 * np.cbrt(fb) * min(x, xfb) ** (2.0 / 3.0) / u
    beta = 1.0 / 3.0 + u / vs
    xp = min(x, xfm)
    if st > 0:
        sq = math.sqrt(st)
        dh_m = np.cbrt(3.0 * fm * math.sin(sq * xp / u) / (beta * beta * u * sq))
    else:
        dh_m = np.cbrt(3.0 * fm * xp / (beta * beta * u * u))
    if not math.isfinite(dh_m):
        dh_m = 0.0
    return min(max(dh_b, dh_m), dhf)


def _vertical(z, h, sig_z, lz, has_lid, e):
    """plume.vertical_term × exp(e) for one element (same truncation and Fourier switch).

    ``e`` is the lateral exponent −½(y/σy)², folded into each exponential. Cheaper algebra, same
    sums: for a ground-level receptor the reflected pairs are equal (one exp each), and the
    Fourier terms use recurrences (q^(m²) and Chebyshev cosines): one exp and two cosines.
    """
    if has_lid and h > lz:
        return 0.0
    a = -0.5 / (sig_z * sig_z)
    rr = sig_z / lz if has_lid else 0.0
    if rr >= 1.6:
        return _SQRT2PI * rr * math.exp(e)
    if rr >= _SWITCH:
        return _fourier(z, h, rr, lz) * math.exp(e)
    ground = z == 0.0
    if ground:
        v = 2.0 * math.exp(a * h * h + e)
    else:
        v = math.exp(a * (z - h) ** 2 + e) + math.exp(a * (z + h) ** 2 + e)
    if not has_lid:
        return v
    # direct image sum, truncated as in plume.vertical_term
    d = h + z + math.sqrt((z - h) ** 2 + (_REACH * sig_z) ** 2)
    nmax = min(int(math.ceil(d / (2.0 * lz))) - 1, 8)
    for n in range(1, nmax + 1):
        tz = 2.0 * n * lz
        if ground:
            v += 2.0 * (math.exp(a * (h - tz) ** 2 + e) + math.exp(a * (h + tz) ** 2 + e))
        else:
            v += (math.exp(a * (z - h - tz) ** 2 + e) + math.exp(a * (z + h - tz) ** 2 + e)
                  + math.exp(a * (z - h + tz) ** 2 + e) + math.exp(a * (z + h + tz) ** 2 + e))
    return v


def _fourier(z, h, rr, lz):
    """Poisson dual of the lid image sum (see plume.vertical_term), σz/z_i = ``rr``."""
    mmax = int(math.ceil(_REACH / (math.pi * rr)))
    q = math.exp(-0.5 * (math.pi * rr) ** 2)
    q2 = q * q
    qodd = q  # q^(2m-1)
    qm = 1.0  # q^(m²)
    c1h = math.cos(math.pi * h / lz)
    c1z = math.cos(math.pi * z / lz)
    ch_prev, ch = 1.0, c1h  # cos((m-1)θ), cos(mθ) by Chebyshev recurrence
    cz_prev, cz = 1.0, c1z
    total = 1.0
    for _ in range(mmax):
        qm *= qodd
        qodd *= q2
        total += 2.0 * qm * ch * cz
        ch_prev, ch = ch, 2.0 * c1h * ch - ch_prev
        cz_prev, cz = cz, 2.0 * c1z * cz - cz_prev
    return _SQRT2PI * rr * total


def _crosswind_area(y, sig_y, wa, wb):
    """_plume_kernel.crosswind_trapezoid for one element."""
    aa = max(wa, wb)
    bb = min(wa, wb)
    if bb < 1e-6 * aa:
        c = 1.0 / (_SQRT2 * sig_y)
        return (math.erf((y + 0.5 * aa) * c) - math.erf((y - 0.5 * aa) * c)) / (2.0 * aa)
    p = 0.5 * (aa + bb)
    m = 0.5 * (aa - bb)
    return (_g(y + p, sig_y) - _g(y + m, sig_y) - _g(y - m, sig_y) + _g(y - p, sig_y)) / (aa * bb)


def _g(u, sigma):
    s = u / sigma
    return sigma * (s * 0.5 * (1.0 + math.erf(s / _SQRT2)) + math.exp(-0.5 * s * s) / _SQRT2PI)


AVAILABLE = numba is not None
if AVAILABLE:  # compiled lazily on first call, cached on disk (numba cache=True)
    _g, _gradual, _fourier, _vertical, _crosswind_area = (
        numba.njit(cache=True, error_model="numpy")(f)
        for f in (_g, _gradual, _fourier, _vertical, _crosswind_area))
    _KERNELS = {False: numba.njit(cache=True, error_model="numpy")(_kernel),
                True: numba.njit(parallel=True, cache=True, error_model="numpy")(_kernel)}


def _compiled(parallel: bool):
    return _KERNELS[bool(parallel)]

_EDGES, _TA, _TB, _NEDGE = _tables()


def concentration_block_numba(src: SourceHours, rx, ry, rz, split: bool = False,
                              parallel: bool = False):
    """Same contract as the numpy ``concentration_block`` (no ``sigma_fn`` support)."""
    T, S = src.q.shape
    out = np.zeros((T, S if split else 1, rx.size))
    if T == 0 or S == 0 or rx.size == 0:
        return out if split else out[:, 0]
    shape = src.q.shape
    zeros = np.zeros(shape)
    bid = src.bid if src.bid is not None else (zeros,) * 7
    fb, fm, vs, sst, xfb, xfm, dhf = (np.ascontiguousarray(np.broadcast_to(b, shape), float)
                                      for b in bid)
    if src.width is not None:
        wa = np.ascontiguousarray(src.width[..., 0])
        wb = np.ascontiguousarray(src.width[..., 1])
    else:
        wa = wb = zeros
    # numba's parallel pool must not be entered from several threads at once (dask workers):
    # only the main thread runs the parallel variant.
    parallel = parallel and threading.current_thread() is threading.main_thread()
    f = np.ascontiguousarray
    _compiled(parallel)(
        f(rx, float), f(ry, float), f(rz, float), f(src.sx, float), f(src.sy, float),
        f(src.q, float), f(np.broadcast_to(src.he, shape), float), f(src.us, float),
        f(src.sin_phi, float), f(src.cos_phi, float), f(src.cls, np.int64), f(src.zi, float),
        f(src.lid, np.bool_), f(np.broadcast_to(src.decay, shape), float), bool(src.urban),
        src.bid is not None, fb, fm, vs, sst, xfb, xfm, dhf, src.width is not None, wa, wb,
        bool(split), plume._PG_Y_C, plume._PG_Y_D, plume._URB_Y, plume._URB_Z_A, plume._URB_Z_B,
        plume._URB_Z_P, _EDGES, _TA, _TB, _NEDGE, out)
    return out if split else out[:, 0]
