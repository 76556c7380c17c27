"""Run a batch scenario on a cluster: a LocalCluster here, SLURM/PBS on an HPC system.

    python examples/cluster_batch.py                      # LocalCluster, 2 workers, --quick
    python examples/cluster_batch.py --scheduler slurm    # jobs from the scenario's dask: section

On an HPC login node, put the cluster settings in the scenario (``dask.jobqueue``: cores, memory,
walltime, account, queue) or in ``~/.config/dask/jobqueue.yaml``; keep the run store on the login
node's local disk and the outputs on the shared file system. The work stays under the
``__main__`` guard: dask starts worker processes that import this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "response_surface_50.yaml"


def main() -> None:
    from ecodss.batch import run
    from ecodss.batch.cli import report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", default="local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="all 50 members (default: quick)")
    parser.add_argument("--store", default="ecodss-runs.sqlite")
    args = parser.parse_args()
    if args.scheduler in ("slurm", "pbs"):
        from ecodss.batch.cluster import jobqueue_cluster
        from ecodss.batch.schema import load_scenario_file

        settings = load_scenario_file(SCENARIO).dask.jobqueue
        with jobqueue_cluster(args.scheduler, settings) as cluster:
            print(cluster.job_script())  # what will be submitted
    result = run(SCENARIO, scheduler=args.scheduler, workers=args.workers,
                 quick=not args.full, store=args.store)
    print(report(result))


if __name__ == "__main__":
    main()
