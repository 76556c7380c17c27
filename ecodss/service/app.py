"""The FastAPI application: ``create_app(store_path, ...)``.

Endpoints (OpenAPI at ``/docs``; every one but ``/``, ``/health`` and the docs needs a key):

========================================  =====================================================
``GET /health``                           liveness, version, job counts
``GET /models``, ``/models/{name}``       the model registry: description, JSON schema of inputs
``POST /aqi``                             concentrations -> IAQI, AQI, primary, category
``POST /alert-level``                     daily AQI per city -> alert level, reductions
``GET /processes``, ``/processes/{id}``   OGC API – Processes: list and description
``POST /processes/{id}/execution``        submit a job (operator) -> 201 + ``Location``
``GET /jobs``, ``/jobs/{id}``             status, progress 0-1, messages
``DELETE /jobs/{id}``                     cancel (operator)
``GET /jobs/{id}/results``                JSON / GeoJSON / NetCDF / PNG by ``Accept`` or ``f=``
``GET /cities``, ``/cities/{id}/latest``  latest forecast, AQI and alert decision per city
``GET /audit``                            the audit log (operator)
``GET /``                                 the dashboard (static HTML/JS)
========================================  =====================================================
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import create_model

from .. import __version__
from . import problems
from .jobs import JobManager, iso, status_document
from .problems import Problem
from .processes import Process, builtin_processes, extra_process
from .schemas import AlertRequest, AQIRequest, AQIResponse, JobList, JobStatus
from .security import Authenticator, BodySizeLimit, Principal, require_operator, require_reader
from .store import ServiceStore, input_hash

STATIC = Path(__file__).parent / "static"
#: Result media types and their ``f=`` short names.
MEDIA = {"json": "application/json", "geojson": "application/geo+json",
         "netcdf": "application/x-netcdf", "png": "image/png"}
_ALIASES = {"application/netcdf": "netcdf", "application/x-netcdf": "netcdf",
            "application/json": "json", "application/geo+json": "geojson", "image/png": "png"}

Reader = Annotated[Principal, Depends(require_reader)]
Operator = Annotated[Principal, Depends(require_operator)]


def negotiate(accept: str | None, f: str | None) -> str:
    """Result format from ``f=`` or the ``Accept`` header (q-values honoured); 406 if none fits."""
    if f is not None:
        if f not in MEDIA:
            raise Problem(406, f"f={f!r} is not offered; choose one of {sorted(MEDIA)}")
        return f
    if not accept:
        return "json"
    choices = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        choices.append((-q, i, media.lower()))
    for neg_q, _, media in sorted(choices):
        if neg_q == 0:
            continue
        if media in _ALIASES:
            return _ALIASES[media]
        if media in ("*/*", "application/*"):
            return "json"
        if media == "image/*":
            return "png"
    raise Problem(406, f"none of {accept!r} is offered; results come as "
                  f"{', '.join(MEDIA.values())}")


def create_app(store_path: str | Path, *, work_dir: str | Path | None = None,
               scheduler: str = "threads", workers: int | None = None,
               max_body_bytes: int = 1 << 20, rate_per_minute: float | None = 600.0,
               cors_origins: list[str] | tuple[str, ...] = (),
               processes: dict[str, str] | None = None, run_jobs: bool = True,
               max_jobs: int = 1) -> FastAPI:
    """The ecodss HTTP service over the run store at ``store_path``.

    Parameters
    ----------
    store_path : path
        SQLite run store (batch runs, jobs, keys, audit log); created if absent.
    work_dir : path, optional
        Folder for job outputs and uploads (default: ``<store folder>/ecodss-service``).
    scheduler : str
        Where job members run: ``threads`` (default), ``processes``, ``synchronous``,
        ``local`` or ``tcp://HOST:PORT`` (a dask cluster).
    workers : int, optional
        Workers of the scheduler.
    max_body_bytes : int
        Largest request body [bytes] (413 above).
    rate_per_minute : float or None
        Default per-key request rate (a key's own rate wins); None: no limit.
    cors_origins : list of str
        Origins allowed by CORS (none by default).
    processes : dict, optional
        Extra processes ``{name: "module:function"}`` (operator-configured member workflows).
    run_jobs : bool
        Start the job executor (False: accept jobs but leave them queued; for tests).
    max_jobs : int
        Jobs run at the same time (default 1); each uses ``workers`` workers of the scheduler.
    """
    store = ServiceStore(store_path)
    work = Path(work_dir) if work_dir is not None else store.path.parent / "ecodss-service"
    procs = builtin_processes()
    for name, target in (processes or {}).items():
        procs[name] = extra_process(name, target)
    manager = JobManager(store, procs, work_dir=work, scheduler=scheduler, workers=workers,
                         max_jobs=max_jobs)

    @asynccontextmanager
    async def lifespan(app):
        if run_jobs:
            manager.start()
        else:
            manager.recover()
        yield
        manager.stop()

    app = FastAPI(title="ecodss decision-support API", version=__version__, lifespan=lifespan,
                  description="Forecasts, China AQI (HJ 633), heavy-pollution alerts (2018 "
                              "scheme) and batch jobs (OGC API – Processes). Authenticate with "
                              "`Authorization: Bearer <key>` (`ecodss keys create`).")
    app.state.store, app.state.jobs, app.state.processes = store, manager, procs
    app.state.auth = Authenticator(store, rate_per_minute)
    problems.install(app)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Accept"],
                           expose_headers=["Location", "Retry-After"])
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------------ general
    @app.get("/", include_in_schema=False)
    def dashboard():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/health", tags=["service"])
    def health():
        """Liveness: version, store and job counts (no key needed)."""
        return {"status": "ok", "version": __version__, "time": iso(time.time()),
                "jobs": store.job_counts(), "scheduler": scheduler}

    @app.get("/models", tags=["models"])
    def models(principal: Reader):
        """The registered models (the same registry as ``ecodss models``)."""
        from ..registry import list_models

        return {"models": [{"name": m.name, "domain": m.domain, "summary": m.summary,
                            "links": [{"href": f"/models/{m.name}", "rel": "describedby"}]}
                           for m in list_models()]}

    @app.get("/models/{name}", tags=["models"])
    def model(name: str, principal: Reader):
        """A model's description and the JSON schema of its inputs."""
        from ..registry import get_model
        from .modelinfo import model_document

        return model_document(get_model(name))

    # ------------------------------------------------------------------ decisions
    @app.post("/aqi", response_model=AQIResponse, tags=["decisions"])
    def aqi_endpoint(body: AQIRequest, principal: Reader):
        """IAQI, AQI, primary pollutant and category of each record (HJ 633)."""
        from .decisions import compute_aqi

        out = compute_aqi(body)
        store.audit("decision.aqi", "ok", actor=principal.key_id, role=principal.role,
                    input_hash=input_hash(body.model_dump(mode="json")),
                    detail={"n": len(out["results"]),
                            "max_aqi": max((r["aqi"] for r in out["results"]
                                            if r["aqi"] is not None), default=None)})
        return out

    @app.post("/alert-level", tags=["decisions"])
    def alert_endpoint(body: AlertRequest, principal: Reader):
        """Alert level, alert periods and required reductions per city (2018 scheme)."""
        from .decisions import compute_alert

        out = compute_alert(body)
        store.audit("decision.alert", "ok", actor=principal.key_id, role=principal.role,
                    input_hash=input_hash(body.model_dump(mode="json")),
                    detail={c["city"]: c["level_name"] for c in out["cities"]})
        return out

    # ------------------------------------------------------------------ processes and jobs
    def _process(name: str) -> Process:
        if name not in procs:
            raise Problem(404, f"no process {name!r}; processes: {sorted(procs)}")
        return procs[name]

    @app.get("/processes", tags=["processes"])
    def list_processes(principal: Reader):
        """OGC process list."""
        return {"processes": [
            {"id": p.name, "title": p.title, "description": p.description, "version": "1.0.0",
             "jobControlOptions": ["async-execute", "dismiss"],
             "links": [{"href": f"/processes/{p.name}", "rel": "self"},
                       {"href": f"/processes/{p.name}/execution",
                        "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute"}]}
            for p in procs.values()], "links": [{"href": "/processes", "rel": "self"}]}

    @app.get("/processes/{name}", tags=["processes"])
    def describe_process(name: str, principal: Reader):
        """OGC process description with the JSON schema of its inputs."""
        doc = _process(name).description_document()
        doc["links"] = [{"href": f"/processes/{name}/execution",
                         "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute"}]
        return doc

    for proc in procs.values():
        _add_execute_route(app, proc, manager)

    @app.get("/jobs", response_model=JobList, tags=["jobs"])
    def list_jobs(principal: Reader,
                  status: Literal["accepted", "running", "successful", "failed",
                                  "dismissed"] | None = None,
                  process: str | None = Query(None, max_length=64),
                  limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=1_000_000_000)):
        """Jobs, newest first."""
        rows = store.jobs(status=status, process=process, limit=limit, offset=offset)
        return {"jobs": [status_document(j, with_messages=False) for j in rows],
                "links": [{"href": "/jobs", "rel": "self"}]}

    def _job(job_id: str) -> dict:
        job = store.job(job_id)
        if job is None:
            raise Problem(404, f"no job {job_id!r}")
        return job

    @app.get("/jobs/{job_id}", response_model=JobStatus, tags=["jobs"])
    def job_status(job_id: str, principal: Reader):
        """Status, progress (0-1) and messages of a job."""
        job = _job(job_id)
        return status_document(job, messages=store.messages(job_id))

    @app.delete("/jobs/{job_id}", response_model=JobStatus, tags=["jobs"])
    def cancel_job(job_id: str, principal: Operator):
        """Cancel (dismiss) an accepted or running job."""
        job = manager.cancel(job_id, principal)
        return status_document(job, messages=store.messages(job_id))

    @app.get("/jobs/{job_id}/results", tags=["jobs"],
             responses={200: {"content": {m: {} for m in MEDIA.values()},
                              "description": "results in the negotiated format"}})
    def job_results(job_id: str, request: Request, principal: Reader,
                    f: Literal["json", "geojson", "netcdf", "png"] | None = None,
                    member: str | None = Query(None, max_length=32),
                    date: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$")):
        """Results by content negotiation: JSON ``{meta, results}``, GeoJSON, NetCDF or PNG."""
        from ..batch.store import RunStore
        from . import results

        fmt = negotiate(request.headers.get("accept"), f)
        job = _job(job_id)
        if job["status"] != "successful":
            raise Problem(404, f"job {job_id} is {job['status']}: no results"
                          + (f" ({job['reason']})" if job["reason"] else ""),
                          title="Result not ready" if job["status"] in ("accepted", "running")
                          else "No results")
        payload = json.loads(job["result"])
        combined = payload["products"]["combined"]
        if fmt == "netcdf":
            return FileResponse(combined, media_type=MEDIA["netcdf"],
                                filename=f"ecodss-job-{job_id[:12]}.nc")
        ds = results.open_combined(combined)
        locations = json.loads(job["inputs"]).get("locations") or None
        meta = {"jobID": job_id, "processID": job["process"], "runID": payload["run_id"],
                "created": iso(job["created"]), "finished": iso(job["finished"]),
                "inputHash": job["input_hash"], "software_version": __version__}
        if fmt == "png":
            return Response(results.png_map(ds, member, date, locations), media_type="image/png")
        if fmt == "geojson":
            return JSONResponse(results.geojson_document(meta, ds, member, locations),
                                media_type=MEDIA["geojson"])
        with RunStore(store.path) as rs:
            members = rs.members(payload["run_id"])
        return results.json_document(meta, ds, members)

    # ------------------------------------------------------------------ cities
    def _latest_cities() -> dict[str, dict]:
        latest: dict[str, dict] = {}
        for job in store.jobs(status="successful", limit=200):
            payload = json.loads(job["result"] or "{}")
            for city, row in payload.get("cities", {}).items():
                latest.setdefault(city, {**row, "job": {
                    "jobID": job["job_id"], "processID": job["process"],
                    "finished": iso(job["finished"])}})
        return latest

    def _city_entry(name: str, row: dict, locations=None) -> dict:
        from .results import place

        where = place(name, locations) or {}
        return {"city": name, "id": where.get("id"), "lon": where.get("lon"),
                "lat": where.get("lat"), **{k: v for k, v in row.items() if k != "city"}}

    @app.get("/cities", tags=["cities"])
    def cities(principal: Reader):
        """Every city with a forecast: its latest values and alert decision."""
        latest = _latest_cities()
        return {"cities": [_city_entry(c, latest[c]) for c in sorted(latest)]}

    @app.get("/cities/{city_id}/latest", tags=["cities"])
    def city_latest(city_id: str, principal: Reader):
        """The latest forecast, AQI and alert decision for a city (name or id, e.g. SJZ)."""
        from .results import place

        latest = _latest_cities()
        where = place(city_id)
        name = city_id if city_id in latest else (where or {}).get("name")
        if name not in latest:
            raise Problem(404, f"no forecast for city {city_id!r} yet; cities with one: "
                          f"{sorted(latest)[:30]}")
        return _city_entry(name, latest[name])

    @app.get("/audit", tags=["service"])
    def audit(principal: Operator, limit: int = Query(100, ge=1, le=1000),
              action: str | None = Query(None, max_length=64)):
        """The audit log, newest first (operators only)."""
        rows = store.audit_log(limit=limit, action=action)
        for r in rows:
            r["time"] = iso(r["time"])
            r["detail"] = json.loads(r["detail"]) if r["detail"] else None
        return {"audit": rows}

    return app


def _add_execute_route(app: FastAPI, proc: Process, manager: JobManager) -> None:
    """``POST /processes/{name}/execution`` with the process's typed inputs as the body."""
    body_model = create_model(f"Execute_{proc.name}", inputs=(proc.inputs_model, ...),
                              response=(Literal["document"], "document"),
                              __config__={"extra": "forbid"})

    def execute(body: body_model, request: Request, response: Response,  # type: ignore
                principal: Operator):
        try:
            proc.validate(body.inputs.model_dump(mode="json", by_alias=True))
        except ValueError as exc:
            raise Problem(422, f"field 'body.inputs.scenario': {exc}",
                          errors=[{"field": "body.inputs.scenario", "message": str(exc),
                                   "type": "value_error"}]) from None
        raw = body.inputs.model_dump(mode="json", by_alias=True, exclude_none=True)
        job = manager.submit(proc, body.inputs, raw, principal)
        response.status_code = 201
        response.headers["Location"] = f"/jobs/{job['job_id']}"
        return status_document(job, messages=app.state.store.messages(job["job_id"]))

    execute.__annotations__["body"] = body_model  # a local model: resolve it here, not by name
    app.add_api_route(f"/processes/{proc.name}/execution", execute, methods=["POST"],
                      status_code=201, response_model=JobStatus, tags=["processes"],
                      summary=f"Execute {proc.name}", description=proc.description,
                      name=f"execute_{proc.name}")
