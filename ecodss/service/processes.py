"""The processes a client may run as jobs (OGC API – Processes), each a batch-runner workflow.

* ``rollback`` — proportional rollback of an uploaded daily forecast (:mod:`.rollback`):
  cheap (milliseconds a member), the dashboard's emergency drill;
* ``box_model``, ``station_plume`` — the city sample's one-box and Gaussian-plume members;
* ``regional_forecast`` — the Eulerian forecast of the regional 2+26 sample (minutes);
* operator-configured ones (``ecodss serve --process NAME=module:function``): a member workflow
  of the operator's own, taking fixed parameters and a design.

A process turns validated inputs into a scenario mapping for :func:`ecodss.batch.run`; the server
adds the output folder, the store and the scheduler. Clients never name files: uploaded content is
written by the server under a content hash and referenced from the scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from .schemas import ExtraInputs, RollbackInputs, WorkflowInputs, _check_member_parameters
from .store import input_hash

PROCESS_VERSION = "1.0.0"


@dataclass(frozen=True)
class Process:
    """A runnable process: its inputs model and how inputs become a scenario."""

    name: str
    title: str
    description: str
    workflow: str
    inputs_model: type[BaseModel]
    model: str | None = None
    accepted: tuple[str, ...] | None = None  # member parameters; None = any
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def validate(self, inputs: dict) -> BaseModel:
        """The inputs as the process model.

        Raises pydantic's ``ValidationError``, or ``ValueError`` for a member parameter the
        process does not take (reported on the ``scenario`` field).
        """
        parsed = self.inputs_model.model_validate(inputs)
        if isinstance(parsed, WorkflowInputs) and self.accepted is not None:
            _check_member_parameters(parsed.scenario, parsed.parameters, self.accepted)
        return parsed

    def scenario(self, inputs: BaseModel, uploads: Path) -> dict:
        """Scenario mapping for the batch runner (without outputs path, store and dask)."""
        design = getattr(inputs, "scenario", None)
        spec = {
            "name": (getattr(inputs, "name", None) or self.name).replace(" ", "_"),
            "workflow": self.workflow,
            "description": f"service process {self.name}",
            "parameters": dict(getattr(inputs, "parameters", {}) or {}),
            "scenario": design.model_dump(mode="json") if design is not None
            else {"kind": "list", "members": [{}]},
            "outputs": {"variables": getattr(inputs, "variables", None)},
        }
        if self.model is not None:
            spec["model"] = self.model
        if isinstance(inputs, RollbackInputs):
            spec["inputs"] = {"sample": str(save_upload(uploads, {
                "forecast": [r.model_dump(mode="json", by_alias=True, exclude_none=True)
                             for r in inputs.forecast],
                "background": inputs.background}))}
        return spec

    def description_document(self) -> dict:
        """OGC process description: identity, inputs (JSON schema) and outputs."""
        schema = self.inputs_model.model_json_schema(ref_template="#/$defs/{model}")
        defs = schema.get("$defs", {})
        inputs = {}
        for key, prop in schema.get("properties", {}).items():
            entry = {"title": prop.get("title", key), "description": prop.get("description", ""),
                     "schema": {**prop, **({"$defs": defs} if defs else {})}}
            if key not in schema.get("required", []):
                entry["minOccurs"] = 0
            inputs[key] = entry
        return {
            "id": self.name, "title": self.title, "description": self.description,
            "version": PROCESS_VERSION, "keywords": list(self.keywords),
            "jobControlOptions": ["async-execute", "dismiss"],
            "outputTransmission": ["value"],
            "inputs": inputs,
            "outputs": {"results": {
                "title": "daily city values of every member",
                "description": "JSON {meta, results}, GeoJSON (WGS84), NetCDF or PNG map from "
                               "/jobs/{id}/results by content negotiation",
                "schema": {"type": "object"}}},
        }


def save_upload(folder: Path, content: dict) -> Path:
    """Write uploaded content once under its SHA-256 name (same content, same file)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    digest = input_hash(content)  # the SHA-256 of this same text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.json"
    if not path.exists():
        from ..io.netcdf import atomic_write_text

        atomic_write_text(path, text)
    return path


def builtin_processes() -> dict[str, Process]:
    """The processes every server offers."""
    member_params = ("cut_*", "level")
    procs = [
        Process("rollback", "Emission-cut what-if of a daily forecast (proportional rollback)",
                "Uploaded daily concentrations per city; each member removes a fraction of the "
                "local part (cut) or applies an alert level's reduction shares (level); daily "
                "AQI (HJ 633) and alert level (2018 scheme) per member. de Nevers & Morris (1975).",
                "ecodss.service.rollback:member", RollbackInputs,
                keywords=("emergency", "rollback", "aqi", "alert")),
        Process("box_model", "City one-box model (Shijiazhuang sample)",
                "Steady one-box PM2.5/PM10 of the bundled city sample with sector cuts (cut_*) "
                "or alert-level cuts (level); daily AQI and alert level.", "box_model",
                WorkflowInputs, "models/city_plume.yaml", member_params,
                keywords=("air", "city", "box")),
        Process("station_plume", "Gaussian plume at the city's stations (Shijiazhuang sample)",
                "ISC3 Gaussian plume from every source of the bundled city sample at its "
                "monitoring stations; daily city AQI and alert level.", "station_plume",
                WorkflowInputs, "models/city_plume.yaml", member_params,
                keywords=("air", "city", "plume")),
        Process("regional_forecast", "Regional Eulerian forecast (2+26 cities sample)",
                "Eulerian advection-diffusion forecast of the regional sample with cuts; daily "
                "PM2.5 map, city AQI and alert levels (minutes per member).",
                "regional_forecast", WorkflowInputs, "models/regional_eulerian.yaml",
                member_params + ("hours",), keywords=("air", "regional", "eulerian")),
    ]
    return {p.name: p for p in procs}


def extra_process(name: str, target: str) -> Process:
    """An operator-configured process running member workflow ``module:function``."""
    from ..batch.members import resolve_workflow

    resolve_workflow(target)  # ConfigError now rather than at the first job
    return Process(name, f"{name} ({target})", f"operator-configured workflow {target}", target,
                   ExtraInputs, keywords=("custom",))
