"""Least-cost attainment of concentration targets: the GAINS optimisation as a linear program.

Following GAINS (Amann et al. 2011, "Cost-effective control of air quality and greenhouse gases in
Europe", Environ. Model. Softw. 26:1489–1501, §2.3–2.4; Wagner et al. 2007 for the LP), the
decision variables are the penetrations ``x_v ∈ [0, max_penetration]`` of control measures ``m``
on emission sources ``s`` (sectors, regions, plants), costs are linear in the penetrations, and
concentrations respond linearly to emissions through source–receptor coefficients:

.. math::

    \\min_x \\sum_v C_v x_v \\quad\\text{s.t.}\\quad
    c_r^0 - \\sum_v \\Delta c_{rv}\\, x_v \\le T_r \\;\\;\\forall r \\text{ with a target},
    \\qquad \\sum_{v \\in g} x_v \\le 1 \\;\\; \\forall \\text{ exclusive groups } g,

with :math:`\\Delta c_{rv} = \\sum_p \\eta_{mp} E_{sp} \\tau_{srp}` (efficiency × emission
[g s-1] × coefficient [µg m-3 per g s-1]) and :math:`C_v` the annual cost of full application
(``per_tonne`` × tonnes removed, ``annual``, or 365 × ``daily``). The dual value of each target
row is its shadow price: the extra annual cost of tightening that target by 1 µg m-3
(HiGHS ``ineqlin.marginals``). The problem is built as sparse matrices, without loops over
measures or receptors, and solves thousands of measures × hundreds of receptors in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

from ..errors import InvalidValueError, MissingFieldError
from ..inventory.inventory import POLLUTANTS
from ..inventory.measures import Measures
from ..units import tpy_to_gps
from ..validation import check_finite, check_nonnegative, check_range, reject_unknown_fields
from .solver import InfeasibilityReport, TargetProgram, diagnose, solve_program

DAYS_PER_YEAR = 365.0


def coefficients_from_source_receptor(source_receptor: xr.Dataset, *, species="PM2.5",
                                      precursors: dict[str, str] | None = None,
                                      time_dim: str = "time") -> xr.DataArray:
    """Linear source–receptor coefficients ``(source, receptor, pollutant)`` [µg m-3 per g s-1].

    ``source_receptor`` has the agreed layout (``ecodss.apportion.source_receptor``): variables
    ``contribution`` (source, receptor, species[, time]) [µg m-3] and ``emission``
    (source, species) [g s-1]. The coefficient of emitted pollutant ``p`` is the (time-mean)
    contribution of every concentration species mapped to ``p`` divided by the emission of ``p``
    (``precursors``, default ``{species: species}``, e.g. ``{"PM2.5": "PM2.5", "SO4": "SO2"}``).
    Sources with zero emission of ``p`` get coefficient 0.
    """
    for var in ("contribution", "emission"):
        if var not in source_receptor:
            raise MissingFieldError(f"source_receptor needs a {var!r} variable", field=var,
                                    where="source_receptor")
    contrib = source_receptor["contribution"]
    if time_dim in contrib.dims:
        contrib = contrib.mean(time_dim)
    precursors = dict(precursors or {species: species})
    emitted = sorted(set(precursors.values()), key=lambda p: list(POLLUTANTS).index(p)
                     if p in POLLUTANTS else 99)
    parts = []
    for p in emitted:  # a few emitted pollutants
        ks = [k for k, q in precursors.items() if q == p]
        c = contrib.sel(species=ks).sum("species")
        e = source_receptor["emission"].sel(species=p)
        parts.append(xr.where(e > 0, c / e.where(e > 0), 0.0))
    out = xr.concat(parts, dim=pd.Index(emitted, name="pollutant"))
    out = out.transpose("source", "receptor", "pollutant")
    out.attrs = {"units": "ug m-3 (g s-1)-1", "long_name": "source-receptor coefficient"}
    return out


@dataclass
class AttainmentResult:
    """Solution of an :class:`AttainmentProblem`.

    ``plan``: measures applied (``penetration`` > 0) with ``cost`` [CNY yr-1] and cuts
    ``cut_<pollutant>`` [t yr-1]; ``receptors``: ``baseline``, ``target``, ``concentration`` with
    the measures, ``shadow_price`` [CNY yr-1 per µg m-3] (NaN without a target); ``report``: the
    infeasibility report when the targets cannot all be met (then ``plan`` is the cheapest
    best-effort plan).
    """

    status: str
    cost: float
    penetration: np.ndarray
    plan: pd.DataFrame
    receptors: pd.DataFrame
    report: InfeasibilityReport | None = None

    @property
    def feasible(self) -> bool:
        return self.status == "optimal"

    @property
    def shadow_prices(self) -> pd.Series:
        return self.receptors["shadow_price"]


def cost_scale(cost: np.ndarray) -> float:
    """Divisor bringing the largest cost to 1 [CNY yr-1] (1 when every cost is 0).

    HiGHS's primal/dual feasibility tolerances are absolute (1e-7): with costs of 1e7 CNY the
    reduced costs and duals sit far above them and the simplex may report numerical
    difficulties. Solving with costs scaled to order 1 and multiplying the optimal cost and the
    duals back by this factor is exact (the LP is homogeneous in ``c``).
    """
    top = float(np.max(cost, initial=0.0))
    return top if top > 0 and np.isfinite(top) else 1.0


@dataclass
class AttainmentProblem:
    """The LP data: full-application costs [CNY yr-1] and concentration reductions [µg m-3].

    ``reduction`` is (receptor, variable), ``groups`` (group, variable) rows with Σ x <= 1,
    ``variables`` describes each variable (source, measure, cuts ``cut_<p>`` [t yr-1] at full
    application), ``target`` is NaN where a receptor has no target.
    """

    cost: np.ndarray
    reduction: sp.csr_array
    baseline: np.ndarray
    target: np.ndarray
    upper: np.ndarray
    groups: sp.csr_array | None = None
    variables: pd.DataFrame | None = None
    receptors: pd.Index | None = None
    receptor_region: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.cost = np.asarray(self.cost, float)
        n = self.cost.size
        self.reduction = sp.csr_array(self.reduction)
        self.baseline = np.asarray(self.baseline, float)
        self.target = np.broadcast_to(np.asarray(self.target, float), self.baseline.shape).copy()
        self.upper = np.broadcast_to(np.asarray(self.upper, float), (n,)).copy()
        if self.reduction.shape != (self.baseline.size, n):
            raise InvalidValueError(f"reduction has shape {self.reduction.shape}, expected "
                                    f"(receptors={self.baseline.size}, variables={n})",
                                    field="reduction", where="attainment problem")
        check_nonnegative(self.cost, "cost", kind="variable", units="CNY/yr")
        check_range(self.upper, "max_penetration", 0.0, 1.0, kind="variable")
        check_finite(self.baseline, "baseline", kind="receptor", units="ug/m3")
        if self.receptors is None:
            self.receptors = pd.RangeIndex(self.baseline.size, name="receptor")
        if self.variables is None:
            self.variables = pd.DataFrame({"variable": np.arange(n)})
        self.groups = sp.csr_array((0, n)) if self.groups is None else sp.csr_array(self.groups)

    def _target(self, target) -> np.ndarray:
        """``target`` (default own) as a (receptor,) array [µg m-3], NaN = no target."""
        return self.target if target is None else np.broadcast_to(
            np.asarray(target, float), self.baseline.shape).copy()

    @classmethod
    def from_arrays(cls, cost, reduction, baseline, target, upper=1.0, groups=None,
                    receptor_region=None) -> AttainmentProblem:
        """A problem from plain arrays (e.g. a random benchmark)."""
        return cls(cost, reduction, baseline, target, upper, groups,
                   receptor_region=None if receptor_region is None
                   else np.asarray(receptor_region, dtype=object))

    def program(self, target=None) -> TargetProgram:
        """The :class:`~ecodss.optimize.solver.TargetProgram` for ``target`` (default own)."""
        t = self._target(target)
        rows = np.flatnonzero(np.isfinite(t))
        n = self.cost.size
        g = self.groups.shape[0]
        names = np.array([f"target at receptor {self.receptors[r]!r}" for r in rows.tolist()],
                         dtype=object)
        return TargetProgram(self.cost, self.reduction[rows], self.baseline[rows] - t[rows],
                             names, np.zeros(n), self.upper, self.groups, np.full(g, -np.inf),
                             np.ones(g))

    def solve(self, target=None, *, diagnose_infeasible: bool = True,
              time_limit: float | None = None) -> AttainmentResult:
        """Solve the LP; shadow prices from the HiGHS duals; a report if infeasible."""
        t = self._target(target)
        program = self.program(t)
        scale = cost_scale(self.cost)
        program.c = program.c / scale  # O(1) costs: HiGHS tolerances are absolute
        rows = np.flatnonzero(np.isfinite(t))
        sol = solve_program(program, time_limit=time_limit)
        shadow = np.full(self.baseline.size, np.nan)
        report = None
        if sol.ok:
            x = sol.x
            shadow[rows] = scale * np.maximum(sol.target_duals, 0.0)  # back to CNY per µg m-3
        elif sol.status == "infeasible" and diagnose_infeasible:
            report = diagnose(program, alone=program.targets.shape[0] <= 50,
                              time_limit=time_limit)
            if report.best_effort is not None:
                report.best_effort = replace(report.best_effort,
                                             cost=report.best_effort.cost * scale)
            x = report.best_effort.x if report.best_effort is not None else np.zeros(
                self.cost.size)
        else:
            x = np.zeros(self.cost.size) if not np.isfinite(sol.x).all() else sol.x
        return self._result(sol.status, x, t, shadow, report)

    def _result(self, status, x, target, shadow, report) -> AttainmentResult:
        conc = self.baseline - self.reduction @ x
        used = x > 1e-9
        plan = self.variables.loc[used].copy()
        plan["penetration"] = x[used]
        plan["cost"] = self.cost[used] * x[used]
        for col in [c for c in plan.columns if c.startswith("cut_")]:
            plan[col] = plan[col].to_numpy(float) * x[used]
        rec = pd.DataFrame({"baseline": self.baseline, "target": target, "concentration": conc,
                            "shadow_price": shadow}, index=self.receptors)
        if self.receptor_region is not None:
            rec.insert(0, "region", self.receptor_region)
        return AttainmentResult(status, float(self.cost @ x), x, plan.reset_index(drop=True),
                                rec, report)


def attainment_problem(emissions: pd.DataFrame, measures, coefficients: xr.DataArray, baseline,
                       targets, *, receptor_region=None, horizon: str = "long_term",
                       ) -> AttainmentProblem:
    """Build the attainment LP from emissions, measures and source–receptor coefficients.

    Parameters
    ----------
    emissions : DataFrame
        One row per source (index = the ``source`` labels of ``coefficients``), pollutant columns
        [t yr-1] and an optional ``sector`` column (default: the index is the sector). A
        ``region`` column is kept in the plan table.
    measures : Measures, DataFrame or path
        Measures table; rows of ``horizon`` apply to every source of their sector (``*`` = all).
    coefficients : DataArray (source, receptor, pollutant)  [µg m-3 per g s-1]
        E.g. :func:`coefficients_from_source_receptor`. Pollutants absent are taken as inert.
    baseline : array-like or Series (receptor)  [µg m-3]
        Concentrations without the measures (all sources and background).
    targets : float, array-like or Series (receptor)  [µg m-3]
        Upper limits; NaN = no target at that receptor.
    receptor_region : array-like or Series (receptor), optional
        Region of each receptor (for :func:`marginal_cost_curve`).
    """
    ms = Measures.coerce(measures).select(horizon=horizon)
    if not isinstance(emissions, pd.DataFrame):
        raise InvalidValueError("emissions must be a DataFrame (source × pollutant, t/yr)",
                                field="emissions")
    pols = [p for p in POLLUTANTS if p in emissions.columns]
    reject_unknown_fields([c for c in emissions.columns if c not in ("sector", "region")],
                          POLLUTANTS, "attainment emissions")
    if not pols:
        raise MissingFieldError("emissions have no pollutant column", field="emissions")
    src = emissions.index.astype(str).to_numpy(dtype=object)
    e_t = emissions[pols].to_numpy(float)
    check_nonnegative(e_t, "emission", ids=None, kind="source", units="t/yr")
    sector = emissions["sector"].astype(str).to_numpy(dtype=object) if "sector" in emissions \
        else src
    coef = coefficients.transpose("source", "receptor", "pollutant")
    c_src = coef["source"].astype(str).values
    missing = sorted(set(src) - set(c_src))
    if missing:
        raise MissingFieldError(f"no coefficients for source(s) {missing[:5]}", field="source",
                                where="coefficients")
    tau = np.zeros((len(src), coef.sizes["receptor"], len(pols)))
    have = [p for p in pols if p in coef["pollutant"].values]
    if have:
        tau[:, :, [pols.index(p) for p in have]] = coef.sel(source=list(src),
                                                            pollutant=have).values
    check_finite(tau, "coefficient", kind="source-receptor pair")
    receptors = pd.Index(coef["receptor"].values, name="receptor")
    base = pd.Series(baseline, index=receptors) if not isinstance(baseline, pd.Series) else \
        baseline.reindex(receptors)
    tgt = targets if isinstance(targets, pd.Series) else pd.Series(
        np.broadcast_to(np.asarray(targets, float), (len(receptors),)), index=receptors)
    tgt = tgt.reindex(receptors)
    region = None
    if receptor_region is not None:
        region = (receptor_region.reindex(receptors) if isinstance(receptor_region, pd.Series)
                  else pd.Series(np.asarray(receptor_region, object), index=receptors))
        region = region.to_numpy(dtype=object)

    table = ms.table
    app = ms.applies(sector)  # (measure, source)
    m_idx, s_idx = np.nonzero(app)
    eff = ms.efficiencies(pols)[m_idx]  # (variable, pollutant)
    cut_t = eff * e_t[s_idx]  # [t/yr] at full application
    basis = table["cost_basis"].to_numpy(dtype=object)[m_idx]
    unit_cost = table["cost"].to_numpy(float)[m_idx]
    if (basis == "value_added").any():
        bad = table["measure"].iloc[m_idx[basis == "value_added"][0]]
        raise InvalidValueError("value_added costs need enterprise value added; not available "
                                "for attainment sources", field="cost_basis",
                                where=f"measure {bad!r}")
    ref = table["cost_pollutant"].to_numpy(dtype=object)[m_idx]
    per_t = basis == "per_tonne"
    ref_cut = np.zeros(len(m_idx))
    if per_t.any():
        known = np.isin(ref, pols)
        ref_i = np.array([pols.index(r) if r in pols else 0 for r in ref.tolist()], int)
        ref_cut = np.where(known, cut_t[np.arange(len(m_idx)), ref_i], 0.0)
    cost = np.select([per_t, basis == "annual", basis == "daily"],
                     [unit_cost * ref_cut, unit_cost, unit_cost * DAYS_PER_YEAR])
    cut_gs = tpy_to_gps(cut_t)
    reduction = np.einsum("vrp,vp->rv", tau[s_idx], cut_gs, optimize=True)
    upper = table["max_penetration"].to_numpy(float)[m_idx]
    group = table["exclusive_group"].to_numpy(dtype=object)[m_idx]
    grouped = group != ""
    groups = None
    if grouped.any():
        key = pd.Series(src[s_idx][grouped].astype(str)) + "|" + pd.Series(
            group[grouped].astype(str))
        codes, _ = pd.factorize(key)
        groups = sp.csr_array((np.ones(grouped.sum()), (codes, np.flatnonzero(grouped))),
                              shape=(codes.max() + 1, len(m_idx)))
    variables = pd.DataFrame({"source": src[s_idx], "sector": sector[s_idx],
                              "measure": table["measure"].to_numpy(dtype=object)[m_idx],
                              "exclusive_group": group,
                              **{f"cut_{p}": cut_t[:, i] for i, p in enumerate(pols)}})
    if "region" in emissions.columns:
        variables.insert(1, "region", emissions["region"].to_numpy(dtype=object)[s_idx])
    reduction = sp.csr_array(np.where(np.abs(reduction) > 0, reduction, 0.0))
    return AttainmentProblem(cost, reduction, base.to_numpy(float), tgt.to_numpy(float), upper,
                             groups, variables, receptors, region)


def attainment(emissions: pd.DataFrame, measures, coefficients: xr.DataArray, baseline, targets,
               *, receptor_region=None, horizon: str = "long_term",
               time_limit: float | None = None) -> AttainmentResult:
    """Least-cost set of measures meeting concentration targets (GAINS-style LP).

    Builds the problem with :func:`attainment_problem` (see it for the parameters) and solves it
    with HiGHS. Returns an :class:`AttainmentResult`: the plan, the total annual cost [CNY yr-1],
    per receptor the concentration reached and the shadow price of its target [CNY yr-1 per
    µg m-3]; when the targets cannot all be met, ``status == "infeasible"`` and ``report`` names
    the receptors whose targets are out of reach (elastic program, :func:`diagnose`).

    References
    ----------
    Amann, M. et al. (2011) Environ. Model. Softw. 26:1489–1501, doi:10.1016/j.envsoft.2011.07.012.
    """
    problem = attainment_problem(emissions, measures, coefficients, baseline, targets,
                                 receptor_region=receptor_region, horizon=horizon)
    return problem.solve(time_limit=time_limit)


def max_uniform_reduction(problem: AttainmentProblem, receptors: np.ndarray) -> float:
    """Largest δ [µg m-3] such that every receptor in ``receptors`` (indices) can be lowered by δ
    at once (LP: max δ s.t. Δc_r·x >= δ, exclusive groups, bounds)."""
    n = problem.cost.size
    a = sp.hstack([problem.reduction[receptors], sp.csr_array(-np.ones((len(receptors), 1)))],
                  format="csr")
    groups = sp.hstack([problem.groups, sp.csr_array((problem.groups.shape[0], 1))],
                       format="csr")
    c = np.zeros(n + 1)
    c[-1] = -1.0
    prog = TargetProgram(c, a, np.zeros(len(receptors)), np.zeros(len(receptors), object),
                         np.zeros(n + 1), np.concatenate([problem.upper, [np.inf]]), groups,
                         np.full(groups.shape[0], -np.inf), np.ones(groups.shape[0]))
    sol = solve_program(prog)
    return float(-sol.cost) if sol.ok else 0.0


def marginal_cost_curve(problem: AttainmentProblem, region=None, n_points: int = 11
                        ) -> pd.DataFrame:
    """Marginal cost curve of a region: cost of lowering its receptors uniformly by δ.

    For δ from 0 to the largest feasible uniform reduction, every receptor of ``region``
    (``problem.receptor_region``; ``None`` = all receptors) gets the target ``baseline − δ``
    (other receptors keep their targets) and the LP is solved. Columns: ``region``, ``reduction``
    δ [µg m-3], ``cost`` [CNY yr-1] and ``marginal_cost`` = Σ of the region's shadow prices
    = d cost / dδ [CNY yr-1 per µg m-3], non-decreasing in δ (convexity of the LP value
    function). One LP per point (n_points solves).
    """
    if region is None:
        rows = np.arange(problem.baseline.size)
    else:
        if problem.receptor_region is None:
            raise MissingFieldError("the problem has no receptor_region", field="region")
        rows = np.flatnonzero(problem.receptor_region == region)
        if not rows.size:
            raise InvalidValueError(f"no receptor in region {region!r}", field="region")
    check_range(n_points, "n_points", 2, 10_000)
    others = problem.target.copy()
    others[rows] = np.nan
    base = replace(problem, target=others)
    top = max_uniform_reduction(base, rows)
    deltas = np.linspace(0.0, top * (1 - 1e-9), int(n_points))
    records = []
    for d in deltas:  # one LP per curve point
        t = others.copy()
        t[rows] = problem.baseline[rows] - d
        res = base.solve(t, diagnose_infeasible=False)
        records.append({"region": region, "reduction": d, "cost": res.cost,
                        "marginal_cost": float(np.nansum(res.shadow_prices.to_numpy()[rows]))
                        if res.feasible else np.nan, "status": res.status})
    return pd.DataFrame.from_records(records)
