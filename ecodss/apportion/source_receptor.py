"""Source–receptor matrices: contribution of each sector, region or source to each receptor.

Source-oriented apportionment with the dispersion models of :mod:`ecodss.air`:

* ``gaussian_plume`` — linear in the emissions: ``by="sector"`` uses the model's own sector
  split, any other grouping the per-source split summed over the group's sources;
* ``gaussian_puff`` — linear in the puff masses: one run per group with the other groups'
  emission rates set to zero (the same puffs, so the same trajectories and domain exits);
* ``eulerian`` — one tagged run (``tags=True``), each group a tag, plus the ``boundary`` tag
  (inflow and initial air). Regions are tagged by splitting the gridded emissions with a
  region mask.

The result (the layout agreed in the project notes) is an ``xr.Dataset`` with dims ``source``
(group), ``receptor``, ``species`` and optionally ``time``: ``contribution`` [µg m-3],
``total`` [µg m-3] (an independent full run of the model) and ``emission`` (source, species)
[g s-1]; the linear coefficient is ``contribution / emission`` [µg m-3 per g s-1]. Matrices are
expensive and reusable across emission scenarios, so they are computed once per met, grid and
receptors (``path=``): a saved matrix whose hashes match is reloaded instead of recomputed
(the same idea as xESMF's saved regridding weights).

Tagging by zero-out versus by tracers agree exactly only for linear models; with nonlinear
chemistry or limited advection schemes (van Leer, PPM) the tags are a proportional attribution
(Clappier, A. et al. 2017, *Geosci. Model Dev.* 10, 4245–4256: "Source apportionment and
sensitivity analysis: two methodologies with two different purposes"). :func:`zero_out_check`
performs the brute-force comparison.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, GridError, MissingFieldError, UnknownFieldError

MODELS = ("gaussian_plume", "gaussian_puff", "eulerian")
#: Inventory columns a plume/puff grouping may use (besides ``source`` = source id).
GROUP_FIELDS = ("sector", "city", "enterprise", "grade", "name")
#: Tag holding inflow and initial concentrations in Eulerian runs.
BOUNDARY_TAG = "boundary"


class CachedEmissionsWarning(UserWarning):
    """A cached matrix was reused with different emissions: contributions were rescaled."""


# ===================================================================================== inputs
def _receptor_table(receptors):
    """(names, x, y, z) of a :class:`Receptors` or a DataFrame with id/name, x, y [, z]."""
    from ..air.receptors import Receptors

    if isinstance(receptors, Receptors):
        n = len(receptors)
        names = receptors.names if receptors.names is not None else [f"R{i}" for i in range(n)]
        return np.asarray(names).astype(str), receptors.x, receptors.y, receptors.z
    if isinstance(receptors, pd.DataFrame):
        key = "id" if "id" in receptors else ("name" if "name" in receptors else None)
        for col in ("x", "y"):
            if col not in receptors:
                raise MissingFieldError(f"receptor table lacks column {col!r}", field=col,
                                        where="receptors")
        names = receptors[key].astype(str).to_numpy() if key else np.asarray(
            [f"R{i}" for i in range(len(receptors))])
        z = receptors["z"].to_numpy(float) if "z" in receptors else np.zeros(len(receptors))
        return names, receptors["x"].to_numpy(float), receptors["y"].to_numpy(float), z
    raise TypeError("receptors must be an ecodss.Receptors or a DataFrame with x, y")


def _hash(*parts) -> str:
    """SHA-256 (first 16 hex digits) of arrays, frames, datasets and plain values."""
    h = hashlib.sha256()

    def feed(obj):
        if isinstance(obj, xr.Dataset):
            for name in sorted(map(str, obj.variables)):
                feed(name)
                feed(obj[name].dims)
                feed(np.asarray(obj[name].values))
        elif isinstance(obj, xr.DataArray):
            feed(obj.dims)
            for name in sorted(map(str, obj.coords)):
                feed(np.asarray(obj[name].values))
            feed(np.asarray(obj.values))
        elif isinstance(obj, pd.DataFrame):
            feed(list(map(str, obj.columns)))
            h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
        elif isinstance(obj, np.ndarray):
            arr = obj.astype(str) if obj.dtype.kind in "OU" else np.ascontiguousarray(obj)
            h.update(str((arr.dtype, arr.shape)).encode())
            h.update(arr.tobytes() if arr.dtype.kind not in "OU" else "|".join(arr.ravel())
                     .encode())
        elif isinstance(obj, dict):
            for k in sorted(obj, key=str):
                feed(str(k))
                feed(obj[k])
        elif isinstance(obj, list | tuple):
            for o in obj:
                feed(o)
        elif callable(obj):  # functions by name; callable objects by name and settings
            h.update(f"{type(obj).__module__}.{getattr(obj, '__qualname__', '')}".encode())
            if not hasattr(obj, "__code__") and hasattr(obj, "__dict__"):
                feed({k: v for k, v in vars(obj).items() if not k.startswith("_")})
        else:
            h.update(repr(obj).encode())

    for p in parts:
        feed(p)
    return h.hexdigest()[:16]


def _grid_key(grid):
    if grid is None:
        return None
    return (grid.x0, grid.y0, grid.dx, grid.dy, grid.nx, grid.ny, str(grid.crs))


def _met_for_hash(met):
    return met if isinstance(met, xr.Dataset | pd.DataFrame) else repr(met)


# ===================================================================================== runners
@dataclass
class _Run:
    """Model-specific pieces of a source–receptor computation."""

    contributions: xr.DataArray  # (time, source, receptor, species)
    total: xr.DataArray  # (time, receptor, species)
    emission: xr.DataArray  # (source, species) [g/s]
    weights: xr.DataArray | None  # (time,) averaging weights (plume: non-calm hours) or None


class _InventoryModel:
    """Plume and puff: an Inventory, one pollutant, groups of sources."""

    def __init__(self, model, inventory, met, receptors, by, regions, pollutant, kwargs):
        from ..inventory import Inventory

        if not isinstance(inventory, Inventory):
            raise TypeError(f"{model} takes an ecodss.Inventory as emissions")
        self.model, self.inv, self.met, self.kwargs = model, inventory, met, dict(kwargs)
        self.by = by
        self.pollutant = inventory.check_pollutant(pollutant or "PM2.5")
        self.names, rx, ry, rz = _receptor_table(receptors)
        from ..air.receptors import Receptors

        self.receptors = Receptors(rx, ry, rz)
        tables = [t for t in (inventory.points, inventory.areas) if t is not None and len(t)]
        if model == "gaussian_puff":
            tables = [inventory.points]
        table = pd.concat(tables, ignore_index=True)
        self.ids = table["id"].astype(str).to_numpy()
        self.rates = table[self.pollutant].to_numpy(float)
        self.labels = _source_labels(table, by, regions)
        groups, self._codes = np.unique(self.labels, return_inverse=True)
        self.groups = groups.tolist()

    # -- model calls
    def _times(self):
        if isinstance(self.met, pd.DataFrame):
            t = pd.DatetimeIndex(pd.to_datetime(self.met["time"]))
            return (t.tz_convert(None) if t.tz is not None else t).to_numpy("datetime64[ns]")
        return np.asarray(self.met["time"].values)

    def _puff_rates(self):
        times = self._times()
        if self.kwargs.get("temporal", True):
            q = self.inv.hourly(times, self.pollutant, kind="point")
            q = np.asarray(q.transpose("time", "source").values, float)
        else:
            q = np.broadcast_to(self.rates, (times.size, self.rates.size)).copy()
        return times, q

    def _puff(self, rates, times):
        from ..air.puff import gaussian_puff

        kw = {k: v for k, v in self.kwargs.items() if k != "temporal"}
        da = xr.DataArray(rates, dims=("time", "source"),
                          coords={"time": times, "source": self.ids})
        return gaussian_puff(self.inv, self.met, self.receptors, pollutant=self.pollutant,
                             emission_rates=da, **kw)["concentration"]

    def _plume(self, inventory, split_by=None):
        from ..air.plume_model import gaussian_plume

        return gaussian_plume(inventory, self.met, self.receptors, pollutant=self.pollutant,
                              split_by=split_by, **self.kwargs)

    def run(self) -> _Run:
        if self.model == "gaussian_puff":
            times, q = self._puff_rates()
            total = self._puff(q, times)
            masks = (self.labels[None, :] == np.asarray(self.groups)[:, None]).astype(float)
            parts = [self._puff(q * m, times) for m in masks]  # one run per group (few)
            contrib = xr.concat(parts, dim="source")
            weights = None
        else:
            ds = self._plume(self.inv)
            total = ds["concentration"]
            weights = (ds["calm"] == 0).astype(float)
            if self.by == "sector":
                contrib = self._plume(self.inv, "sector")["concentration"].rename(
                    sector="source")
                contrib = contrib.reindex(source=self.groups, fill_value=0.0)
            else:  # per-source split summed over the group's sources (linearity)
                split = self._plume(self.inv, "source")["concentration"]
                onehot = xr.DataArray(
                    (self.labels[:, None] == np.asarray(self.groups)[None, :]).astype(float),
                    dims=("source", "group"), coords={"source": self.ids})
                contrib = xr.dot(split.assign_coords(source=self.ids), onehot,
                                 dim="source").rename(group="source")
        contrib = contrib.assign_coords(source=self.groups).transpose("time", "source",
                                                                      "receptor")
        sp = {"species": [self.pollutant]}
        return _Run(_clean(contrib).expand_dims(sp, axis=-1),
                    _clean(total).expand_dims(sp, axis=-1), self.emission(), weights)

    def emission(self) -> xr.DataArray:
        """Emission rate of each group (source, species) [g s-1]."""
        e = np.bincount(self._codes, weights=self.rates, minlength=len(self.groups))
        return xr.DataArray(e[:, None], dims=("source", "species"),
                            coords={"source": self.groups, "species": [self.pollutant]})

    def without(self, group) -> xr.DataArray:
        """Total concentration (time, receptor, species) with ``group``'s emissions removed."""
        keep = self.labels != group
        if self.model == "gaussian_puff":
            times, q = self._puff_rates()
            out = self._puff(q * keep[None, :], times)
        elif not keep.any():
            out = self._plume(self.inv)["concentration"] * 0.0
        else:
            out = self._plume(self.inv.select(ids=list(self.ids[keep])))["concentration"]
        return _clean(out).expand_dims({"species": [self.pollutant]}, axis=-1)


