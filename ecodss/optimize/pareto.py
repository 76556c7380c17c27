"""Trade-off between control cost and population-weighted PM2.5: the Pareto front.

Two objectives, annual control cost ``C(x)`` and population-weighted concentration
``P(x) = Σ_r w_r c_r(x)`` (``w`` = population shares, the exposure indicator of WHO 2021 air
quality guidelines §1.4 / GBD), are traded off by the ε-constraint method (Haimes, Lasdon & Wismer
1971, IEEE Trans. Syst. Man Cybern. SMC-1:296; Miettinen 1999, *Nonlinear Multiobjective
Optimization*, §4.1): minimise ``C`` subject to ``P ≤ ε`` for ε from the uncontrolled exposure
down to the least reachable one. Each solution is Pareto optimal when the constrained optimum
is unique (Miettinen Thm 3.2.4); dominated points (equal exposure at a higher cost, from
degeneracy or a non-binding ε) are dropped.

* :func:`pareto_front` — on the attainment LP (:class:`~ecodss.optimize.AttainmentProblem`):
  the exposure row is one more linear constraint; its dual is the marginal cost of exposure
  d C / d ε [CNY yr-1 per µg m-3], the negative slope of the (convex) front.
* :func:`pareto_front_rsm` — on a nonlinear response surface (:mod:`ecodss.optimize.rsm`)
  whose ``"population"`` output is the population-weighted PM2.5.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InvalidValueError
from ..validation import check_nonnegative, check_range
from .attainment import AttainmentProblem


@dataclass
class ParetoFront:
    """Non-dominated (cost, exposure) points, cheapest first.

    ``points``: ``epsilon`` (the exposure bound), ``exposure`` [µg m-3] reached, ``cost``
    [CNY yr-1], ``marginal_cost`` [CNY yr-1 per µg m-3] (LP only) and ``status``;
    ``solutions`` the decision vector of each point (penetrations or reduction fractions).
    """

    points: pd.DataFrame
    solutions: list
    method: str

    def plot(self, path=None, ax=None, *, label: str | None = None):
        """Cost [M CNY yr-1] against population-weighted PM2.5; saved to ``path`` if given."""
        return plot_front(self, path=path, ax=ax, label=label)


def population_weights(x, y, population=None) -> np.ndarray:
    """Population share of each receptor from a gridded population (y, x) [persons].

    Receptors at points ``x, y`` [m] take the population of the grid cell they fall in
    (default grid: :func:`ecodss.samples_measures.population_grid`); shares sum to 1. Receptors
    outside the grid get 0.
    """
    if population is None:
        from ..samples_measures import population_grid

        population = population_grid()
    gx, gy = population["x"].values, population["y"].values
    dx, dy = np.diff(gx).mean(), np.diff(gy).mean()
    ix = np.rint((np.asarray(x, float) - gx[0]) / dx).astype(int)
    iy = np.rint((np.asarray(y, float) - gy[0]) / dy).astype(int)
    inside = (ix >= 0) & (ix < gx.size) & (iy >= 0) & (iy < gy.size)
    pop = np.zeros(ix.shape)
    values = np.nan_to_num(population.values)
    pop[inside] = values[iy[inside], ix[inside]]
    if pop.sum() <= 0:
        raise InvalidValueError("no receptor lies on a populated cell", field="population")
    return pop / pop.sum()


def _non_dominated(points: pd.DataFrame) -> np.ndarray:
    """Mask of points no other point beats (≤ in both objectives, < in one)."""
    c = points["cost"].to_numpy(float)
    e = points["exposure"].to_numpy(float)
    tol_c = 1e-9 * max(np.abs(c).max(), 1.0)
    tol_e = 1e-9 * max(np.abs(e).max(), 1.0)
    le = (c[None, :] <= c[:, None] + tol_c) & (e[None, :] <= e[:, None] + tol_e)
    lt = (c[None, :] < c[:, None] - tol_c) | (e[None, :] < e[:, None] - tol_e)
    dominated = (le & lt).any(axis=1)
    return ~dominated


def _finish(records, solutions, method) -> ParetoFront:
    pts = pd.DataFrame.from_records(records)
    ok = pts["status"].eq("optimal").to_numpy()
    pts, sols = pts[ok].reset_index(drop=True), [s for s, k in zip(solutions, ok, strict=True)
                                                 if k]
    keep = _non_dominated(pts)
    # equal points (same cost and exposure) are kept once
    keep &= ~pts[["cost", "exposure"]].round(9).duplicated().to_numpy()
    order = np.argsort(pts["cost"].to_numpy()[keep], kind="stable")
    idx = np.flatnonzero(keep)[order]
    return ParetoFront(pts.iloc[idx].reset_index(drop=True), [sols[i] for i in idx], method)


def pareto_front(problem: AttainmentProblem, weights, *, n_points: int = 12,
                 plot=None) -> ParetoFront:
    """Cost vs weighted concentration on the attainment LP by the ε-constraint method.

    Parameters
    ----------
    problem : AttainmentProblem
        Its own receptor targets (if any) stay in force at every point.
    weights : array (receptor,)
        Exposure weights, e.g. :func:`population_weights` (normalised to sum to 1).
    n_points : int
        ε values, evenly spaced from the exposure at no cost (or the cheapest plan meeting the
        targets) to the least reachable exposure; one LP each.
    plot : path, optional
        Write the figure (:func:`plot_front`).
    """
    w = np.asarray(weights, float).reshape(-1)
    if w.size != problem.baseline.size:
        raise InvalidValueError(f"{w.size} weights for {problem.baseline.size} receptors",
                                field="weights")
    check_nonnegative(w, "weights", kind="receptor")
    check_range(n_points, "n_points", 2, 10_000)
    w = w / w.sum()
    row = sp.csr_array(w[None, :] @ problem.reduction)
    ext = replace(problem, reduction=sp.vstack([problem.reduction, row], format="csr"),
                  baseline=np.append(problem.baseline, w @ problem.baseline),
                  target=np.append(problem.target, np.nan),
                  receptors=pd.Index([*problem.receptors, "__exposure__"], name="receptor"),
                  receptor_region=None, variables=problem.variables)
    k = problem.baseline.size
    start = ext.solve(diagnose_infeasible=False)
    if not start.feasible:
        raise InvalidValueError("the problem's own targets cannot be met: no front",
                                field="target")
    top_exposure = float(start.receptors["concentration"].iloc[k])
    lo = _least_exposure(ext, k)  # with the problem's targets in force
    eps = np.linspace(top_exposure, lo + 1e-9 * max(abs(lo), 1.0), int(n_points))
    records, solutions = [], []
    for e in eps:  # one LP per point of the front
        t = ext.target.copy()
        t[k] = e
        res = ext.solve(t, diagnose_infeasible=False)
        records.append({"epsilon": e, "exposure": float(res.receptors["concentration"].iloc[k]),
                        "cost": res.cost, "marginal_cost": float(
                            res.receptors["shadow_price"].iloc[k]) if res.feasible else np.nan,
                        "status": res.status})
        solutions.append(res.penetration)
    front = _finish(records, solutions, "epsilon-constraint LP")
    if plot is not None:
        front.plot(plot)
    return front


def _least_exposure(ext: AttainmentProblem, k: int) -> float:
    """min exposure s.t. the problem's targets (an LP with zero costs and weight row objective)."""
    from .solver import solve_program

    prog = ext.program()
    prog.c = -ext.reduction[[k]].toarray().ravel()
    sol = solve_program(prog)
    return float(ext.baseline[k] + sol.cost) if sol.ok else float(ext.baseline[k])


