"""Decision optimisation: least-cost attainment (GAINS-style LP), the HiGHS target programs
shared with :func:`ecodss.emergency.plan`, pf-RSM response surfaces (:mod:`.rsm`) and Pareto
fronts of cost vs population-weighted PM2.5 (:mod:`.pareto`).

>>> from ecodss.optimize import attainment, marginal_cost_curve
"""

from .attainment import (
    AttainmentProblem,
    AttainmentResult,
    attainment,
    attainment_problem,
    coefficients_from_source_receptor,
    marginal_cost_curve,
    max_uniform_reduction,
)
from .pareto import ParetoFront, pareto_front, pareto_front_rsm, population_weights
from .rsm import (
    Factor,
    FactorCosts,
    RegionalDesignCase,
    ResponseSurface,
    fit_surface,
    latin_hypercube,
    optimise_on_surface,
    run_design,
)
from .solver import InfeasibilityReport, Solution, TargetProgram, diagnose, solve_program

__all__ = ["attainment", "attainment_problem", "AttainmentProblem", "AttainmentResult",
           "coefficients_from_source_receptor", "marginal_cost_curve", "max_uniform_reduction",
           "TargetProgram", "Solution", "InfeasibilityReport", "diagnose", "solve_program",
           "Factor", "FactorCosts", "RegionalDesignCase", "ResponseSurface", "fit_surface",
           "latin_hypercube", "optimise_on_surface", "run_design", "ParetoFront",
           "pareto_front", "pareto_front_rsm", "population_weights"]
