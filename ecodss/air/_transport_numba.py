"""Compiled (numba) twins of the transport kernels in :mod:`~ecodss.air.advection` and
:mod:`~ecodss.air.diffusion`.

Same formulas, evaluated in the same order as the numpy kernels (tests hold them to 1e-12), in
loops over rows and faces instead of whole-array temporaries: the numpy PPM builds some twenty
full-size temporaries per sweep and the y sweep reads them through strided slices, so it is bound
by memory traffic (``benchmarks/eulerian.py``). The kernels are single-threaded and release the
GIL (``nogil=True``) so that the Eulerian driver's dask tiles run them in parallel without
oversubscribing the cores.

Layouts: a field is viewed as ``(A1, A2, N, B)`` — leading dimensions, the working axis ``N``,
trailing dimensions — and a coefficient (Courant number, diffusivity) as ``(Ac, N', B)``, reused
cyclically over the flattened leading index (it broadcasts against the trailing dimensions).
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None

AVAILABLE = numba is not None

#: Scheme codes of the compiled kernels (index in ``advection.SCHEMES`` order).
SCHEME_CODE = {"upwind": 0, "vanleer": 1, "ppm": 2}
_H = 3  # advection.HALO (kept literal: this module must not import advection)


def _jit(f):
    return numba.njit(cache=True, nogil=True, error_model="numpy")(f) if AVAILABLE else f


@_jit
def _vanleer_slope(qm, q0, qp):
    """van Leer (1977) harmonic slope, as ``advection._vanleer_slope``."""
    dm = q0 - qm
    dp = qp - q0
    prod = dm * dp
    s = 2.0 * prod / (dm + dp)  # selected only where finite (error_model="numpy": no trap)
    return s if prod > 0.0 else 0.0


@_jit
def _ppm_slope(qm, q0, qp):
    """CW84 Eq. 1.8 limited slope δq, as in ``advection._ppm_parabolas`` (branch-free, so the
    row loops vectorize)."""
    dm = q0 - qm
    dp = qp - q0
    d = 0.5 * (qp - qm)
    m = math.copysign(min(abs(d), 2.0 * min(abs(dm), abs(dp))), d)
    return m if dm * dp > 0.0 else 0.0


@_jit
def _limited_parabola(qm2, qm, q0, qp, qp2, dq_m, dq_0, dq_p):
    """CW84 parabola (qL, qR, q6) of cell ``q0`` from its neighbours and their slopes δq:
    edge values Eq. 1.6, monotonicity limiter Eq. 1.10 (as ``advection._ppm_parabolas``)."""
    l = qm + 0.5 * (q0 - qm) - (dq_0 - dq_m) / 6.0
    r = q0 + 0.5 * (qp - q0) - (dq_p - dq_0) / 6.0
    ext = (r - q0) * (q0 - l) <= 0.0
    l = q0 if ext else l
    r = q0 if ext else r
    dql = r - l
    mid = q0 - 0.5 * (l + r)
    over_l = dql * mid > dql * dql / 6.0
    over_r = -dql * dql / 6.0 > dql * mid
    l_new = 3.0 * q0 - 2.0 * r if over_l else l
    r_new = 3.0 * q0 - 2.0 * l if (over_r and not over_l) else r
    return l_new, r_new, 6.0 * (q0 - 0.5 * (l_new + r_new))


@_jit
def _ppm_face(C, ql_l, qr_l, q6_l, ql_r, qr_r, q6_r):
    """CW84 Eq. 1.12 flux from the upwind cell's parabola (L = left cell, R = right cell)."""
    y = abs(C)
    w = 1.0 - 2.0 * y / 3.0
    from_left = qr_l - 0.5 * y * ((qr_l - ql_l) - w * q6_l)
    from_right = ql_r + 0.5 * y * ((qr_r - ql_r) + w * q6_r)
    return C * (from_left if C > 0.0 else from_right)


@_jit
def _vanleer_face(C, qll, ql, qr, qrr):
    from_left = ql + 0.5 * (1.0 - C) * _vanleer_slope(qll, ql, qr)
    from_right = qr - 0.5 * (1.0 + C) * _vanleer_slope(ql, qr, qrr)
    return C * (from_left if C > 0.0 else from_right)


