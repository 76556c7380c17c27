"""The model registry: one list of named models for the Python API, the CLI, batch runs and the server.

Register a model with :func:`register_model`; look it up with :func:`get_model`; list with
:func:`list_models`. Registration happens when the module defining the model is imported; the
registry imports the known model modules lazily on first lookup so ``import ecodss`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ModelNotFoundError

#: Modules whose import registers models. Add a module here when it defines a registered model.
_MODEL_MODULES = ("ecodss.air.plume_model", "ecodss.air.puff", "ecodss.air.eulerian",
                  "ecodss.water.permit")


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its name, the callable, a one-line summary and its domain."""

    name: str
    func: Callable
    summary: str
    domain: str

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(name: str, *, domain: str, summary: str | None = None):
    """Decorator registering ``func`` as model ``name`` (summary defaults to the docstring's first line)."""

    def deco(func):
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelInfo(name, func, summary or (doc[0] if doc else ""), domain)
        return func

    return deco


def _load_all() -> None:
    for mod in _MODEL_MODULES:
        importlib.import_module(mod)


def get_model(name: str) -> ModelInfo:
    """The registered model called ``name``; raises :class:`ModelNotFoundError` naming the choices."""
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelNotFoundError(
            f"no model named {name!r}; registered models: {', '.join(sorted(_REGISTRY))}") from None


def list_models() -> list[ModelInfo]:
    """All registered models, sorted by name."""
    _load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
