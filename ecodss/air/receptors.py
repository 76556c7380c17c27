"""Receptor sets for dispersion models: discrete points, polar rings and regular grids."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..validation import check_finite, check_range


@dataclass(frozen=True)
class Receptors:
    """Receptor locations [m, projected] and flagpole heights [m].

    Build with ``Receptors(x=..., y=...)`` (discrete), :meth:`polar` or :meth:`grid`. A gridded set
    keeps its axes so model output can be shaped (y, x); the others give a ``receptor`` dimension.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray | float = 0.0
    kind: str = "discrete"
    names: tuple | None = None
    axes: dict = field(default_factory=dict)

    def __post_init__(self):
        x = np.atleast_1d(np.asarray(self.x, float)).ravel()
        y = np.atleast_1d(np.asarray(self.y, float)).ravel()
        if x.shape != y.shape:
            raise ValueError(f"receptor x and y differ in length: {x.size} vs {y.size}")
        z = np.broadcast_to(np.asarray(self.z, float), x.shape).copy()
        check_finite(x, "x", kind="receptor", units="m")
        check_finite(y, "y", kind="receptor", units="m")
        check_range(z, "z", 0.0, 5000.0, kind="receptor", units="m")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "z", z)

    def __len__(self) -> int:
        return self.x.size

    @classmethod
    def polar(cls, x0: float, y0: float, distances, directions, z: float = 0.0) -> Receptors:
        """Polar network centred on (x0, y0): ``directions`` [deg clockwise from north] ×
        ``distances`` [m], ordered direction-major (ISC3 ``GRIDPOLR`` order)."""
        d = np.asarray(distances, float)
        a = np.deg2rad(np.asarray(directions, float))
        aa, dd = np.meshgrid(a, d, indexing="ij")
        return cls(x0 + dd * np.sin(aa), y0 + dd * np.cos(aa), z, kind="polar",
                   axes={"direction": np.rad2deg(a), "distance": d})

    @classmethod
    def grid(cls, x, y, z: float = 0.0) -> Receptors:
        """Regular grid from 1-D axes ``x`` (nx) and ``y`` (ny) [m]; flattened y-major."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        xx, yy = np.meshgrid(x, y)
        return cls(xx, yy, z, kind="grid", axes={"x": x, "y": y})

    @classmethod
    def from_grid(cls, grid, z: float = 0.0) -> Receptors:
        """Receptors at the cell centres of an :class:`ecodss.Grid`."""
        return cls.grid(grid.x, grid.y, z)

    @property
    def is_grid(self) -> bool:
        return self.kind == "grid"