@_jit
def _line_fluxes(q, c, scheme, f, ql, qr, q6, dq):
    """Fluxes ``f`` (n+1) of one line ``q`` (n+2H) with Courant ``c`` (n+1)."""
    n = q.size - 2 * _H
    if scheme == 0:
        for i in range(n + 1):
            C = c[i]
            f[i] = C * (q[_H - 1 + i] if C > 0.0 else q[_H + i])
    elif scheme == 1:
        for i in range(n + 1):
            f[i] = _vanleer_face(c[i], q[i + 1], q[i + 2], q[i + 3], q[i + 4])
    else:
        for k in range(n + 4):  # δq row k ↔ padded cell k + 1
            dq[k, 0] = _ppm_slope(q[k], q[k + 1], q[k + 2])
        for m in range(n + 2):  # parabola row m ↔ padded cell m + 2
            ql[m, 0], qr[m, 0], q6[m, 0] = _limited_parabola(
                q[m], q[m + 1], q[m + 2], q[m + 3], q[m + 4], dq[m, 0], dq[m + 1, 0],
                dq[m + 2, 0])
        for i in range(n + 1):
            f[i] = _ppm_face(c[i], ql[i, 0], qr[i, 0], q6[i, 0], ql[i + 1, 0], qr[i + 1, 0],
                             q6[i + 1, 0])


@_jit
def _rows_fluxes(q, c, scheme, f, ql, qr, q6, dq):
    """Fluxes ``f`` (n+1, B) of rows ``q`` (n+2H, B), Courant ``c`` (n+1, B); vector over B."""
    N, B = q.shape
    n = N - 2 * _H
    if scheme == 0:
        for i in range(n + 1):
            for b in range(B):
                C = c[i, b]
                f[i, b] = C * (q[_H - 1 + i, b] if C > 0.0 else q[_H + i, b])
    elif scheme == 1:
        for i in range(n + 1):
            for b in range(B):
                f[i, b] = _vanleer_face(c[i, b], q[i + 1, b], q[i + 2, b], q[i + 3, b],
                                        q[i + 4, b])
    else:  # one pass down the rows: slopes in a ring of 3 rows, parabolas in a ring of 2
        for k in range(2):
            for b in range(B):
                dq[k, b] = _ppm_slope(q[k, b], q[k + 1, b], q[k + 2, b])
        for m in range(n + 2):  # parabola row m ↔ padded cell m + 2; δq row k ↔ cell k + 1
            k = m + 2
            rk = k % 3
            for b in range(B):
                dq[rk, b] = _ppm_slope(q[k, b], q[k + 1, b], q[k + 2, b])
            r0, r1 = m % 3, (m + 1) % 3
            p = m % 2
            for b in range(B):
                ql[p, b], qr[p, b], q6[p, b] = _limited_parabola(
                    q[m, b], q[m + 1, b], q[m + 2, b], q[m + 3, b], q[m + 4, b], dq[r0, b],
                    dq[r1, b], dq[rk, b])
            if m >= 1:  # face m − 1 between the parabolas of rows m − 1 and m
                i, pl = m - 1, 1 - p
                for b in range(B):
                    f[i, b] = _ppm_face(c[i, b], ql[pl, b], qr[pl, b], q6[pl, b], ql[p, b],
                                        qr[p, b], q6[p, b])


@_jit
def _work(n, B):
    return (np.empty((n + 2, B)), np.empty((n + 2, B)), np.empty((n + 2, B)),
            np.empty((n + 4, B)))


@_jit
def _sweep(q, c, scheme, out, flux, keep_flux):
    """One flux-form step of ``q`` (A1, A2, n+2H, B) with Courant ``c`` (Ac, n+1, B): interiors
    into ``out`` (A1, A2, n, B) and, when ``keep_flux``, face fluxes into ``flux`` (A1, A2, n+1, B).

    Works block by block (one (A1, A2) block of rows at a time) with block-sized flux and PPM
    work rows, so no full-size temporary is allocated: on a VM, first-touching fresh pages of
    large temporaries cost as much as the arithmetic (``benchmarks/eulerian.py``). Lines along
    the last axis (B = 1) are transposed in blocks of A2 rows so that, like the other axis, the
    stencil runs along rows and the arithmetic vectorizes across them.
    """
    A1, A2, N, B = q.shape
    n = N - 2 * _H
    Ac = c.shape[0]
    transpose = B == 1 and A2 > 1
    W = A2 if transpose else B
    ql, qr, q6, dq = _work(n, W)
    fb = np.empty((n + 1, W))
    if transpose:
        qt = np.empty((N, A2))
        ct = np.empty((n + 1, A2))
        shared_c = Ac == A2  # the same Courant rows for every a1: transpose them once
        for a1 in range(A1):
            for a2 in range(A2):
                for k in range(N):
                    qt[k, a2] = q[a1, a2, k, 0]
            if a1 == 0 or not shared_c:
                for a2 in range(A2):
                    ca = (a1 * A2 + a2) % Ac
                    for k in range(n + 1):
                        ct[k, a2] = c[ca, k, 0]
            _rows_fluxes(qt, ct, scheme, fb, ql, qr, q6, dq)
            for a2 in range(A2):
                for i in range(n):
                    out[a1, a2, i, 0] = qt[_H + i, a2] - (fb[i + 1, a2] - fb[i, a2])
            if keep_flux:
                for a2 in range(A2):
                    for k in range(n + 1):
                        flux[a1, a2, k, 0] = fb[k, a2]
        return
    for a1 in range(A1):
        for a2 in range(A2):
            ca = (a1 * A2 + a2) % Ac
            qs = q[a1, a2]
            if B == 1:
                _line_fluxes(qs[:, 0], c[ca, :, 0], scheme, fb[:, 0], ql, qr, q6, dq)
            else:
                _rows_fluxes(qs, c[ca], scheme, fb, ql, qr, q6, dq)
            os_ = out[a1, a2]
            for i in range(n):
                for b in range(B):
                    os_[i, b] = qs[_H + i, b] - (fb[i + 1, b] - fb[i, b])
            if keep_flux:
                fs = flux[a1, a2]
                for k in range(n + 1):
                    for b in range(B):
                        fs[k, b] = fb[k, b]


