"""Scenario files: pydantic models of a batch (also the HTTP request bodies of the service).

A scenario names a member ``workflow`` (:mod:`ecodss.batch.members`), a model configuration
(``models/*.yaml``), its ``inputs``, the scenario dimension (``scenario:`` — a list, a product of
factors, a Latin hypercube or N ensemble members, :mod:`ecodss.batch.design`), the ``outputs`` and
an optional ``dask:`` section (scheduler, workers, in-member chunks, SLURM/PBS job settings).

:func:`load_scenario_file` reads a YAML file and reports every problem — wrong type, unknown field,
unknown model or workflow, missing input file, impossible chunking — as one line
``file:line: field 'a.b': message`` (:class:`ecodss.errors.ConfigError`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from ..errors import ConfigError

_STRICT = ConfigDict(extra="forbid")

#: Dimensions a member's grids and series may be chunked along (``dask.chunks``).
CHUNK_DIMS = ("time", "y", "x", "z", "station", "source")


class Inputs(BaseModel):
    """Input data of every member: a bundled ``sample`` folder (null = bundled) or files."""

    model_config = _STRICT
    sample: str | None = None
    inventory: str | None = None
    met: str | None = None
    measures: str | None = None
    grid: dict[str, float | int | str] | None = None

    #: Fields naming files that must exist when the scenario is loaded.
    FILE_FIELDS: ClassVar[tuple[str, ...]] = ("sample", "inventory", "met", "measures")

    def get(self, key: str, default=None):
        """Dict-style access (older callers read ``scenario.inputs.get("sample")``)."""
        value = getattr(self, key, None)
        return default if value is None else value


class ListDesign(BaseModel):
    """Explicit members: one parameter mapping per member."""

    model_config = _STRICT
    kind: Literal["list"]
    members: list[dict[str, Any]] = Field(min_length=1)


class ProductDesign(BaseModel):
    """Every combination of the factor levels (full factorial)."""

    model_config = _STRICT
    kind: Literal["product"]
    factors: dict[str, list[Any]] = Field(min_length=1)

    @field_validator("factors")
    @classmethod
    def _levels(cls, v):
        for name, levels in v.items():
            if not levels:
                raise ValueError(f"factor {name!r} has no levels")
        return v


class LatinHypercubeDesign(BaseModel):
    """``n`` members spread over the factor ranges ``[low, high]`` by a Latin hypercube."""

    model_config = _STRICT
    kind: Literal["latin_hypercube"]
    n: PositiveInt
    factors: dict[str, tuple[float, float]] = Field(min_length=1)
    seed: int = 0
    optimization: Literal["random-cd", "lloyd"] | None = "random-cd"

    @field_validator("factors")
    @classmethod
    def _ranges(cls, v):
        for name, (lo, hi) in v.items():
            if not hi > lo:
                raise ValueError(f"factor {name!r}: high {hi} must exceed low {lo}")
        return v


class MetPerturbation(BaseModel):
    """Spreads of the met ensemble (:mod:`ecodss.batch.ensemble`); 0 switches one off."""

    model_config = _STRICT
    wind_speed_sigma_ln: float = Field(0.3, ge=0, le=2)  # [1] s.d. of ln(speed factor)
    wind_direction_sigma_deg: float = Field(20.0, ge=0, le=180)  # [deg]
    mixing_height_sigma_ln: float = Field(0.3, ge=0, le=2)  # [1]
    stability_sigma_class: float = Field(0.5, ge=0, le=3)  # [class] before rounding
    correlation_hours: float = Field(6.0, gt=0)  # [h] AR(1) e-folding time
    min_wind_speed: float = Field(0.5, gt=0)  # [m s-1] floor (calm threshold of the models)


class EnsembleDesign(BaseModel):
    """``n`` meteorological ensemble members (member 0 = unperturbed control when ``control``)."""

    model_config = _STRICT
    kind: Literal["ensemble"]
    n: PositiveInt
    seed: int = 0
    control: bool = True
    perturbation: MetPerturbation = MetPerturbation()


Design = Annotated[ListDesign | ProductDesign | LatinHypercubeDesign | EnsembleDesign,
                   Field(discriminator="kind")]


class Outputs(BaseModel):
    """Where and how results are written (``path``/run-<hash>/ members, combined, summary)."""

    model_config = _STRICT
    path: str = "ecodss-out"
    format: Literal["netcdf", "zarr"] = "netcdf"
    variables: list[str] | None = None
    combined: bool = True


class JobqueueSettings(BaseModel):
    """dask-jobqueue cluster settings (SLURM/PBS); unset fields come from ``jobqueue.yaml``."""

    model_config = _STRICT
    cores: PositiveInt | None = None
    memory: str | None = None
    walltime: str | None = None
    account: str | None = None
    queue: str | None = None
    processes: PositiveInt | None = None
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    job_extra_directives: list[str] = []
    job_script_prologue: list[str] = []

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v):
        if v is not None:
            parts = v.split(":")
            if not (1 <= len(parts) <= 3 and all(p.isdigit() for p in parts)):
                raise ValueError(f"walltime {v!r} is not [[HH:]MM:]SS")
        return v


class DaskSettings(BaseModel):
    """Scheduler and workers of the batch; in-member ``chunks``; jobqueue job settings."""

    model_config = _STRICT
    scheduler: str = "threads"
    workers: PositiveInt | None = None
    threads_per_worker: PositiveInt = 1
    memory_limit: str | None = None
    chunks: dict[str, int | Literal["auto"]] | None = None
    jobqueue: JobqueueSettings = JobqueueSettings()

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v):
        from .cluster import check_scheduler

        return check_scheduler(v)

    @field_validator("chunks")
    @classmethod
    def _chunks(cls, v):
        for dim, size in (v or {}).items():
            if dim not in CHUNK_DIMS:
                raise ValueError(f"cannot chunk along {dim!r}; dimensions: {list(CHUNK_DIMS)}")
            if size != "auto" and size < 1:
                raise ValueError(f"chunk size along {dim!r} must be >= 1, got {size}")
        return v


class Quick(BaseModel):
    """The small version run by ``--quick`` (tests, smoke runs): fewer members, overrides."""

    model_config = _STRICT
    members: PositiveInt | None = None
    parameters: dict[str, Any] = {}


class Scenario(BaseModel):
    """A scenario file: one model run (no ``scenario:`` section) or a batch of members."""

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    workflow: str = "city_forecast"
    description: str = ""
    model: str | None = None
    parameters: dict[str, Any] = {}
    inputs: Inputs = Inputs()
    scenario: Design | None = None
    outputs: Outputs = Outputs()
    output: str | None = None  # older single-run files: output folder (= outputs.path)
    store: str | None = None
    dask: DaskSettings = DaskSettings()
    quick: Quick | None = None

    @model_validator(mode="after")
    def _legacy_output(self):
        if self.output is not None and "path" not in self.outputs.model_fields_set:
            self.outputs = self.outputs.model_copy(update={"path": self.output})
        return self

    @property
    def is_batch(self) -> bool:
        return self.scenario is not None

    def identity(self) -> str:
        """SHA-256 of what decides the results (not scheduler, store, text): the run's key."""
        keep = self.model_dump(mode="json", exclude={"dask", "store", "description", "quick",
                                                     "output"})
        keep["chunks"] = self.dask.chunks
        model = Path(self.model) if self.model else None
        if model is not None and model.is_file():
            keep["model_file"] = model.read_text(encoding="utf-8")
        text = json.dumps(keep, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def quick_version(self) -> Scenario:
        """The scenario with its ``quick:`` overrides applied (a different run identity)."""
        q = self.quick or Quick()
        return self.model_copy(update={
            "name": f"{self.name}-quick", "parameters": {**self.parameters, **q.parameters},
            "outputs": self.outputs.model_copy(update={"path": str(Path(self.outputs.path)
                                                                   / "quick")}),
            "quick": Quick(members=q.members or 2, parameters=q.parameters)})


def load_scenario_file(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file; errors are one line ``file:line: field ...``."""
    from ..config import LocatedYaml, check_parameters, load_model_config, resolve_path
    from .design import _is_open
    from .members import resolve_workflow

    doc = LocatedYaml.read(path)
    sc = doc.validated(Scenario)
    base = doc.path.parent
    if sc.model is not None:
        model = resolve_path(sc.model, base)
        if not model.is_file():
            raise doc.error(("model",), f"model configuration {sc.model!r} not found")
        sc.model = str(model)
        try:
            info, _ = load_model_config(model)
        except ConfigError as exc:
            raise doc.error(("model",), str(exc)) from None
        if sc.parameters:
            try:
                member = _member_parameters(sc.workflow)
                check_parameters(info, [k for k in sc.parameters
                                        if k not in member and not _is_open(k, member)],
                                 where="parameters")
            except ConfigError as exc:
                raise doc.error(("parameters",), str(exc).removeprefix("parameters: ")) from None
    if sc.is_batch:
        try:
            resolve_workflow(sc.workflow)
        except ConfigError as exc:
            raise doc.error(("workflow",), str(exc)) from None
    updates = {}
    for name in Inputs.FILE_FIELDS:
        value = getattr(sc.inputs, name)
        if value is None:
            continue
        resolved = resolve_path(value, base)
        if not resolved.exists():
            raise doc.error(("inputs", name), f"input file {value!r} not found")
        updates[name] = str(resolved)
    sc.inputs = sc.inputs.model_copy(update=updates)
    if sc.outputs.format == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise doc.error(("outputs", "format"), "zarr output needs the zarr package "
                            "(pip install zarr); use netcdf") from None
    if sc.store is not None:
        sc.store = str((base / Path(sc.store).expanduser()).resolve())
    if sc.is_batch:
        from .design import check_design

        try:
            check_design(sc)
        except ConfigError as exc:
            raise doc.error(("scenario",) + getattr(exc, "loc", ()), str(exc)) from None
    return sc


def _member_parameters(workflow: str) -> tuple[str, ...]:
    """Parameters a member workflow takes on top of its model's keyword arguments."""
    from .members import workflow_parameters

    try:
        return workflow_parameters(workflow)
    except ConfigError:
        return ()
