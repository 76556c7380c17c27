"""Gridding of inventory emissions onto an :class:`ecodss.Grid` (mass-conserving).

Each source becomes a row of a sparse weight matrix W (sources × cells) whose entries are the
fraction of the source's emission in each cell:

* rectangle areas: exact overlap-area fraction, the outer product of the overlap lengths along x
  and along y, :math:`w_{ij} = \\ell_x(j)\\,\\ell_y(i) / (w\\,h)` with
  :math:`\\ell_x(j) = \\max(0, \\min(x_2, e_{j+1}) - \\max(x_1, e_j))` (conservative remapping of a
  piecewise-constant field; Jones 1999, Mon. Wea. Rev. 127:2204, Eq. 1 — exact for axis-aligned
  rectangles);
* polygon areas: rasterized on a sub-grid (:meth:`Inventory.area_rectangles`), then the small
  rectangles as above;
* points: all of the emission into the cell that contains the stack.

The gridded field is :math:`F = W^T E`; a row of W sums to the fraction of that source inside the
domain, so the grid total equals the inventory total of the sources inside (to round-off). The
part outside is reported in the attributes and by an :class:`EmissionsOutsideDomainWarning`.
Weights depend only on the inventory geometry and the grid: compute them once with
:func:`source_weights` and reuse them for every pollutant and hour.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

from ..errors import InventoryError
from .inventory import KINDS, Inventory

#: Default sub-cell size of polygon rasterization, as a fraction of the smaller grid spacing.
POLYGON_SUBCELLS_PER_CELL = 10
#: Relative outside-domain mass below which no warning is given (round-off level).
OUTSIDE_RTOL = 1e-12


class EmissionsOutsideDomainWarning(UserWarning):
    """Part of the inventory lies outside the grid and is not in the gridded field."""


def _axis_overlap(edges: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Overlap lengths [m] (R, K) of intervals [lo, hi] with the cells between ``edges``.

    Only the K cells an interval can touch are evaluated: columns j0 .. j0 + K - 1 with
    j0 the cell of ``lo``. Returns the overlaps and the (clipped) cell indices.
    """
    n = len(edges) - 1
    d = (edges[-1] - edges[0]) / n
    j0 = np.clip(np.floor((lo - edges[0]) / d).astype(np.int64), 0, n - 1)
    j1 = np.clip(np.floor((hi - edges[0]) / d).astype(np.int64), 0, n - 1)
    k = int((j1 - j0).max(initial=0)) + 1
    j = j0[:, None] + np.arange(k)[None, :]
    valid = j <= j1[:, None]
    j = np.minimum(j, n - 1)
    overlap = np.minimum(hi[:, None], edges[j + 1]) - np.maximum(lo[:, None], edges[j])
    return np.where(valid, np.clip(overlap, 0.0, None), 0.0), j


def rectangle_weights(grid, xmin, xmax, ymin, ymax) -> sp.csr_matrix:
    """Fraction of each rectangle [m] in each grid cell, as a sparse (rectangles, ny·nx) matrix.

    The fraction is the overlap area (x-overlap × y-overlap, via ``np.clip`` on cell edges)
    divided by the rectangle area; see the module docstring. Cells are numbered ``iy * nx + ix``.
    """
    xmin, xmax, ymin, ymax = (np.asarray(a, float).ravel() for a in (xmin, xmax, ymin, ymax))
    n = len(xmin)
    ncell = grid.nx * grid.ny
    if n == 0:
        return sp.csr_matrix((0, ncell))
    area = (xmax - xmin) * (ymax - ymin)
    # Group rectangles by how many cells they span (powers of 2), so that one large area does not
    # inflate the (R, Ky, Kx) work arrays of all the small ones.
    span = np.maximum((xmax - xmin) / grid.dx, (ymax - ymin) / grid.dy)
    group = np.ceil(np.log2(np.maximum(span, 1.0) + 1.0)).astype(int)
    rows, cols, vals = [], [], []
    for g in np.unique(group):  # a handful of size classes, not a loop over sources
        r = np.flatnonzero(group == g)
        ox, jx = _axis_overlap(grid.x_edges, xmin[r], xmax[r])
        oy, iy = _axis_overlap(grid.y_edges, ymin[r], ymax[r])
        w = oy[:, :, None] * ox[:, None, :] / area[r, None, None]
        keep = w > 0
        rows.append(np.broadcast_to(r[:, None, None], w.shape)[keep])
        cols.append((iy[:, :, None] * grid.nx + jx[:, None, :])[keep])
        vals.append(w[keep])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, ncell))


