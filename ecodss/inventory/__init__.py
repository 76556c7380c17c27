"""Emission inventories: point and area sources, temporal profiles, gridding.

>>> from ecodss.inventory import Inventory, TemporalProfiles, grid_emissions
"""

from .inventory import (
    DEFAULT_SECTOR,
    POLLUTANTS,
    STACK_LIMITS,
    TEXT_FIELDS,
    Inventory,
    parse_polygon,
    polygon_area_centroid,
)
from .spatial import EmissionsOutsideDomainWarning, grid_emissions, grid_inventory, source_weights
from .temporal import FALLBACK_SECTOR, TemporalProfiles

__all__ = [
    "Inventory", "TemporalProfiles", "grid_emissions", "grid_inventory", "source_weights",
    "EmissionsOutsideDomainWarning", "POLLUTANTS", "TEXT_FIELDS", "STACK_LIMITS",
    "DEFAULT_SECTOR", "FALLBACK_SECTOR", "parse_polygon", "polygon_area_centroid",
]