def _no_flux():
    return np.empty((0, 0, 0, 0))


def face_fluxes(q, c, scheme):
    """Face fluxes (A1, A2, n+1, B) of ``q`` (A1, A2, n+2H, B) with Courant ``c`` (Ac, n+1, B)."""
    A1, A2, N, B = q.shape
    n = N - 2 * _H
    flux = np.empty((A1, A2, n + 1, B))
    _sweep(q, c, scheme, np.empty((A1, A2, n, B)), flux, True)
    return flux


def advect(q, c, scheme, out=None, keep_flux=True):
    """Updated interior (A1, A2, n, B) of one flux-form step (written into ``out`` when given)
    and the face fluxes (None unless ``keep_flux``)."""
    A1, A2, N, B = q.shape
    n = N - 2 * _H
    if out is None:
        out = np.empty((A1, A2, n, B))
    flux = np.empty((A1, A2, n + 1, B)) if keep_flux else _no_flux()
    _sweep(q, c, scheme, out, flux, keep_flux)
    return out, (flux if keep_flux else None)


@_jit
def _divergence(q, flux, out):
    """``out = q_interior − (F[i+1] − F[i])`` along axis 2."""
    A1, A2, n, B = out.shape
    for a1 in range(A1):
        for a2 in range(A2):
            qs = q[a1, a2]
            fs = flux[a1, a2]
            os_ = out[a1, a2]
            for i in range(n):
                for b in range(B):
                    os_[i, b] = qs[_H + i, b] - (fs[i + 1, b] - fs[i, b])


@_jit
def tag_fluxes(flux, q, tags, c):
    """Tag fluxes (G·A1, A2, n+1, B): ``F · tag_up / q_up`` (0 where q_up = 0).

    ``tags`` (G·A1, A2, n+2H, B) is the tag axis folded into the first leading axis of ``q``.
    """
    T1, A2, N, B = tags.shape
    A1 = q.shape[0]
    n = N - 2 * _H
    Ac = c.shape[0]
    out = np.empty((T1, A2, n + 1, B))
    for t1 in range(T1):
        a1 = t1 % A1
        for a2 in range(A2):
            ca = (a1 * A2 + a2) % Ac
            for i in range(n + 1):
                for b in range(B):
                    up = _H - 1 + i if c[ca, i, b] > 0.0 else _H + i
                    q_up = q[a1, a2, up, b]
                    share = flux[a1, a2, i, b] / q_up if q_up != 0.0 else 0.0
                    out[t1, a2, i, b] = share * tags[t1, a2, up, b]
    return out


@_jit
def advect_tags(flux, q, tags, c):
    """Updated tag interiors (G·A1, A2, n, B) from the total's face fluxes."""
    tflux = tag_fluxes(flux, q, tags, c)
    T1, A2, N, B = tags.shape
    out = np.empty((T1, A2, N - 2 * _H, B))
    _divergence(tags, tflux, out)
    return out