def point_weights(grid, x, y) -> sp.csr_matrix:
    """One-hot sparse (points, ny·nx) matrix of the cell containing each point (none outside)."""
    iy, ix = grid.cell_index(x, y)
    inside = iy >= 0
    rows = np.flatnonzero(inside)
    return sp.csr_matrix((np.ones(rows.size), (rows, iy[inside] * grid.nx + ix[inside])),
                         shape=(len(inside), grid.nx * grid.ny))


def source_weights(inv: Inventory, grid, kind: str = "area",
                   polygon_resolution: float | None = None) -> sp.csr_matrix:
    """Sparse (sources, ny·nx) matrix of each source's emission fraction per cell.

    Rows follow the order of ``inv.points``, ``inv.areas``, or points then areas for
    ``kind="all"`` (the order of :meth:`Inventory.hourly`). ``polygon_resolution`` [m] is the
    sub-cell size of polygon rasterization (default: the smaller grid spacing / 10).
    """
    if kind == "all":
        return sp.vstack([source_weights(inv, grid, k, polygon_resolution) for k in KINDS],
                         format="csr")
    if kind == "point":
        pts = inv.points
        return point_weights(grid, pts["x"].to_numpy(float), pts["y"].to_numpy(float))
    if kind != "area":
        raise InventoryError(f"kind={kind!r} must be 'point', 'area' or 'all'", field="kind",
                             where=f"inventory {inv.name!r}")
    if polygon_resolution is None:
        polygon_resolution = min(grid.dx, grid.dy) / POLYGON_SUBCELLS_PER_CELL
    rect = inv.area_rectangles(polygon_resolution)
    x, y = rect["x"].to_numpy(float), rect["y"].to_numpy(float)
    hw, hh = rect["width"].to_numpy(float) / 2, rect["height"].to_numpy(float) / 2
    w_rect = rectangle_weights(grid, x - hw, x + hw, y - hh, y + hh)
    parent = pd.Index(inv.areas["id"].astype(str))
    src = parent.get_indexer(rect["id"].astype(str))  # ids are unique
    share = sp.csr_matrix((rect["share"].to_numpy(float), (src, np.arange(len(rect)))),
                          shape=(len(parent), len(rect)))
    return (share @ w_rect).tocsr()


def _grid_coords(grid, lonlat: bool) -> dict:
    coords = dict(grid.coords(lonlat=lonlat))
    coords["crs"] = grid.crs_variable()
    return coords


def _outside_report(inv, weights, rates, ids, pollutant, kind, warn) -> dict:
    inside = np.asarray(weights.sum(axis=1)).ravel()
    outside = rates * np.clip(1.0 - inside, 0.0, None)
    total, out_total = float(rates.sum()), float(outside.sum())
    if warn and out_total > OUTSIDE_RTOL * max(total, np.finfo(float).tiny):
        who = ids[outside > OUTSIDE_RTOL * max(total, np.finfo(float).tiny)]
        shown = ", ".join(map(repr, who[:5])) + (", ..." if len(who) > 5 else "")
        warnings.warn(f"inventory {inv.name!r}: {out_total:.6g} g/s of {pollutant} "
                      f"({out_total / total:.3%} of the {kind} total, annual mean) lies outside "
                      f"the grid, from {len(who)} source(s): {shown}",
                      EmissionsOutsideDomainWarning, stacklevel=3)
    return {"emission_total_g_s": total, "emission_outside_domain_g_s": out_total}


def _to_grid(weights_t: sp.csr_matrix, grid):
    """Kernel: (..., source) rates → (..., ny, nx) cell totals with the transposed weights."""
    def apply(e):
        flat = np.asarray(e, float).reshape(int(np.prod(e.shape[:-1])), e.shape[-1])
        return np.asarray(weights_t @ flat.T).T.reshape(e.shape[:-1] + grid.shape)
    return apply


