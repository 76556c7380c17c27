"""Pareto front of cost vs population-weighted PM2.5 (ε-constraint on the attainment LP)."""

import numpy as np
import pytest
import scipy.sparse as sp

from ecodss.errors import InvalidValueError
from ecodss.optimize import AttainmentProblem
from ecodss.optimize.pareto import pareto_front, pareto_front_rsm, population_weights
from ecodss.samples_measures import population_grid


@pytest.fixture(scope="module")
def problem_and_weights():
    rng = np.random.default_rng(11)
    pop = population_grid()
    n_rec, n_var = 60, 120
    # receptors on random populated cells of the regional grid
    iy, ix = rng.integers(0, pop.sizes["y"], n_rec), rng.integers(0, pop.sizes["x"], n_rec)
    w = population_weights(pop["x"].values[ix], pop["y"].values[iy], pop)
    a = sp.random_array((n_rec, n_var), density=0.3, rng=rng, format="csr") * 3.0
    groups = sp.csr_array((np.ones(n_var), (np.arange(n_var) // 4, np.arange(n_var))))
    prob = AttainmentProblem.from_arrays(rng.uniform(1e6, 5e7, n_var), a,
                                         rng.uniform(60, 120, n_rec), np.nan,
                                         rng.uniform(0.5, 1.0, n_var), groups)
    return prob, w, pop, iy, ix


def test_population_weights_are_the_cells_population_shares(problem_and_weights):
    _, w, pop, iy, ix = problem_and_weights
    p = pop.values[iy, ix]
    np.testing.assert_allclose(w, p / p.sum())
    assert w.sum() == pytest.approx(1.0)


def test_front_is_monotone_and_non_dominated(problem_and_weights, tmp_path):
    prob, w, *_ = problem_and_weights
    front = pareto_front(prob, w, n_points=10, plot=tmp_path / "front.png")
    pts = front.points
    assert len(pts) >= 8
    cost, expo = pts["cost"].to_numpy(), pts["exposure"].to_numpy()
    assert np.all(np.diff(cost) > 0)
    assert np.all(np.diff(expo) <= 1e-9)  # non-increasing concentration with cost
    for i in range(len(pts)):  # no point is beaten in both objectives by another
        better = (cost <= cost[i]) & (expo <= expo[i]) & ((cost < cost[i]) | (expo < expo[i]))
        assert not better.any()
    # the ends: no control at zero cost, and the least exposure any plan reaches
    assert cost[0] == pytest.approx(0.0, abs=1e-6)
    assert expo[0] == pytest.approx(w @ prob.baseline)
    # convex LP value function: the marginal cost of exposure rises along the front
    mc = pts["marginal_cost"].to_numpy()
    assert np.all(np.diff(mc[1:]) >= -1e-6 * mc.max())
    # the dual is the slope of the front (finite differences between neighbours)
    slope = -np.diff(cost) / np.diff(expo)
    assert np.all((slope >= mc[:-1] * (1 - 1e-6)) & (slope <= mc[1:] * (1 + 1e-6)))
    # each solution reproduces its point
    x = front.solutions[4]
    assert w @ (prob.baseline - prob.reduction @ x) == pytest.approx(expo[4], rel=1e-9)
    assert (tmp_path / "front.png").stat().st_size > 1000


def test_own_targets_stay_in_force(problem_and_weights):
    prob, w, *_ = problem_and_weights
    tgt = prob.baseline.copy() * np.nan
    tgt[:5] = prob.baseline[:5] - 0.05 * np.asarray(prob.reduction[:5] @ prob.upper).ravel()
    front = pareto_front(AttainmentProblem.from_arrays(prob.cost, prob.reduction, prob.baseline,
                                                       tgt, prob.upper, prob.groups), w,
                         n_points=5)
    for x in front.solutions:
        assert np.all(prob.baseline[:5] - prob.reduction[:5] @ x <= tgt[:5] + 1e-7)
    assert front.points["cost"].iloc[0] > 0


def test_bad_weights_are_refused(problem_and_weights):
    prob, w, *_ = problem_and_weights
    with pytest.raises(InvalidValueError, match="weights"):
        pareto_front(prob, w[:-1])
    with pytest.raises(InvalidValueError, match="weights"):
        pareto_front(prob, -w)


def test_front_on_a_response_surface_is_monotone():
    from ecodss.optimize.rsm import Factor, FactorCosts, ResponseSurface

    # a known convex surface: C = 80 − 20 r1 − 10 r2 + 8 r1 r2 (interaction: saturation)
    surface = ResponseSurface(["a", "b"], ["population"], np.array([[1, 0], [0, 1], [1, 1]]),
                              np.array([[-20.0, -10.0, 8.0]]), np.array([80.0]),
                              np.array([0.9, 0.9]))
    costs = FactorCosts(["a", "b"], [np.array([100.0, 400.0]), np.array([60.0])],
                        [np.array([0.4, 0.4]), np.array([0.8])])
    assert Factor("a", "NOx").name == "a"
    front = pareto_front_rsm(surface, costs, n_points=8)
    cost, expo = front.points["cost"].to_numpy(), front.points["exposure"].to_numpy()
    assert len(front.points) >= 7
    assert np.all(np.diff(cost) > 0) and np.all(np.diff(expo) < 0)
    # at each point no cheaper reduction pair meets the same exposure (grid check)
    g = np.stack(np.meshgrid(np.linspace(0, 0.8, 161), np.linspace(0, 0.8, 161)), -1)
    gc, ge = costs(g), surface.predict(g)[..., 0]
    for c, e in zip(cost, expo, strict=True):
        assert gc[ge <= e + 1e-9].min() >= c - 1e-6 * max(c, 1.0) - 0.5
