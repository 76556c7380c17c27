"""Batch runner benchmark: speed-up of a 50-member batch on 2 workers versus 1, and overhead.

Runs ``scenarios/response_surface_50.yaml`` (50 Latin-hypercube members of the city box model)
on a ``distributed.LocalCluster`` of 1 and of 2 single-threaded worker processes. The workers are
warmed first (imports and the sample loaded), so the figures measure the batch, not start-up.
Per-member scheduling overhead = (wall time x workers - sum of member compute times) / members:
the time a worker slot spends on anything but the member itself (claiming, submitting,
recording, renaming, hashing). Target (issue #8): speed-up >= 1.6 on 2 workers.

    python benchmarks/batch.py [--members 50]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "response_surface_50.yaml"


def _warm():
    from ecodss.batch.members import MemberContext, box_model

    box_model(MemberContext("warm-up", {}))
    return os.getpid()


def timed_batch(workers: int, members: int, folder: Path) -> dict:
    from distributed import Client, LocalCluster

    from ecodss.batch import run
    from ecodss.batch.schema import load_scenario_file

    sc = load_scenario_file(SCENARIO)
    if members != sc.scenario.n:
        sc = sc.model_copy(update={"scenario": sc.scenario.model_copy(update={"n": members})})
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(_warm)
        start = time.perf_counter()
        result = run(sc, client=client, store=folder / f"w{workers}.sqlite",
                     out=str(folder / f"w{workers}"), progress=False)
        wall = time.perf_counter() - start
    assert result.ok, result.summary["error"].dropna().tolist()[:3]
    compute = float(result.summary["seconds"].sum())
    return {"workers": workers, "wall": wall, "compute": compute,
            "overhead": (wall * workers - compute) / members}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"ecodss batch benchmark: {args.members} members of {SCENARIO.name}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        one = timed_batch(1, args.members, Path(tmp))
        two = timed_batch(2, args.members, Path(tmp))
    for r in (one, two):
        print(f"  {r['workers']} worker(s): wall {r['wall']:6.1f} s, member compute "
              f"{r['compute']:6.1f} s, scheduling overhead {1000 * r['overhead']:6.1f} ms/member")
    inflation = two["compute"] / one["compute"]
    print(f"member compute time, 2 workers / 1 worker: {inflation:.2f} (about 1 on an idle "
          f"machine; above 1 the two workers are competing for CPUs)")
    speedup = one["wall"] / two["wall"]
    print(f"speed-up 2 vs 1 workers: {speedup:.2f}x (target >= 1.6x: "
          f"{'met' if speedup >= 1.6 else 'NOT met'})")


if __name__ == "__main__":
    main()
