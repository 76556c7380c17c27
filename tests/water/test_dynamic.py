"""Dynamic solver: Ogata–Banks convergence order, steady limit, spill slug and mass."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import erfc, erfcx

from ecodss.water.dynamic import solve_dynamic
from ecodss.water.kinetics import ConservativeTracer, FirstOrderDecay
from ecodss.water.network import RiverNetwork
from ecodss.water.steady import solve_steady


def uniform_reach(n, length=20000.0, u=0.5, e=100.0, depth=1.0, width=10.0, **extra):
    return RiverNetwork(pd.DataFrame({
        "reach": ["r"], "length": [length], "n_elements": [n], "headwater_flow": [u * depth * width],
        "bottom_width": [width], "velocity_coef": [u], "velocity_exp": [0.0], "depth_coef": [depth],
        "depth_exp": [0.0], "dispersion": [e], **{k: [v] for k, v in extra.items()}}))


def ogata_banks(x, t, u, e):
    """Ogata & Banks (1961) continuous-injection solution, written independently here."""
    a = (x - u * t) / (2 * np.sqrt(e * t))
    b = (x + u * t) / (2 * np.sqrt(e * t))
    return 0.5 * (erfc(a) + np.exp(-a * a) * erfcx(b))   # exp(ux/e) erfc(b) = exp(-a²) erfcx(b)


def test_bdf2_converges_to_ogata_banks_with_second_order():
    u, e, length, t_end = 0.5, 100.0, 20000.0, 6 * 3600.0
    errors = []
    for n in (100, 200, 400):
        net = uniform_reach(n, length, u, e)
        x = (np.arange(n) + 0.5) * length / n
        ds = solve_dynamic(net, ConservativeTracer(), pd.DataFrame({"tracer": [1.0]}, index=["r"]),
                           t_end=t_end / 86400, dt=t_end / 86400 / (0.6 * n), output_every=10 ** 6)
        errors.append(np.max(np.abs(ds["tracer"].isel(time=-1).values - ogata_banks(x, t_end, u, e))))
    order = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(order > 1.9), (errors, order)
    assert errors[-1] < 1e-3


def test_backward_euler_is_first_order_in_time():
    u, e, n, t_end = 0.5, 100.0, 200, 4 * 3600.0 / 86400
    net = uniform_reach(n, u=u, e=e)
    bnd = pd.DataFrame({"tracer": [1.0]}, index=["r"])
    ref = solve_dynamic(net, ConservativeTracer(), bnd, t_end=t_end, dt=t_end / 1600, output_every=10 ** 6)
    err = [np.max(np.abs(solve_dynamic(net, ConservativeTracer(), bnd, t_end=t_end, dt=t_end / m,
                                       method="euler", output_every=10 ** 6)["tracer"].isel(time=-1)
                         - ref["tracer"].isel(time=-1)).values) for m in (50, 100)]
    assert 1.7 < np.log2(err[0] / err[1]) < 2.3 or 0.8 < np.log2(err[0] / err[1]) < 1.2


def test_run_to_steady_state_agrees_with_steady_solver():
    net = uniform_reach(60, length=30000.0, u=0.3, e=30.0)
    kin = FirstOrderDecay(0.7)
    bnd = pd.DataFrame({"c": [5.0]}, index=["r"])
    steady = solve_steady(net, kin, bnd)["c"].values
    dyn = solve_dynamic(net, kin, bnd, t_end=20.0, dt=0.05, output_every=10 ** 6)["c"].isel(time=-1).values
    np.testing.assert_allclose(dyn, steady, rtol=1e-6, atol=1e-9)


def test_spill_slug_metrics_and_mass_through_intakes():
    spill = pytest.importorskip("ecodss.water.spill")
    u, e, depth, width = 0.5, 20.0, 1.0, 10.0
    length, n = 40000.0, 1600                   # Δx = 25 m
    net = uniform_reach(n, length=length, u=u, e=e, depth=depth, width=width)
    mass, x0 = 1.0e6, 2000.0                     # 1 t released at 2 km
    k0 = int(x0 / (length / n))
    c0 = np.zeros((1, n))
    c0[0, k0] = mass / (depth * width * length / n)
    dt = 60.0 / 86400
    ds = solve_dynamic(net, ConservativeTracer(), None, t_end=1.0, dt=dt, initial=c0,
                       output_every=5, track_flux=True)
    sections = np.array([k0 + 240, k0 + 560])   # 6 and 14 km below the release (element centres)
    dist = (sections - k0) * length / n
    c = ds["tracer"].isel(element=sections).values
    t_s = ds["time"].values * 86400
    got = spill.spill_metrics(c, t_s, detection=0.05)
    exact = spill.slug_spill_single_reach(mass, depth * width, u, e, dist, detection=0.05)
    for key in ("arrival_time", "peak_time", "passage_end"):
        np.testing.assert_allclose(got[key].values, exact[key].values, rtol=0.02)
    np.testing.assert_allclose(got["peak_concentration"].values, exact["peak_concentration"].values, rtol=0.02)
    # mass through each section face and out of the reach (BDF2-consistent flux accumulation)
    passed = ds["tracer_face_mass"].isel(time=-1).values
    np.testing.assert_allclose(passed[sections], mass, rtol=1e-8)
    remaining = ds["tracer"].isel(time=-1).values * depth * width * length / n
    assert abs(remaining.sum() + passed[-1] - mass) < 1e-8 * mass


def test_timed_injection_and_withdrawal_mass_accounting():
    net = RiverNetwork(pd.DataFrame({
        "reach": ["r"], "length": [5000.0], "n_elements": [50], "headwater_flow": [2.0],
        "velocity_coef": [0.4], "velocity_exp": [0.0], "depth_coef": [1.0], "depth_exp": [0.0],
        "dispersion": [5.0]}),
        pd.DataFrame({"name": ["intake"], "kind": ["withdrawal"], "reach": ["r"], "x": [3000.0], "flow": [0.5]}))
    rate = 8.64e5   # g/d injected at element 5 for 0.1 d

    def injection(t):
        a = np.zeros((1, 50))
        a[0, 5] = rate if t <= 0.1 + 1e-12 else 0.0
        return a

    ds = solve_dynamic(net, ConservativeTracer(), None, t_end=1.0, dt=0.005, injection=injection,
                       track_flux=True, output_every=200)
    out = ds["tracer_face_mass"].isel(time=-1).values[-1]
    taken = ds["tracer_withdrawn_mass"].isel(time=-1).values.sum()
    left = (ds["tracer"].isel(time=-1).values * net.hydraulics().volume).sum()
    injected = ds["tracer_injected_mass"].isel(time=-1).values.sum()
    assert injected == pytest.approx(rate * 0.1, rel=0.05)   # step pulse seen through BDF2 weights
    assert abs(out + taken + left - injected) < 1e-8 * injected
    assert taken / injected == pytest.approx(0.5 / 2.0, rel=0.05)