def _source_labels(table, by, regions):
    """Group label of each inventory source."""
    if by == "source":
        return table["id"].astype(str).to_numpy()
    if by == "region":
        if regions is None:
            raise MissingFieldError("by='region' needs regions= (an inventory column name or a "
                                    "mapping source id → region)", field="regions")
        if isinstance(regions, str):
            by = regions
        else:
            lab = table["id"].astype(str).map({str(k): str(v) for k, v in dict(regions).items()})
            if lab.isna().any():
                sid = table["id"].astype(str)[lab.isna()].iloc[0]
                raise MissingFieldError(f"regions has no entry for source {sid!r}", field=sid,
                                        where="regions")
            return lab.to_numpy()
    if by not in GROUP_FIELDS:
        raise UnknownFieldError(f"by={by!r} must be 'source', 'region' or one of {GROUP_FIELDS}",
                                field="by")
    col = table[by] if by in table else pd.Series("other", index=table.index)
    return col.fillna("other").astype(str).to_numpy()


def _clean(conc: xr.DataArray) -> xr.DataArray:
    """Drop the model's receptor coordinates (x, y, ...) to a bare (…, receptor) array."""
    keep = {"time", "source", "receptor", "sector", "species"}
    return conc.drop_vars([c for c in conc.coords if c not in keep]).assign_attrs({})


