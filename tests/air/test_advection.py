"""Advection kernels against exact solutions and the regression norms of
``shared/reference/air_formulas.md`` §5.2 (locally computed reference table; values copied below)."""

import numpy as np
import pytest

from ecodss.air import advection as adv
from ecodss.errors import ConfigError, OutOfRangeError, UnknownFieldError

H = adv.HALO

# §5.2, 1-D, N = 100, Courant 0.5, one period: Gaussian (L1, L2, L∞, peak), square (L1, L2, max)
TABLE_1D = {
    "upwind": ((5.18e-1, 4.04e-1, 4.21e-1, 0.576), (5.63e-1, 4.15e-1, 0.842)),
    "vanleer": ((5.23e-2, 6.16e-2, 9.29e-2, 0.903), (1.70e-1, 2.18e-1, 1.000)),
    "ppm": ((1.65e-2, 2.39e-2, 4.02e-2, 0.955), (9.71e-2, 1.67e-1, 1.000)),
}
# §5.2, 2-D solid-body rotation: (shape, scheme) → (L1, L2, L∞, max)
TABLE_2D = {
    ("cone", "vanleer"): (8.04e-2, 7.54e-2, 1.81e-1, 0.783),
    ("cone", "ppm"): (2.57e-2, 3.02e-2, 9.98e-2, 0.858),
    ("disk", "ppm"): (2.77e-1, 2.91e-1, 7.70e-1, 1.000),
}


def rel_norms(q, exact):
    """Relative norms ‖e‖/‖q_exact‖ (L1, L2, L∞) as defined in §5.2."""
    e = q - exact
    return (np.abs(e).sum() / np.abs(exact).sum(),
            np.sqrt((e**2).sum() / (exact**2).sum()),
            np.abs(e).max() / np.abs(exact).max())


def periodic_1d(q0, courant, scheme, steps):
    c = np.full(q0.shape[-1] + 1, courant)
    q = q0
    for _ in range(steps):
        q = adv.advect_1d(np.pad(q, H, mode="wrap"), c, scheme)
    return q


def gaussian_1d(n):
    x = np.arange(n) + 0.5
    return np.exp(-0.5 * ((x - n / 2) / (0.05 * n)) ** 2)


def square_1d(n):
    x = np.arange(n) + 0.5
    return (np.abs(x - n / 2) < 0.1 * n).astype(float)


@pytest.mark.parametrize("scheme", adv.SCHEMES)
def test_1d_gaussian_and_square_match_reference_norms(scheme):
    (g_l1, g_l2, g_linf, g_peak), (s_l1, s_l2, s_max) = TABLE_1D[scheme]
    q0 = gaussian_1d(100)
    q = periodic_1d(q0, 0.5, scheme, 200)
    np.testing.assert_allclose(rel_norms(q, q0), (g_l1, g_l2, g_linf), rtol=0.10)
    assert q.max() == pytest.approx(g_peak, rel=0.02)
    assert q.sum() == pytest.approx(q0.sum(), rel=1e-13)
    sq0 = square_1d(100)
    sq = periodic_1d(sq0, 0.5, scheme, 200)
    np.testing.assert_allclose(rel_norms(sq, sq0)[:2], (s_l1, s_l2), rtol=0.10)
    assert sq.max() == pytest.approx(s_max, rel=0.02)
    assert sq.min() >= -1e-14 and sq.max() <= 1.0 + 1e-14  # monotone: no new extrema


def test_upwind_peak_equals_modified_equation():
    # numerical diffusion K = uΔx(1 − C)/2 → σ² = 25 + (1 − C)·N·Δx² = 75 after one period
    q = periodic_1d(gaussian_1d(100), 0.5, "upwind", 200)
    assert q.max() == pytest.approx(5.0 / np.sqrt(25.0 + 50.0), abs=0.005)


@pytest.mark.parametrize(("scheme", "min_order"), [("vanleer", 1.8), ("ppm", 2.0)])
def test_observed_l1_convergence_order(scheme, min_order):
    errors = []
    for n in (200, 400):
        q0 = gaussian_1d(n)
        errors.append(rel_norms(periodic_1d(q0, 0.5, scheme, 2 * n), q0)[0])
    assert np.log2(errors[0] / errors[1]) >= min_order


@pytest.mark.parametrize("scheme", adv.SCHEMES)
@pytest.mark.parametrize("courant", [1.0, -1.0])
def test_unit_courant_is_an_exact_shift(scheme, courant):
    q0 = np.random.default_rng(1).random(30)
    q = periodic_1d(q0, courant, scheme, 7)
    np.testing.assert_allclose(q, np.roll(q0, int(7 * courant)), atol=1e-14)


