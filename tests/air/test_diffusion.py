"""Diffusion kernels against the Gaussian solution σ² = σ0² + 2Kt (air_formulas.md §5.1),
conservation, positivity and an independent banded solve."""

import numpy as np
import pytest
from scipy.linalg import solve_banded

from ecodss.air import diffusion as dif
from ecodss.air.advection import compiled_kernels
from ecodss.errors import NegativeValueError, OutOfRangeError


def run_periodic(q, kx, ky, dt, dx, dy, steps):
    for _ in range(steps):
        q = dif.diffuse_horizontal(np.pad(q, [(0, 0)] * (q.ndim - 2) + [(1, 1), (1, 1)],
                                          mode="wrap"), kx, ky, dt, dx, dy)
    return q


def test_gaussian_spreads_as_sigma2_plus_2kt():
    dx, dy = 10.0, 20.0  # m
    kx, ky = 5.0, 12.0  # m²/s
    n = 200
    x = (np.arange(n) - n / 2 + 0.5) * dx
    y = (np.arange(n) - n / 2 + 0.5) * dy
    sx0, sy0 = 150.0, 300.0  # σ0 = 15 cells in each direction
    t_total = 2000.0  # s: σx² 22500 → 42500, σy² 90000 → 138000
    steps = dif.horizontal_substeps(kx, ky, t_total, dx, dy)
    dt = t_total / steps
    assert (kx / dx**2 + ky / dy**2) * dt <= 0.5
    q0 = np.exp(-0.5 * (x[None, :] ** 2 / sx0**2 + y[:, None] ** 2 / sy0**2))
    q = run_periodic(q0, kx, ky, dt, dx, dy, steps)
    m = q.sum()
    assert m == pytest.approx(q0.sum(), rel=1e-13)
    var_x = (q * x[None, :] ** 2).sum() / m
    var_y = (q * y[:, None] ** 2).sum() / m
    assert var_x == pytest.approx(sx0**2 + 2 * kx * t_total, rel=1e-3)
    assert var_y == pytest.approx(sy0**2 + 2 * ky * t_total, rel=1e-3)
    sx2, sy2 = sx0**2 + 2 * kx * t_total, sy0**2 + 2 * ky * t_total
    exact = sx0 * sy0 / np.sqrt(sx2 * sy2) * np.exp(-0.5 * (x[None, :] ** 2 / sx2
                                                            + y[:, None] ** 2 / sy2))
    assert np.abs(q - exact).max() <= 1e-3 * exact.max()


def test_horizontal_mass_conserved_with_variable_face_diffusivity():
    rng = np.random.default_rng(4)
    q = rng.random((3, 20, 25))
    kx = rng.uniform(0, 50, (20, 26))
    ky = rng.uniform(0, 50, (21, 25))
    kx[:, -1] = kx[:, 0]  # periodic: first and last faces coincide
    ky[-1, :] = ky[0, :]
    n = dif.horizontal_substeps(kx, ky, 600.0, 100.0, 100.0)
    out = run_periodic(q, kx, ky, 600.0 / n, 100.0, 100.0, 5 * n)
    np.testing.assert_allclose(out.sum(axis=(-1, -2)), q.sum(axis=(-1, -2)), rtol=1e-13)
    assert out.min() >= 0.0
    assert out.max() <= q.max() and out.min() >= q.min()  # maximum principle at the limit


def test_horizontal_substep_limit_is_honoured_and_tight():
    assert dif.horizontal_substeps(100.0, 100.0, 3600.0, 1000.0, 1000.0) == 2  # ν = 0.72
    for kx, ky, dt, dx, dy in [(100.0, 100.0, 3600.0, 1000.0, 1000.0),
                               (np.array([1.0, 75.0]), 3.0, 900.0, 50.0, 300.0)]:
        n = dif.horizontal_substeps(kx, ky, dt, dx, dy)
        nu = np.max(kx) / dx**2 + np.max(ky) / dy**2
        assert nu * dt / n <= 0.5 < nu * dt / max(n - 1, 1e-300)
    # K Δt/Δx² ≤ ¼ in 2-D with Δx = Δy, Kx = Ky
    n = dif.horizontal_substeps(10.0, 10.0, 100.0, 1.0, 1.0)
    assert 10.0 * 100.0 / n <= 0.25
    with pytest.raises(NegativeValueError, match="kx"):
        dif.horizontal_substeps(-1.0, 1.0, 1.0, 1.0, 1.0)