class _EulerianModel:
    """Tagged Eulerian run: groups = sectors of the emissions, or regions of a mask."""

    def __init__(self, emissions, met, grid, receptors, by, regions, kwargs):
        if grid is None:
            raise MissingFieldError("the Eulerian model needs grid=", field="grid")
        if not isinstance(emissions, xr.DataArray):
            raise TypeError("eulerian takes gridded emissions (an xr.DataArray with dims "
                            "([sector,] species, z, y, x), g s-1 per cell)")
        self.met, self.grid, self.kwargs = met, grid, dict(kwargs)
        for k in ("tags",):
            self.kwargs.pop(k, None)
        self.names, rx, ry, _ = _receptor_table(receptors)
        iy, ix = grid.cell_index(rx, ry)
        if np.any(iy < 0):
            bad = self.names[np.flatnonzero(iy < 0)[0]]
            raise GridError(f"receptor {bad!r} lies outside the grid", field="x",
                            where="receptors")
        self.pick = {"y": xr.DataArray(iy, dims="receptor"),
                     "x": xr.DataArray(ix, dims="receptor")}
        if by == "sector":
            if "sector" not in emissions.dims:
                raise MissingFieldError("by='sector' needs a 'sector' dimension in the emissions",
                                        field="sector", where="emissions")
            self.emissions = emissions
        elif by == "region":
            self.emissions = _split_by_region(emissions, regions, grid)
        else:
            raise UnknownFieldError(f"by={by!r}: the Eulerian model groups by 'sector' or "
                                    "'region'", field="by")
        self.groups = [str(s) for s in self.emissions["sector"].values]

    def _run(self, emissions, tags):
        from ..air.eulerian import eulerian

        return eulerian(emissions, self.met, self.grid, tags=tags, **self.kwargs)

    def run(self) -> _Run:
        ds = self._run(self.emissions, True)
        contrib = ds["tag_concentration"].isel(self.pick).rename(tag="source")
        total = ds["concentration"].isel(self.pick)
        return _Run(_clean(contrib).transpose("time", "source", "receptor", "species"),
                    _clean(total).transpose("time", "receptor", "species"), self.emission(),
                    None)

    def emission(self) -> xr.DataArray:
        """Emission rate of each group and the (zero) boundary tag (source, species) [g s-1]."""
        e = self.emissions
        e = e.mean("time") if "time" in e.dims else e
        emission = e.sum(("z", "y", "x")).rename(sector="source")
        emission = emission.reindex(source=[*self.groups, BOUNDARY_TAG], fill_value=0.0)
        return _clean(emission).transpose("source", "species")

    def without(self, group) -> xr.DataArray:
        if group == BOUNDARY_TAG:
            raise ConfigError("the boundary tag cannot be zeroed out by removing emissions")
        e = self.emissions.where(self.emissions["sector"] != group, 0.0)
        conc = self._run(e, False)["concentration"].isel(self.pick)
        return _clean(conc).transpose("time", "receptor", "species")