@pytest.mark.parametrize("scheme", adv.SCHEMES)
def test_constant_field_is_preserved_in_uniform_flow(scheme):
    q = np.full((4, 20 + 2 * H), 3.7)
    out = adv.advect_1d(q, np.full(21, -0.63), scheme)
    np.testing.assert_allclose(out, 3.7, rtol=1e-15)


@pytest.mark.parametrize("scheme", adv.SCHEMES)
def test_axis_and_broadcast_courant(scheme):
    rng = np.random.default_rng(2)
    q = rng.random((3, 16 + 2 * H, 9))
    c = rng.uniform(-1, 1, (17, 9))  # omits the leading axis: broadcasts like the driver's
    along0 = adv.face_fluxes(q, c, scheme, axis=1)
    along_last = adv.face_fluxes(np.swapaxes(q, 1, 2), c.T, scheme, axis=-1)
    np.testing.assert_array_equal(along0, np.swapaxes(along_last, 1, 2))
    assert adv.face_fluxes(q, c, scheme, axis=-2).shape == (3, 17, 9)


def test_bad_inputs_raise_specific_errors():
    q = np.zeros(10 + 2 * H)
    with pytest.raises(OutOfRangeError, match="courant"):
        adv.face_fluxes(q, np.full(11, 1.2), "ppm")
    with pytest.raises(OutOfRangeError, match="courant"):
        adv.face_fluxes(q, np.full(10, 0.5), "ppm")
    with pytest.raises(OutOfRangeError, match="courant"):
        adv.face_fluxes(q, np.full(11, np.nan), "upwind")
    with pytest.raises(ConfigError, match="scheme"):
        adv.face_fluxes(q, np.full(11, 0.5), "lax-wendroff")
    with pytest.raises(ConfigError, match="periodic"):
        adv.advect_2d_split(np.zeros((4, 4)), np.zeros((4, 5)), np.zeros((5, 4)), "ppm", 0,
                            bc="open")


# --- 2-D solid-body rotation (Zalesak 1979; Crowley 1968) -------------------------------------

N2 = 100
STEPS = 628


def rotation_setup():
    """Cell centres at i + ½ on [0, 100]², rotation about (50, 50), one revolution in 628 steps."""
    x = np.arange(N2) + 0.5
    xx, yy = np.meshgrid(x, x)
    w = 2 * np.pi / STEPS  # ω Δt
    cx = np.broadcast_to(-w * (x[:, None] - 50.0), (N2, N2 + 1))  # u = −ω (y − 50) at x-faces
    cy = np.broadcast_to(w * (x[None, :] - 50.0), (N2 + 1, N2))  # v = ω (x − 50) at y-faces
    r = np.hypot(xx - 50.0, yy - 75.0)
    shapes = {
        "cone": np.maximum(0.0, 1.0 - r / 15.0),
        "disk": ((r < 15.0) & ~((np.abs(xx - 50.0) < 3.0) & (yy < 85.0))).astype(float),
    }
    return cx, cy, shapes


@pytest.mark.parametrize(("shape", "scheme"), list(TABLE_2D))
def test_solid_body_rotation(shape, scheme):
    cx, cy, shapes = rotation_setup()
    q0 = shapes[shape]
    q = q0
    for step in range(STEPS):
        q = adv.advect_2d_split(q, cx, cy, scheme, step)
    l1, l2, linf, qmax = TABLE_2D[shape, scheme]
    norms = rel_norms(q, q0)
    np.testing.assert_allclose(norms, (l1, l2, linf), rtol=0.10)
    assert norms[0] <= {("cone", "vanleer"): 0.09, ("cone", "ppm"): 0.03,
                        ("disk", "ppm"): 0.30}[shape, scheme]
    assert q.max() == pytest.approx(qmax, rel=0.02)
    assert q.min() >= -1e-14 and q.max() <= q0.max() + 1e-14
    assert abs(q.sum() / q0.sum() - 1.0) <= 1e-12


# --- tags ---------------------------------------------------------------------------------------