def test_beyond_the_limit_creates_negatives():
    # a checkerboard with ν = 0.6 > ½ overshoots: the limit is a real one
    q = np.indices((8, 8)).sum(axis=0) % 2 * 1.0
    out = dif.diffuse_horizontal(np.pad(q, 1, mode="wrap"), 0.3, 0.3, 1.0, 1.0, 1.0)
    assert out.min() < 0.0


# --- vertical ------------------------------------------------------------------------------------

def column_case(seed=5, nz=8, shape=(4, 6)):
    rng = np.random.default_rng(seed)
    dz = rng.uniform(20, 300, nz)
    q = rng.random((nz, *shape)) * (rng.random((nz, *shape)) > 0.2)
    kz = rng.uniform(0, 200, (nz - 1, *shape))
    return q, kz, dz


def test_vertical_matches_independent_banded_solve():
    q, kz, dz = column_case()
    dt = 1800.0
    out = dif.diffuse_vertical(q, kz, dz, dt)
    nz = len(dz)
    h = 0.5 * (dz[1:] + dz[:-1])
    for j, i in [(0, 0), (3, 5), (2, 1)]:
        a = kz[:, j, i] / h
        ab = np.zeros((3, nz))
        ab[0, 1:] = -dt * a / dz[:-1]  # upper diagonal
        ab[2, :-1] = -dt * a / dz[1:]  # lower diagonal
        ab[1] = 1.0 + dt * (np.r_[a, 0] + np.r_[0, a]) / dz
        np.testing.assert_allclose(out[:, j, i], solve_banded((1, 1), ab, q[:, j, i]),
                                   rtol=1e-12, atol=1e-15)


def test_vertical_conserves_and_stays_positive_for_any_step():
    q, kz, dz = column_case(seed=9)
    for dt in (1.0, 3600.0, 1e7):
        out = dif.diffuse_vertical(q, kz, dz, dt)
        col0 = np.tensordot(dz, q, axes=1)
        np.testing.assert_allclose(np.tensordot(dz, out, axes=1), col0, rtol=1e-13)
        assert out.min() >= 0.0
        assert out.max() <= q.max() * (1 + 1e-13)


def test_vertical_relaxes_to_well_mixed_and_zero_kz_is_identity():
    q, kz, dz = column_case(seed=2)
    kz = kz + 10.0  # no blocked interface
    out = q
    for _ in range(50):
        out = dif.diffuse_vertical(out, kz, dz, 1e5)
    mixed = np.tensordot(dz, q, axes=1) / dz.sum()
    np.testing.assert_allclose(out, np.broadcast_to(mixed, q.shape), rtol=1e-10)
    np.testing.assert_array_equal(dif.diffuse_vertical(q, np.zeros_like(kz), dz, 1e5), q)


def test_vertical_broadcasts_kz_over_species_like_the_driver():
    rng = np.random.default_rng(1)
    q = rng.random((5, 3, 4, 6))  # (Z, S, Y, X)
    kz = rng.uniform(1, 50, (4, 4, 6))
    dz = np.array([50.0, 100.0, 200.0, 400.0, 800.0])
    out = dif.diffuse_vertical(q, kz[:, None], dz, 900.0)
    for s in range(3):
        np.testing.assert_array_equal(out[:, s], dif.diffuse_vertical(q[:, s], kz, dz, 900.0))


def test_vertical_bad_inputs():
    q, kz, dz = column_case()
    with pytest.raises(OutOfRangeError, match="dz"):
        dif.diffuse_vertical(q, kz, dz[:-1], 10.0)
    with pytest.raises(OutOfRangeError, match="kz_faces"):
        dif.diffuse_vertical(q, kz[:-1], dz, 10.0)
    with pytest.raises(NegativeValueError, match="kz_faces"):
        dif.diffuse_vertical(q, -kz, dz, 10.0)


# --- compiled kernels == numpy reference ----------------------------------------------------------

needs_numba = pytest.mark.skipif(not compiled_kernels("auto", "test"),
                                 reason="numba not importable")


def rel_close(a, b, rtol=1e-12):
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= rtol * np.abs(b).max()