def _split_by_region(emissions, regions, grid):
    """Emissions summed over sectors and split into one pseudo-sector per region label."""
    if regions is None:
        raise MissingFieldError("by='region' needs regions= (labels on the grid, (y, x))",
                                field="regions")
    lab = np.asarray(regions.values if isinstance(regions, xr.DataArray) else regions)
    if lab.shape != (grid.ny, grid.nx):
        raise GridError(f"regions has shape {lab.shape}, the grid {(grid.ny, grid.nx)}",
                        field="regions")
    lab = lab.astype(str)
    names = sorted(set(lab.ravel()))
    masks = xr.DataArray((lab[None] == np.asarray(names)[:, None, None]).astype(float),
                         dims=("sector", "y", "x"), coords={"sector": names})
    e = emissions.sum("sector") if "sector" in emissions.dims else emissions
    return (e.drop_vars([c for c in ("y", "x") if c in e.coords]) * masks).transpose(
        "sector", *[d for d in e.dims])


def _runner(model, emissions, met, receptors, by, regions, pollutant, grid, kwargs):
    if model not in MODELS:
        raise UnknownFieldError(f"model={model!r} must be one of {MODELS}", field="model")
    if model == "eulerian":
        return _EulerianModel(emissions, met, grid, receptors, by, regions, kwargs)
    return _InventoryModel(model, emissions, met, receptors, by, regions, pollutant, kwargs)


def _average(da, weights):
    if weights is None:
        return da.mean("time")
    return (da * weights).sum("time") / weights.sum()


