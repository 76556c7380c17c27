"""Request and response models of the HTTP API (pydantic; they are also the OpenAPI schema).

Job bodies reuse the batch scenario models (:mod:`ecodss.batch.schema`): the scenario dimension
of a job is the same ``ListDesign | ProductDesign | LatinHypercubeDesign | EnsembleDesign`` a
scenario file holds. What a client may *not* set — file paths, output folders, the run store, the
dask cluster, arbitrary ``module:function`` workflows — is absent from these models (and
``extra="forbid"`` rejects it); the server fills it in.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..batch.schema import Design

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)
#: A non-negative, finite concentration [ug m-3; CO mg m-3].
Concentration = Annotated[float, Field(ge=0, allow_inf_nan=False, le=1e6)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\- ]+$")]
#: Largest number of members a job may have (server policy, bounds one request's work).
MAX_MEMBERS = 500
MAX_RECORDS = 20_000


# ----------------------------------------------------------------------------- /aqi
class ConcentrationRecord(BaseModel):
    """Concentrations of one site and period; absent pollutants are left out of the AQI."""

    model_config = _STRICT
    id: Name | None = None
    date: dt.date | None = Field(None, description="local (CST) date; picks the HJ 633 table "
                                 "when no standard is given")
    SO2: Concentration | None = None
    NO2: Concentration | None = None
    PM10: Concentration | None = None
    PM2_5: Concentration | None = Field(None, alias="PM2.5")
    CO: Concentration | None = Field(None, description="[mg m-3]")
    O3: Concentration | None = Field(None, description="24h: daily max 8-h mean; 1h: hourly")
    O3_8h: Concentration | None = None
    O3_1h: Concentration | None = None
    SO2_24h: Concentration | None = None

    @model_validator(mode="after")
    def _some_pollutant(self):
        if not any(getattr(self, f) is not None for f in POLLUTANT_FIELDS):
            raise ValueError(f"no concentration given; give some of {list(POLLUTANT_NAMES)}")
        return self


POLLUTANT_FIELDS = ("SO2", "NO2", "PM10", "PM2_5", "CO", "O3", "O3_8h", "O3_1h", "SO2_24h")
POLLUTANT_NAMES = tuple("PM2.5" if f == "PM2_5" else f for f in POLLUTANT_FIELDS)


class AQIRequest(BaseModel):
    """Concentrations -> IAQI, AQI, primary pollutant and category (HJ 633)."""

    model_config = _STRICT
    averaging: Literal["24h", "1h"] = "24h"
    standard: Literal["HJ633-2012", "HJ633-2026"] | None = Field(
        None, description="table version; default: by each record's date (today without one)")
    records: list[ConcentrationRecord] = Field(min_length=1, max_length=MAX_RECORDS)


class AQIResult(BaseModel):
    id: str | None
    date: dt.date | None
    standard: str
    aqi: int | float | None
    iaqi: dict[str, int | float | None]
    primary_pollutant: list[str]
    category: int
    category_name: str
    category_name_zh: str
    colour: str


class AQIResponse(BaseModel):
    averaging: str
    references: str
    results: list[AQIResult]


# ----------------------------------------------------------------------------- /alert-level
class CityForecast(BaseModel):
    """One city's forecast daily AQI, first value on ``start``."""

    model_config = _STRICT
    city: Name
    daily_aqi: list[Annotated[float, Field(ge=0, le=500, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=60)


class AlertRequest(BaseModel):
    """Daily AQI forecast per city -> alert level and required reductions (2018 scheme)."""

    model_config = _STRICT
    start: dt.date
    cities: list[CityForecast] = Field(min_length=1, max_length=1000)
    orange_requires_300: bool | None = Field(
        None, description="force the orange '> 300' clause on/off (default: rules + cities)")

    @model_validator(mode="after")
    def _same_days(self):
        n = {len(c.daily_aqi) for c in self.cities}
        if len(n) > 1:
            raise ValueError(f"every city needs the same number of days, got {sorted(n)}")
        names = [c.city for c in self.cities]
        if len(set(names)) != len(names):
            raise ValueError("a city is given twice")
        return self


# ----------------------------------------------------------------------------- jobs
class DailyConcentration(BaseModel):
    """A city's forecast daily concentrations (24-h means; O3 = daily max 8-h mean)."""

    model_config = _STRICT
    city: Name
    date: dt.date
    SO2: Concentration | None = None
    NO2: Concentration | None = None
    PM10: Concentration | None = None
    PM2_5: Concentration | None = Field(None, alias="PM2.5")
    CO: Concentration | None = None
    O3: Concentration | None = None


#: Member parameters of the rollback process.
ROLLBACK_PARAMETERS = ("cut", "level")


def _check_member_parameters(design, fixed: dict, accepted, where: str = "scenario"):
    """Raise ValueError naming a parameter the process does not take or a bad value."""
    names: dict[str, list] = {k: [v] for k, v in fixed.items()}
    if design is not None:
        if design.kind == "list":
            for m in design.members:
                for k, v in m.items():
                    names.setdefault(k, []).append(v)
        elif design.kind == "product":
            for k, levels in design.factors.items():
                names.setdefault(k, []).extend(levels)
        elif design.kind == "latin_hypercube":
            for k, (lo, hi) in design.factors.items():
                names.setdefault(k, []).extend([lo, hi])
            if design.n > MAX_MEMBERS:
                raise ValueError(f"{where}: n={design.n} exceeds {MAX_MEMBERS} members")
        elif design.n > MAX_MEMBERS:
            raise ValueError(f"{where}: n={design.n} exceeds {MAX_MEMBERS} members")
        if design.kind == "list" and len(design.members) > MAX_MEMBERS:
            raise ValueError(f"{where}: more than {MAX_MEMBERS} members")
        if design.kind == "product" and math.prod(map(len, design.factors.values())) > \
                MAX_MEMBERS:
            raise ValueError(f"{where}: the product has more than {MAX_MEMBERS} members")
    for name, values in names.items():
        if name not in accepted and not any(a.endswith("*") and re.fullmatch(
                a[:-1] + r"[a-z0-9_]+", name) for a in accepted):
            raise ValueError(f"{where}: no parameter {name!r}; parameters: {sorted(accepted)}")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"{where}: parameter {name!r} = {v!r} must be a number")
            if (name == "cut" or name.startswith("cut_")) and not 0 <= v <= 1:
                raise ValueError(f"{where}: {name}={v} must be a fraction in [0, 1]")
            if name == "level" and v not in (0, 1, 2, 3):
                raise ValueError(f"{where}: level={v} must be 0, 1, 2 or 3")
            if name == "hours" and not (v == int(v) and 24 <= v <= 240):
                raise ValueError(f"{where}: hours={v} must be a whole number in [24, 240]")


class RollbackInputs(BaseModel):
    """Proportional rollback of an uploaded daily forecast under emission cuts (members).

    Member parameters: ``cut`` (fraction of every pollutant's local part removed) or ``level``
    (alert level 0-3: the 2018 scheme's reduction shares).
    """

    model_config = _STRICT
    name: Name = "rollback"
    forecast: list[DailyConcentration] = Field(min_length=1, max_length=MAX_RECORDS)
    background: dict[Literal["SO2", "NO2", "PM10", "PM2.5", "CO", "O3"], Concentration] = Field(
        {}, description="regional background untouched by local cuts [ug m-3; CO mg m-3]")
    locations: dict[Name, tuple[Annotated[float, Field(ge=-180, le=180)],
                                Annotated[float, Field(ge=-90, le=90)]]] = Field(
        {}, description="(lon, lat) of cities not in the bundled gazetteer [deg, WGS84]")
    scenario: Design | None = Field(None, description="members (default: one, no cut)")

    @model_validator(mode="after")
    def _check(self):
        days: dict[str, set] = {}
        for rec in self.forecast:
            if rec.date in days.setdefault(rec.city, set()):
                raise ValueError(f"forecast: {rec.city} {rec.date} is given twice")
            days[rec.city].add(rec.date)
        shapes = {frozenset(d) for d in days.values()}
        if len(shapes) > 1:
            raise ValueError("forecast: every city needs the same dates")
        dates = sorted(next(iter(shapes)))
        if (dates[-1] - dates[0]).days != len(dates) - 1:
            raise ValueError("forecast: the dates must be consecutive days")
        present = {f for rec in self.forecast for f in POLLUTANT_FIELDS[:6]
                   if getattr(rec, f) is not None}
        if not present:
            raise ValueError("forecast: no concentration given")
        for f in present:
            if any(getattr(rec, f) is None for rec in self.forecast):
                name = "PM2.5" if f == "PM2_5" else f
                raise ValueError(f"forecast: {name} is missing for some city/day")
        _check_member_parameters(self.scenario, {}, ROLLBACK_PARAMETERS)
        return self


class WorkflowInputs(BaseModel):
    """A batch of a bundled-sample workflow: fixed ``parameters`` and the member design."""

    model_config = _STRICT
    name: Name | None = None
    parameters: dict[str, float | int] = Field(
        {}, description="parameters of every member: cut_<sector|group> [0-1], level [0-3], "
                        "hours (regional)")
    scenario: Design | None = Field(None, description="members (default: one member)")
    variables: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]] | None = Field(
        None, max_length=20)


