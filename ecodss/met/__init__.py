"""Meteorology: solar position, Pasquill–Gifford stability (Turner), wind profile, Met dataset.

See :mod:`ecodss.met.dataset` for the conventions of the hourly Met ``xr.Dataset`` that every
dispersion model takes, and :func:`ecodss.io.read_rammet` for ISC RAMMET ASCII files.
"""

from .dataset import (
    DEFAULT_REQUIRED,
    MET_VARIABLES,
    met_attrs,
    met_from_dataframe,
    validate_met,
)
from .profile import (
    ISC_MIN_WIND_SPEED,
    WIND_PROFILE_EXPONENTS,
    wind_at_height,
    wind_profile_exponent,
)
from .solar import (
    is_daytime,
    solar_altitude,
    solar_position,
    sunrise_sunset,
    sunset_hour_angle,
)
from .stability import (
    TURNER_TABLE,
    insolation_class,
    merge_stable_classes,
    net_radiation_index,
    stability_from_met,
    turner_class,
    wind_speed_knots,
)

__all__ = [
    "DEFAULT_REQUIRED", "MET_VARIABLES", "met_attrs", "met_from_dataframe", "validate_met",
    "ISC_MIN_WIND_SPEED", "WIND_PROFILE_EXPONENTS", "wind_at_height", "wind_profile_exponent",
    "is_daytime", "solar_altitude", "solar_position", "sunrise_sunset", "sunset_hour_angle",
    "TURNER_TABLE", "insolation_class", "merge_stable_classes", "net_radiation_index",
    "stability_from_met", "turner_class", "wind_speed_knots",
]
