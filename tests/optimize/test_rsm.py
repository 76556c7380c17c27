"""pf-RSM on runs of the regional Eulerian model with nonlinear secondary-PM chemistry.

One module-scoped design (40 training + 15 held-out Latin-hypercube runs of a 32 × 32-cell,
one-day window, ~0.2 s each) feeds every test; nothing else is cached.
"""

import numpy as np
import pandas as pd
import pytest

from ecodss.errors import InvalidValueError, MissingFieldError
from ecodss.optimize.rsm import (
    DEFAULT_FACTORS,
    MAX_NE_LIMIT,
    MEAN_NE_LIMIT,
    FactorCosts,
    RegionalDesignCase,
    fit_surface,
    latin_hypercube,
    optimise_on_surface,
    pf_terms,
    run_design,
)

N_TRAIN, N_TEST = 40, 15


@pytest.fixture(scope="module")
def design():
    case = RegionalDesignCase.from_sample()
    train = latin_hypercube(N_TRAIN, len(case.factors), seed=1)
    test = latin_hypercube(N_TEST, len(case.factors), seed=2, include_base=False)
    runs = run_design(case, np.vstack([train, test]))
    y = runs["PM2.5"]
    return {"case": case, "train": train, "test": test, "y_train": y[:N_TRAIN],
            "y_test": y[N_TRAIN:], "runs": runs}


def test_design_is_a_latin_hypercube_with_the_base_run():
    d = latin_hypercube(20, 3, upper=0.5, seed=4, include_base=False)
    assert d.shape == (20, 3) and d.min() >= 0 and d.max() <= 0.5
    # one point in each of the 20 equal strata of every factor
    strata = np.floor(d / 0.5 * 20).astype(int)
    assert all(sorted(strata[:, k]) == list(range(20)) for k in range(3))
    assert np.all(latin_hypercube(5, 3, seed=0)[0] == 0)


def test_chemistry_makes_the_response_nonlinear(design):
    """NOx and NH3 cuts interact through ammonium nitrate: C(0) − C(a) − C(b) + C(a+b) ≠ 0
    (a linear model gives 0), while primary PM is exactly additive."""
    case = design["case"]
    r = np.array([[0, 0, 0, 0], [0.8, 0, 0, 0], [0, 0, 0.8, 0], [0.8, 0, 0.8, 0]], float)
    c = run_design(case, r, scheduler="sync")["PM2.5"].values
    interaction = c[0] - c[1] - c[2] + c[3]
    assert np.max(np.abs(interaction)) > 0.5  # µg m-3
    # primary PM has no chemistry: its response is exactly additive to round-off
    p = np.array([[0, 0, 0, 0], [0, 0, 0, 0.8], [0.8, 0, 0, 0], [0.8, 0, 0, 0.8]], float)
    cp = run_design(case, p, scheduler="sync")["PM2.5"].values
    np.testing.assert_allclose(cp[0] - cp[1] - cp[2] + cp[3], 0.0, atol=1e-6)


def test_pf_rsm_reproduces_held_out_runs_and_beats_linear(design):
    surface = fit_surface(design["train"], design["y_train"])
    err = surface.errors(design["test"], design["y_test"])
    assert err["mean_ne"].max() <= MEAN_NE_LIMIT
    assert err["max_ne"].max() <= MAX_NE_LIMIT
    linear = fit_surface(design["train"], design["y_train"], degree=1)
    lin = linear.errors(design["test"], design["y_test"])
    assert err["mean_ne"].mean() < lin["mean_ne"].mean()
    assert err["max_ne_change"].max() < lin["max_ne_change"].max()
    # the surface passes through the base run it was anchored on (to its training residual)
    base = design["y_train"].values[0]
    np.testing.assert_allclose(surface.predict(np.zeros(4)), base, rtol=0.01)


def test_pf_terms_keep_primary_pm_linear():
    powers = pf_terms(DEFAULT_FACTORS, 3)
    pm = powers[:, 3]
    assert pm.max() == 1 and powers[pm == 1].sum() == 1  # PPM25 alone, first power
    assert len(powers) == 19 + 1  # cubic monomials in 3 nonlinear factors + the PM term


def test_jacobian_matches_finite_differences(design):
    s = fit_surface(design["train"], design["y_train"])
    r0 = np.array([0.3, 0.5, 0.2, 0.4])
    h = 1e-6
    fd = np.stack([(s.predict(r0 + h * e) - s.predict(r0 - h * e)) / (2 * h)
                   for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(s.jacobian(r0), fd, rtol=1e-6, atol=1e-8)


def test_cost_curves_are_convex_and_exact_at_breakpoints():
    sectors = pd.DataFrame({"SO2": [100.0, 50.0], "NOx": [200.0, 100.0], "NH3": [0.0, 0.0],
                            "PM2.5": [20.0, 10.0], "PM10": [30.0, 20.0]},
                           index=pd.Index(["power", "industry"], name="sector"))
    from ecodss.samples_measures import load_measures

    costs = FactorCosts.from_measures(load_measures(), sectors,
                                      [f for f in DEFAULT_FACTORS if f.species != "NH3"])
    nox = costs.slopes[0]
    assert np.all(np.diff(nox) >= 0)  # merit order
    # NOx: SCR on power (0.6 × 200 t at 23 500) then on industry (0.5 × 0.9 × 100 t at 25 000)
    np.testing.assert_allclose(costs.widths[0], [0.6 * 200 / 300, 0.45 * 100 / 300])
    r = np.array([0.4, 0.0, 0.0])
    assert costs(r) == pytest.approx(0.4 * 300 * 23_500)
    with pytest.raises(MissingFieldError, match="NH3"):
        FactorCosts.from_measures(load_measures(), sectors, DEFAULT_FACTORS)


def test_least_cost_on_the_surface_slsqp_and_de_agree_and_hold_in_the_model(design):
    case = design["case"]
    surface = fit_surface(design["train"], design["y_train"])
    costs = FactorCosts.from_measures(_measures(), case.sector_emissions_tpy(), case.factors)
    base = surface.predict(np.zeros(4))
    reachable = surface.predict(np.minimum(costs.max_reduction, surface.upper))
    # 85 % of the reachable cut: needs primary PM and a precursor
    target = {"population": float(base[-1] - 0.85 * (base[-1] - reachable[-1]))}
    slsqp = optimise_on_surface(surface, costs, target, method="slsqp")
    de = optimise_on_surface(surface, costs, target, method="differential_evolution")
    assert slsqp.success and de.success
    assert slsqp.concentration["population"] <= target["population"] + 1e-6
    assert slsqp.cost == pytest.approx(de.cost, rel=0.01)
    # the cheapest plan on the surface meets the target in the model, to the RSM's error
    check = case.run(slsqp.reductions.to_numpy())
    assert check[-1] <= target["population"] * (1 + MEAN_NE_LIMIT)
    # any cheaper uniform scaling of the plan misses the target on the surface
    assert surface.predict(0.9 * slsqp.reductions.to_numpy())[-1] > target["population"]


def test_bad_inputs_are_named(design):
    with pytest.raises(InvalidValueError, match="reduction"):
        design["case"].scaled_emissions([0.1, 0.2, 1.5, 0.0])
    with pytest.raises(InvalidValueError, match="factors"):
        design["case"].scaled_emissions([0.1, 0.2])
    with pytest.raises(InvalidValueError, match="coefficients"):
        fit_surface(design["train"][:10], design["y_train"][:10])


def _measures():
    from ecodss.samples_measures import load_measures

    return load_measures()