def pareto_front_rsm(surface, costs, *, output: str = "population", n_points: int = 10,
                     targets=None, method: str = "slsqp", plot=None) -> ParetoFront:
    """Cost vs an RSM output (default the population-weighted PM2.5) by ε-constraint.

    ε runs from the surface's base value to the value at the largest affordable reductions
    (:attr:`~ecodss.optimize.rsm.FactorCosts.max_reduction` within the design range); each point
    is :func:`~ecodss.optimize.rsm.optimise_on_surface`. ``targets``: other outputs' limits kept
    at every point.
    """
    from .rsm import optimise_on_surface

    check_range(n_points, "n_points", 2, 1000)
    if output not in surface.outputs:
        raise InvalidValueError(f"no surface output {output!r} (have {surface.outputs})",
                                field="output")
    o = surface.outputs.index(output)
    base = float(surface.predict(np.zeros(len(surface.factors)))[o])
    upper = np.minimum(costs.max_reduction, surface.upper)
    lo = float(surface.predict(upper)[o])
    eps = np.linspace(base, lo, int(n_points))
    records, solutions = [], []
    x0 = None
    for e in eps:  # one optimisation per point, warm-started from the previous one
        tgt = {**(targets or {}), output: e}
        res = optimise_on_surface(surface, costs, tgt, method=method, x0=x0)
        x0 = res.reductions.to_numpy()
        records.append({"epsilon": e, "exposure": float(res.concentration.iloc[o]),
                        "cost": res.cost, "marginal_cost": np.nan,
                        "status": "optimal" if res.success else "failed"})
        solutions.append(res.reductions)
    front = _finish(records, solutions, f"epsilon-constraint on the response surface ({method})")
    if plot is not None:
        front.plot(plot)
    return front


def plot_front(front: ParetoFront, path=None, ax=None, *, label: str | None = None):
    """Draw the front (cost in M CNY yr-1 vs population-weighted PM2.5); save to ``path``."""
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    else:
        fig = ax.figure
    pts = front.points
    ax.plot(pts["exposure"], pts["cost"] / 1e6, "o-", label=label or front.method)
    ax.set_xlabel("population-weighted PM2.5 [µg m$^{-3}$]")
    ax.set_ylabel("annual control cost [M CNY yr$^{-1}$]")
    ax.set_title("Pareto front: cost vs exposure")
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if path is not None:
        from ..io.netcdf import atomic_write

        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))
    if own:
        plt.close(fig)
    return ax
