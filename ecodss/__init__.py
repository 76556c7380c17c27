"""ecodss — environmental forecasting and decision support.

Air-quality models (Gaussian plume, ...), emission inventories, China AQI and heavy-pollution alerts,
model evaluation, CF NetCDF output. See README.md for a tour.
"""

__version__ = "0.1.0"

from . import units  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    DataFileError,
    EcodssError,
    GridError,
    InvalidValueError,
    InventoryError,
    MetError,
    MissingFieldError,
    ModelNotFoundError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnitError,
    UnknownFieldError,
    ValidationError,
)
from .registry import get_model, list_models, register_model  # noqa: E402

_LAZY = {"Grid": "ecodss.grid", "Inventory": "ecodss.inventory", "Receptors": "ecodss.air.receptors",
         "forecast": "ecodss.workflows"}


#: Subpackages that import pandas/xarray and load on first attribute access.
_LAZY_MODULES = ("evaluate",)


def __getattr__(name):  # PEP 562: heavy classes and subpackages load on first use
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"ecodss.{name}")
    raise AttributeError(f"module 'ecodss' has no attribute {name!r}")

__all__ = [
    "__version__", "evaluate", "units", "Grid", "Inventory", "Receptors", "forecast",
    "get_model", "list_models", "register_model",
    "EcodssError", "ValidationError", "MissingFieldError", "UnknownFieldError", "InvalidValueError",
    "NonFiniteValueError", "NegativeValueError", "OutOfRangeError", "UnitError", "InventoryError",
    "MetError", "GridError", "ConfigError", "ModelNotFoundError", "DataFileError",
]
