"""The vectorized source × receptor × hour kernel behind :func:`ecodss.air.gaussian_plume`.

Hour- and source-dependent quantities (wind at stack height, plume rise, lid) arrive precomputed as
(T, S) arrays in a :class:`SourceHours`; the kernel forms all (hour, source, receptor) triples of a
block, keeps only those downwind and inside ISC3's ±50° sector, evaluates the plume formula on that
compacted set in one pass of numpy ufuncs, and scatter-adds the result per (hour, receptor) with
``np.bincount``. Formulas: :mod:`ecodss.air.plume` (ISC3-II Eq. 1-1 with 1-32…1-51).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from . import plume
from ._plume_common import BLOCK_ELEMENTS

#: |y| > 1.191754 x (beyond ±50° of the plume axis) gives zero, as ISC3 ``PCALC`` does.
_SECTOR_TAN = 1.191754
#: Rural σz brackets of all classes on one axis (key = class·1e6 + x_km) so one searchsorted finds
#: the (class, bracket) coefficients of every element at once.
_KEY_OFFSET = 1.0e6


def _build_sigma_z_table():
    edges, a, b = [], [], []
    for k in range(1, 7):
        e, coef = plume._PG_Z[k]
        edges.extend(k * _KEY_OFFSET + np.asarray(e, float))
        edges.append(k * _KEY_OFFSET + _KEY_OFFSET / 2)  # closes the class's last (open) bracket
        a.extend(c[0] for c in coef)
        b.extend(c[1] for c in coef)
    return np.asarray(edges), np.asarray(a), np.asarray(b)


_SZ_EDGES, _SZ_A, _SZ_B = _build_sigma_z_table()


def sigma_z_rural_keyed(x_km, cls):
    """Rural σz for per-element classes in one pass (same values as :func:`plume.sigma_z_rural`)."""
    i = np.searchsorted(_SZ_EDGES, cls * _KEY_OFFSET + x_km, side="left")
    sz = _SZ_A[i] * np.exp(_SZ_B[i] * np.log(x_km))
    sz = np.where((cls == 1) & (x_km > 3.11), plume.SIGMA_Z_MAX, sz)
    return np.minimum(sz, plume.SIGMA_Z_MAX)


def _gauss_cdf_integral(u, sigma):
    """G(u) = ∫_{-∞}^{u} Φ(t/σ) dt = σ (s Φ(s) + φ(s)), s = u/σ (standard normal Φ, φ)."""
    s = u / sigma
    return sigma * (s * 0.5 * (1.0 + erf(s / np.sqrt(2.0))) + np.exp(-0.5 * s * s) / plume.SQRT_2PI)


def crosswind_trapezoid(y, sigma, a, b):
    """Crosswind term of a rectangle whose sides project to crosswind extents ``a`` and ``b`` [m].

    The rectangle's crosswind mass profile is the convolution of two uniform densities of widths
    a and b (a trapezoid); convolved with the plume's N(0, σy²) it is exactly
    [G(y+p) − G(y+m) − G(y−m) + G(y−p)] / (a b), p = (a+b)/2, m = (a−b)/2, with
    G(u) = ∫Φ(u/σ) du. For b → 0 it tends to the uniform segment [Φ((y+a/2)/σ) − Φ((y−a/2)/σ)]/a,
    used when b < 1e-6 a. Units: [1/m] (a probability density across the wind).
    """
    a, b = np.maximum(a, b), np.minimum(a, b)
    p, m = 0.5 * (a + b), 0.5 * (a - b)
    thin = b < 1e-6 * a
    bb = np.where(thin, 1.0, b)
    trap = (_gauss_cdf_integral(y + p, sigma) - _gauss_cdf_integral(y + m, sigma)
            - _gauss_cdf_integral(y - m, sigma) + _gauss_cdf_integral(y - p, sigma)) / (a * bb)
    c = 1.0 / (np.sqrt(2.0) * sigma)
    uniform = (erf((y + 0.5 * a) * c) - erf((y - 0.5 * a) * c)) / (2.0 * a)
    return np.where(thin, uniform, trap)


@dataclass
class SourceHours:
    """Per hour (T) and per (hour, source) (T, S) inputs of the kernel.

    ``width`` (T, S, 2) holds the crosswind extents (a, b) [m] of the two sides of each area
    sub-rectangle (None for stacks): its crosswind mass profile is the trapezoid U(a) * U(b), whose
    convolution with the Gaussian is exact (see :func:`crosswind_trapezoid`).
    ``bid`` holds (Fb, Fm, vs, s, x_fb, x_fm, dh_final) for buoyancy-induced dispersion (stacks).
    """

    sx: np.ndarray  # (S,)
    sy: np.ndarray  # (S,)
    q: np.ndarray  # (T, S) g/s
    he: np.ndarray  # (T, S) effective height m
    us: np.ndarray  # (T, S) wind at release height m/s
    sin_phi: np.ndarray  # (T,)
    cos_phi: np.ndarray  # (T,)
    cls: np.ndarray  # (T,) int 1..6
    zi: np.ndarray  # (T,) mixing height m
    lid: np.ndarray  # (T,) bool: image terms with the lid (A–D)
    decay: np.ndarray  # (T, S) decay coefficient ψ [1/s] (0 = none)
    urban: bool
    width: np.ndarray | None = None
    bid: tuple | None = None
    sigma_fn: object = None  # optional callable (x [m], cls) -> (σy, σz) replacing PG/Briggs
    owner: np.ndarray | None = None  # (S,) reported-source index of each (sub-)source, sorted

    @property
    def n_reported(self) -> int:
        """Number of reported sources (areas count once however they are subdivided)."""
        return self.q.shape[1] if self.owner is None else int(self.owner[-1]) + 1 \
            if self.owner.size else 0

    def to_reported(self, per_subsource: np.ndarray) -> np.ndarray:
        """Sum a (T, S_sub, R) split result over the sub-sources of each reported source."""
        if self.owner is None or per_subsource.shape[1] == 0:
            return per_subsource
        starts = np.flatnonzero(np.r_[True, self.owner[1:] != self.owner[:-1]])
        return np.add.reduceat(per_subsource, starts, axis=1)

    def hours(self, sl: slice) -> SourceHours:
        """The same sources for a slice of hours."""
        return SourceHours(
            self.sx, self.sy, self.q[sl], self.he[sl], self.us[sl], self.sin_phi[sl],
            self.cos_phi[sl], self.cls[sl], self.zi[sl], self.lid[sl], self.decay[sl], self.urban,
            None if self.width is None else self.width[sl],
            None if self.bid is None else tuple(b[sl] for b in self.bid), self.sigma_fn,
            self.owner)


def concentration_block(src: SourceHours, rx, ry, rz, split: bool = False):
    """Concentration [µg/m³] at receptors (rx, ry, rz) for every hour of ``src``.

    Returns (T, R), or (T, S, R) per source when ``split``.
    """
    T, S = src.q.shape
    R = rx.size
    out_len = T * S * R if split else T * R
    if T == 0 or S == 0 or R == 0:
        return np.zeros((T, S, R) if split else (T, R))
    dx = rx[None, :] - src.sx[:, None]  # (S, R)
    dy = ry[None, :] - src.sy[:, None]
    xd = src.sin_phi[:, None, None] * dx + src.cos_phi[:, None, None] * dy  # (T, S, R) downwind
    yc = src.cos_phi[:, None, None] * dx - src.sin_phi[:, None, None] * dy  # crosswind
    active = (src.q > 0)[:, :, None]
    keep = (xd >= 1.0) & active
    if src.width is None:  # ISC3's ±50° sector applies to stacks, not to area integration
        keep &= np.abs(yc) <= _SECTOR_TAN * xd
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return np.zeros((T, S, R) if split else (T, R))
    x = xd.ravel()[idx]
    y = yc.ravel()[idx]
    ts = idx // R  # flat (t, s)
    t = ts // S
    r = idx - ts * R
    cls = src.cls[t]
    us = src.us.ravel()[ts]
    # lateral spread first: elements beyond 8.5 σy of the axis (exp < 3e-16) are dropped early
    if src.sigma_fn is not None:
        sy, sz = src.sigma_fn(x, cls)
    elif src.urban:
        sy = plume.sigma_y_urban(x, cls)
    else:
        x_km = x * 1e-3
        k = cls.astype(np.intp)
        sy = 465.11628 * x_km * np.tan(
            0.017453293 * (plume._PG_Y_C[k] - plume._PG_Y_D[k] * np.log(x_km)))
    dh = None
    if src.bid is not None:  # buoyancy-induced dispersion, gradual rise inside x_f
        fb, fm, vs, s, xfb, xfm, dhf = src.bid
        dh = dhf.ravel()[ts]
        near = np.flatnonzero(x < np.maximum(xfb, xfm).ravel()[ts])
        if near.size:
            tn = ts[near]
            dh[near] = plume.gradual_plume_rise(
                x[near], fb.ravel()[tn], fm.ravel()[tn], us[near], vs.ravel()[tn], s.ravel()[tn],
                xfb.ravel()[tn], xfm.ravel()[tn], dh[near])
        sy = plume.bid_sigma(sy, dh)
    w = None if src.width is None else src.width.reshape(-1, 2)[ts]
    lateral = np.abs(y) - (0.0 if w is None else w.sum(-1) * 0.5) <= 8.5 * sy
    if not lateral.all():
        sel = np.flatnonzero(lateral)
        idx, x, y, ts, t, r, cls, us, sy = (a[sel] for a in (idx, x, y, ts, t, r, cls, us, sy))
        sz = None if src.sigma_fn is None else sz[sel]
        dh = None if dh is None else dh[sel]
        w = None if w is None else w[sel]
    if src.sigma_fn is None:
        sz = plume.sigma_z_urban(x, cls) if src.urban else sigma_z_rural_keyed(x * 1e-3, cls)
    if dh is not None:
        sz = plume.bid_sigma(sz, dh)
    he = src.he.ravel()[ts]
    z = rz[r]
    # lid only in A–D hours; an infinite lid reduces the image sum to ground reflection (E–F)
    v_lid = plume.vertical_term(z, he, sz, np.where(src.lid[t], src.zi[t], np.inf))
    # crosswind term (already divided by √(2π) σy for points)
    if src.width is None:
        fy = np.exp(-0.5 * (y / sy) ** 2) / (plume.SQRT_2PI * sy)
    else:
        fy = crosswind_trapezoid(y, sy, w[:, 0], w[:, 1])
    conc = src.q.ravel()[ts] * 1e6 * fy * v_lid / (plume.SQRT_2PI * us * sz)
    psi = src.decay.ravel()[ts]
    conc = np.where(psi > 0, conc * np.exp(-psi * x / us), conc)
    flat = idx if split else t * R + r
    res = np.bincount(flat, weights=conc, minlength=out_len)
    return res.reshape((T, S, R) if split else (T, R))


def blocked_concentration(src: SourceHours, rx, ry, rz, split: bool, backend: str = "numpy",
                          parallel: bool = False):
    """Run the kernel: compiled in one call, or numpy over (hour, receptor) sub-blocks of at most
    BLOCK_ELEMENTS triples (bounded temporaries)."""
    if backend == "numba" and src.sigma_fn is None:
        from ._plume_numba import concentration_block_numba

        return concentration_block_numba(src, rx, ry, rz, split, parallel)
    T, S = src.q.shape
    R = rx.size
    out = np.zeros((T, S, R) if split else (T, R))
    if S == 0:
        return out
    r_step = max(1, min(R, BLOCK_ELEMENTS // max(S, 1)))
    t_step = max(1, BLOCK_ELEMENTS // (S * r_step))
    for t0 in range(0, T, t_step):  # blocks of hours and receptors, each a vectorized pass
        sub = src.hours(slice(t0, t0 + t_step))
        for r0 in range(0, R, r_step):
            rs = slice(r0, r0 + r_step)
            out[t0:t0 + t_step, ..., rs] = concentration_block(sub, rx[rs], ry[rs], rz[rs], split)
    return out
