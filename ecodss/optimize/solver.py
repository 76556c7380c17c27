"""Linear and mixed-integer programs with targets, solved by HiGHS, and infeasibility diagnosis.

A :class:`TargetProgram` is the common shape of ecodss's decision problems:

.. math::

    \\min_x c^T x \\quad \\text{s.t.} \\quad A_t x \\ge b_t \\;(\\text{targets}), \\quad
    l_s \\le A_s x \\le u_s \\;(\\text{structure}), \\quad l \\le x \\le u,
    \\quad x_j \\in \\mathbb{Z} \\text{ where integral}

Targets are what a plan must achieve (emission reductions, concentration limits); structural rows
are what a plan may do (mutually exclusive measures, grade minimums). The split lets
:func:`diagnose` tell *which targets* cannot be met: it solves the elastic program (each target
``k`` gets a slack ``s_k >= 0`` measured as a fraction of its requirement, minimise Σ s, then the
cost at that minimum; Chinneck 2008, *Feasibility and Infeasibility in Optimization*, §6 elastic
programming) and, for each target, the best it can reach alone.

Solvers: :func:`scipy.optimize.linprog` (``method="highs"``) for LPs — its
``res.ineqlin.marginals`` give the shadow prices ∂cost/∂b — and :func:`scipy.optimize.milp` (HiGHS
branch and cut) for MILPs (Huangfu & Hall 2018, Math. Prog. Comp. 10:119, the HiGHS dual simplex).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: Absolute/relative tolerance under which a slack or shortfall counts as zero.
TOL = 1e-7
#: At most this many targets get their own "alone" maximisation in a diagnosis.
MAX_ALONE_SOLVES = 200

_STATUS = {0: "optimal", 1: "iteration or time limit", 2: "infeasible", 3: "unbounded",
           4: "numerical difficulties"}


@dataclass
class TargetProgram:
    """``min c·x`` s.t. ``A_t x >= b_t`` (targets), ``l_s <= A_s x <= u_s``, ``l <= x <= u``."""

    c: np.ndarray
    targets: sp.csr_array
    target_rhs: np.ndarray
    target_names: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    structure: sp.csr_array | None = None
    structure_lower: np.ndarray | None = None
    structure_upper: np.ndarray | None = None
    integrality: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.c)
        self.c = np.asarray(self.c, float)
        self.targets = sp.csr_array(self.targets).reshape(-1, n) if n else sp.csr_array(
            self.targets)
        self.target_rhs = np.asarray(self.target_rhs, float)
        self.target_names = np.asarray(self.target_names, dtype=object)
        if self.structure is None:
            self.structure = sp.csr_array((0, n))
            self.structure_lower = np.zeros(0)
            self.structure_upper = np.zeros(0)

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))


@dataclass
class Solution:
    """Result of :func:`solve_program`: ``x``, ``cost``, ``status`` and LP shadow prices."""

    status: str
    x: np.ndarray
    cost: float
    target_duals: np.ndarray | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def _bounds_rows(program: TargetProgram):
    """Targets and structure as ``A_ub x <= b_ub`` rows (for linprog)."""
    rows = [-program.targets]
    rhs = [-program.target_rhs]
    s = program.structure
    up = np.isfinite(program.structure_upper)
    lo = np.isfinite(program.structure_lower)
    if up.any():
        rows.append(s[np.flatnonzero(up)])
        rhs.append(program.structure_upper[up])
    if lo.any():
        rows.append(-s[np.flatnonzero(lo)])
        rhs.append(-program.structure_lower[lo])
    return sp.vstack(rows, format="csr"), np.concatenate(rhs)


#: LPs with more variables than this use the HiGHS interior-point method with crossover (a
#: vertex solution and its duals, ~4x faster than dual simplex on 5,000 × 300 dense-ish
#: problems); smaller ones the dual simplex.
IPM_ABOVE = 2000


def solve_program(program: TargetProgram, *, mip_rel_gap: float = 0.0,
                  time_limit: float | None = None, method: str = "auto") -> Solution:
    """Solve a :class:`TargetProgram` with HiGHS (LP: linprog with duals; MIP: milp).

    For an LP, ``target_duals[k] = ∂cost/∂b_t[k]`` (>= 0: tightening a target costs money),
    from HiGHS's ``ineqlin.marginals`` of the rows ``-A_t x <= -b_t``. ``method`` is a linprog
    HiGHS method or ``"auto"`` (:data:`IPM_ABOVE`).
    """
    n = len(program.c)
    if n == 0:
        feasible = bool(np.all(program.target_rhs <= TOL))
        return Solution("optimal" if feasible else "infeasible", np.zeros(0), 0.0,
                        np.zeros(len(program.target_rhs)) if feasible else None)
    if not program.is_mip:
        a_ub, b_ub = _bounds_rows(program)
        options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        if method == "auto":
            method = "highs-ipm" if n > IPM_ABOVE else "highs-ds"
        res = linprog(program.c, A_ub=a_ub if a_ub.shape[0] else None,
                      b_ub=b_ub if a_ub.shape[0] else None,
                      bounds=np.column_stack([program.lower, program.upper]), method=method,
                      options=options)
        status = _STATUS.get(res.status, "error")
        if res.status != 0:
            return Solution(status, np.full(n, np.nan), np.nan, None, res.message)
        k = program.targets.shape[0]
        duals = -np.asarray(res.ineqlin.marginals[:k], float)
        return Solution(status, np.asarray(res.x), float(res.fun), duals, res.message)
    constraints = []
    if program.targets.shape[0]:
        constraints.append(LinearConstraint(program.targets, program.target_rhs, np.inf))
    if program.structure.shape[0]:
        constraints.append(LinearConstraint(program.structure, program.structure_lower,
                                            program.structure_upper))
    options = {"mip_rel_gap": float(mip_rel_gap), "presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(program.c, integrality=np.asarray(program.integrality, int),
               bounds=Bounds(program.lower, program.upper), constraints=constraints,
               options=options)
    status = _STATUS.get(res.status, "error")
    if res.x is None:
        return Solution(status, np.full(n, np.nan), np.nan, None, res.message)
    x = np.asarray(res.x, float)
    if program.is_mip:  # HiGHS returns integers to within its tolerance; snap them
        integral = np.asarray(program.integrality, bool)
        x[integral] = np.round(x[integral])
    return Solution(status, x, float(program.c @ x), None, res.message)


def _scale(rhs: np.ndarray) -> np.ndarray:
    """Slack units: a target's shortfall is measured as a fraction of its requirement."""
    return np.where(np.abs(rhs) > TOL, np.abs(rhs), 1.0)


