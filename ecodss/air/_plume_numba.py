"""Compiled (numba) twin of :func:`ecodss.air._plume_kernel.concentration_block`.

Same formulas, same cut-offs and the same summation order as the numpy kernel (tests hold them to
1e-12); it exists because the benchmark (``benchmarks/plume.py``) shows the numpy kernel is bound
by memory traffic on its (hour × source × receptor) temporaries, while a compiled loop skips
upwind pairs before any arithmetic and keeps every intermediate in registers.
"""

from __future__ import annotations

import math

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
    for r in numba.prange(R):  # noqa: B007  # receptors in parallel; each owns its output column
        for t in range(T):
            k = cls[t]
            for s in range(S):
                qq = q[t, s]
                if qq <= 0.0:
                    continue
                dx = rx[r] - sx[s]
                dy = ry[r] - sy_[s]
                x = sinp[t] * dx + cosp[t] * dy
                if x < 1.0:
                    continue
                y = cosp[t] * dx - sinp[t] * dy
                if not has_width and abs(y) > 1.191754 * x:
                    continue
                u = us[t, s]
                if urban:
                    sig_y = urb_y[k] * x / math.sqrt(1.0 + 0.0004 * x)
                else:
                    xk = x * 1e-3
                    sig_y = 465.11628 * xk * math.tan(0.017453293 * (pg_c[k] - pg_d[k]
                                                                     * math.log(xk)))
                dh = 0.0
                if has_bid:
                    dh = dhf[t, s]
                    if x < max(xfb[t, s], xfm[t, s]):
                        dh_b = 1.60 * np.cbrt(fb[t, s]) * min(x, xfb[t, s]) ** (2.0 / 3.0) / u
                        beta = 1.0 / 3.0 + u / vs[t, s]
                        xp = min(x, xfm[t, s])
                        st = sst[t, s]
                        if st > 0:
                            sq = math.sqrt(st)
                            dh_m = np.cbrt(3.0 * fm[t, s] * math.sin(sq * xp / u)
                                           / (beta * beta * u * sq))
                        else:
                            dh_m = np.cbrt(3.0 * fm[t, s] * xp / (beta * beta * u * u))
                        if not math.isfinite(dh_m):
                            dh_m = 0.0
                        dh = min(max(dh_b, dh_m), dh)
                    sig_y = math.sqrt(sig_y * sig_y + (dh / 3.5) ** 2)
                half = 0.5 * (wa[t, s] + wb[t, s]) if has_width else 0.0
                if abs(y) - half > 8.5 * sig_y:
                    continue
                if urban:
                    sig_z = min(urb_za[k] * x * (1.0 + urb_zb[k] * x) ** urb_zp[k], 5000.0)
                else:
                    xk = x * 1e-3
                    j = 0
                    while j < nedge[k] and edges[k, j] < xk:
                        j += 1
                    if k == 1 and xk > 3.11:
                        sig_z = 5000.0
                    else:
                        sig_z = min(ta[k, j] * math.exp(tb[k, j] * math.log(xk)), 5000.0)
                if has_bid:
                    sig_z = math.sqrt(sig_z * sig_z + (dh / 3.5) ** 2)
                z = rz[r]
                h = he[t, s]
                a = -0.5 / (sig_z * sig_z)
                v = math.exp(a * (z - h) ** 2) + math.exp(a * (z + h) ** 2)
                if lid[t]:
                    lz = zi[t]
                    if h > lz:
                        v = 0.0
                    elif sig_z >= 1.6 * lz:
                        v = _SQRT2PI * sig_z / lz
                    elif sig_z < _SWITCH * lz:  # direct image sum, truncated
                        nmax = min(int(math.ceil((_REACH * sig_z + abs(z - h) + h + z)
                                                 / (2.0 * lz))), 8)
                        for n in range(1, nmax + 1):
                            tz = 2.0 * n * lz
                            v += (math.exp(a * (z - h - tz) ** 2) + math.exp(a * (z + h - tz) ** 2)
                                  + math.exp(a * (z - h + tz) ** 2)
                                  + math.exp(a * (z + h + tz) ** 2))
                    else:  # its Poisson dual (see plume.vertical_term)
                        rr = sig_z / lz
                        mmax = int(math.ceil(_REACH / (math.pi * rr)))
                        cz = math.pi * z / lz
                        ch = math.pi * h / lz
                        total = 1.0
                        for mm in range(1, mmax + 1):
                            total += 2.0 * (math.exp(-0.5 * (math.pi * mm * rr) ** 2)
                                            * math.cos(mm * cz) * math.cos(mm * ch))
                        v = _SQRT2PI * rr * total
                if has_width:
                    aa = max(wa[t, s], wb[t, s])
                    bb = min(wa[t, s], wb[t, s])
                    if bb < 1e-6 * aa:
                        c = 1.0 / (_SQRT2 * sig_y)
                        fy = (math.erf((y + 0.5 * aa) * c) - math.erf((y - 0.5 * aa) * c)) / (
                            2.0 * aa)
                    else:
                        p = 0.5 * (aa + bb)
                        m = 0.5 * (aa - bb)
                        fy = (_g(y + p, sig_y) - _g(y + m, sig_y) - _g(y - m, sig_y)
                              + _g(y - p, sig_y)) / (aa * bb)
                else:
                    fy = math.exp(-0.5 * (y / sig_y) ** 2) / (_SQRT2PI * sig_y)
                conc = qq * 1e6 * fy * v / (_SQRT2PI * u * sig_z)
                if decay[t, s] > 0.0:
                    conc *= math.exp(-decay[t, s] * x / u)
                out[t, s if split else 0, r] += conc


def _g(u, sigma):
    s = u / sigma
    return sigma * (s * 0.5 * (1.0 + math.erf(s / _SQRT2)) + math.exp(-0.5 * s * s) / _SQRT2PI)


AVAILABLE = numba is not None
if AVAILABLE:  # compiled lazily on first call, cached on disk (numba cache=True)
    _g = numba.njit(cache=True, error_model="numpy")(_g)
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
