"""Least-cost attainment LP: analytic optimum, duals vs finite differences, scale, reports."""


import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import xarray as xr

from ecodss.optimize import (
    AttainmentProblem,
    attainment,
    coefficients_from_source_receptor,
    marginal_cost_curve,
)
from ecodss.units import tpy_to_gps


def _knapsack(cost, effect, upper, need):
    """Fractional knapsack (the exact optimum of a one-receptor LP with linear costs)."""
    order = np.argsort(cost / effect)
    x = np.zeros_like(cost)
    left = need
    for i in order:  # a handful of measures
        take = min(upper[i], left / effect[i])
        x[i] = take
        left -= take * effect[i]
        if left <= 1e-15:
            return x, cost[i] / effect[i]
    return x, np.nan


def test_one_receptor_linear_costs_is_exact():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 12))
        cost, effect = rng.uniform(1, 100, n), rng.uniform(0.1, 5, n)
        upper = rng.uniform(0.2, 1.0, n)
        need = float(rng.uniform(0.1, 0.9) * (effect * upper).sum())
        x, price = _knapsack(cost, effect, upper, need)
        res = AttainmentProblem.from_arrays(cost, effect[None, :], [100.0], [100.0 - need],
                                            upper).solve()
        assert res.feasible
        np.testing.assert_allclose(res.penetration, x, atol=1e-9)
        assert res.cost == pytest.approx(cost @ x, rel=1e-12)
        assert res.shadow_prices.iloc[0] == pytest.approx(price, rel=1e-9)
        assert res.receptors["concentration"].iloc[0] == pytest.approx(100.0 - need, abs=1e-9)


