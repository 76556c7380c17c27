"""ecodss — environmental forecasting and decision support.

Air-quality models (Gaussian plume, ...), emission inventories, China AQI and heavy-pollution alerts,
model evaluation, CF NetCDF output. See README.md for a tour.
"""

__version__ = "0.1.0"

from . import evaluate, units  # noqa: E402
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
from .grid import Grid  # noqa: E402
from .registry import get_model, list_models, register_model  # noqa: E402

_LAZY = {"Inventory": "ecodss.inventory", "Receptors": "ecodss.air.receptors",
         "forecast": "ecodss.workflows"}


def __getattr__(name):  # PEP 562: heavy classes load on first use
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ecodss' has no attribute {name!r}")

__all__ = [
    "__version__", "evaluate", "units", "Grid", "Inventory", "Receptors", "forecast",
    "get_model", "list_models", "register_model",
    "EcodssError", "ValidationError", "MissingFieldError", "UnknownFieldError", "InvalidValueError",
    "NonFiniteValueError", "NegativeValueError", "OutOfRangeError", "UnitError", "InventoryError",
    "MetError", "GridError", "ConfigError", "ModelNotFoundError", "DataFileError",
]