def advect_tagged_2d(q, tags, cx, cy, scheme, step):
    """One alternating split step of a total and its tags (tag axis 0), periodic."""
    for ax in ((-1, -2) if step % 2 == 0 else (-2, -1)):
        c = cx if ax == -1 else cy
        pad = [(0, 0)] * q.ndim
        pad[ax] = (H, H)
        qp = np.pad(q, pad, mode="wrap")
        tp = np.pad(tags, [(0, 0), *pad], mode="wrap")
        flux = adv.face_fluxes(qp, c, scheme, axis=ax)
        tflux = adv.tag_fluxes(flux, qp, tp, c, axis=ax, tag_axis=0)
        q = adv.advect_1d(qp, c, scheme, axis=ax)
        tags = np.take(tp, np.arange(H, tp.shape[ax] - H), axis=ax) - np.diff(tflux, axis=ax)
    return q, tags


@pytest.mark.parametrize("scheme", adv.SCHEMES)
def test_tags_sum_to_total_and_stay_nonnegative_in_divergent_flow(scheme):
    rng = np.random.default_rng(7)
    ny, nx, n_tags = 24, 30, 4
    q = rng.random((ny, nx)) * (rng.random((ny, nx)) > 0.3)  # zeros included
    frac = rng.random((n_tags, ny, nx))
    tags = q * frac / frac.sum(axis=0)
    # random, strongly divergent face Courant numbers; |C| ≤ ½ keeps each outflow sum ≤ 1
    cx = rng.uniform(-0.5, 0.5, (ny, nx + 1))
    cy = rng.uniform(-0.5, 0.5, (ny + 1, nx))
    cx[:, -1] = cx[:, 0]  # periodic: the first and last faces are the same face
    cy[-1, :] = cy[0, :]
    mass0 = q.sum()
    for step in range(150):
        q, tags = advect_tagged_2d(q, tags, cx, cy, scheme, step)
    assert abs(q.sum() / mass0 - 1.0) <= 1e-12
    assert np.abs(tags.sum(axis=0) - q).max() <= 1e-12 * q.max()
    assert tags.min() >= 0.0 and q.min() >= 0.0


@pytest.mark.parametrize("scheme", adv.SCHEMES)
def test_tag_fluxes_share_by_upwind_fraction(scheme):
    rng = np.random.default_rng(11)
    q = rng.random((5, 12 + 2 * H))
    q[:, 4] = 0.0
    tags = rng.random((3, 5, 12 + 2 * H))
    tags *= q / tags.sum(axis=0)
    c = rng.uniform(-1, 1, 13)
    flux = adv.face_fluxes(q, c, scheme)
    tflux = adv.tag_fluxes(flux, q, np.moveaxis(tags, 0, -2), c, axis=-1, tag_axis=-2)
    tflux = np.moveaxis(tflux, -2, 0)
    np.testing.assert_allclose(tflux.sum(axis=0), flux, rtol=1e-13, atol=1e-15)
    # face 3 sits between padded cells 5 and 6 (L = H − 1 + 3): check its upwind share directly
    up = 5 if c[3] > 0 else 6
    expect = np.where(q[:, up] > 0, flux[:, 3] * tags[:, :, up] / np.where(q[:, up] > 0,
                                                                          q[:, up], 1), 0)
    np.testing.assert_allclose(tflux[:, :, 3], expect, rtol=1e-14)


def test_substeps_keep_courant_below_cfl():
    u = np.array([[3.0, -12.0], [4.0, 0.5]])
    v = np.array([[1.0, 2.0], [-9.0, 0.0]])
    assert adv.max_courant(u, v, 1000.0, 2000.0, 600.0) == pytest.approx(12.0 * 0.6)
    n = adv.substeps(u, v, 1000.0, 2000.0, 3600.0, cfl=0.9)
    assert n == 48  # 12 m/s × 3600 s / 1000 m = 43.2 → ⌈43.2 / 0.9⌉
    assert adv.max_courant(u, v, 1000.0, 2000.0, 3600.0 / n) <= 0.9
    assert adv.max_courant(u, v, 1000.0, 2000.0, 3600.0 / (n - 1)) > 0.9
    assert adv.substeps(0.0, 0.0, 1000.0, 1000.0, 3600.0) == 1
    with pytest.raises(OutOfRangeError, match="cfl"):
        adv.substeps(u, v, 1000.0, 1000.0, 3600.0, cfl=1.5)


# --- compiled kernels == numpy reference ----------------------------------------------------------

needs_numba = pytest.mark.skipif(not adv.compiled_kernels("auto", "test"),
                                 reason="numba not importable")
