"""Turbulent diffusion kernels: explicit horizontal, implicit vertical, a simple Kz profile.

Both solvers are in conservative flux form: the flux through a face is ``−K ∂q/∂n`` by the
second-order central difference, and a cell changes by the difference of its face fluxes, so
mass moves between cells and is never created (Patankar 1980, *Numerical Heat Transfer and Fluid
Flow*, §§4.2–4.3). Concentrations are per unit volume; layer thicknesses weight the vertical
budget Σ q·Δz.

Each solver has a numpy reference (``backend="numpy"``) and a compiled twin in
:mod:`ecodss.air._transport_numba` (the default ``"auto"`` when numba imports), the same
operations in the same order (tests hold them to 1e-12).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import OutOfRangeError
from ..validation import check_nonnegative
from .advection import compiled_kernels

#: Explicit 2-D stability/positivity limit of Kx Δt/Δx² + Ky Δt/Δy² (½, i.e. K Δt/Δx² ≤ ¼ for
#: Δx = Δy and Kx = Ky): Morton & Mayers (2005) *Numerical Solution of Partial Differential
#: Equations*, 2nd ed., §3.2 (explicit scheme in two dimensions).
EXPLICIT_LIMIT_2D = 0.5


def _interior_faces(k, shape_faces):
    """Face diffusivity broadcast to ``shape_faces`` (scalar or array) [m²/s]."""
    return np.broadcast_to(np.asarray(k, dtype=float), shape_faces)


def diffuse_horizontal(q_padded, kx, ky, dt: float, dx: float, dy: float,
                       backend: str = "auto", out=None):
    """One explicit (forward-Euler, central-difference) horizontal diffusion step.

    Parameters
    ----------
    q_padded : array_like
        Field (..., ny + 2, nx + 2) with (at least) one ghost ring on the last two axes, filled
        by the caller [any unit per volume].
    kx : float or array_like
        Diffusivity at the x-faces of the result cells, scalar or broadcastable to
        (..., ny, nx + 1) [m²/s].
    ky : float or array_like
        Diffusivity at the y-faces, scalar or broadcastable to (..., ny + 1, nx) [m²/s].
    dt : float
        Time step [s]; keep ``(Kx/Δx² + Ky/Δy²) Δt ≤ ½`` (:func:`horizontal_substeps`).
    dx, dy : float
        Cell sizes [m].
    backend : {"auto", "numba", "numpy"}
        Compiled kernel (default when numba imports) or the numpy reference.
    out : numpy.ndarray, optional
        C-contiguous float64 array of the result's shape that receives it (compiled kernel).

    Returns
    -------
    numpy.ndarray
        The field one ring smaller on the last two axes (the interior when the padding is one
        ghost cell) [unit of q].

    Notes
    -----
    ``q_new = q + Δt/Δx (Fx_w − Fx_e) + Δt/Δy (Fy_s − Fy_n)``, ``Fx = −Kx (q_E − q_W)/Δx`` at each
    face (FTCS in flux form; Morton & Mayers 2005 §3.2). Conservative: the face fluxes telescope.
    """
    q = np.asarray(q_padded, dtype=float)
    ny, nx = q.shape[-2] - 2, q.shape[-1] - 2
    if ny < 1 or nx < 1:
        raise OutOfRangeError(f"q_padded needs ≥ 3 cells on the last two axes, got {q.shape}",
                              field="q_padded", where="diffuse_horizontal")
    tn = compiled_kernels(backend, "diffuse_horizontal")
    lead = q.shape[:-2]
    x_faces, y_faces = lead + (ny, nx + 1), lead + (ny + 1, nx)
    if (tn is not None and q.size and np.broadcast_shapes(x_faces, np.shape(kx)) == x_faces
            and np.broadcast_shapes(y_faces, np.shape(ky)) == y_faces):
        res = np.empty(lead + (ny, nx)) if out is None else out
        tn.diffuse_horizontal(q.reshape(-1, ny + 2, nx + 2), tn.coefficient(kx, x_faces, -2),
                              tn.coefficient(ky, y_faces, -2), dt / dx, dt / dy, float(dx),
                              float(dy), res.reshape(-1, ny, nx))
        return res
    rows = q[..., 1:-1, :]  # (.., ny, nx + 2)
    cols = q[..., :, 1:-1]  # (.., ny + 2, nx)
    gx = np.diff(rows, axis=-1) / dx  # gradient at x-faces (.., ny, nx + 1)
    gy = np.diff(cols, axis=-2) / dy  # (.., ny + 1, nx)
    fx = _interior_faces(kx, gx.shape) * gx  # −flux
    fy = _interior_faces(ky, gy.shape) * gy
    return (q[..., 1:-1, 1:-1] + (dt / dx) * np.diff(fx, axis=-1)
            + (dt / dy) * np.diff(fy, axis=-2))


def horizontal_substeps(kx, ky, dt: float, dx: float, dy: float,
                        limit: float = EXPLICIT_LIMIT_2D) -> int:
    """Number of equal sub-steps of ``dt`` keeping ``(Kx/Δx² + Ky/Δy²) Δt_sub ≤ limit``.

    Parameters
    ----------
    kx, ky : float or array_like
        Horizontal diffusivities [m²/s] (the largest sum counts).
    dt : float
        Total time step [s].
    dx, dy : float
        Cell sizes [m].
    limit : float
        Explicit limit, default ½ (:data:`EXPLICIT_LIMIT_2D`: stability and positivity of the
        2-D FTCS scheme, Morton & Mayers 2005 §3.2).

    Returns
    -------
    int
        Sub-steps (≥ 1).
    """
    check_nonnegative(np.ravel(kx), "kx", kind="face")
    check_nonnegative(np.ravel(ky), "ky", kind="face")
    # the largest of each (face arrays differ in shape): an upper bound of the per-cell sum
    nu = (float(np.max(kx)) / dx**2 + float(np.max(ky)) / dy**2) * dt
    return max(1, math.ceil(nu / limit * (1.0 - 1e-12)))


def diffuse_vertical(q, kz_faces, dz, dt: float, backend: str = "auto", axis: int = 0,
                     out=None):
    """One backward-Euler vertical diffusion step with zero-flux top and bottom.

    Parameters
    ----------
    q : array_like
        Concentrations (nz, ...) with the column on axis 0, bottom layer first [unit per volume].
    kz_faces : array_like
        Kz at the nz − 1 internal interfaces, (nz − 1, ...) broadcastable against ``q[1:]``
        [m²/s].
    dz : array_like
        Layer thicknesses (nz,) [m].
    dt : float
        Time step [s]; any length (unconditionally stable).
    backend : {"auto", "numba", "numpy"}
        Compiled kernel (default when numba imports) or the numpy reference.
    axis : int
        Axis of ``q`` holding the column (default 0); ``kz_faces`` keeps its interfaces on axis 0
        and broadcasts against the axes after ``axis``.
    out : numpy.ndarray, optional
        C-contiguous float64 array shaped like ``q`` (it may be ``q`` itself) that receives the
        result (compiled kernel, ``kz_faces`` not broadcasting ``q`` to a larger shape).

    Returns
    -------
    numpy.ndarray
        Updated concentrations, shape of ``q`` broadcast with ``kz_faces`` [unit of q].

    Notes
    -----
    ``Δz_k (q_k' − q_k)/Δt = a_{k+½}(q'_{k+1} − q'_k) − a_{k−½}(q'_k − q'_{k−1})``, with
    ``a = Kz / Δz_{k±½}`` (Δz at the interface = mean of the two layers) and ``a = 0`` at the
    ground and the model top (deposition is applied elsewhere). Backward Euler rather than
    Crank–Nicolson: its matrix is a diagonally dominant M-matrix whose inverse is non-negative,
    so the step never creates negative values for any Δt, whereas Crank–Nicolson's explicit half
    does once Kz Δt/Δz² > 1 (Morton & Mayers 2005 §2.11 on the maximum principle). The
    tridiagonal system is solved by the Thomas algorithm (Press et al. 2007, *Numerical
    Recipes*, 3rd ed., §2.4), vectorized over all columns, looping over the layers only. The
    interface fluxes of that solution are then applied in flux form, so the weighted column sum
    Σ q Δz is conserved to round-off for any Δt.
    """
    q = np.asarray(q, dtype=float)
    dz = np.asarray(dz, dtype=float)
    if not -q.ndim <= axis < q.ndim:
        raise OutOfRangeError(f"axis={axis} out of range for q with {q.ndim} dims", field="axis",
                              where="diffuse_vertical")
    ax = axis % q.ndim
    nz = q.shape[ax]
    if dz.shape != (nz,):
        raise OutOfRangeError(f"dz shape {dz.shape} must be ({nz},)", field="dz",
                              where="diffuse_vertical")
    check_nonnegative(dz, "dz", kind="layer")
    if nz == 1:
        return q.copy()
    kz = np.asarray(kz_faces, dtype=float)
    if kz.shape[:1] != (nz - 1,):
        raise OutOfRangeError(f"kz_faces needs nz - 1 = {nz - 1} interfaces on axis 0, got "
                              f"{kz.shape}", field="kz_faces", where="diffuse_vertical")
    check_nonnegative(kz, "kz_faces", kind="interface")
    tn = compiled_kernels(backend, "diffuse_vertical")
    rest = q.shape[ax + 1:]
    if ax == 0:  # Kz may broadcast q to more columns
        q = np.broadcast_to(q, np.broadcast_shapes(q.shape, (nz,) + kz.shape[1:]))
        rest = q.shape[1:]
    elif tn is None or np.broadcast_shapes(rest, kz.shape[1:]) != rest:
        moved = diffuse_vertical(np.moveaxis(q, ax, 0),
                                 kz.reshape(kz.shape[:1] + (1,) * ax + kz.shape[1:]), dz, dt,
                                 backend)
        res = np.moveaxis(moved, 0, ax)
        if out is None:
            return res
        out[...] = res
        return out
    if tn is not None and q.size:
        P, M = math.prod(q.shape[:ax]), math.prod(rest)
        # Kz over the columns, reused cyclically: drop its leading broadcast (size-1) dims
        k_rest = kz.shape[1:]
        while k_rest and k_rest[0] == 1:
            k_rest = k_rest[1:]
        tail = rest[len(rest) - len(k_rest):]
        k2 = np.ascontiguousarray(np.broadcast_to(kz.reshape((nz - 1,) + k_rest),
                                                  (nz - 1,) + tail)).reshape(nz - 1, -1)
        res = np.empty(q.shape) if out is None else out
        tn.diffuse_vertical(np.ascontiguousarray(q).reshape(P, nz, M), k2, dz, float(dt),
                            res.reshape(P, nz, M))
        return res
    expand = (slice(None),) + (None,) * (max(q.ndim, kz.ndim) - 1)
    dzb = dz[expand]
    a = kz / (0.5 * (dz[1:] + dz[:-1]))[expand]  # (nz-1, ...) [m/s]
    shape = np.broadcast_shapes(q.shape, (nz,) + kz.shape[1:])
    zero = np.zeros((1,) + shape[1:])
    a_lo = np.concatenate([zero, np.broadcast_to(a, (nz - 1,) + shape[1:])])  # face below k
    a_hi = np.concatenate([np.broadcast_to(a, (nz - 1,) + shape[1:]), zero])  # face above k
    lower = -dt * a_lo / dzb
    upper = -dt * a_hi / dzb
    diag = 1.0 - lower - upper
    rhs = np.broadcast_to(q, shape)
    # Thomas algorithm: forward elimination, back substitution (layers only)
    c_prime = np.empty(shape)
    d_prime = np.empty(shape)
    c_prime[0] = upper[0] / diag[0]
    d_prime[0] = rhs[0] / diag[0]
    for k in range(1, nz):
        denom = diag[k] - lower[k] * c_prime[k - 1]
        c_prime[k] = upper[k] / denom
        d_prime[k] = (rhs[k] - lower[k] * d_prime[k - 1]) / denom
    sol = np.empty(shape)
    sol[-1] = d_prime[-1]
    for k in range(nz - 2, -1, -1):
        sol[k] = d_prime[k] - c_prime[k] * sol[k + 1]
    # re-apply the implicit interface fluxes in flux form: telescoping, so Σ q Δz is conserved to
    # round-off even when Δt·Kz/Δz² ≫ 1 amplifies the solver residual
    flux = dt * np.broadcast_to(a, (nz - 1,) + shape[1:]) * np.diff(sol, axis=0)  # [m]·q
    res = rhs + (np.concatenate([flux, zero]) - np.concatenate([zero, flux])) / dzb
    if out is None:
        return res
    out[...] = res
    return out

