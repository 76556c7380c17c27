"""Decision solvers at scale: attainment LP and emergency curtailment MILP solve times.

* Attainment LP (GAINS-style, :mod:`ecodss.optimize.attainment`): 5,000 measures × 500
  receptors, sparse source–receptor reductions (10 % dense), exclusive groups of 4, a target at
  every receptor; solved with HiGHS (interior point + crossover above 2,000 variables).
* Emergency MILP (:func:`ecodss.emergency.plan`): one city with 2,000 enterprises (one stack
  each, grades A/leading/B/C/D, lognormal value added) plus residential/traffic/dust areas, the
  sample's emergency measures (production limits and stops, sector measures), orange alert
  (20 % cuts of SO2, NOx, PM10, VOCs) over three days; one solve per ``mip_rel_gap``.

    python benchmarks/optimize.py [--measures 5000] [--receptors 500] [--enterprises 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

POLS = ("SO2", "NOx", "PM2.5", "PM10", "VOCs", "NH3", "CO")


def attainment_case(n_measures: int, n_receptors: int, seed: int = 1):
    from ecodss.optimize import AttainmentProblem

    rng = np.random.default_rng(seed)
    a = sp.random_array((n_receptors, n_measures), density=0.1, rng=rng, format="csr")
    base = rng.uniform(50, 120, n_receptors)
    need = 0.3 * np.asarray(a @ np.full(n_measures, 0.8)).ravel()
    groups = sp.csr_array((np.ones(n_measures), (np.arange(n_measures) // 4,
                                                 np.arange(n_measures))))
    return AttainmentProblem.from_arrays(rng.uniform(1, 100, n_measures), a, base, base - need,
                                         rng.uniform(0.5, 1.0, n_measures), groups)


def emergency_case(n_enterprises: int, seed: int = 2):
    """A synthetic city: ``n_enterprises`` point sources and three area sectors [t yr-1]."""
    from ecodss.inventory import Inventory
    from ecodss.samples_measures import load_measures

    rng = np.random.default_rng(seed)
    sectors = np.array(["power", "iron_steel", "cement", "coking", "glass", "chemicals",
                        "boilers"])
    sector = rng.choice(sectors, n_enterprises)
    grade = rng.choice(["A", "leading", "B", "C", "D"], n_enterprises,
                       p=[0.05, 0.05, 0.3, 0.4, 0.2])
    size = rng.lognormal(0.0, 1.0, n_enterprises)
    mix = rng.dirichlet(np.ones(len(POLS)), n_enterprises)
    rates = 50.0 * size[:, None] * mix  # t/yr
    ids = [f"E{i:05d}" for i in range(n_enterprises)]
    points = pd.DataFrame({"id": ids, "x": rng.uniform(0, 5e4, n_enterprises),
                           "y": rng.uniform(0, 5e4, n_enterprises), "stack_height": 40.0,
                           "stack_diameter": 2.0, "exit_velocity": 10.0,
                           "exit_temperature": 400.0, "sector": sector, "enterprise": ids,
                           "grade": grade, **dict(zip(POLS, rates.T, strict=True))})
    areas = pd.DataFrame({"id": ["RES", "TRF", "DST"], "x": 0.0, "y": 0.0, "width": 5e4,
                          "height": 5e4, "sector": ["residential", "traffic", "dust"],
                          **{p: rates[:, i].sum() * np.array([0.3, 0.3, 0.2])
                             for i, p in enumerate(POLS)}})
    inv = Inventory.from_points(points, units="t/yr").combine(
        Inventory.from_areas(areas, units="t/yr"))
    ents = pd.DataFrame({"enterprise": ids, "grade": grade,
                         "value_added": 2e5 * size * rng.lognormal(0.0, 0.5, n_enterprises)})
    dates = pd.date_range("2026-01-10", periods=3).values
    forecast = xr.Dataset({"PM2.5": (("city", "date"), np.full((1, 3), 180.0))},
                          coords={"city": ["C"], "date": dates})
    return forecast, inv, load_measures(), ents


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measures", type=int, default=5000)
    ap.add_argument("--receptors", type=int, default=500)
    ap.add_argument("--enterprises", type=int, default=2000)
    ap.add_argument("--gaps", type=float, nargs="+", default=[None, 1e-3, 1e-4, 1e-5])
    args = ap.parse_args(argv)

    prob = attainment_case(args.measures, args.receptors)
    t = time.perf_counter()
    res = prob.solve()
    print(f"attainment LP {args.measures} measures x {args.receptors} receptors: "
          f"{res.status}, {time.perf_counter() - t:.2f} s, cost {res.cost:.6g}, "
          f"{int((res.shadow_prices > 0).sum())} binding targets")

    from ecodss.emergency import plan

    forecast, inv, measures, ents = emergency_case(args.enterprises)
    for gap in args.gaps:  # one MILP solve per gap setting
        t = time.perf_counter()
        kw = {} if gap is None else {"mip_rel_gap": gap}
        out = plan(forecast, inv, measures, level=2, enterprises=ents, temporal=False, **kw)
        dt = time.perf_counter() - t
        met = bool(out.reductions["met"].all())
        print(f"emergency MILP {args.enterprises} enterprises, mip_rel_gap="
              f"{'default' if gap is None else f'{gap:g}'}: {out.status}, {dt:.2f} s, cost "
              f"{out.cost:.8g} CNY, {len(out.table)} actions, shares met: {met}"
              + (f" [{out.notes[-1]}]" if out.notes else ""))


if __name__ == "__main__":
    main()