# ===================================================================================== public
def source_receptor(model: str, emissions, met, receptors, *, by: str = "sector",
                    pollutant: str | None = None, grid=None, regions=None, average: bool = True,
                    path=None, model_kwargs: dict | None = None) -> xr.Dataset:
    """Source–receptor matrix: contribution of each group of sources to each receptor.

    Parameters
    ----------
    model : {"gaussian_plume", "gaussian_puff", "eulerian"}
    emissions : ecodss.Inventory or xr.DataArray
        An :class:`~ecodss.Inventory` (rates [g s-1]) for the plume and puff models; gridded
        emissions [g s-1 per cell] with dims ([sector,] species, z, y, x) for the Eulerian model.
    met : xr.Dataset or pandas.DataFrame
        Hourly met as the chosen model takes it.
    receptors : ecodss.Receptors or pandas.DataFrame
        Receptors (named by ``Receptors.names``) or a table with ``id`` (or ``name``), ``x``,
        ``y`` [m] — e.g. the regional sample's cities. The Eulerian model samples the surface cell
        holding each receptor.
    by : str
        ``"sector"``, ``"region"`` or ``"source"`` (source id; plume/puff only); plume/puff also
        accept another inventory text column (``"city"``, ``"enterprise"``, ...).
    pollutant : str, optional
        Inventory pollutant for plume/puff (default ``"PM2.5"``); the Eulerian species are those
        of the emissions.
    grid : ecodss.Grid
        The Eulerian model's grid.
    regions :
        For ``by="region"``: plume/puff — an inventory column name or a mapping source id →
        region; Eulerian — region labels on the grid, array (y, x).
    average : bool
        Period mean over the run (plume: non-calm hours, as :func:`ecodss.air.plume_model.
        period_average`), else keep the hourly ``time`` dim.
    path : str or Path, optional
        NetCDF file of the matrix. If it exists and its ``cache_key`` (hash of model, options,
        met, grid, receptors and grouping) matches, it is loaded instead of recomputed; if only the
        emissions differ, its contributions are rescaled group by group by the emission ratio
        (linear models; a :class:`CachedEmissionsWarning` says so). Otherwise the matrix is
        computed and written there (CF, atomic).
    model_kwargs : dict, optional
        Passed to the model (e.g. ``urban``, ``half_life``, ``sigmas``; ``boundary``, ``decay``,
        ``scheme``, ``interfaces``, ``chemistry`` for the Eulerian run).

    Returns
    -------
    xr.Dataset
        ``contribution`` ([time,] source, receptor, species) [ug m-3], ``total`` ([time,]
        receptor, species) [ug m-3] from a full run of the model, ``emission`` (source, species)
        [g s-1] (annual-mean inventory rate of each group, or the gridded rate summed over the
        domain; 0 for the Eulerian ``boundary`` tag). attrs: ``model``, ``by``, hashes
        (``met_hash``, ``grid_hash``, ``receptor_hash``, ``emission_hash``, ``cache_key``) and
        ``closure_max_abs`` = max |Σ_source contribution − total| [ug m-3].
    """
    kwargs = dict(model_kwargs or {})
    names = _receptor_table(receptors)
    keys = {"met_hash": _hash(_met_for_hash(met)), "grid_hash": _hash(_grid_key(grid)),
            "receptor_hash": _hash(*names)}
    cache_key = _hash(model, by, pollutant, average, kwargs, _hash(regions) if regions is not
                      None else None, *keys.values())
    emission_hash = _hash(emissions.to_dataset() if hasattr(emissions, "to_dataset") and not
                          isinstance(emissions, xr.DataArray) else emissions)
    if path is not None and Path(path).is_file():
        cached = _load(path, cache_key, emission_hash, model, emissions, met, receptors, by,
                       regions, pollutant, grid, kwargs)
        if cached is not None:
            return cached
    runner = _runner(model, emissions, met, receptors, by, regions, pollutant, grid, kwargs)
    run = runner.run()
    contrib, total = run.contributions, run.total
    if average:
        contrib, total = _average(contrib, run.weights), _average(total, run.weights)
    contrib = contrib.assign_coords(receptor=runner.names)
    total = total.assign_coords(receptor=runner.names)
    closure = float(np.abs(contrib.sum("source") - total).max())
    ds = xr.Dataset({
        "contribution": contrib.assign_attrs(
            units="ug m-3", long_name=f"concentration contributed by each {by}"),
        "total": total.assign_attrs(units="ug m-3",
                                    long_name="total modelled concentration (full run)"),
        "emission": run.emission.assign_attrs(
            units="g s-1", long_name=f"emission rate of each {by}")})
    ds["receptor_x"] = ("receptor", names[1], {"units": "m",
                                               "standard_name": "projection_x_coordinate"})
    ds["receptor_y"] = ("receptor", names[2], {"units": "m",
                                               "standard_name": "projection_y_coordinate"})
    ds = ds.set_coords(["receptor_x", "receptor_y"])
    ds.attrs.update({"model": model, "by": by, "averaged": int(bool(average)),
                     "pollutant": str(pollutant or ""), **keys, "emission_hash": emission_hash,
                     "cache_key": cache_key, "closure_max_abs": closure,
                     "model_kwargs": json.dumps({k: repr(v) for k, v in kwargs.items()}),
                     "coefficient": "contribution / emission [ug m-3 per g s-1]",
                     "references": "Clappier et al. (2017) Geosci. Model Dev. 10:4245"})
    if path is not None:
        from ..io.netcdf import write_netcdf

        write_netcdf(ds, path, title=f"ecodss source-receptor matrix ({model}, by {by})")
    return ds