# (q shape, courant shape, axis): the driver's x and y sweeps (q (S, Z, Y, X), courant (Y, X+1)
# on axis -1 and (Y+1, X) on axis -2), a 1-D line, a middle axis and a size-1 broadcast dim
LAYOUTS = [((4, 3, 9, 12 + 2 * H), (9, 13), -1), ((4, 3, 10 + 2 * H, 7), (11, 7), -2),
           ((15 + 2 * H,), (16,), -1), ((3, 16 + 2 * H, 9), (17, 9), 1),
           ((2, 8 + 2 * H, 5), (9, 1), -2)]


def rel_close(a, b, rtol=1e-12):
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= rtol * max(np.abs(b).max(), 1e-300)


@needs_numba
@pytest.mark.parametrize("scheme", adv.SCHEMES)
@pytest.mark.parametrize(("q_shape", "c_shape", "axis"), LAYOUTS)
def test_compiled_fluxes_match_numpy(scheme, q_shape, c_shape, axis):
    rng = np.random.default_rng(len(q_shape) + 10 * adv.SCHEMES.index(scheme))
    q = rng.random(q_shape) * (rng.random(q_shape) > 0.2)  # zeros and flat patches included
    c = rng.uniform(-1, 1, c_shape)
    ref = adv.face_fluxes(q, c, scheme, axis=axis, backend="numpy")
    rel_close(adv.face_fluxes(q, c, scheme, axis=axis, backend="numba"), ref)
    # non-contiguous input (a window of a larger array, as the driver's tiles pass)
    big = np.zeros(q_shape[:-1] + (q_shape[-1] + 5,))
    big[..., 2:2 + q_shape[-1]] = q
    rel_close(adv.face_fluxes(big[..., 2:2 + q_shape[-1]], c, scheme, axis=axis,
                              backend="numba"), ref)
    rel_close(adv.advect_1d(q, c, scheme, axis=axis, backend="numba"),
              adv.advect_1d(q, c, scheme, axis=axis, backend="numpy"))


@needs_numba
@pytest.mark.parametrize("scheme", adv.SCHEMES)
@pytest.mark.parametrize(("q_shape", "c_shape", "axis"), LAYOUTS)
def test_compiled_tag_fluxes_match_numpy(scheme, q_shape, c_shape, axis):
    rng = np.random.default_rng(3)
    tags = rng.random((3, *q_shape)) * (rng.random((3, *q_shape)) > 0.3)  # (G, ..., tags)
    q = tags.sum(axis=0)
    c = rng.uniform(-1, 1, c_shape)
    flux = adv.face_fluxes(q, c, scheme, axis=axis, backend="numpy")
    ref = adv.tag_fluxes(flux, q, tags, c, axis=axis, tag_axis=0, backend="numpy")
    rel_close(adv.tag_fluxes(flux, q, tags, c, axis=axis, tag_axis=0, backend="numba"), ref)
    moved = adv.tag_fluxes(flux, q, np.moveaxis(tags, 0, -1), c, axis=axis, tag_axis=-1,
                           backend="numba")
    rel_close(np.moveaxis(moved, -1, 0), ref)
    q_np, t_np = adv.advect_1d(q, c, scheme, axis=axis, backend="numpy", tags_padded=tags)
    q_nb, t_nb = adv.advect_1d(q, c, scheme, axis=axis, backend="numba", tags_padded=tags)
    rel_close(q_nb, q_np)
    rel_close(t_nb, t_np)
    np.testing.assert_allclose(t_nb.sum(axis=0), q_nb, rtol=1e-12, atol=1e-14)


def test_unknown_backend_is_rejected():
    with pytest.raises(UnknownFieldError, match="backend"):
        adv.face_fluxes(np.zeros(4 + 2 * H), np.zeros(5), "ppm", backend="fortran")


@pytest.mark.parametrize("scheme", adv.SCHEMES)
@pytest.mark.parametrize("axis", [-1, -2])
def test_advect_into_out_matches_numpy(scheme, axis):
    """The compiled step written into a caller's buffer equals the numpy reference."""
    rng = np.random.default_rng(8)
    q = rng.uniform(0, 10, (2, 3, 14, 15))
    n = q.shape[axis] - 2 * H
    c_shape = (14, n + 1) if axis == -1 else (n + 1, 15)
    c = rng.uniform(-0.9, 0.9, c_shape)
    ref = adv.advect_1d(q, c, scheme, axis=axis, backend="numpy")
    out = np.full(ref.shape, np.nan)
    got = adv.advect_1d(q, c, scheme, axis=axis, out=out)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got, out)