def _random_problem(rng, n_var=40, n_rec=4, density=0.6):
    a = sp.random_array((n_rec, n_var), density=density, rng=rng, format="csr") * 2.0
    cost = rng.uniform(1, 50, n_var)
    base = rng.uniform(60, 90, n_rec)
    target = base - rng.uniform(0.1, 0.35) * np.asarray(a.sum(axis=1)).ravel()
    groups = sp.csr_array((np.ones(n_var), (np.arange(n_var) // 3, np.arange(n_var))))
    return AttainmentProblem.from_arrays(cost, a, base, target, rng.uniform(0.5, 1, n_var),
                                         groups)


def test_shadow_prices_match_central_finite_differences():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(12):
        prob = _random_problem(rng)
        res = prob.solve()
        assert res.feasible
        for r in range(prob.baseline.size):
            h = 1e-5 * abs(prob.target[r])
            cost = {}
            for sign in (-1, 0, 1):
                t = prob.target.copy()
                t[r] += sign * h
                cost[sign] = prob.solve(t).cost
            fwd, bwd = (cost[-1] - cost[0]) / h, (cost[0] - cost[1]) / h
            if abs(fwd - bwd) > 1e-6 * max(abs(fwd), 1.0):
                continue  # a kink (degenerate vertex): the derivative is not defined
            central = (cost[-1] - cost[1]) / (2 * h)
            assert res.shadow_prices.iloc[r] == pytest.approx(central, rel=1e-6, abs=1e-9)
            checked += 1
    assert checked >= 30


def test_scales_to_5000_measures_by_300_receptors():
    rng = np.random.default_rng(5)
    prob = _random_problem(rng, n_var=5000, n_rec=300, density=0.1)
    res = prob.solve()  # its solve time is measured in benchmarks/optimize.py, not asserted
    assert res.feasible
    assert (res.receptors["concentration"] <= prob.target + 1e-6).all()
    # groups respected: each triple of alternatives sums to <= 1
    sums = np.bincount(np.arange(5000) // 3, weights=res.penetration)
    assert sums.max() <= 1 + 1e-7  # HiGHS feasibility tolerance


def test_costs_of_1e7_cny_solve_as_well_as_order_one_costs():
    """Costs are scaled inside the solver: the same LP with costs × 1e7 CNY has the same plan,
    its cost and shadow prices are 1e7 × those of the order-one problem, and a one-receptor case
    still hits the analytic (knapsack) optimum and price."""
    rng = np.random.default_rng(17)
    for _ in range(6):
        prob = _random_problem(rng, n_var=300, n_rec=20, density=0.3)
        big = AttainmentProblem.from_arrays(prob.cost * 1e7, prob.reduction, prob.baseline,
                                            prob.target, prob.upper, prob.groups)
        small, large = prob.solve(), big.solve()
        assert small.feasible and large.feasible
        assert large.cost == pytest.approx(1e7 * small.cost, rel=1e-9)
        np.testing.assert_allclose(large.shadow_prices, 1e7 * small.shadow_prices, rtol=1e-6,
                                   atol=1e-3)
        assert (large.receptors["concentration"] <= big.target + 1e-7).all()
    cost, effect = rng.uniform(2e6, 5e7, 8), rng.uniform(0.1, 5, 8)
    upper = rng.uniform(0.2, 1.0, 8)
    need = 0.6 * float((effect * upper).sum())
    x, price = _knapsack(cost, effect, upper, need)
    res = AttainmentProblem.from_arrays(cost, effect[None, :], [100.0], [100.0 - need],
                                        upper).solve()
    np.testing.assert_allclose(res.penetration, x, atol=1e-9)
    assert res.cost == pytest.approx(cost @ x, rel=1e-12)
    assert res.shadow_prices.iloc[0] == pytest.approx(price, rel=1e-9)
    # an infeasible case reports its best-effort cost in CNY, not in solver units
    bad = AttainmentProblem.from_arrays([3e7, 1e7], np.array([[1.0, 2.0], [0.5, 0.1]]),
                                        [50.0, 50.0], [48.0, 49.0], 1.0).solve()
    assert bad.status == "infeasible"
    assert bad.report.best_effort.cost == pytest.approx(bad.cost, rel=1e-12)
    assert bad.cost == pytest.approx(np.array([3e7, 1e7]) @ bad.penetration, rel=1e-12)


def test_infeasible_target_is_reported():
    a = np.array([[1.0, 2.0], [0.5, 0.1]])
    prob = AttainmentProblem.from_arrays([1.0, 1.0], a, [50.0, 50.0], [48.0, 49.0], 1.0)
    res = prob.solve()  # receptor 0 can drop by 3, receptor 1 by only 0.6 < 1
    assert res.status == "infeasible"
    assert res.report.binding == ["target at receptor 1"]
    row = res.report.table.set_index("constraint").loc["target at receptor 1"]
    assert row["reason"] == "unreachable"
    assert row["max_alone"] == pytest.approx(0.6)
    assert res.receptors["concentration"].iloc[0] <= 48.0 + 1e-9  # best effort keeps the rest


def test_marginal_cost_curve_is_monotone_and_is_the_cost_slope():
    rng = np.random.default_rng(2)
    prob = _random_problem(rng, n_var=30, n_rec=6)
    prob.receptor_region = np.array(["N", "N", "N", "S", "S", "S"], dtype=object)
    curve = marginal_cost_curve(prob, "N", n_points=9)
    assert (curve["status"] == "optimal").all()
    assert (np.diff(curve["cost"]) >= -1e-9).all()
    assert (np.diff(curve["marginal_cost"]) >= -1e-6 * curve["marginal_cost"].max()).all()
    # the marginal cost bounds the secant slopes of the cost curve (convexity)
    slope = np.diff(curve["cost"]) / np.diff(curve["reduction"])
    assert (slope <= curve["marginal_cost"].to_numpy()[1:] * (1 + 1e-6) + 1e-9).all()
    assert (slope >= curve["marginal_cost"].to_numpy()[:-1] * (1 - 1e-6) - 1e-9).all()


def test_attainment_from_emissions_measures_and_source_receptor_dataset():
    sectors = ["power", "residential"]
    emissions = pd.DataFrame({"PM2.5": [1000.0, 4000.0], "SO2": [5000.0, 2000.0]},
                             index=sectors)
    measures = pd.DataFrame({
        "measure": ["ESP", "GAS", "ELEC"], "horizon": "long_term", "scope": "sector",
        "sector": ["power", "residential", "residential"], "action": "control",
        "eff_PM2.5": [0.7, 0.9, 0.95], "eff_SO2": [0.0, 0.9, 0.95],
        "cost": [4300.0, 150000.0, 200000.0], "cost_basis": "per_tonne",
        "cost_pollutant": "PM2.5", "max_penetration": [1.0, 0.7, 0.7],
        "exclusive_group": ["", "heating", "heating"]})
    contrib = np.array([[[3.0, 1.0], [1.0, 0.5]], [[20.0, 2.0], [8.0, 1.0]]])  # src, rec, spc
    e_gs = tpy_to_gps(emissions[["PM2.5", "SO2"]].to_numpy())
    sr = xr.Dataset({"contribution": (("source", "receptor", "species"), contrib),
                     "emission": (("source", "species"), e_gs)},
                    coords={"source": sectors, "receptor": ["BJ", "TJ"],
                            "species": ["PM2.5", "SO2"]})
    coef = coefficients_from_source_receptor(sr)  # primary PM2.5 only
    np.testing.assert_allclose(coef.sel(pollutant="PM2.5").values, contrib[:, :, 0]
                               / e_gs[:, [0]], rtol=1e-12)
    res = attainment(emissions, measures, coef, baseline=[60.0, 40.0], targets=[45.0, np.nan])
    assert res.feasible
    conc = res.receptors["concentration"]
    # independent check: concentration = baseline − Σ penetration × eff × contribution
    eff = measures.set_index("measure")["eff_PM2.5"]
    drop_bj = sum(r.penetration * eff[r.measure] * contrib[sectors.index(r.source), 0, 0]
                  for r in res.plan.itertuples())
    assert conc["BJ"] == pytest.approx(60.0 - drop_bj, rel=1e-12)
    assert conc["BJ"] <= 45.0 + 1e-9
    assert (res.plan.set_index("measure")["penetration"]
            <= measures.set_index("measure")["max_penetration"].reindex(res.plan["measure"])
            .to_numpy() + 1e-9).all()
    assert res.plan.groupby("source")["penetration"].sum()["residential"] <= 1 + 1e-9
    cost = sum(r.penetration * measures.set_index("measure").loc[r.measure, "cost"]
               * eff[r.measure] * emissions.loc[r.source, "PM2.5"] for r in res.plan.itertuples())
    assert res.cost == pytest.approx(cost, rel=1e-12)
    assert np.isnan(res.shadow_prices["TJ"]) and res.shadow_prices["BJ"] > 0