def _load(path, cache_key, emission_hash, *args):
    with xr.open_dataset(path) as f:
        ds = f.load()
    if ds.attrs.get("cache_key") != cache_key:
        return None
    if ds.attrs.get("emission_hash") == emission_hash:
        return ds
    # cheap: groups and emission totals only, no model run
    emission = _runner(*args).emission()
    ratio = xr.where(ds["emission"] > 0, emission / ds["emission"].where(ds["emission"] > 0),
                     1.0)
    warnings.warn(f"{path}: cached matrix (same met, grid and receptors) reused with different "
                  "emissions: contributions rescaled by each group's emission ratio (valid for "
                  "linear models when the group's spatial/temporal pattern is unchanged)",
                  CachedEmissionsWarning, stacklevel=3)
    out = ds.copy()
    out["contribution"] = (ds["contribution"] * ratio).assign_attrs(ds["contribution"].attrs)
    out["emission"] = emission.assign_attrs(ds["emission"].attrs)
    delta = (out["contribution"] - ds["contribution"]).sum("source")
    out["total"] = (ds["total"] + delta).assign_attrs(ds["total"].attrs)
    out.attrs.update({"emission_hash": emission_hash, "rescaled_from_cache": str(path)})
    return out


def zero_out_check(model: str, emissions, met, receptors, sr: xr.Dataset, groups=None, *,
                   grid=None, regions=None, pollutant: str | None = None,
                   model_kwargs: dict | None = None) -> xr.Dataset:
    """Brute-force check of a source–receptor matrix: rerun without each group.

    The zero-out (brute-force) contribution of group g is total − total(without g)
    (Clappier et al. 2017). For linear models it equals the tagged contribution to round-off.

    Parameters
    ----------
    model, emissions, met, receptors, grid, regions, pollutant, model_kwargs :
        As given to :func:`source_receptor` (``by`` is taken from ``sr.attrs``).
    sr : xr.Dataset
        The matrix to check.
    groups : sequence of str, optional
        Groups to zero out (default: every emitting group of ``sr``).

    Returns
    -------
    xr.Dataset
        ``zero_out`` and ``tagged`` ([time,] source, receptor, species) [ug m-3] and
        ``max_abs_difference`` (source) [ug m-3].
    """
    by = sr.attrs["by"]
    runner = _runner(model, emissions, met, receptors, by, regions, pollutant, grid,
                     dict(model_kwargs or {}))
    groups = [g for g in (sr["source"].values if groups is None else groups)
              if str(g) != BOUNDARY_TAG]
    total = sr["total"]
    weights = None
    if model == "gaussian_plume" and sr.attrs.get("averaged"):
        from ..air.plume_model import gaussian_plume

        calm = gaussian_plume(runner.inv, met, runner.receptors, pollutant=runner.pollutant,
                              **runner.kwargs)["calm"]
        weights = (calm == 0).astype(float)
    outs = []
    for g in groups:  # one rerun per group checked (a handful)
        rest = runner.without(str(g))
        rest = _average(rest, weights) if sr.attrs.get("averaged") else rest
        outs.append(total - rest.assign_coords(receptor=sr["receptor"].values))
    zero = xr.concat(outs, dim=xr.DataArray([str(g) for g in groups], dims="source"))
    zero = zero.transpose(*sr["contribution"].dims)
    tagged = sr["contribution"].sel(source=[str(g) for g in groups])
    diff = np.abs(zero - tagged).max([d for d in zero.dims if d != "source"])
    return xr.Dataset({"zero_out": zero.assign_attrs(units="ug m-3"),
                       "tagged": tagged, "max_abs_difference": diff.assign_attrs(
                           units="ug m-3")})


__all__ = ["source_receptor", "zero_out_check", "CachedEmissionsWarning", "MODELS",
           "BOUNDARY_TAG"]
