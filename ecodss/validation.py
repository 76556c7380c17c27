"""Boundary checks shared by every reader and model: each failure names the field and the record.

These helpers are vectorized (they inspect whole columns at once) and raise the specific
:mod:`ecodss.errors` subclass, with the first offending record named in the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .errors import (
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnknownFieldError,
)


def _label(ids: Sequence | None, i: int, kind: str) -> str:
    return f"{kind} {ids[i]!r}" if ids is not None else f"{kind} #{i}"


def require_fields(present: Iterable[str], required: Iterable[str], where: str) -> None:
    """Raise :class:`MissingFieldError` naming the first required field not in ``present``."""
    present = set(present)
    missing = [f for f in required if f not in present]
    if missing:
        raise MissingFieldError(f"missing required field(s) {missing}", field=missing[0], where=where)


def reject_unknown_fields(present: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Raise :class:`UnknownFieldError` for a field not in ``allowed``, suggesting the closest name."""
    import difflib

    allowed = list(allowed)
    for f in present:
        if f not in allowed:
            close = difflib.get_close_matches(str(f), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownFieldError(f"unknown field {f!r}{hint}; allowed: {sorted(allowed)}",
                                    field=str(f), where=where)


def check_finite(values, field: str, *, ids: Sequence | None = None, kind: str = "record",
                 units: str = "") -> None:
    """Raise :class:`NonFiniteValueError` at the first NaN/inf in ``values``."""
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise NonFiniteValueError(f"{field}={v.ravel()[i]} {units}".rstrip() + " must be finite",
                                  field=field, where=_label(ids, i, kind))


def check_nonnegative(values, field: str, *, ids: Sequence | None = None, kind: str = "record",
                      units: str = "") -> None:
    """Raise :class:`NonFiniteValueError` or :class:`NegativeValueError` at the first bad value."""
    check_finite(values, field, ids=ids, kind=kind, units=units)
    v = np.asarray(values, dtype=float)
    bad = v < 0
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise NegativeValueError(f"{field}={v.ravel()[i]} {units} must be >= 0".replace("  ", " "),
                                 field=field, where=_label(ids, i, kind))


def check_range(values, field: str, lo=None, hi=None, *, ids: Sequence | None = None,
                kind: str = "record", units: str = "", lo_inclusive: bool = True,
                hi_inclusive: bool = True) -> None:
    """Raise :class:`OutOfRangeError` at the first value outside [lo, hi] (bounds optional)."""
    check_finite(values, field, ids=ids, kind=kind, units=units)
    v = np.asarray(values, dtype=float)
    bad = np.zeros(v.shape, bool)
    if lo is not None:
        bad |= (v < lo) if lo_inclusive else (v <= lo)
    if hi is not None:
        bad |= (v > hi) if hi_inclusive else (v >= hi)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        lo_s = "" if lo is None else ("[" if lo_inclusive else "(") + f"{lo}"
        hi_s = "" if hi is None else f"{hi}" + ("]" if hi_inclusive else ")")
        rng = f"{lo_s or '(-inf'}, {hi_s or 'inf)'}"
        raise OutOfRangeError(f"{field}={v.ravel()[i]} {units} outside {rng}".replace("  ", " "),
                              field=field, where=_label(ids, i, kind))
