"""Named model configurations and scenario files (YAML), validated with pydantic.

A *model configuration* (``models/*.yaml``) names a registered model and fixes some of its keyword
parameters; a *scenario* (``scenarios/*.yaml``) names a workflow, its inputs, the model
configuration and the output folder. The CLI (``ecodss run``), Python and later the batch runner
and the server all read them through these two functions.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError
from .registry import ModelInfo, get_model

#: Top-level folders of a source checkout holding the bundled configurations.
REPO_ROOT = Path(__file__).resolve().parents[1]


class ModelConfig(BaseModel):
    """``model`` (registered name), free ``description``, fixed keyword ``parameters``."""

    model_config = ConfigDict(extra="forbid")
    model: str
    description: str = ""
    parameters: dict[str, Any] = {}


class ScenarioConfig(BaseModel):
    """A run: ``workflow`` name, ``model`` configuration file, ``inputs`` and ``output`` folder."""

    model_config = ConfigDict(extra="forbid")
    name: str
    workflow: str = "city_forecast"  # informative; the model's registry name decides
    description: str = ""
    model: str | None = None
    inputs: dict[str, Any] = {}
    output: str = "ecodss-out"


def _read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _validated(cls, data: dict, path):
    try:
        return cls(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path}: field {field!r}: {err['msg']}") from None


def load_model_config(path: str | Path) -> tuple[ModelInfo, dict]:
    """Read a model configuration; returns the registered model and its checked parameters.

    Raises :class:`ConfigError` naming an unknown model or a parameter the model does not take.
    """
    cfg = _validated(ModelConfig, _read_yaml(path), path)
    try:
        info = get_model(cfg.model)
    except KeyError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    check_parameters(info, cfg.parameters, where=str(path))
    return info, dict(cfg.parameters)


#: Parameters a workflow accepts on top of its model's keyword arguments.
WORKFLOW_PARAMETERS = {"eulerian": ("ozone_ppm",)}


def check_parameters(info: ModelInfo, names, where: str = "parameters") -> None:
    """Raise :class:`ConfigError` naming a parameter the model (or its workflow) does not take."""
    accepted = inspect.signature(info.func).parameters
    keyword = sorted(k for k, p in accepted.items() if p.kind == inspect.Parameter.KEYWORD_ONLY)
    allowed = set(keyword) | set(WORKFLOW_PARAMETERS.get(info.name, ()))
    for name in names:
        if name not in allowed:
            raise ConfigError(f"{where}: model {info.name!r} has no keyword parameter {name!r}; "
                              f"it takes {sorted(allowed)}")


def load_scenario(path: str | Path) -> ScenarioConfig:
    """Read and validate a scenario file; relative paths are resolved against its folder."""
    path = Path(path)
    sc = _validated(ScenarioConfig, _read_yaml(path), path)
    if sc.model is not None and not Path(sc.model).is_absolute():
        candidate = (path.parent / sc.model).resolve()
        sc.model = str(candidate if candidate.exists() else REPO_ROOT / sc.model)
    return sc
