"""Where members run: dask's local schedulers or a ``distributed`` cluster (never hard-coded).

``scheduler`` (scenario ``dask.scheduler`` or ``--scheduler``):

* ``threads`` / ``processes`` / ``synchronous`` — dask's local schedulers; members are tasks of one
  graph per claimed wave, finished members are recorded as each task ends (a ``posttask``
  callback in the client thread) and :class:`dask.diagnostics.ProgressBar` shows progress. The
  callbacks are given to that ``compute`` call only (never dask's process-global
  ``Callback.active``) and task keys carry the runner token, so several runners in one process
  (threads of a server) never see each other's members;
* ``local`` — a :class:`distributed.LocalCluster` of ``workers`` processes started by the runner;
  its worker processes exit when the runner dies, even by SIGKILL (``distributed`` gives each
  worker a pipe from its parent and exits when it closes, ``distributed/process.py``);
* ``tcp://HOST:PORT`` — an existing scheduler;
* ``slurm`` / ``pbs`` — a dask-jobqueue cluster (the ``hpc`` extra) built from the scenario's
  ``dask.jobqueue`` section over the defaults of dask's ``jobqueue.yaml``
  (``~/.config/dask/jobqueue.yaml``), scaled to ``workers`` jobs.

Or pass your own ``distributed.Client`` to :func:`ecodss.batch.run`.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from ..errors import ConfigError

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
#: Seconds between looks at the cancel event while members run on a cluster.
CANCEL_POLL = 0.1
SCHEDULERS = LOCAL_SCHEDULERS + ("local", "slurm", "pbs")


def check_scheduler(name: str) -> str:
    """Return ``name`` if it is a known scheduler or a ``tcp://``/``tls://`` address."""
    if name in SCHEDULERS or name.startswith(("tcp://", "tls://", "ucx://")):
        return name
    raise ValueError(f"unknown scheduler {name!r}; use one of {list(SCHEDULERS)} "
                     f"or tcp://HOST:PORT")


def jobqueue_cluster(kind: str, settings=None, **overrides):
    """A ``SLURMCluster`` or ``PBSCluster`` from a :class:`JobqueueSettings` (no job started).

    Fields left unset come from dask's ``jobqueue.yaml``; dask-jobqueue must be installed
    (``pip install ecodss[hpc]``). ``cluster.job_script()`` shows the batch script it submits.
    """
    try:
        import dask_jobqueue
    except ImportError:
        raise ConfigError(f"scheduler {kind!r} needs dask-jobqueue: pip install "
                          f"'ecodss[hpc]' (or dask-jobqueue)") from None
    classes = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}
    if kind not in classes:
        raise ConfigError(f"no jobqueue cluster {kind!r}; use 'slurm' or 'pbs'")
    kwargs = {} if settings is None else {
        k: v for k, v in settings.model_dump().items() if v not in (None, [])}
    kwargs.update(overrides)
    kwargs.setdefault("scheduler_options", {"dashboard_address": None})
    try:
        return classes[kind](**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"dask.jobqueue settings for {kind}: {exc}") from None


class LocalExecutor:
    """Members as tasks of dask's threaded / multiprocessing / synchronous scheduler."""

    def __init__(self, scheduler: str, workers: int | None, progress: bool = True):
        self.scheduler, self.workers, self.progress = scheduler, workers, progress
        self.name = scheduler
        self.window = None  # claim everything claimable at once (one graph)

    def worker_pids(self) -> list[int]:
        return []

    def execute(self, claim, submit_args, on_done, cancel=None) -> None:
        """Run waves of claimed members until ``claim`` returns nothing.

        ``cancel`` (an event) is seen by :func:`~ecodss.batch.runner.start_member` in this
        process: members of the wave that have not started are skipped once it is set.
        """
        import dask
        from dask.callbacks import Callback
        from dask.diagnostics import ProgressBar

        from .runner import start_member

        while tasks := claim(self.window):
            keys = {}
            graph = []
            for task in tasks:
                key = f"member-{task['label']}-{task['token']}"
                keys[key] = task
                graph.append(dask.delayed(start_member, pure=False)(
                    task["token"], *submit_args(task), dask_key_name=key))

            def posttask(key, result, dsk, state, worker_id, keys=keys):
                if key in keys:  # only this runner's members (keys carry its token)
                    on_done(keys[key], result)

            callbacks = [Callback(posttask=posttask)._callback]
            if self.progress:
                callbacks.append(ProgressBar(out=sys.stderr)._callback)
            dask.compute(*graph, scheduler=self.scheduler, num_workers=self.workers,
                         callbacks=callbacks)


