"""The ecodss error hierarchy.

Every error raised for bad input is an :class:`EcodssError`; the message names *where* the problem
is (source id, file, station) and *which field*, with the offending value, e.g.::

    NegativeValueError: inventory source 'plant-17': SO2=-3.0 g/s must be >= 0

Validation errors also subclass :class:`ValueError` so that generic callers can catch them.
"""

from __future__ import annotations


class EcodssError(Exception):
    """Base class of every error ecodss raises on purpose."""


class ValidationError(EcodssError, ValueError):
    """Input rejected at the boundary.

    Parameters
    ----------
    message : str
        Human-readable explanation (already naming the field).
    field : str, optional
        Name of the offending field/column/parameter.
    where : str, optional
        Which record, source, file or station the field belongs to.
    """

    def __init__(self, message: str, *, field: str | None = None, where: str | None = None):
        prefix = f"{where}: " if where else ""
        super().__init__(prefix + message)
        self.field = field
        self.where = where


class MissingFieldError(ValidationError):
    """A required column, variable or parameter is absent."""


class UnknownFieldError(ValidationError):
    """A column or parameter name is not recognised (e.g. the typo ``S02`` for ``SO2``)."""


class InvalidValueError(ValidationError):
    """A value is NaN/inf, negative where it must not be, or physically impossible."""


class NonFiniteValueError(InvalidValueError):
    """A value is NaN or infinite."""


class NegativeValueError(InvalidValueError):
    """A value that must be non-negative (an emission rate, a concentration) is negative."""


class OutOfRangeError(InvalidValueError):
    """A value lies outside its physically possible or documented range."""


class UnitError(ValidationError):
    """A unit string is unknown or not convertible to the quantity expected."""


class InventoryError(ValidationError):
    """An emission inventory is inconsistent (duplicate ids, unknown source kind, ...)."""


class MetError(ValidationError):
    """Meteorological input is inconsistent (missing hours, wrong direction convention, ...)."""


class GridError(ValidationError):
    """A grid definition is invalid (non-positive spacing, unknown CRS, ...)."""


class ConfigError(EcodssError, ValueError):
    """A model configuration, scenario file or rule table is invalid."""


class ModelNotFoundError(ConfigError, KeyError):
    """``ecodss.get_model`` was asked for a name that is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class DataFileError(EcodssError, OSError):
    """A data file cannot be parsed (wrong format, truncated record)."""
