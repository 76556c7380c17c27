"""Streeter–Phelps and 1-D advection–dispersion against independent mpmath references."""

import mpmath as mp
import numpy as np
import pytest
import xarray as xr

from ecodss.errors import NegativeValueError, NonFiniteValueError, OutOfRangeError
from ecodss.water.analytic import (
    ade_slug,
    critical_point,
    ogata_banks,
    streeter_phelps,
    streeter_phelps_chain,
    van_genuchten_alves,
)

mp.mp.dps = 60
RTOL = 1e-9


def sp_ref(L0, D0, kd, kr, ka, t):
    """Textbook Streeter–Phelps (Chapra 1997 eqs. 21.7, 21.12, 21.14) in 60-digit arithmetic."""
    L0, D0, kd, kr, ka, t = map(mp.mpf, (L0, D0, kd, kr, ka, t))
    L = L0 * mp.exp(-kr * t)
    if ka == kr:
        D = D0 * mp.exp(-ka * t) + kd * t * L0 * mp.exp(-ka * t)
    else:
        D = D0 * mp.exp(-ka * t) + kd * L0 / (ka - kr) * (mp.exp(-kr * t) - mp.exp(-ka * t))
    return L, D


def cp_ref(L0, D0, kd, kr, ka):
    """Critical point by root-finding dD/dt = kd L - ka D = 0 in mpmath (not the closed form)."""
    def slope(t):
        L, D = sp_ref(L0, D0, kd, kr, ka, t)
        return mp.mpf(kd) * L - mp.mpf(ka) * D
    lo, hi = mp.mpf(0), mp.mpf(200)  # slope > 0 at 0 and < 0 at 200 d for the cases used
    for _ in range(200):  # plain bisection, 200 halvings of 200 d
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    t_c = (lo + hi) / 2
    return t_c, sp_ref(L0, D0, kd, kr, ka, t_c)[1]


CASES = [  # L0, D0, kd, kr, ka, t
    (10.0, 1.0, 0.3, 0.35, 0.6, 2.0),
    (25.0, 0.5, 0.5, 0.5, 0.5, 3.0),          # ka = kr exactly
    (25.0, 0.5, 0.5, 0.5, 0.5 + 1e-10, 1.0),  # |ka - kr| t = 1e-10
    (25.0, 0.5, 0.5, 0.7, 0.7 - 3e-11, 3.3),  # ka < kr by 1e-10 / t
    (25.0, 0.5, 0.4, 0.9, 0.2, 5.0),          # ka < kr
    (8.0, 2.0, 0.2, 0.25, 12.0, 40.0),        # fast reaeration, long time
    (8.0, 0.0, 0.2, 0.2, 1e-12, 0.7),         # almost no reaeration
]


@pytest.mark.parametrize("case", CASES)
def test_streeter_phelps_matches_mpmath(case):
    L, D = streeter_phelps(*case)
    L_ref, D_ref = sp_ref(*case)
    assert float(L) == pytest.approx(float(L_ref), rel=RTOL, abs=0)
    assert float(D) == pytest.approx(float(D_ref), rel=RTOL, abs=0)


def test_streeter_phelps_near_equal_rates_is_full_precision():
    """The naive formula loses ~all digits at |ka - kr| t = 1e-10; ours keeps 1e-12."""
    t = np.array([0.5, 1.0, 2.0, 7.0])
    kr = 0.45
    for dk in (1e-10 / t, -1e-10 / t, 1e-13 / t):
        ka = kr + dk
        _, D = streeter_phelps(12.0, 1.2, 0.4, kr, ka, t)
        ref = [float(sp_ref(12.0, 1.2, 0.4, kr, a, ti)[1]) for a, ti in zip(ka, t, strict=True)]
        np.testing.assert_allclose(D, ref, rtol=1e-12)


@pytest.mark.parametrize("case", [c[:5] for c in CASES[:6]])
def test_critical_point_matches_root_of_dDdt(case):
    t_c, D_c = critical_point(*case)
    t_ref, D_ref = cp_ref(*case)
    assert float(t_c) == pytest.approx(float(t_ref), rel=RTOL)
    assert float(D_c) == pytest.approx(float(D_ref), rel=RTOL)


def test_critical_point_equal_rates_closed_form():
    # Chapra eq. 21.17: ka = kr = k: t_c = 1/k - D0/(kd L0)
    t_c, D_c = critical_point(20.0, 1.0, 0.3, 0.4, 0.4)
    assert float(t_c) == pytest.approx(1 / 0.4 - 1.0 / (0.3 * 20.0), rel=1e-15)
    assert float(D_c) == pytest.approx(0.3 / 0.4 * 20.0 * np.exp(-0.4 * float(t_c)), rel=1e-14)