@dataclass
class InfeasibilityReport:
    """Which targets cannot be met, and by how much.

    ``table`` has one row per target: ``constraint`` (name), ``required`` (right-hand side),
    ``max_alone`` (the most that target reaches when it is the only one pursued, within the
    structural rules; NaN when not computed), ``best_effort`` (reached by the elastic plan),
    ``shortfall`` (= required − best_effort, >= 0), ``binding`` (shortfall > 0) and ``reason``.
    """

    table: pd.DataFrame
    best_effort: Solution | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def binding(self) -> list[str]:
        """Names of the targets that cannot be met (the binding constraints)."""
        return self.table.loc[self.table["binding"], "constraint"].astype(str).tolist()

    @property
    def message(self) -> str:
        rows = self.table[self.table["binding"]]
        parts = [f"{r.constraint}: required {r.required:.6g}, best {r.best_effort:.6g}"
                 + (f", at most {r.max_alone:.6g} even alone" if r.reason == "unreachable"
                    else " (reachable alone; conflicts with other targets)")
                 for r in rows.itertuples()]
        return "no plan meets every target — " + "; ".join(parts) if parts else \
            "no target is binding"

    def to_dict(self) -> dict:
        cols = ["constraint", "required", "max_alone", "best_effort", "shortfall", "binding",
                "reason"]
        records = self.table[cols].to_dict(orient="records")
        for r in records:
            for k, v in r.items():
                if isinstance(v, float) and not np.isfinite(v):
                    r[k] = None
                elif isinstance(v, np.bool_ | bool):
                    r[k] = bool(v)
        return {"binding": self.binding, "message": self.message, "targets": records,
                "notes": list(self.notes)}


