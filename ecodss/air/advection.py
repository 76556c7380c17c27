"""Finite-volume advection kernels: 1-D flux-form schemes, tag (source) fluxes, 2-D splitting.

Every scheme returns the *face fluxes* F (in units of q, already multiplied by Δt/Δx), so the update
``q_new = q − (F[i+1] − F[i])`` telescopes and conserves mass to round-off for any velocity field.

* ``"upwind"`` — donor cell (Courant, Isaacson & Rees 1952, Comm. Pure Appl. Math. 5:243).
* ``"vanleer"`` — MUSCL, piecewise-linear with van Leer's harmonic-mean limited slope
  (van Leer 1977, J. Comput. Phys. 23:276, scheme II; van Leer 1979, J. Comput. Phys. 32:101),
  flux = mean of the reconstruction over the swept volume (the ``(1 − C)`` Courant correction),
  second order in space and time, TVD for |C| ≤ 1 (Sweby 1984, SIAM J. Numer. Anal. 21:995).
* ``"ppm"`` — piecewise-parabolic method (Colella & Woodward 1984, J. Comput. Phys. 54:174,
  "CW84"): edge values Eqs. 1.6–1.8, monotonicity limiter Eq. 1.10, flux = mean of the parabola
  over the swept volume (Eq. 1.12).

Each kernel has a numpy reference implementation (``backend="numpy"``) and a compiled twin in
:mod:`ecodss.air._transport_numba` (``backend="numba"``; the default ``"auto"`` picks it when numba
imports) that evaluates the same formulas in the same order (tests hold them to 1e-12).

Conventions: ``q`` carries :data:`HALO` ghost cells on each side of the ``n`` interior cells along
``axis``; ``courant`` = u·Δt/Δx at the ``n + 1`` faces of the interior cells (face i lies between
interior cells i−1 and i; positive towards increasing index) and broadcasts against ``q``'s trailing
dimensions (it may omit leading ones, e.g. species and levels). Monotone for |C| ≤ 1; for
divergent flow the cell outflow sum must also be ≤ 1 (see :func:`max_courant`).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, OutOfRangeError, UnknownFieldError

#: Names of the available schemes.
SCHEMES = ("upwind", "vanleer", "ppm")
#: Ghost cells needed on each side by the widest scheme (upwind 1, van Leer 2, PPM 3).
HALO = 3
#: Ghost cells each scheme actually reads.
SCHEME_HALO = {"upwind": 1, "vanleer": 2, "ppm": 3}
#: Kernel implementations: compiled when numba imports ("auto"), compiled, or the numpy reference.
BACKENDS = ("auto", "numba", "numpy")


def compiled_kernels(backend: str, where: str):
    """The compiled kernel module for ``backend``, or None for the numpy reference."""
    if backend not in BACKENDS:
        raise UnknownFieldError(f"backend={backend!r} must be one of {BACKENDS}",
                                field="backend", where=where)
    if backend == "numpy":
        return None
    from . import _transport_numba as tn

    if not tn.AVAILABLE:
        if backend == "numba":
            raise ImportError("backend='numba' needs the numba package")
        return None
    return tn


def _fold_tags(tags, q4):
    """Tags (G, *q.shape) as (G·A1, A2, N, B) for the (A1, A2, N, B) view ``q4`` of the total."""
    return tags.reshape((tags.shape[0] * q4.shape[0],) + q4.shape[1:])


def _flux_shape(q, courant, ax, n):
    """Shape of the face fluxes, or None when ``courant`` would broadcast ``q`` itself (then only
    the numpy reference applies)."""
    shape = list(q.shape)
    shape[ax] = n + 1
    shape = tuple(shape)
    return shape if np.broadcast_shapes(shape, courant.shape) == shape else None


def _neg_axis(axis: int, ndim: int) -> int:
    """``axis`` as a negative index so that it addresses arrays with fewer leading dims too."""
    return axis - ndim if axis >= 0 else axis


def _take(a, start: int, length: int, axis: int):
    """``a[..., start:start + length, ...]`` along the (negative) ``axis``; a view."""
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, start + length)
    return a[tuple(idx)]


def _check_inputs(q, courant, scheme, axis):
    if scheme not in SCHEMES:
        raise ConfigError(f"advection scheme={scheme!r} must be one of {SCHEMES}")
    q = np.asarray(q, dtype=float)
    courant = np.asarray(courant, dtype=float)
    ax = _neg_axis(axis, q.ndim)
    n = q.shape[ax] - 2 * HALO
    if n < 1 or courant.ndim < -ax or courant.shape[ax] != n + 1:
        raise OutOfRangeError(
            f"courant needs n + 1 = {n + 1} faces along axis {axis} for q with {q.shape[ax]} "
            f"cells (n + 2·HALO), got shape {courant.shape}", field="courant",
            where="advection.face_fluxes")
    c_max = float(np.max(np.abs(courant))) if courant.size else 0.0
    if not np.isfinite(c_max) or c_max > 1.0 + 1e-12:
        raise OutOfRangeError(f"|courant| = {c_max:.6g} must be finite and ≤ 1 (use substeps())",
                              field="courant", where="advection.face_fluxes")
    return q, courant, ax, n


def _vanleer_slope(q_m, q_0, q_p):
    """Limited slope (per cell) ``2 Δ− Δ+ / (Δ− + Δ+)`` if Δ−Δ+ > 0 else 0 (van Leer 1977 Eq. 67)."""
    dm = q_0 - q_m
    dp = q_p - q_0
    prod = dm * dp
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(prod > 0.0, 2.0 * prod / (dm + dp), 0.0)
    return s


def _ppm_parabolas(q, ax, first: int, count: int):
    """CW84 limited parabola (qL, qR, q6) for padded cells ``first .. first+count-1`` along ``ax``.

    Needs cells ``first − 2 .. first + count + 1``. Edge values by Eq. 1.6 with the limited slopes
    δq of Eq. 1.8 (uniform grid form of Eq. 1.7), then the monotonicity limiter Eq. 1.10.
    """
    # limited slopes δq_j for j = first-1 .. first+count (count + 2 cells), Eq. 1.8
    qm = _take(q, first - 2, count + 2, ax)
    q0 = _take(q, first - 1, count + 2, ax)
    qp = _take(q, first, count + 2, ax)
    dm = q0 - qm
    dp = qp - q0
    d = 0.5 * (qp - qm)
    dq = np.where(dm * dp > 0.0,
                  np.sign(d) * np.minimum(np.abs(d), 2.0 * np.minimum(np.abs(dm), np.abs(dp))),
                  0.0)
    # edge values q_{j+1/2} for j = first-1 .. first+count-1 (count + 1 edges), Eq. 1.6
    edge = (_take(q0, 0, count + 1, ax) + 0.5 * _take(dp, 0, count + 1, ax)
            - (_take(dq, 1, count + 1, ax) - _take(dq, 0, count + 1, ax)) / 6.0)
    q_l = _take(edge, 0, count, ax)
    q_r = _take(edge, 1, count, ax)
    qc = _take(q, first, count, ax)
    # monotonicity limiter, Eq. 1.10
    extremum = (q_r - qc) * (qc - q_l) <= 0.0
    q_l = np.where(extremum, qc, q_l)
    q_r = np.where(extremum, qc, q_r)
    dql = q_r - q_l
    mid = qc - 0.5 * (q_l + q_r)
    over_l = dql * mid > dql * dql / 6.0
    over_r = -dql * dql / 6.0 > dql * mid
    q_l = np.where(over_l, 3.0 * qc - 2.0 * q_r, q_l)
    q_r = np.where(over_r & ~over_l, 3.0 * qc - 2.0 * q_l, q_r)
    q6 = 6.0 * (qc - 0.5 * (q_l + q_r))
    return q_l, q_r, q6


def face_fluxes(q, courant, scheme: str, axis: int = -1, backend: str = "auto"):
    """Face fluxes of a 1-D flux-form advection scheme along ``axis``.

    Parameters
    ----------
    q : array_like
        Cell averages, ``n + 2·HALO`` cells along ``axis`` (``HALO`` ghost cells each side,
        filled by the caller) [any unit].
    courant : array_like
        Courant numbers u·Δt/Δx at the ``n + 1`` faces of the interior cells, |C| ≤ 1 [-];
        broadcasts against ``q``'s trailing dimensions.
    scheme : {"upwind", "vanleer", "ppm"}
        Scheme name (see the module docstring for the sources).
    axis : int
        Advected axis.
    backend : {"auto", "numba", "numpy"}
        Compiled kernel (default when numba imports) or the numpy reference.

    Returns
    -------
    numpy.ndarray
        F, ``n + 1`` faces along ``axis`` [unit of q]: the amount crossing each face during the
        step (already × Δt/Δx); the interior update is ``q − (F[1:] − F[:-1])``.

    Notes
    -----
    With ``L``/``R`` the cells left/right of a face and ``C`` its Courant number:
    upwind ``F = C q_L`` (C > 0) or ``C q_R``; van Leer ``F = C (q_L + ½(1 − C) s_L)`` or
    ``C (q_R − ½(1 + C) s_R)`` with the harmonic slope s; PPM (CW84 Eq. 1.12, y = |C|)
    ``F = C [q_R,L − y/2 (Δq − (1 − 2y/3) q6)]`` from the left cell's parabola or
    ``C [q_L,R + y/2 (Δq + (1 − 2y/3) q6)]`` from the right cell's.
    """
    q, courant, ax, n = _check_inputs(q, courant, scheme, axis)
    tn = compiled_kernels(backend, "advection.face_fluxes")
    shape = _flux_shape(q, courant, ax, n)
    if tn is not None and shape is not None:
        flux = tn.face_fluxes(tn.lines(q, ax), tn.coefficient(courant, shape, ax),
                              tn.SCHEME_CODE[scheme])
        return flux.reshape(shape)
    h = HALO
    pos = courant > 0.0
    if scheme == "upwind":
        left = _take(q, h - 1, n + 1, ax)
        right = _take(q, h, n + 1, ax)
        return courant * np.where(pos, left, right)
    if scheme == "vanleer":
        # slopes of padded cells h-1 .. h+n (the L and R cells of all faces)
        s = _vanleer_slope(_take(q, h - 2, n + 2, ax), _take(q, h - 1, n + 2, ax),
                           _take(q, h, n + 2, ax))
        q_lr = _take(q, h - 1, n + 2, ax)
        from_left = _take(q_lr, 0, n + 1, ax) + 0.5 * (1.0 - courant) * _take(s, 0, n + 1, ax)
        from_right = _take(q_lr, 1, n + 1, ax) - 0.5 * (1.0 + courant) * _take(s, 1, n + 1, ax)
        return courant * np.where(pos, from_left, from_right)
    # PPM: parabolas of padded cells h-1 .. h+n
    q_l, q_r, q6 = _ppm_parabolas(q, ax, h - 1, n + 2)
    dq = q_r - q_l
    y = np.abs(courant)
    w = 1.0 - 2.0 * y / 3.0
    from_left = (_take(q_r, 0, n + 1, ax)
                 - 0.5 * y * (_take(dq, 0, n + 1, ax) - w * _take(q6, 0, n + 1, ax)))
    from_right = (_take(q_l, 1, n + 1, ax)
                  + 0.5 * y * (_take(dq, 1, n + 1, ax) + w * _take(q6, 1, n + 1, ax)))
    return courant * np.where(pos, from_left, from_right)


def advect_1d(q_padded, courant, scheme: str, axis: int = -1, backend: str = "auto",
              tags_padded=None, out=None):
    """One flux-form step along ``axis``: the updated ``n`` interior cells.

    Same arguments as :func:`face_fluxes`; returns ``q_int − (F[1:] − F[:-1])`` [unit of q].
    With ``tags_padded`` (tag axis 0, then the layout of ``q_padded``) the tags move with the
    total's fluxes (:func:`tag_fluxes`) and the result is the pair ``(q_new, tags_new)``.
    ``out`` (C-contiguous float64 of the result's shape) receives ``q_new`` when the compiled
    kernel runs (callers that step repeatedly reuse their buffers this way).
    """
    q, courant, ax, n = _check_inputs(q_padded, courant, scheme, axis)
    tn = compiled_kernels(backend, "advection.advect_1d")
    shape = _flux_shape(q, courant, ax, n)
    tags = None if tags_padded is None else np.asarray(tags_padded, dtype=float)
    if tn is not None and shape is not None and (tags is None or tags.shape[1:] == q.shape):
        q4 = tn.lines(q, ax)
        c3 = tn.coefficient(courant, shape, ax)
        out_shape = q.shape[:ax] + (n,) + q.shape[q.ndim + ax + 1:]
        out4 = None if out is None else tn.lines(out, ax)
        q_new, flux = tn.advect(q4, c3, tn.SCHEME_CODE[scheme], out4, tags is not None)
        q_new = q_new.reshape(out_shape)
        if tags is None:
            return q_new
        t4 = _fold_tags(tags, q4)
        t_new = tn.advect_tags(flux, q4, t4, c3)
        return q_new, t_new.reshape(tags.shape[:1] + out_shape)
    flux = face_fluxes(q, courant, scheme, axis=ax, backend="numpy")
    q_new = _take(q, HALO, n, ax) - np.diff(flux, axis=ax)
    if tags is None:
        return q_new
    tflux = tag_fluxes(flux, q, tags, courant, axis=ax, tag_axis=0, backend="numpy")
    return q_new, _take(tags, HALO, n, ax) - np.diff(tflux, axis=ax)


def tag_fluxes(F, q_padded, tags_padded, courant, axis: int = -1, tag_axis: int = 0,
               backend: str = "auto"):
    """Share the total's face fluxes among tags by the upwind cell's tag fractions.

    ``F_tag = F · tag_up / q_up`` (0 where ``q_up == 0``), upwind = the cell left of the face when
    C > 0, else the right one. Because Σ_tag tag_up = q_up, Σ_tag F_tag = F to round-off with
    every scheme (limiters included), so tagged fields always add up to the total; with
    monotone schemes each tag's outflow from a cell is at most its content, so tags stay ≥ 0.
    This is the flux-sharing form of source apportionment (e.g. Kwok et al. 2013, Atmos.
    Environ. 80:600, for the CMAQ-ISAM advection of tagged species).

    Parameters
    ----------
    F : array_like
        Total face fluxes from :func:`face_fluxes` (n + 1 along ``axis``) [unit of q].
    q_padded : array_like
        Total, padded as for :func:`face_fluxes` [unit of q].
    tags_padded : array_like
        Tagged parts, same layout as ``q_padded`` plus a tag axis ``tag_axis`` [unit of q].
    courant : array_like
        Face Courant numbers used for ``F`` [-].
    axis : int
        Advected axis of ``q_padded`` (negative values also address ``tags_padded``).
    tag_axis : int
        Tag axis of ``tags_padded``.
    backend : {"auto", "numba", "numpy"}
        Compiled kernel (default when numba imports) or the numpy reference.

    Returns
    -------
    numpy.ndarray
        Tag face fluxes, tag axis at ``tag_axis`` [unit of q].
    """
    q = np.asarray(q_padded, dtype=float)
    ax = _neg_axis(axis, q.ndim)
    tags = np.moveaxis(np.asarray(tags_padded, dtype=float), tag_axis, 0)
    n = q.shape[ax] - 2 * HALO
    courant = np.asarray(courant, dtype=float)
    tn = compiled_kernels(backend, "advection.tag_fluxes")
    shape = _flux_shape(q, courant, ax, n)
    if tn is not None and shape is not None and tags.shape[1:] == q.shape:
        flux = np.ascontiguousarray(np.broadcast_to(np.asarray(F, dtype=float), shape))
        q4 = tn.lines(q, ax)
        t4 = _fold_tags(tags, q4)
        tflux = tn.tag_fluxes(tn.lines(flux, ax), q4, t4, tn.coefficient(courant, shape, ax))
        return np.moveaxis(tflux.reshape(tags.shape[:1] + shape), 0, tag_axis)
    pos = courant > 0.0
    q_up = np.where(pos, _take(q, HALO - 1, n + 1, ax), _take(q, HALO, n + 1, ax))
    t_up = np.where(pos, _take(tags, HALO - 1, n + 1, ax), _take(tags, HALO, n + 1, ax))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(q_up != 0.0, np.asarray(F) / q_up, 0.0)
    return np.moveaxis(share * t_up, 0, tag_axis)


def advect_2d_split(q, cx, cy, scheme: str, step_index: int, bc: str = "periodic"):
    """One 2-D step by alternating dimensional splitting on a periodic domain.

    x then y on even ``step_index``, y then x on odd ones — the alternating ("Strang-like")
    sequence that cancels the leading splitting error over step pairs (Strang 1968, SIAM J.
    Numer. Anal. 5:506).

    Parameters
    ----------
    q : array_like
        Field (..., ny, nx) [any unit].
    cx, cy : array_like
        Face Courant numbers, (ny, nx + 1) and (ny + 1, nx) [-].
    scheme : {"upwind", "vanleer", "ppm"}
    step_index : int
        Step counter selecting the sweep order.
    bc : {"periodic"}
        Boundary condition (only periodic: ghosts by ``np.pad(mode="wrap")``).

    Returns
    -------
    numpy.ndarray
        Updated field, shape of ``q``.
    """
    if bc != "periodic":
        raise ConfigError(f"bc={bc!r}: advect_2d_split supports only 'periodic'")
    q = np.asarray(q, dtype=float)
    for ax in ((-1, -2) if step_index % 2 == 0 else (-2, -1)):
        pad = [(0, 0)] * q.ndim
        pad[ax] = (HALO, HALO)
        q = advect_1d(np.pad(q, pad, mode="wrap"), cx if ax == -1 else cy, scheme, axis=ax)
    return q


def max_courant(u, v, dx: float, dy: float, dt: float) -> float:
    """Largest Courant number of a split step, ``max(|u| Δt/Δx, |v| Δt/Δy)``.

    When face winds are averages (convex combinations) of cell-centre winds, this also bounds
    each cell's 1-D outflow Courant sum ``max(0, −C_w) + max(0, C_e)``, so ≤ 1 keeps flux-form
    donor-cell-based schemes stable and positive even in divergent flow (LeVeque 2002, *Finite
    Volume Methods for Hyperbolic Problems*, §4.4 and §9.5).

    Parameters
    ----------
    u, v : array_like
        Cell-centre (or face) wind components, any shape, or scalars [m/s].
    dx, dy : float
        Cell sizes [m].
    dt : float
        Time step [s].

    Returns
    -------
    float
        Courant number [-].
    """
    u_max = float(np.max(np.abs(np.asarray(u, dtype=float))))
    v_max = float(np.max(np.abs(np.asarray(v, dtype=float))))
    return max(u_max * dt / dx, v_max * dt / dy)


def substeps(u, v, dx: float, dy: float, dt_total: float, cfl: float = 0.9) -> int:
    """Number of equal sub-steps of ``dt_total`` [s] keeping :func:`max_courant` ≤ ``cfl``."""
    if not 0.0 < cfl <= 1.0:
        raise OutOfRangeError(f"cfl={cfl} must be in (0, 1]", field="cfl", where="substeps")
    c = max_courant(u, v, dx, dy, dt_total)
    if not np.isfinite(c):
        raise OutOfRangeError("wind gives a non-finite Courant number", field="wind",
                              where="substeps")
    return max(1, math.ceil(c / cfl * (1.0 - 1e-12)))