def test_critical_point_near_equal_rates_continuous():
    t_eq, d_eq = critical_point(20.0, 1.0, 0.3, 0.4, 0.4)
    t_near, d_near = critical_point(20.0, 1.0, 0.3, 0.4, 0.4 + 1e-10)
    t_ref, d_ref = cp_ref(20.0, 1.0, 0.3, 0.4, 0.4 + 1e-10)
    assert float(t_near) == pytest.approx(float(t_ref), rel=RTOL)
    assert float(t_near) == pytest.approx(float(t_eq), rel=1e-8)


def test_critical_point_monotone_decline_returns_start():
    # kd L0 <= ka D0: deficit falls from t = 0
    t_c, D_c = critical_point(np.array([2.0, 20.0]), 4.0, 0.3, 0.3, 0.8)
    assert t_c[0] == 0.0 and D_c[0] == 4.0
    assert t_c[1] > 0.0


def test_chain_without_inflows_equals_single_reach():
    rates = (0.3, 0.4, 0.7)
    res = streeter_phelps_chain(3.0, 15.0, 1.0, [0.8, 1.7], *rates)
    L, D = streeter_phelps(15.0, 1.0, *rates, 2.5)
    assert res.L_end[-1] == pytest.approx(float(L), rel=1e-13)
    assert res.D_end[-1] == pytest.approx(float(D), rel=1e-13)
    assert res.flow.tolist() == [3.0, 3.0]


def test_chain_flow_weighted_mixing_and_withdrawal():
    res = streeter_phelps_chain(4.0, 2.0, 0.5, [1.0, 1.0], 0.3, 0.3, 0.6,
                                inflow=[1.0, 0.0], inflow_L=[42.0, 0.0], inflow_D=[3.0, 0.0],
                                withdrawal=[2.0, 0.0])
    assert res.L_head[0] == pytest.approx((4 * 2.0 + 1 * 42.0) / 5.0, rel=1e-15)
    assert res.D_head[0] == pytest.approx((4 * 0.5 + 1 * 3.0) / 5.0, rel=1e-15)
    assert res.flow[0] == pytest.approx(3.0)  # withdrawal leaves the concentration unchanged
    t_c, D_c = critical_point(10.0, 1.0, 0.3, 0.3, 0.6)
    assert float(t_c) < 1.0 or res.D_max[0] >= res.D_end[0]
    # the chain's D_max is never below any profile point
    assert np.all(res.D_max[:, None] >= res.D_profile - 1e-12)


def test_chain_vectorized_over_scenarios_equals_loop():
    q0 = np.array([2.0, 5.0, 9.0])
    ka = np.array([[0.5, 0.9, 1.3], [0.6, 0.6, 0.6]])  # (reach, scenario)
    kw = dict(inflow=[0.7, 0.2], inflow_L=[60.0, 20.0], inflow_D=[4.0, 2.0])
    res = streeter_phelps_chain(q0, 3.0, 0.4, [0.6, 1.4], 0.35, 0.4, ka, **kw)
    for j in range(3):
        one = streeter_phelps_chain(q0[j], 3.0, 0.4, [0.6, 1.4], 0.35, 0.4, ka[:, j], **kw)
        np.testing.assert_allclose(res.D_profile[:, :, j], one.D_profile, rtol=1e-14)
        np.testing.assert_allclose(res.D_max[:, j], one.D_max, rtol=1e-14)


def vga_ref(x, t, u, E, k):
    x, t, u, E, k = map(mp.mpf, (x, t, u, E, k))
    w = mp.sqrt(u * u + 4 * k * E)
    r = 2 * mp.sqrt(E * t)
    return (mp.exp((u - w) * x / (2 * E)) * mp.erfc((x - w * t) / r)
            + mp.exp((u + w) * x / (2 * E)) * mp.erfc((x + w * t) / r)) / 2


ADE_CASES = [  # x [m], t [s], U [m/s], E [m2/s], k [1/s]
    (100.0, 200.0, 0.5, 5.0, 0.0),
    (100.0, 50.0, 0.5, 5.0, 0.0),          # front far from x
    (2000.0, 4000.0, 0.5, 30.0, 2e-5),
    (1.0e4, 1.0e4, 1.0, 0.01, 0.0),        # Peclet 1e6: naive exp(Ux/E) overflows
    (1.0e4, 9.9e3, 1.0, 0.01, 1e-5),       # Peclet 1e6 with decay, ahead of the front
    (5.0e4, 4.0e4, 1.2, 10.0, 3e-6),
    (300.0, 1.0e5, 0.0, 2.0, 0.0),         # pure diffusion
]


