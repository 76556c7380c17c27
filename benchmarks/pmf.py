"""PMF benchmark: 20 models on EPA's Baton Rouge example (6 factors, all species strong).

Runs ``ecodss.apportion.pmf`` (robust=False, the objective ESAT fits, and robust=True) and, when
EPA's ESAT is installed in a separate virtual environment, ESAT's BatchSA on the same
configuration in a subprocess (ESAT pins its own numpy/pandas/scipy, so it never shares this
environment). ESAT is found via ``$ECODSS_ESAT_PYTHON`` or ``/work/venvs/esat/bin/python``.

    python benchmarks/pmf.py [--data BatonRouge] [--factors 6] [--models 20] [--seed 42] [--no-esat]

Target (issue #5): robust=False at most half of ESAT's wall time at equal or better Q(true).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "pmf"
DEFAULT_ESAT = "/work/venvs/esat/bin/python"

# Runs inside ESAT's own interpreter; prints one JSON line. ESAT settings as in
# ../shared/pmf/README.md (col_means init, max_iter 20000, converge_delta 0.01, converge_n 50).
ESAT_SCRIPT = r"""
import json, sys, time
from esat.data.datahandler import DataHandler
from esat.model.batch_sa import BatchSA
con, unc, k, models, seed = sys.argv[1:6]
dh = DataHandler(con, unc, index_col="Date")
V, U = dh.get_data()
t0 = time.perf_counter()
b = BatchSA(V=V, U=U, factors=int(k), models=int(models), method="ls-nmf", seed=int(seed),
            init_method="col_means", max_iter=20000, converge_delta=0.01, converge_n=50,
            verbose=False)
b.train()
t = time.perf_counter() - t0
best = b.results[b.best_model]
print("ESAT_JSON " + json.dumps(dict(time=t, q_true=float(best.Qtrue), q_robust=float(best.Qrobust),
      min_q_true=min(float(r.Qtrue) for r in b.results), cores=b.cores)))
"""


def run_esat(python: str, con: Path, unc: Path, k: int, models: int, seed: int) -> dict:
    out = subprocess.run([python, "-c", ESAT_SCRIPT, str(con), str(unc), str(k), str(models),
                          str(seed)], capture_output=True, text=True, check=True)
    line = next(s for s in out.stdout.splitlines()[::-1] if "ESAT_JSON " in s)
    return json.loads(line.split("ESAT_JSON ", 1)[1])


def main() -> None:
    from ecodss.apportion import pmf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="BatonRouge")
    ap.add_argument("--factors", type=int, default=6)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-esat", action="store_true")
    a = ap.parse_args()
    con, unc = SHARED / f"Dataset-{a.data}-con.csv", SHARED / f"Dataset-{a.data}-unc.csv"
    X, U = pd.read_csv(con, index_col=0), pd.read_csv(unc, index_col=0)
    print(f"{a.data}: {X.shape[0]} samples x {X.shape[1]} species, {a.factors} factors, "
          f"{a.models} models, seed {a.seed}, cpu count {os.cpu_count()}")
    res = {}
    for robust in (False, True):
        t0 = time.perf_counter()
        r = pmf(X, U, a.factors, n_models=a.models, robust=robust, seed=a.seed)
        res[robust] = (time.perf_counter() - t0, r)
        print(f"ecodss robust={robust!s:5}: {res[robust][0]:7.2f} s  Q(true) {r.q_true:10.1f}  "
              f"Q(robust) {r.q_robust:10.1f}  Q/Qexp {r.q_ratio:.3f}  "
              f"iterations max {r.models['n_iter'].max()}")
    python = os.environ.get("ECODSS_ESAT_PYTHON", DEFAULT_ESAT)
    if a.no_esat:
        return
    if not Path(python).exists():
        print(f"ESAT: not installed (no interpreter at {python}); set ECODSS_ESAT_PYTHON or "
              f"`python -m venv /work/venvs/esat && /work/venvs/esat/bin/pip install esat`")
        return
    e = run_esat(python, con, unc, a.factors, a.models, a.seed)
    t_ours, r = res[False]
    print(f"ESAT (LS-NMF, Rust, {e['cores']} worker process(es)): {e['time']:7.2f} s  "
          f"Q(true) {e['q_true']:10.1f}  Q(robust) {e['q_robust']:10.1f}  "
          f"(lowest Q(true) of its models {e['min_q_true']:.1f})")
    ratio = t_ours / e["time"]
    verdict = "meets" if ratio <= 0.5 and r.q_true <= e["q_true"] else "misses"
    print(f"time ratio ecodss/ESAT (robust=False): {ratio:.3f}; "
          f"Q(true) ecodss - ESAT: {r.q_true - e['q_true']:+.1f} -> {verdict} the target "
          f"(<= 0.5 x time at equal or better Q(true))")


if __name__ == "__main__":
    main()
