"""Completely mixed lake TP model against closed forms and an independent ODE integration."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from ecodss.errors import InvalidValueError, OutOfRangeError
from ecodss.water import lake

LAKE = dict(load=2.0e7, outflow=3.0e8, area=5.0e7, volume=4.0e8, settling_velocity=12.4)


def test_steady_state_formula():
    p = lake.steady_phosphorus(LAKE["load"], LAKE["outflow"], LAKE["area"], 12.4)
    assert p == pytest.approx(2.0e7 / (3.0e8 + 12.4 * 5.0e7), rel=1e-15)


def test_transient_matches_tight_ode_integration():
    def rhs(t, p):
        return [(LAKE["load"] - (LAKE["outflow"] + 12.4 * LAKE["area"]) * p[0]) / LAKE["volume"]]

    t = np.array([0.01, 0.1, 0.5, 1.0, 3.0])
    ref = solve_ivp(rhs, (0, 3.0), [0.08], method="DOP853", rtol=1e-13, atol=1e-16,
                    t_eval=t).y[0]
    got = lake.transient_phosphorus(t, 0.08, LAKE["load"], LAKE["outflow"], LAKE["area"],
                                    LAKE["volume"], 12.4)
    np.testing.assert_allclose(got, ref, rtol=1e-9)


def test_transient_small_time_precision_and_limits():
    lam = (LAKE["outflow"] + 12.4 * LAKE["area"]) / LAKE["volume"]
    p_ss = lake.steady_phosphorus(LAKE["load"], LAKE["outflow"], LAKE["area"])
    t = 1e-12
    got = lake.transient_phosphorus(t, 0.0, LAKE["load"], LAKE["outflow"], LAKE["area"],
                                    LAKE["volume"])
    assert got == pytest.approx(p_ss * lam * t * (1 - lam * t / 2), rel=1e-12)
    far = lake.transient_phosphorus(1e3, 0.3, LAKE["load"], LAKE["outflow"], LAKE["area"],
                                    LAKE["volume"])
    assert far == pytest.approx(p_ss, rel=1e-15)
    t95 = lake.response_time(LAKE["outflow"], LAKE["area"], LAKE["volume"])
    assert t95 == pytest.approx(np.log(20) / lam, rel=1e-14)


def test_allowable_load_inverts_steady_state_for_gb3838_class():
    w = lake.allowable_load("III", LAKE["outflow"], LAKE["area"], margin_of_safety=0.1)
    p = lake.steady_phosphorus(w, LAKE["outflow"], LAKE["area"])
    assert p == pytest.approx(0.9 * 0.05, rel=1e-14)  # GB 3838 lake TP class III = 0.05 mg/L
    with pytest.raises(InvalidValueError):
        lake.allowable_load("VI", LAKE["outflow"], LAKE["area"])


def test_vollenweider_lines_and_trophic_state():
    z, tau = 10.0, 2.0  # q_s = 5 m/yr
    assert lake.vollenweider_critical_loading(z, tau) == pytest.approx(0.010 * (5 + 12.4))
    assert lake.vollenweider_critical_loading(z, tau, "dangerous", form="1976") == \
        pytest.approx(0.020 * 5 * (1 + np.sqrt(2.0)))
    assert lake.trophic_state([0.1, 0.25, 0.5], z, tau).tolist() == [0, 1, 2]


def test_bad_input():
    with pytest.raises(OutOfRangeError, match="area"):
        lake.steady_phosphorus(1.0, 1.0, 0.0)