@pytest.mark.parametrize("case", ADE_CASES)
def test_van_genuchten_alves_matches_mpmath(case):
    x, t, u, E, k = case
    got = van_genuchten_alves(x, t, u, E, k, c0=1.0)
    ref = vga_ref(*case)
    assert float(got) == pytest.approx(float(ref), rel=RTOL, abs=1e-300)
    if k == 0.0:
        assert float(ogata_banks(x, t, u, E)) == pytest.approx(float(ref), rel=RTOL, abs=1e-300)


def test_van_genuchten_alves_solves_the_pde_and_boundary_conditions():
    u, E, k = mp.mpf("0.4"), mp.mpf("3.0"), mp.mpf("1e-4")

    def c(x, t):
        w = mp.sqrt(u * u + 4 * k * E)
        r = 2 * mp.sqrt(E * t)
        return (mp.exp((u - w) * x / (2 * E)) * mp.erfc((x - w * t) / r)
                + mp.exp((u + w) * x / (2 * E)) * mp.erfc((x + w * t) / r)) / 2

    x0, t0 = mp.mpf(150), mp.mpf(500)
    resid = (mp.diff(lambda t: c(x0, t), t0) - E * mp.diff(lambda x: c(x, t0), x0, 2)
             + u * mp.diff(lambda x: c(x, t0), x0) + k * c(x0, t0))
    assert abs(resid) < mp.mpf(10) ** -30
    assert float(van_genuchten_alves(0.0, 500.0, 0.4, 3.0, 1e-4)) == pytest.approx(1.0, rel=1e-14)
    # long-time limit: steady exponential profile exp((U - W) x / (2E))
    w = np.sqrt(0.4**2 + 4 * 1e-4 * 3.0)
    steady = np.exp((0.4 - w) * 150.0 / (2 * 3.0))
    assert float(van_genuchten_alves(150.0, 1e7, 0.4, 3.0, 1e-4)) == pytest.approx(steady, 1e-12)


@pytest.mark.parametrize("case", [(250.0, 300.0, 0.8, 4.0, 1e-4), (1e4, 1e4, 1.0, 0.01, 0.0),
                                  (-30.0, 20.0, 0.5, 1.0, 0.0), (1e4, 9.0e3, 1.0, 0.5, 1e-5)])
def test_slug_matches_mpmath(case):
    x, t, u, E, k = case
    M, A = 1.0e6, 35.0
    ref = M / (A * mp.sqrt(4 * mp.pi * E * t)) * mp.exp(-(mp.mpf(x) - u * mp.mpf(t)) ** 2
                                                         / (4 * mp.mpf(E) * t) - mp.mpf(k) * t)
    got = ade_slug(x, t, M, A, u, E, k)
    assert float(got) == pytest.approx(float(ref), rel=RTOL, abs=1e-300)


def test_xarray_and_dask_give_the_same_numbers():
    x = np.linspace(0.0, 5000.0, 7)
    t = np.array([100.0, 1000.0, 5000.0])
    ref = ogata_banks(x[:, None], t[None, :], 0.7, 12.0)
    xa = xr.DataArray(x, dims="x")
    ta = xr.DataArray(t, dims="time")
    eager = ogata_banks(xa, ta, 0.7, 12.0)
    lazy = ogata_banks(xa.chunk(3), ta, 0.7, 12.0)
    np.testing.assert_array_equal(eager.transpose("x", "time").values, ref)
    np.testing.assert_array_equal(lazy.compute().transpose("x", "time").values, ref)
    L, D = streeter_phelps(xr.DataArray([5.0, 10.0], dims="s").chunk(1), 1.0, 0.3, 0.3, 0.6, 2.0)
    np.testing.assert_allclose(D.compute().values,
                               streeter_phelps(np.array([5.0, 10.0]), 1.0, 0.3, 0.3, 0.6, 2.0)[1],
                               rtol=0)


def test_bad_inputs_raise_specific_errors():
    with pytest.raises(NegativeValueError, match="ka"):
        streeter_phelps(10.0, 1.0, 0.3, 0.3, -0.6, 2.0)
    with pytest.raises(NonFiniteValueError, match="t"):
        streeter_phelps(10.0, 1.0, 0.3, 0.3, 0.6, np.nan)
    with pytest.raises(OutOfRangeError, match="kr"):
        critical_point(10.0, 1.0, 0.3, 0.0, 0.6)
    with pytest.raises(OutOfRangeError, match="dispersion"):
        ogata_banks(10.0, 5.0, 1.0, 0.0)
    with pytest.raises(NegativeValueError, match="x"):
        ogata_banks(-1.0, 5.0, 1.0, 1.0)
