"""The scenario dimension: from a design in a scenario file to the members' parameter sets.

* ``list`` — the members as written;
* ``product`` — every combination of the factor levels (full factorial, first factor slowest);
* ``latin_hypercube`` — ``n`` points, one in each of ``n`` equal-probability strata of every factor
  (McKay, Beckman & Conover 1979, *Technometrics* 21:239-245), drawn with
  :class:`scipy.stats.qmc.LatinHypercube` (optionally centred-discrepancy optimised), scaled to
  ``[low, high]``; the usual design for fitting response surfaces of emission reductions;
* ``ensemble`` — ``n`` meteorological members, each with its own seed from
  :class:`numpy.random.SeedSequence` ``(seed).spawn(n)`` (independent streams; O'Neill 2014, PCG),
  member 0 the unperturbed control when ``control`` is true (:mod:`ecodss.batch.ensemble`).

Every member's parameters are plain JSON values: they go to the run store, the summary table and
the combined output's ``member`` coordinates.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import ConfigError


def members(scenario) -> list[dict]:
    """Parameter mapping of every member of ``scenario`` (fixed ``parameters`` merged in).

    ``--quick`` scenarios (:meth:`Scenario.quick_version`) keep their first ``quick.members``.
    """
    design = scenario.scenario
    if design is None:
        rows = [{}]
    elif design.kind == "list":
        rows = [dict(m) for m in design.members]
    elif design.kind == "product":
        names = list(design.factors)
        rows = [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*design.factors.values())]
    elif design.kind == "latin_hypercube":
        rows = latin_hypercube(design.factors, design.n, seed=design.seed,
                               optimization=design.optimization)
    else:
        rows = ensemble_members(design.n, design.seed, design.control,
                                design.perturbation.model_dump())
    rows = [{**scenario.parameters, **row} for row in rows]
    if scenario.quick is not None and scenario.name.endswith("-quick"):
        rows = rows[: scenario.quick.members]
    return rows


def latin_hypercube(factors: dict[str, tuple[float, float]], n: int, *, seed: int = 0,
                    optimization: str | None = "random-cd") -> list[dict]:
    """``n`` Latin-hypercube points over ``factors`` ``{name: (low, high)}`` (McKay et al. 1979).

    Values are rounded to 6 significant digits so that they read back identically from YAML,
    JSON and NetCDF.
    """
    from scipy.stats import qmc

    names = list(factors)
    sampler = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed),
                                 optimization=optimization)
    unit = sampler.random(n)
    lo = np.array([factors[k][0] for k in names], float)
    hi = np.array([factors[k][1] for k in names], float)
    values = qmc.scale(unit, lo, hi)
    values = np.vectorize(lambda v: float(f"{v:.6g}"))(values)
    return [dict(zip(names, map(float, row), strict=True)) for row in values]


def ensemble_members(n: int, seed: int, control: bool, perturbation: dict) -> list[dict]:
    """Parameters of ``n`` ensemble members: member index, its own seed, the spreads."""
    seeds = np.random.SeedSequence(seed).spawn(n)
    return [{"ensemble_member": i, "ensemble_seed": int(s.generate_state(1)[0]),
             "perturb": not (control and i == 0), **perturbation}
            for i, s in enumerate(seeds)]


def member_label(index: int, n: int) -> str:
    """``m000``-style label, zero-padded to the batch size."""
    return f"m{index:0{max(3, len(str(n - 1)))}d}"


def check_design(scenario) -> None:
    """Refuse designs a workflow cannot run (parameters it does not take); raise ConfigError."""
    from .members import workflow_parameters

    design = scenario.scenario
    accepted = workflow_parameters(scenario.workflow)
    if accepted is None:  # a user workflow (module:function) takes any parameters
        return
    where = {}
    if design.kind == "list":
        for i, m in enumerate(design.members):
            where.update({k: ("members", i, k) for k in m if k not in where})
    elif design.kind in ("product", "latin_hypercube"):
        where = {k: ("factors", k) for k in design.factors}
    for name, loc in where.items():
        if name not in accepted and not _is_open(name, accepted):
            err = ConfigError(f"workflow {scenario.workflow!r} takes no parameter {name!r}; "
                              f"it takes {sorted(accepted)}")
            err.loc = loc
            raise err


def _is_open(name: str, accepted) -> bool:
    """Families of parameters such as ``cut_<sector>`` accepted by prefix."""
    return any(a.endswith("*") and name.startswith(a[:-1]) for a in accepted)
