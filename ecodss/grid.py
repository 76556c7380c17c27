"""Regular projected grids: x/y cell centres in metres, a CRS, lon/lat on demand, cell areas, chunks.

A :class:`Grid` is the spatial frame of every gridded product (emissions, concentrations). Its
coordinates are projected metres in ``crs`` (any pyproj-understood CRS; the samples use a UTM zone),
so distances and areas are exact in the model; ``lonlat()`` gives WGS84 coordinates for output
(CF "2-D auxiliary coordinates", CF conventions 1.10 §5.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xarray as xr

from .errors import GridError

#: Default dask chunk edge (cells). 200×200 float64 = 320 kB per 2-D slice: small enough that the
#: plume kernel's (sources × chunk) temporaries stay in L2/L3-friendly blocks, large enough that
#: the scheduler overhead (~1 ms/task) is negligible.
DEFAULT_CHUNK = 200


@dataclass(frozen=True)
class Grid:
    """A regular grid of ``ny × nx`` cells.

    Parameters
    ----------
    x0, y0 : float  [m]
        Projected coordinates of the south-west *corner* of the domain.
    dx, dy : float  [m]
        Cell sizes (> 0).
    nx, ny : int
        Number of cells in x and y.
    crs : str
        CRS of x/y, e.g. ``"EPSG:32650"`` (WGS84 / UTM zone 50N).
    chunk : int
        Edge length in cells of the dask chunks used by gridded models.
    """

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    crs: str = "EPSG:32650"
    chunk: int = DEFAULT_CHUNK

    def __post_init__(self):
        for name in ("dx", "dy"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                raise GridError(f"{name}={v} m must be a finite positive cell size", field=name)
        for name in ("nx", "ny", "chunk"):
            v = getattr(self, name)
            if not np.isfinite(v) or int(v) != v or v < 1:
                raise GridError(f"{name}={v} must be a positive integer", field=name)
            object.__setattr__(self, name, int(v))  # 4.0 → 4: shapes and chunks need ints
        for name in ("x0", "y0"):
            if not np.isfinite(getattr(self, name)):
                raise GridError(f"{name} must be finite", field=name)
        try:
            self._pyproj_crs  # noqa: B018 - validate eagerly
        except Exception as exc:  # pyproj raises CRSError
            raise GridError(f"unknown crs={self.crs!r}: {exc}", field="crs") from None
        crs = self._pyproj_crs
        if not crs.is_projected or any(a.unit_name != "metre" for a in crs.axis_info):
            raise GridError(f"crs={self.crs!r} must be a projected CRS in metres "
                            "(x0, y0, dx, dy are metres)", field="crs")

    @classmethod
    def from_extent(cls, xmin, ymin, xmax, ymax, resolution, crs="EPSG:32650", chunk=DEFAULT_CHUNK):
        """Grid covering ``[xmin, xmax] × [ymin, ymax]`` [m] with square cells of ``resolution`` m."""
        nx = int(round((xmax - xmin) / resolution))
        ny = int(round((ymax - ymin) / resolution))
        return cls(xmin, ymin, resolution, resolution, nx, ny, crs, chunk)

    @cached_property
    def _pyproj_crs(self):
        import pyproj

        return pyproj.CRS.from_user_input(self.crs)

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates [m], shape (nx,)."""
        return self.x0 + (np.arange(self.nx) + 0.5) * self.dx

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates [m], shape (ny,)."""
        return self.y0 + (np.arange(self.ny) + 0.5) * self.dy

    @property
    def x_edges(self) -> np.ndarray:
        return self.x0 + np.arange(self.nx + 1) * self.dx

    @property
    def y_edges(self) -> np.ndarray:
        return self.y0 + np.arange(self.ny + 1) * self.dy

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @property
    def cell_area(self) -> float:
        """Area of one cell [m²] (exact in the projected plane)."""
        return self.dx * self.dy

    @property
    def chunks(self) -> dict[str, int]:
        """Dask chunk sizes for the ``y``/``x`` dimensions."""
        return {"y": min(self.chunk, self.ny), "x": min(self.chunk, self.nx)}

    def contains(self, x, y) -> np.ndarray:
        """True where the points (x, y) [m] fall inside the domain."""
        x, y = np.asarray(x), np.asarray(y)
        return (x >= self.x0) & (x < self.x0 + self.nx * self.dx) & (y >= self.y0) & (
            y < self.y0 + self.ny * self.dy)

    def cell_index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row/column index (iy, ix) of the cells containing (x, y); -1 outside the domain."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        inside = self.contains(x, y)
        # (x - x0)/dx can round up to nx for the last floats below the far edge: clip to the grid
        ix = np.minimum(np.floor(np.where(inside, (x - self.x0) / self.dx, 0.0)), self.nx - 1)
        iy = np.minimum(np.floor(np.where(inside, (y - self.y0) / self.dy, 0.0)), self.ny - 1)
        return np.where(inside, iy, -1).astype(int), np.where(inside, ix, -1).astype(int)

    def transform_to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Projected (x, y) [m] → WGS84 (lon, lat) [degrees]."""
        import pyproj

        tr = pyproj.Transformer.from_crs(self._pyproj_crs, "EPSG:4326", always_xy=True)
        return tr.transform(np.asarray(x, float), np.asarray(y, float))

    def transform_from_lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 (lon, lat) [degrees] → projected (x, y) [m]."""
        import pyproj

        tr = pyproj.Transformer.from_crs("EPSG:4326", self._pyproj_crs, always_xy=True)
        return tr.transform(np.asarray(lon, float), np.asarray(lat, float))

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """2-D arrays (ny, nx) of cell-centre longitude and latitude [degrees]."""
        xx, yy = np.meshgrid(self.x, self.y)
        return self.transform_to_lonlat(xx, yy)

    def coords(self, lonlat: bool = True) -> dict:
        """CF-annotated xarray coordinates for (y, x), with 2-D lon/lat when ``lonlat``."""
        out = {
            "x": ("x", self.x, {"units": "m", "standard_name": "projection_x_coordinate",
                                "long_name": "x coordinate of projection", "axis": "X"}),
            "y": ("y", self.y, {"units": "m", "standard_name": "projection_y_coordinate",
                                "long_name": "y coordinate of projection", "axis": "Y"}),
        }
        if lonlat:
            lon, lat = self.lonlat()
            out["lon"] = (("y", "x"), lon, {"units": "degrees_east", "standard_name": "longitude"})
            out["lat"] = (("y", "x"), lat, {"units": "degrees_north", "standard_name": "latitude"})
        return out

    def crs_variable(self) -> xr.DataArray:
        """The CF grid-mapping variable (``crs``) with the WKT of the projection (CF §5.6)."""
        attrs = self._pyproj_crs.to_cf()
        attrs["crs_wkt"] = self._pyproj_crs.to_wkt()
        return xr.DataArray(np.int32(0), attrs=attrs)

    def empty(self, name: str = "field", **attrs) -> xr.DataArray:
        """A zero-filled (y, x) DataArray on this grid."""
        return xr.DataArray(np.zeros(self.shape), dims=("y", "x"),
                            coords={k: v for k, v in self.coords(lonlat=False).items()},
                            name=name, attrs=attrs)
