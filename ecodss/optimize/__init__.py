"""Decision optimisation: least-cost attainment (GAINS-style LP) and the HiGHS target programs
shared with :func:`ecodss.emergency.plan`.

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
from .solver import InfeasibilityReport, Solution, TargetProgram, diagnose, solve_program

__all__ = ["attainment", "attainment_problem", "AttainmentProblem", "AttainmentResult",
           "coefficients_from_source_receptor", "marginal_cost_curve", "max_uniform_reduction",
           "TargetProgram", "Solution", "InfeasibilityReport", "diagnose", "solve_program"]
