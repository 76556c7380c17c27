"""The batch runner: ``ecodss.batch.run(spec, client=None, ...)``.

1. The scenario's design gives the members (:mod:`ecodss.batch.design`); the scenario identity
   (SHA-256 of what decides the results) keys the run in the store, so rerunning a scenario is
   the same run: done members are skipped.
2. The runner claims members atomically in the store (:meth:`RunStore.claim`) and submits each as
   an independent dask task (:mod:`ecodss.batch.cluster`). A task runs the member workflow and
   writes its NetCDF under a temporary name, fsync'ed; it never touches the catalog.
3. As each task ends, the client renames the file and records it done with its SHA-256 (or failed
   with the error). A kill at any moment leaves no member marked done without its complete file;
   the next run (``--resume`` to take over at once from a runner whose liveness cannot be checked)
   finishes exactly the members that are missing.
4. When every member is final, the client writes the products (:mod:`ecodss.batch.products`).

Cancel: set the ``cancel`` event given to :func:`run` (or call :meth:`RunStore.cancel` from any
process; the runner notices at its next claim or heartbeat). The runner claims nothing more,
members it claimed but had not started are skipped, results of members still in flight are
discarded, and every member it holds ends ``cancelled``; :func:`run` returns once the members in
flight have stopped (a member is never interrupted half-way). Rerunning the scenario finishes them.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .design import member_label, members
from .schema import Scenario
from .store import HEARTBEAT, RunStore, default_store_path

#: netCDF-C/HDF5 are not thread-safe: one member file is written at a time per process
#: (threaded scheduler, multi-threaded workers); the members' computations still overlap.
_NETCDF_LOCK = threading.Lock()
#: Cancel events of the runners of this process by runner token, seen by members that start in
#: this process (threads, synchronous): a member claimed before a cancel is then skipped.
_CANCEL_EVENTS: dict[str, threading.Event] = {}


@dataclass
class BatchResult:
    """Outcome of :func:`run`: the run id, its folder, member counts, summary and products."""

    run_id: str
    name: str
    out_dir: Path
    counts: dict
    summary: pd.DataFrame
    products: dict = field(default_factory=dict)
    ran: int = 0  # members this runner executed
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.counts.get("done", 0) == sum(self.counts.values())


def as_scenario(spec) -> tuple[Scenario, str | None]:
    """A validated :class:`Scenario` (and its file path) from a path, mapping or Scenario."""
    from .schema import load_scenario_file

    if isinstance(spec, Scenario):
        return spec, None
    if isinstance(spec, str | os.PathLike):
        return load_scenario_file(spec), str(Path(spec).resolve())
    if isinstance(spec, dict):
        from pydantic import ValidationError

        from ..config import REPO_ROOT, resolve_path

        try:
            sc = Scenario(**spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"scenario: field {loc!r}: {err['msg']}") from None
        if sc.model is not None:
            sc.model = str(resolve_path(sc.model, REPO_ROOT))
        return sc, None
    raise TypeError(f"spec must be a path, a mapping or a Scenario, not {type(spec).__name__}")


def model_parameters(sc: Scenario) -> dict:
    """The model configuration's parameters overridden by the scenario's model keywords."""
    from ..config import load_model_config
    from .members import workflow_parameters

    params = dict(load_model_config(sc.model)[1]) if sc.model else {}
    member = workflow_parameters(sc.workflow) or ()
    for k, v in sc.parameters.items():
        if k not in member and not any(m.endswith("*") and k.startswith(m[:-1]) for m in member):
            params[k] = v
    return params


def execute_member(workflow: str, ctx, tmp: str, variables: list | None, attrs: dict) -> dict:
    """Worker side of one member: run it, write NetCDF to ``tmp`` (fsync'ed), report back.

    Never raises: an exception becomes ``{"ok": False, "error": ...}`` so one bad member cannot
    stop the batch. The member's own dask work runs on the synchronous scheduler (members are the
    unit of parallelism; ``dask.chunks`` bounds a member's memory).
    """
    import dask

    from ..io.netcdf import check_cf
    from .members import resolve_workflow

    start = time.perf_counter()
    try:
        with dask.config.set(scheduler="synchronous"):
            ds = resolve_workflow(workflow)(ctx)
            if variables:
                missing = [v for v in variables if v not in ds]
                if missing:
                    raise ConfigError(f"outputs.variables: the member has no {missing}; "
                                      f"it has {sorted(ds.data_vars)}")
                ds = ds[variables]
            check_cf(ds)
            ds = ds.load()
            ds.attrs.update(attrs)
            Path(tmp).parent.mkdir(parents=True, exist_ok=True)
            with _NETCDF_LOCK:
                ds.to_netcdf(tmp, engine="netcdf4")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        return {"ok": True, "tmp": tmp, "seconds": time.perf_counter() - start,
                "pid": os.getpid()}
    except Exception as exc:  # noqa: BLE001 - reported to the catalog
        if os.path.exists(tmp):
            os.remove(tmp)
        tail = traceback.format_exc(limit=-3).strip().splitlines()
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": "\n".join(tail[-6:]), "seconds": time.perf_counter() - start}


def start_member(token: str, *args) -> dict:
    """:func:`execute_member` unless the runner ``token`` of this process was cancelled."""
    event = _CANCEL_EVENTS.get(token)
    if event is not None and event.is_set():
        return {"ok": False, "cancelled": True, "error": "cancelled before it started",
                "seconds": 0.0}
    return execute_member(*args)


class _Heartbeat(threading.Thread):
    """Beats every :data:`HEARTBEAT` s; sets ``cancel`` when the store says the runner is stopped."""

    def __init__(self, path, runner, executor, cancel: threading.Event):
        super().__init__(daemon=True, name="ecodss-heartbeat")
        self.path, self.runner, self.executor, self.cancel = path, runner, executor, cancel
        self.stop = threading.Event()

    def run(self):
        with RunStore(self.path) as store:
            store.heartbeat(self.runner, self.executor.worker_pids() or None)
            while not self.stop.wait(HEARTBEAT):
                store.heartbeat(self.runner)
                if store.is_cancelled(self.runner):
                    self.cancel.set()


def run(spec, client=None, *, scheduler: str | None = None, workers: int | None = None,
        resume: bool = False, quick: bool = False, store=None, out: str | None = None,
        progress: bool = True, claim_batch: int | None = None, wait: bool = True,
        poll: float = 0.5, cancel: threading.Event | None = None) -> BatchResult:
    """Run a batch scenario; returns a :class:`BatchResult`.

    Parameters
    ----------
    spec : path, mapping or Scenario
        The scenario (a file is validated with file/line/field errors).
    client : distributed.Client, optional
        Run on this cluster (overrides ``scheduler``).
    scheduler : str, optional
        ``threads``, ``processes``, ``synchronous``, ``local``, ``tcp://HOST:PORT``, ``slurm``,
        ``pbs`` (default: the scenario's ``dask.scheduler``, else threads).
    workers : int, optional
        Workers (local schedulers and clusters) or jobs (SLURM/PBS).
    resume : bool
        Take over members left ``running`` by a runner that is gone without waiting for its
        heartbeat to go stale (after a crash or kill on another host).
    quick : bool
        Run the scenario's ``quick:`` version (fewer members, overrides; a separate run).
    store : path, optional
        Run store (default: the scenario's ``store``, ``$ECODSS_STORE`` or
        ``./ecodss-runs.sqlite``).
    out : str, optional
        Output folder instead of ``outputs.path``; members go to ``<out>/run-<hash12>/``.
    claim_batch : int, optional
        Members claimed at a time (default: all for local schedulers, 2 per thread on a cluster).
    wait : bool
        Wait for members other live runners hold, then write the products (default).
    cancel : threading.Event, optional
        Set it (from any thread) to stop this runner: checked before each claim and before each
        completion is recorded; members claimed but not started (threads and synchronous
        schedulers; futures on a cluster) are skipped, results in flight are discarded, and the
        members it holds end ``cancelled`` (see :meth:`RunStore.cancel`). No products are written.
    """
    from .cluster import open_executor
    from .products import write_products

    sc, path = as_scenario(spec)
    if quick:
        sc = sc.quick_version()
    if not sc.is_batch and workflow_is_forecast(sc.workflow):
        raise ConfigError(f"scenario {sc.name!r} has no 'scenario:' section and workflow "
                          f"{sc.workflow!r} is a single forecast: run it with ecodss.forecast")
    if sc.outputs.format == "zarr":
        _require_zarr()
    params = members(sc)
    labels = [member_label(i, len(params)) for i in range(len(params))]
    run_id = sc.identity()
    out_dir = Path(out or sc.outputs.path).resolve() / f"run-{run_id[:12]}"
    (out_dir / "members").mkdir(parents=True, exist_ok=True)
    store_path = Path(store or sc.store or default_store_path())
    db = RunStore(store_path)
    db.ensure_run(run_id, sc, params, labels, out_dir, path)
    model_params = model_parameters(sc)
    variables = sc.outputs.variables
    start = time.perf_counter()
    ran = 0
    cancel = cancel if cancel is not None else threading.Event()
    with open_executor(sc.dask, scheduler=scheduler, workers=workers, client=client,
                       progress=progress) as executor:
        runner = db.register_runner(run_id, executor.name)
        executor.window = claim_batch or executor.window
        token = runner.rsplit(":", 1)[1]
        _CANCEL_EVENTS[token] = cancel
        beat = _Heartbeat(store_path, runner, executor, cancel)
        beat.start()

        def claim(limit):
            if cancel.is_set():
                return []
            got = db.claim(run_id, runner, limit or len(params), resume=resume)
            for task in got:
                task["token"] = token
            return got

        def submit_args(task):
            from .members import MemberContext

            ctx = MemberContext(task["label"], task["params"], model_params, sc.inputs,
                                sc.dask.chunks)
            tmp = out_dir / "members" / f".{task['label']}.nc.{token}.part"
            attrs = {"ecodss_member": task["label"], "ecodss_run": run_id,
                     "ecodss_workflow": sc.workflow,
                     "ecodss_parameters": json.dumps(task["params"], sort_keys=True)}
            return sc.workflow, ctx, str(tmp), variables, attrs

        def on_done(task, result):
            nonlocal ran
            if cancel.is_set() or result.get("cancelled"):
                if result.get("ok") and os.path.exists(result["tmp"]):
                    os.remove(result["tmp"])  # discarded: the member ends cancelled below
                return
            ran += 1
            if result.get("ok"):
                final = out_dir / "members" / f"{task['label']}.nc"
                db.complete(run_id, task["member"], runner, result["tmp"], final,
                            result["seconds"])
            else:
                db.fail(run_id, task["member"], runner,
                        result["error"] + ("\n" + result["traceback"]
                                           if result.get("traceback") else ""),
                        result["seconds"])

        try:
            while not cancel.is_set():
                executor.execute(claim, submit_args, on_done, cancel)
                if db.is_cancelled(runner):  # by RunStore.cancel, maybe from another process
                    cancel.set()
                    break
                counts = db.counts(run_id)
                if not wait or counts["queued"] + counts["running"] == 0:
                    break
                cancel.wait(poll)  # members held by another live runner: wait, then reclaim
        finally:
            beat.stop.set()
            _CANCEL_EVENTS.pop(token, None)
            if cancel.is_set():
                db.cancel(run_id, runner)
            db.finish_runner(runner)
    if cancel.is_set():  # clusters started here are closed: no worker writes any more
        for part in (out_dir / "members").glob(f".*.nc.{token}.part"):
            part.unlink(missing_ok=True)  # of members whose results were discarded
    counts = db.counts(run_id)
    products = {}
    if counts["done"] == len(params) and not cancel.is_set():
        with _NETCDF_LOCK:  # another runner of this process may be writing a member
            products = write_products(db, run_id, sc, out_dir)
        db.set_products(run_id, products)
    summary = db.members(run_id)
    db.close()
    return BatchResult(run_id, sc.name, out_dir, counts, summary, products, ran,
                       time.perf_counter() - start)


def workflow_is_forecast(workflow: str) -> bool:
    """True for the single-run forecast workflows of :mod:`ecodss.workflows`."""
    from .members import _registry

    return workflow not in _registry() and ":" not in workflow


def _require_zarr():
    try:
        import zarr  # noqa: F401
    except ImportError:
        raise ConfigError("outputs.format: zarr needs the zarr package (pip install zarr)") \
            from None