def diagnose(program: TargetProgram, *, alone: bool = True, mip_rel_gap: float = 0.0,
             time_limit: float | None = None) -> InfeasibilityReport:
    """Explain an infeasible :class:`TargetProgram`: elastic best effort and per-target maxima.

    Phase 1 minimises the summed relative shortfall Σ s_k (each ``A_t[k] x + b_k s_k >= b_k``,
    ``0 <= s_k <= 1``); phase 2 keeps that minimum and minimises cost, giving the cheapest
    best-effort plan. With ``alone``, each binding target is also maximised on its own (structure
    and bounds only): if even that falls short it is ``"unreachable"``, else it is in
    ``"conflict"`` with other targets.
    """
    k = program.targets.shape[0]
    n = len(program.c)
    scale = _scale(program.target_rhs)
    notes = []
    elastic_t = sp.hstack([program.targets, sp.diags_array(scale)], format="csr")
    struct = sp.hstack([program.structure, sp.csr_array((program.structure.shape[0], k))],
                       format="csr")
    integ = None if program.integrality is None else np.concatenate(
        [np.asarray(program.integrality, int), np.zeros(k, int)])
    lower = np.concatenate([program.lower, np.zeros(k)])
    upper = np.concatenate([program.upper, np.ones(k)])
    phase1 = TargetProgram(np.concatenate([np.zeros(n), np.ones(k)]), elastic_t,
                           program.target_rhs, program.target_names, lower, upper, struct,
                           program.structure_lower, program.structure_upper, integ)
    sol1 = solve_program(phase1, mip_rel_gap=mip_rel_gap, time_limit=time_limit)
    best = None
    achieved = np.full(k, np.nan)
    if sol1.x is not None and np.isfinite(sol1.cost):
        cap = sp.csr_array(np.concatenate([np.zeros(n), np.ones(k)])[None, :])
        phase2 = TargetProgram(np.concatenate([program.c, np.zeros(k)]), elastic_t,
                               program.target_rhs, program.target_names, lower, upper,
                               sp.vstack([struct, cap], format="csr"),
                               np.concatenate([program.structure_lower, [-np.inf]]),
                               np.concatenate([program.structure_upper,
                                               [sol1.cost * (1 + 1e-9) + 1e-9]]), integ)
        sol2 = solve_program(phase2, mip_rel_gap=mip_rel_gap, time_limit=time_limit)
        chosen = sol2 if np.isfinite(sol2.cost) else sol1
        x = chosen.x[:n]
        best = Solution("best effort", x, float(program.c @ x), None, chosen.message)
        achieved = program.targets @ x
    else:
        notes.append(f"the elastic program failed: {sol1.message} (structural rules such as "
                     "grade minimums or bounds may be contradictory)")
    shortfall = np.maximum(program.target_rhs - achieved, 0.0)
    binding = shortfall > TOL * scale
    max_alone = np.full(k, np.nan)
    if alone:
        rows = np.flatnonzero(binding)
        if rows.size > MAX_ALONE_SOLVES:
            notes.append(f"{rows.size} binding targets: per-target maxima computed for the first "
                         f"{MAX_ALONE_SOLVES}")
            rows = rows[:MAX_ALONE_SOLVES]
        for r in rows:  # one small solve per binding target (diagnosis only, not a hot path)
            row = program.targets[[r]].toarray().ravel()
            sub = TargetProgram(-row, sp.csr_array((0, n)), np.zeros(0), np.zeros(0, object),
                                program.lower, program.upper, program.structure,
                                program.structure_lower, program.structure_upper,
                                program.integrality)
            sol = solve_program(sub, mip_rel_gap=mip_rel_gap, time_limit=time_limit)
            max_alone[r] = -sol.cost if np.isfinite(sol.cost) else np.nan
    unreachable = binding & (max_alone < program.target_rhs - TOL * scale)
    reason = np.where(~binding, "", np.where(unreachable, "unreachable",
                                             np.where(np.isnan(max_alone), "", "conflict")))
    table = pd.DataFrame({"constraint": program.target_names, "required": program.target_rhs,
                          "max_alone": max_alone, "best_effort": achieved,
                          "shortfall": shortfall, "binding": binding, "reason": reason})
    return InfeasibilityReport(table, best, notes)