@_jit
def diffuse_horizontal(q, kx, ky, rx, ry, dx, dy, out):
    """FTCS step of ``q`` (A, ny+2, nx+2) into ``out`` (A, ny, nx); ``kx`` (Akx, ny, nx+1),
    ``ky`` (Aky, ny+1, nx); ``rx``, ``ry`` = Δt/Δx, Δt/Δy."""
    A, NY, NX = q.shape
    ny, nx = NY - 2, NX - 2
    fx = np.empty(nx + 1)
    fy_lo = np.empty(nx)
    fy_hi = np.empty(nx)
    for a in range(A):
        ax_ = a % kx.shape[0]
        ay = a % ky.shape[0]
        for i in range(nx):  # y-face flux below row 0
            fy_lo[i] = ky[ay, 0, i] * ((q[a, 1, i + 1] - q[a, 0, i + 1]) / dy)
        for j in range(ny):
            for i in range(nx + 1):
                fx[i] = kx[ax_, j, i] * ((q[a, j + 1, i + 1] - q[a, j + 1, i]) / dx)
            for i in range(nx):
                fy_hi[i] = ky[ay, j + 1, i] * ((q[a, j + 2, i + 1] - q[a, j + 1, i + 1]) / dy)
            for i in range(nx):
                out[a, j, i] = (q[a, j + 1, i + 1] + rx * (fx[i + 1] - fx[i])
                                + ry * (fy_hi[i] - fy_lo[i]))
            fy_lo, fy_hi = fy_hi, fy_lo
    return out


@_jit
def diffuse_vertical(q, kz, dz, dt, out):
    """Backward-Euler column step of ``q`` (P, nz, M) into ``out`` (same shape; may be ``q``),
    with ``kz`` (nz−1, Mk) reused cyclically over the flattened column index p·M + m.

    The matrix factors (Thomas forward sweep) depend on Kz only, so they are computed once per
    Kz column and reused for every species sharing it; the operations are those of the numpy
    kernel. Loops run along M (contiguous), so the layout (species, layer, y·x) of the Eulerian
    state is used in place.
    """
    P, nz, M = q.shape
    Mk = kz.shape[1]
    h_face = np.empty(nz - 1)  # interface spacing, mean of the two layers
    for k in range(nz - 1):
        h_face[k] = 0.5 * (dz[k + 1] + dz[k])
    a = np.empty((nz, Mk))  # a[k] at the face above layer k; a[nz-1] = 0 (model top)
    low = np.empty((nz, Mk))
    cp = np.empty((nz, Mk))
    den = np.empty((nz, Mk))
    for col in range(Mk):
        for k in range(nz - 1):
            a[k, col] = kz[k, col] / h_face[k]
        a[nz - 1, col] = 0.0
        for k in range(nz):
            lower = -dt * (a[k - 1, col] if k > 0 else 0.0) / dz[k]
            upper = -dt * a[k, col] / dz[k]
            diag = 1.0 - lower - upper
            denom = diag if k == 0 else diag - lower * cp[k - 1, col]
            low[k, col] = lower
            cp[k, col] = upper / denom
            den[k, col] = denom
    idx = np.empty(M, np.int64)
    dp = np.empty((nz, M))
    sol = np.empty((nz, M))
    for p in range(P):
        col = (p * M) % Mk
        for m in range(M):
            idx[m] = col
            col += 1
            if col == Mk:
                col = 0
        for m in range(M):
            dp[0, m] = q[p, 0, m] / den[0, idx[m]]
        for k in range(1, nz):
            for m in range(M):
                j = idx[m]
                dp[k, m] = (q[p, k, m] - low[k, j] * dp[k - 1, m]) / den[k, j]
        for m in range(M):
            sol[nz - 1, m] = dp[nz - 1, m]
        for k in range(nz - 2, -1, -1):
            for m in range(M):
                sol[k, m] = dp[k, m] - cp[k, idx[m]] * sol[k + 1, m]
        # interface fluxes in flux form (telescoping): Σ q Δz conserved to round-off
        for k in range(nz):
            for m in range(M):
                j = idx[m]
                above = dt * a[k, j] * (sol[k + 1, m] - sol[k, m]) if k < nz - 1 else 0.0
                below = dt * a[k - 1, j] * (sol[k, m] - sol[k - 1, m]) if k > 0 else 0.0
                out[p, k, m] = q[p, k, m] + (above - below) / dz[k]


def lines(a, axis: int):
    """View (or copy) of ``a`` as (A1, A2, N, B) around the negative ``axis``."""
    shape = a.shape
    ax = a.ndim + axis
    lead = shape[:ax]
    a2 = lead[-1] if lead else 1
    a1 = math.prod(lead[:-1]) if lead else 1
    return a.reshape(a1, a2, shape[ax], math.prod(shape[ax + 1:]))


def coefficient(c, out_shape, axis: int):
    """``c`` broadcast to the trailing dims of ``out_shape`` from its own first dim, as
    (Ac, N', B) contiguous for a kernel that reuses it cyclically over leading indices."""
    nd = max(np.ndim(c), -axis)
    tail = out_shape[len(out_shape) - nd:]
    cb = np.ascontiguousarray(np.broadcast_to(c, tail), dtype=float)
    ax = nd + axis
    return cb.reshape(math.prod(tail[:ax]), tail[ax], math.prod(tail[ax + 1:]))