class ExtraInputs(BaseModel):
    """Inputs of an operator-configured process: fixed parameters and a member design."""

    model_config = _STRICT
    name: Name | None = None
    parameters: dict[str, float | int | bool | str] = {}
    scenario: Design | None = None

    @field_validator("parameters")
    @classmethod
    def _small(cls, v):
        if len(v) > 50:
            raise ValueError("at most 50 parameters")
        return v


class ExecuteRequest(BaseModel):
    """OGC API – Processes execute request: ``{"inputs": {...}}``."""

    model_config = ConfigDict(extra="forbid")
    inputs: dict[str, Any]
    response: Literal["document"] = "document"


class JobStatus(BaseModel):
    """OGC API – Processes ``statusInfo`` plus the job's messages and run."""

    jobID: str
    processID: str
    type: Literal["process"] = "process"
    status: Literal["accepted", "running", "successful", "failed", "dismissed"]
    message: str | None = None
    reason: str | None = None
    progress: float = Field(ge=0, le=1)
    created: str
    started: str | None = None
    finished: str | None = None
    updated: str
    owner: str | None = None
    inputHash: str
    runID: str | None = None
    messages: list[dict] = []
    links: list[dict] = []


class JobList(BaseModel):
    jobs: list[JobStatus]
    links: list[dict] = []
