"""Cluster selection: SLURM/PBS job scripts from a scenario's dask: section (no scheduler needed)."""

import pytest

from ecodss import ConfigError
from ecodss.batch.cluster import check_scheduler, jobqueue_cluster
from ecodss.batch.schema import DaskSettings

pytest.importorskip("dask_jobqueue", reason="dask-jobqueue (the hpc extra) is not installed")

SECTION = {"scheduler": "slurm", "workers": 4,
           "jobqueue": {"cores": 8, "memory": "32GB", "walltime": "02:30:00",
                        "account": "airq-ops", "queue": "normal"}}


@pytest.mark.parametrize("kind", ["slurm", "pbs"])
def test_job_script_has_cores_memory_walltime_account(kind):
    settings = DaskSettings(**{**SECTION, "scheduler": kind})
    cluster = jobqueue_cluster(kind, settings.jobqueue)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    if kind == "slurm":
        assert "#SBATCH --cpus-per-task=8" in script
        assert "#SBATCH --mem=30G" in script  # 32 GB = 29.8 GiB, rounded by dask-jobqueue
        assert "#SBATCH -t 02:30:00" in script
        assert "#SBATCH -A airq-ops" in script
        assert "#SBATCH -p normal" in script
    else:
        assert "#PBS -l select=1:ncpus=8:mem=30GB" in script
        assert "#PBS -l walltime=02:30:00" in script
        assert "#PBS -A airq-ops" in script
        assert "#PBS -q normal" in script
    assert "--nthreads" in script or "--nworkers" in script


def test_unknown_scheduler_and_missing_sizes():
    with pytest.raises(ValueError, match="unknown scheduler"):
        check_scheduler("mpi")
    assert check_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    with pytest.raises(ConfigError, match="slurm"):
        jobqueue_cluster("slurm", None, cores=None, memory=None)