class DistributedExecutor:
    """Members as ``client.submit`` futures; a window of claimed members kept in flight."""

    def __init__(self, client, progress: bool = True, name: str = "distributed"):
        self.client, self.progress, self.name = client, progress, name
        self.window = None

    def worker_pids(self) -> list[int]:
        try:
            info = self.client.run(lambda: __import__("os").getpid())
        except Exception:  # noqa: BLE001 - the pid list is informative only
            return []
        return list(info.values())

    def _window(self) -> int:
        if self.window:
            return self.window
        threads = sum(self.client.nthreads().values()) or 1
        return 2 * threads

    def execute(self, claim, submit_args, on_done, cancel=None) -> None:
        """Keep a window of claimed members in flight until ``claim`` returns nothing.

        Once ``cancel`` (an event) is set, the futures still pending are cancelled within
        :data:`CANCEL_POLL` seconds (their members are then cancelled by the runner); a member
        already running on a worker finishes there and its result is discarded.
        """
        import threading

        from distributed import as_completed

        from .runner import start_member

        def submit(tasks):
            futures = []
            for task in tasks:
                fut = self.client.submit(start_member, task["token"], *submit_args(task),
                                         pure=False,
                                         key=f"member-{task['label']}-{task['token']}")
                fut.task = task
                futures.append(fut)
            return futures

        bar = _bar(self.progress)
        futures = submit(claim(self._window()))
        pending = as_completed(futures, with_results=False)
        finished = threading.Event()

        def watch():  # cancelled futures end at once, so the loop below sees them now
            while not finished.is_set():
                if cancel.wait(CANCEL_POLL):
                    self.client.cancel([f for f in futures if not f.done()])
                    return

        if cancel is not None:
            threading.Thread(target=watch, daemon=True, name="ecodss-cancel").start()
        try:
            for fut in pending:
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - worker lost, cancelled: not done
                    result = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                              "seconds": 0.0}
                on_done(fut.task, result)
                bar.update(1)
                new = submit(claim(1))
                futures += new
                for f in new:
                    pending.add(f)
        finally:
            finished.set()
            bar.close()


def _bar(show: bool):
    from tqdm import tqdm

    return tqdm(desc="members", unit="member", file=sys.stderr, disable=not show)


@contextmanager
def open_executor(settings, *, scheduler: str | None = None, workers: int | None = None,
                  client=None, progress: bool = True):
    """The executor of a batch: ``client`` if given, else from ``scheduler``/``settings``.

    Clusters started here (``local``, ``slurm``, ``pbs``) are closed on exit.
    """
    name = check_scheduler(scheduler or settings.scheduler) if client is None else "client"
    n = workers or settings.workers
    if client is not None:
        yield DistributedExecutor(client, progress, name="client")
        return
    if name in LOCAL_SCHEDULERS:
        yield LocalExecutor(name, n, progress)
        return
    from distributed import Client, LocalCluster

    if name == "local":
        cluster = LocalCluster(n_workers=n or 2, threads_per_worker=settings.threads_per_worker,
                               processes=True, memory_limit=settings.memory_limit or "auto",
                               dashboard_address=None)
    elif name in ("slurm", "pbs"):
        cluster = jobqueue_cluster(name, settings.jobqueue)
        cluster.scale(jobs=n or 1)
    else:
        cluster = None
    try:
        with Client(cluster if cluster is not None else name) as cl:
            yield DistributedExecutor(cl, progress, name=name)
    finally:
        if cluster is not None:
            cluster.close()
