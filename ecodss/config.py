"""Named model configurations and scenario files (YAML), validated with pydantic.

A *model configuration* (``models/*.yaml``) names a registered model and fixes some of its keyword
parameters; a *scenario* (``scenarios/*.yaml``) names a workflow, its inputs, the model
configuration, the scenario dimension and the outputs (schema: :mod:`ecodss.batch.schema`). The
CLI (``ecodss run``), Python, the batch runner and the server all read them through these
functions. Errors name the file, the line and the field (:class:`LocatedYaml`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
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


def __getattr__(name):  # the scenario schema lives with the batch runner that executes it
    if name == "ScenarioConfig":
        from .batch.schema import Scenario

        return Scenario
    raise AttributeError(f"module 'ecodss.config' has no attribute {name!r}")


@lru_cache(maxsize=16)
def _read_rules(model: type[BaseModel], path: str, what: str):
    text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else \
        resources.files("ecodss").joinpath(path).read_text(encoding="utf-8")
    try:
        return model.model_validate(yaml.safe_load(text))
    except ValueError as exc:
        raise ConfigError(f"{what} {path}: {exc}") from exc


def load_rules(model: type[BaseModel], rules, *, bundled: Mapping[str, str], what: str):
    """A rules table (pydantic ``model``) from an instance, a mapping, a bundled name or a YAML path.

    Parameters
    ----------
    model : pydantic model class
    rules : model instance, mapping, str or path
        A name in ``bundled`` loads the packaged file (cached, shared: do not mutate it).
    bundled : mapping
        Name → file path inside the ``ecodss`` package (e.g. ``{"2018": "data/....yaml"}``).
    what : str
        Name of the table in error messages (e.g. ``"alert rules"``).

    Raises
    ------
    ConfigError
        Invalid content, or neither a bundled name nor an existing file.
    """
    if isinstance(rules, model):
        return rules
    if isinstance(rules, Mapping):
        try:
            return model.model_validate(dict(rules))
        except ValueError as exc:
            raise ConfigError(f"{what}: {exc}") from exc
    if str(rules) in bundled:
        return _read_rules(model, bundled[str(rules)], what)
    if not Path(rules).is_file():
        names = " or ".join(repr(k) for k in bundled)
        raise ConfigError(f"unknown {what} {str(rules)!r}: give {names} or a YAML file path")
    return _read_rules(model, str(Path(rules).resolve()), what)


class LocatedYaml:
    """A YAML document and the line of every key/item in it, for errors naming file:line:field.

    Lines come from the composed node tree (``yaml.compose``, node ``start_mark``), so a pydantic
    error location such as ``("dask", "jobqueue", "cores")`` maps back to the line it was written on.
    """

    def __init__(self, path: str | Path, data: dict, lines: dict[tuple, int]):
        self.path, self.data, self.lines = Path(path), data, lines

    @classmethod
    def read(cls, path: str | Path) -> LocatedYaml:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}:1: expected a mapping at the top level")
        lines: dict[tuple, int] = {}
        _node_lines(node, (), lines)
        return cls(path, data, lines)

    def locate(self, loc) -> tuple[int, str]:
        """The line and dotted field name of a (pydantic) location; unknown parts are skipped."""
        path: tuple = ()
        shown = []
        for part in loc:
            if path + (part,) in self.lines:
                path += (part,)
                shown.append(str(part))
        missing = [str(p) for p in loc[len(loc) - 1:] if str(p) not in shown]
        return self.lines.get(path, 1), ".".join(shown + missing) or "<top>"

    def error(self, loc, message: str) -> ConfigError:
        """A one-line :class:`ConfigError` ``file:line: field 'a.b': message``."""
        line, field = self.locate(tuple(loc))
        return ConfigError(f"{self.path}:{line}: field {field!r}: {message}")

    def validated(self, cls):
        """``cls(**data)``; the first pydantic error becomes a located :class:`ConfigError`."""
        try:
            return cls(**self.data)
        except ValidationError as exc:
            err = exc.errors()[0]
            given = err.get("input")
            shown = "" if isinstance(given, dict | list) or err["type"] == "missing" \
                else f" (got {given!r})"
            raise self.error(err["loc"], f"{err['msg']}{shown}") from None


def _node_lines(node, path: tuple, out: dict) -> None:
    """Record ``path -> line`` (1-based) for every mapping key and sequence item under ``node``."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = path + (key.value,)
            out[sub] = key.start_mark.line + 1
            _node_lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _node_lines(item, path + (i,), out)


def load_model_config(path: str | Path) -> tuple[ModelInfo, dict]:
    """Read a model configuration; returns the registered model and its checked parameters.

    Raises :class:`ConfigError` naming an unknown model or a parameter the model does not take.
    """
    doc = LocatedYaml.read(path)
    cfg = doc.validated(ModelConfig)
    try:
        info = get_model(cfg.model)
    except KeyError as exc:
        raise doc.error(("model",), str(exc)) from None
    try:
        check_parameters(info, cfg.parameters, where=str(path))
    except ConfigError as exc:
        bad = next((k for k in cfg.parameters if repr(k) in str(exc)), None)
        line, _ = doc.locate(("parameters", bad))
        raise ConfigError(str(exc).replace(f"{path}:", f"{path}:{line}:", 1)) from None
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


def resolve_path(value: str, base: Path) -> Path:
    """A path from a configuration file: absolute, else relative to ``base`` (the file's folder),
    else relative to the source checkout (``models/...`` written from the repository root)."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    candidate = (base / path).resolve()
    return candidate if candidate.exists() else REPO_ROOT / path


def load_scenario(path: str | Path):
    """Read and validate a scenario file (:class:`ecodss.batch.schema.Scenario`).

    Relative paths are resolved against the file's folder (or the repository root); every error
    is one line naming the file, the line and the field.
    """
    from .batch.schema import load_scenario_file

    return load_scenario_file(path)
