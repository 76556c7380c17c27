"""Jobs (OGC API – Processes Part 1): submission, the executor, cancel, restart recovery, results.

A job is a row in the service's ``service_jobs`` table (:mod:`.store`) holding the validated
inputs and the scenario built from them; the work is one :func:`ecodss.batch.run` of that scenario
on the server's scheduler (dask threads in the server process by default, or a distributed cluster
at ``tcp://…``), so its members, outputs and checksums are in the same store as every batch run.

* **Executor**: ``max_jobs`` threads (default 1) take accepted jobs in submission order; each
  runs one job at a time, whose members run in parallel on the scheduler (so up to
  ``max_jobs`` × ``workers`` members at once on a local scheduler). Batch runners in one process
  never see each other's members (their dask keys and callbacks are their own).
* **Progress**: polled from the run store (members final / members), messages at every tenth.
* **Cancel** (``DELETE /jobs/{id}``): an accepted job is dismissed at once; a running one is
  dismissed and its batch runner stopped through the ``cancel`` event of
  :func:`ecodss.batch.run`: it claims nothing more, skips the members it claimed but had not
  started, discards the results of those in flight and leaves them ``cancelled`` in the run
  store; a later job with the same scenario runs them.
* **Restart**: on start, jobs left ``running`` by a server that died are marked ``failed`` with the
  reason; ``accepted`` ones run. Members they finished stay done in the run store and are reused
  by a resubmission (same scenario, same run).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import threading
import time
from pathlib import Path

from .problems import Problem
from .processes import Process
from .store import FINAL_STATES, ServiceStore

_log = logging.getLogger("ecodss.service")
POLL_SECONDS = 0.25


def iso(t: float | None) -> str | None:
    """ISO 8601 UTC time of a POSIX timestamp."""
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")


class JobManager:
    """Accepts jobs, runs up to ``max_jobs`` at once in threads, recovers them after a restart."""

    def __init__(self, store: ServiceStore, processes: dict[str, Process], *, work_dir: Path,
                 scheduler: str = "threads", workers: int | None = None, max_jobs: int = 1):
        if max_jobs != 1:  # two jobs at once crashed the server in CI (netCDF/HDF5 in threads)
            raise ValueError(f"max_jobs = {max_jobs}: only 1 job at a time is supported; "
                             "concurrent jobs are disabled until their netCDF I/O is serialised")
        self.store, self.processes = store, processes
        self.work_dir = Path(work_dir)
        self.scheduler, self.workers, self.max_jobs = scheduler, workers, max_jobs
        self.claim_batch = workers or os.cpu_count() or 2
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancel: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []
        self._client = None
        self._client_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.recover()
        self._queue.put("__warm__")  # imports of the first batch, before any job waits on them
        self._threads = [threading.Thread(target=self._loop, name=f"ecodss-jobs-{k}", daemon=True)
                         for k in range(self.max_jobs)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        if self._client is not None:
            self._client.close()

    def recover(self) -> None:
        """Mark jobs interrupted by a server stop failed (with the reason); queue accepted ones."""
        for job in self.store.jobs(status="running", limit=1_000_000):
            reason = ("interrupted: the server stopped while the job was running (restart at "
                      f"{iso(time.time())}); members it finished are kept in the run store — "
                      "resubmit the same inputs to complete the rest")
            if self.store.update_job(job["job_id"], only_if=("running",), status="failed",
                                     finished=time.time(), reason=reason, message=reason):
                self.store.audit("job.interrupted", "failed", actor=job["owner"],
                                 target=job["job_id"], input_hash=job["input_hash"],
                                 detail={"reason": reason})
        for job in sorted(self.store.jobs(status="accepted", limit=1_000_000),
                          key=lambda j: j["created"]):
            self.store.add_message(job["job_id"], "queued again after a server restart")
            self._queue.put(job["job_id"])

    # ------------------------------------------------------------------ client side
    def submit(self, process: Process, inputs, raw: dict, principal) -> dict:
        """Create an accepted job for validated ``inputs``; returns the job row."""
        spec = process.scenario(inputs, self.work_dir / "uploads")
        spec["outputs"] = {**spec.get("outputs", {}), "path": str(self.work_dir / "jobs")}
        job = self.store.create_job(process.name, principal.key_id, raw, spec)
        self.store.audit("job.submit", "accepted", actor=principal.key_id, role=principal.role,
                         target=job["job_id"], input_hash=job["input_hash"],
                         detail={"process": process.name})
        self._queue.put(job["job_id"])
        return job

    def cancel(self, job_id: str, principal) -> dict:
        """Dismiss an accepted or running job (409 for a finished one)."""
        job = self.store.job(job_id)
        if job is None:
            raise Problem(404, f"no job {job_id!r}")
        if job["status"] in FINAL_STATES:
            raise Problem(409, f"job {job_id} is already {job['status']}; nothing to cancel")
        event = self._cancel.setdefault(job_id, threading.Event())
        event.set()
        msg = f"dismissed by key {principal.key_id}"
        if not self.store.update_job(job_id, only_if=("accepted", "running"), status="dismissed",
                                     finished=time.time(), reason=msg, message=msg):
            job = self.store.job(job_id)
            raise Problem(409, f"job {job_id} is already {job['status']}; nothing to cancel")
        self.store.audit("job.cancel", "dismissed", actor=principal.key_id, role=principal.role,
                         target=job_id, input_hash=job["input_hash"])
        return self.store.job(job_id)

    # ------------------------------------------------------------------ executor
    def _loop(self) -> None:
        while (job_id := self._queue.get()) is not None:
            if job_id == "__warm__":
                _warm_up()
                continue
            try:
                self._execute(job_id)
            except Exception as exc:  # noqa: BLE001 - a job must never kill the executor
                _log.exception("job %s: executor error", job_id)
                reason = f"server error while running the job: {type(exc).__name__}: {exc}"
                self.store.update_job(job_id, only_if=("accepted", "running"), status="failed",
                                      finished=time.time(), reason=reason, message=reason)

    def _distributed_client(self):
        with self._client_lock:
            if self.scheduler.startswith(("tcp://", "tls://")) and self._client is None:
                from distributed import Client

                self._client = Client(self.scheduler)
        return self._client

    def _execute(self, job_id: str) -> None:
        from ..batch import run
        from ..batch.runner import as_scenario

        job = self.store.job(job_id)
        if job is None or job["status"] != "accepted":
            return
        cancel = self._cancel.setdefault(job_id, threading.Event())
        spec = json.loads(job["scenario"])
        sc, _ = as_scenario(spec)
        run_id = sc.identity()
        where = self.scheduler if self.workers is None else f"{self.scheduler} x{self.workers}"
        if not self.store.update_job(job_id, only_if=("accepted",), status="running",
                                     started=time.time(), run_id=run_id,
                                     message=f"running batch {run_id[:12]} on {where}"):
            return
        done = threading.Event()
        poller = threading.Thread(target=self._poll, args=(job_id, run_id, done),
                                  daemon=True, name=f"ecodss-poll-{job_id[:8]}")
        poller.start()
        client = self._distributed_client()
        try:
            result = run(spec, client=client, scheduler=None if client else self.scheduler,
                         workers=self.workers, store=self.store.path, progress=False,
                         claim_batch=self.claim_batch, cancel=cancel)
        except Exception as exc:  # noqa: BLE001 - reported as the job's reason
            done.set()
            reason = f"{type(exc).__name__}: {exc}"
            if self.store.update_job(job_id, only_if=("running",), status="failed",
                                     finished=time.time(), reason=reason, message=reason):
                self._audit_finish(job, "failed", {"reason": reason, "run_id": run_id})
            return
        finally:
            done.set()
            poller.join()
        if cancel.is_set():
            self.store.add_message(job_id, f"runner stopped: {result.counts}")
            return
        members = result.summary  # the run store's member table, read by run() at its end
        n = len(members)
        if result.ok and "combined" in result.products:
            from .results import city_summary, open_combined

            cities = city_summary(open_combined(result.products["combined"]))
            payload = {"run_id": result.run_id, "products": result.products,
                       "counts": result.counts, "n_members": n, "cities": cities}
            if self.store.update_job(job_id, only_if=("running",), status="successful",
                                     progress=1.0, finished=time.time(), result=payload,
                                     message=f"successful: {n} members, {result.seconds:.2f} s"):
                self._audit_finish(job, "successful", {"run_id": result.run_id,
                                                       "counts": result.counts,
                                                       "cities": {c: v.get("decision", {}).get(
                                                           "level") for c, v in cities.items()}})
            return
        failed = members[members["status"] == "failed"] if n else members
        first = str(failed["error"].iloc[0]).splitlines()[0] if len(failed) else "no products"
        reason = f"{len(failed)} of {n} members failed; first: {first}"
        if self.store.update_job(job_id, only_if=("running",), status="failed",
                                 finished=time.time(), reason=reason,
                                 result={"run_id": result.run_id, "counts": result.counts},
                                 message=reason):
            self._audit_finish(job, "failed", {"reason": reason, "run_id": result.run_id})

    def _audit_finish(self, job: dict, outcome: str, detail: dict) -> None:
        self.store.audit("job.finish", outcome, actor=job["owner"], target=job["job_id"],
                         input_hash=job["input_hash"], detail=detail)

    def _poll(self, job_id: str, run_id: str, done: threading.Event) -> None:
        """Copy the run's progress into the job (a dismissed job's row no longer changes)."""
        from ..batch.store import RunStore

        last_tenth = -1
        with RunStore(self.store.path) as rs:
            while not done.wait(POLL_SECONDS):
                counts = rs.counts(run_id)
                total = sum(counts.values())
                if not total:
                    continue
                final = counts["done"] + counts["failed"]
                tenth = int(10 * final / total)
                fields = {"progress": round(0.99 * final / total, 4)}
                msg = None
                if tenth != last_tenth:
                    last_tenth = tenth
                    msg = f"{counts['done']} of {total} members done, {counts['failed']} failed"
                self.store.update_job(job_id, only_if=("running",), message=msg, **fields)


def _warm_up() -> None:
    """Import what every batch needs (dask, netCDF4, the runner) ahead of the first job."""
    import dask.array  # noqa: F401
    import netCDF4  # noqa: F401

    from ..batch import runner  # noqa: F401
    from ..emergency import aqi  # noqa: F401


def status_document(job: dict, base: str = "", *, with_messages: bool = True,
                    messages: list[dict] | None = None) -> dict:
    """OGC ``statusInfo`` of a job row, with links to itself and its results."""
    status = job["status"]
    links = [{"href": f"{base}/jobs/{job['job_id']}", "rel": "self",
              "type": "application/json", "title": "job status"}]
    if status == "successful":
        for media, title in (("application/json", "results (JSON)"),
                             ("application/geo+json", "city values (GeoJSON)"),
                             ("application/x-netcdf", "combined NetCDF"),
                             ("image/png", "map (PNG)")):
            links.append({"href": f"{base}/jobs/{job['job_id']}/results", "rel": "results",
                          "type": media, "title": title})
    last = (messages or [{}])[-1].get("message") if messages else None
    return {
        "jobID": job["job_id"], "processID": job["process"], "type": "process",
        "status": status, "message": job["reason"] or last, "reason": job["reason"],
        "progress": 1.0 if status == "successful" else float(job["progress"] or 0.0),
        "created": iso(job["created"]), "started": iso(job["started"]),
        "finished": iso(job["finished"]), "updated": iso(job["updated"]),
        "owner": job["owner"], "inputHash": job["input_hash"], "runID": job["run_id"],
        "messages": [{"time": iso(m["time"]), "message": m["message"]} for m in messages or []]
        if with_messages else [],
        "links": links,
    }