@needs_numba
@pytest.mark.parametrize(("q_shape", "kx", "ky"), [
    ((5, 3, 12, 9), 100.0, 100.0),  # the driver: (S, Z, Y+2, X+2), scalar K
    ((12, 9), 3.0, 7.5),
    ((4, 12, 9), "faces", "faces"),  # face arrays (ny, nx+1) / (ny+1, nx)
    ((2, 4, 12, 9), "full", "faces"),  # per-level face arrays for kx
])
def test_compiled_horizontal_matches_numpy(q_shape, kx, ky):
    rng = np.random.default_rng(8)
    q = rng.random(q_shape)
    ny, nx = q_shape[-2] - 2, q_shape[-1] - 2
    if kx == "faces":
        kx = rng.uniform(0, 50, (ny, nx + 1))
    elif kx == "full":
        kx = rng.uniform(0, 50, q_shape[:-2] + (ny, nx + 1))
    if ky == "faces":
        ky = rng.uniform(0, 50, (ny + 1, nx))
    args = (kx, ky, 30.0, 100.0, 120.0)
    ref = dif.diffuse_horizontal(q, *args, backend="numpy")
    rel_close(dif.diffuse_horizontal(q, *args, backend="numba"), ref)
    rel_close(dif.diffuse_horizontal(q[..., ::-1, :], *args, backend="numba"),
              dif.diffuse_horizontal(q[..., ::-1, :], *args, backend="numpy"))


@needs_numba
@pytest.mark.parametrize("layout", ["driver", "column_major", "per_species", "2d"])
def test_compiled_vertical_matches_numpy(layout):
    rng = np.random.default_rng(6)
    dz = np.array([50.0, 100.0, 250.0, 600.0])
    if layout == "driver":  # (Z, S, Y, X) view of (S, Z, Y, X), Kz (Z-1, 1, Y, X)
        q = np.moveaxis(rng.random((5, 4, 7, 9)), 1, 0)
        kz = rng.uniform(0, 80, (3, 1, 7, 9))
    elif layout == "column_major":
        q = rng.random((4, 3, 7, 9))
        kz = rng.uniform(0, 80, (3, 3, 7, 9))
    elif layout == "per_species":  # Kz varying over a middle axis, broadcast over the last
        q = rng.random((4, 3, 7, 9))
        kz = rng.uniform(0, 80, (3, 3, 7, 1))
    else:
        q = rng.random((4, 11))
        kz = rng.uniform(0, 80, (3, 11))
    for dt in (10.0, 3600.0, 1e6):
        rel_close(dif.diffuse_vertical(q, kz, dz, dt, backend="numba"),
                  dif.diffuse_vertical(q, kz, dz, dt, backend="numpy"))


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_vertical_along_another_axis_and_into_out(backend):
    """The driver's layout (species, z, y, x): diffusing along axis 1 equals moving the column
    to axis 0, and ``out`` (even the input itself) receives the same numbers."""
    rng = np.random.default_rng(3)
    q = rng.uniform(0, 50, (4, 3, 5, 6))
    kz = rng.uniform(0.1, 40, (2, 5, 6))
    dz = np.array([50.0, 150.0, 400.0])
    ref = np.moveaxis(dif.diffuse_vertical(np.moveaxis(q, 1, 0), kz[:, None], dz, 600.0,
                                           backend="numpy"), 0, 1)
    got = dif.diffuse_vertical(q, kz, dz, 600.0, backend=backend, axis=1)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    inplace = q.copy()
    res = dif.diffuse_vertical(inplace, kz, dz, 600.0, backend=backend, axis=1, out=inplace)
    assert res is inplace
    np.testing.assert_allclose(inplace, ref, rtol=1e-12, atol=0)
    # column sums Σ q Δz are conserved along the chosen axis
    np.testing.assert_allclose(np.einsum("szyx,z->syx", got, dz),
                               np.einsum("szyx,z->syx", q, dz), rtol=1e-12)


def test_horizontal_into_out_matches_fresh_result():
    rng = np.random.default_rng(4)
    q = rng.uniform(0, 10, (2, 3, 8, 9))
    ref = dif.diffuse_horizontal(q, 50.0, 80.0, 60.0, 1000.0, 1000.0)
    out = np.full((2, 3, 6, 7), np.nan)
    res = dif.diffuse_horizontal(q, 50.0, 80.0, 60.0, 1000.0, 1000.0, out=out)
    assert res is out
    np.testing.assert_array_equal(out, ref)