def _grid_one(inv, grid, pollutant, weights, times, kind, utc_offset_hours, time_chunk,
              lonlat, warn) -> xr.DataArray:
    inv.check_pollutant(pollutant)
    table = inv._table(kind)
    rates = table[pollutant].to_numpy(float)
    report = _outside_report(inv, weights, rates, table["id"].to_numpy(object), pollutant, kind,
                             warn)
    kernel = _to_grid(weights.T.tocsr(), grid)
    attrs = {"units": "g s-1", "long_name": f"{pollutant} emission rate per grid cell",
             "pollutant": pollutant, "source_kinds": kind, "grid_mapping": "crs",
             "cell_methods": "area: sum", **report}
    if times is None:
        data = kernel(rates[None, :])[0]
        attrs["comment"] = "annual-mean rates"
        return xr.DataArray(data, dims=("y", "x"), coords=_grid_coords(grid, lonlat),
                            name=pollutant, attrs=attrs)
    hourly = inv.hourly(times, pollutant, kind, utc_offset_hours, time_chunk)
    hourly = hourly.drop_vars([c for c in hourly.coords if c not in ("time",)])
    if hourly.sizes["source"]:
        out = xr.apply_ufunc(kernel, hourly, input_core_dims=[["source"]],
                             output_core_dims=[["y", "x"]], dask="parallelized",
                             output_dtypes=[float],
                             dask_gufunc_kwargs={"output_sizes": {"y": grid.ny, "x": grid.nx}})
    else:  # no source of this kind (dask cannot map over an empty core dimension)
        shape = (hourly.sizes["time"], grid.ny, grid.nx)
        if time_chunk is None:
            data = np.zeros(shape)
        else:
            import dask.array as da

            data = da.zeros(shape, chunks=(int(time_chunk), -1, -1))
        out = xr.DataArray(data, dims=("time", "y", "x"), coords={"time": hourly["time"]})
    attrs["cell_methods"] = "area: sum time: mean"
    attrs["profiles_local_time"] = hourly.attrs["profiles_local_time"]
    attrs["unprofiled_sectors"] = hourly.attrs["unprofiled_sectors"]
    out = out.assign_coords(_grid_coords(grid, lonlat))
    out.attrs = attrs
    out.name = pollutant
    return out


def grid_emissions(inv: Inventory, grid, pollutant: str, times=None, kind: str = "area", *,
                   utc_offset_hours: float = 8.0, time_chunk: int | None = None,
                   polygon_resolution: float | None = None, lonlat: bool = False,
                   warn_outside: bool = True) -> xr.DataArray:
    """Emissions of ``pollutant`` summed per grid cell [g/s per cell].

    Parameters
    ----------
    inv : Inventory
    grid : ecodss.Grid
    pollutant : str
        One of ``inv.pollutants``.
    times : array-like of datetime64, optional
        UTC hours; if given the result is (time, y, x) hourly rates (temporal profiles in local
        time, see :meth:`Inventory.hourly`), else (y, x) annual-mean rates.
    kind : {"area", "point", "all"}
        Which sources to grid.
    utc_offset_hours : float
        Local time zone of the temporal profiles [h].
    time_chunk : int, optional
        Dask chunk length along time; the result is then lazy (computed chunk by chunk).
    polygon_resolution : float, optional
        Sub-cell size [m] for polygon areas (default: min(dx, dy) / 10).
    lonlat : bool
        Add 2-D ``lon``/``lat`` coordinates.
    warn_outside : bool
        Warn (:class:`EmissionsOutsideDomainWarning`) when emissions fall outside the grid.

    Returns
    -------
    xarray.DataArray
        CF-annotated, ``grid_mapping="crs"``; attrs ``emission_total_g_s`` and
        ``emission_outside_domain_g_s`` give the annual-mean totals of the selected sources and of
        their part outside the grid.
    """
    weights = source_weights(inv, grid, kind, polygon_resolution)
    return _grid_one(inv, grid, pollutant, weights, times, kind, utc_offset_hours, time_chunk,
                     lonlat, warn_outside)


def grid_inventory(inv: Inventory, grid, pollutants=None, times=None, kind: str = "all", *,
                   utc_offset_hours: float = 8.0, time_chunk: int | None = None,
                   polygon_resolution: float | None = None, lonlat: bool = False,
                   warn_outside: bool = True) -> xr.Dataset:
    """Gridded emissions of several pollutants (default: all) as a CF :class:`xarray.Dataset`.

    Weights are computed once and shared. Variable names are CF-safe (``PM2.5`` → ``PM2_5``);
    each variable's ``pollutant`` attribute keeps the inventory name. Arguments as in
    :func:`grid_emissions`.
    """
    pollutants = list(inv.pollutants if pollutants is None else pollutants)
    weights = source_weights(inv, grid, kind, polygon_resolution)
    fields = {p.replace(".", "_"): _grid_one(inv, grid, p, weights, times, kind,
                                             utc_offset_hours, time_chunk, lonlat, warn_outside)
              for p in pollutants}
    ds = xr.Dataset({k: v.drop_vars("crs") for k, v in fields.items()})
    ds = ds.assign_coords(crs=grid.crs_variable())
    ds.attrs = {"title": f"gridded emissions of inventory {inv.name!r}", "source_kinds": kind}
    return ds
