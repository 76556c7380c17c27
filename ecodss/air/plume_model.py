"""The Gaussian plume model: inventory + hourly met + receptors → hourly concentrations.

ISC3-equivalent regulatory defaults (EPA 1995, ISC3 User's Guide Vol. II, EPA-454/B-95-003b):
rural Pasquill–Gifford or urban Briggs σ, power-law wind at stack height with the 1 m/s floor,
stack-tip downwash, Briggs final plume rise, buoyancy-induced dispersion, mixing-lid images and the
well-mixed limit, calm hours skipped (and flagged), SO2 4-h half-life in urban mode. Area sources are
integrated numerically: each area is split into sub-rectangles, each integrated analytically
crosswind (erf of an equivalent segment) and summed along-wind (midpoint rule).
The kernel lives in :mod:`ecodss.air._plume_kernel`; the formulas in :mod:`ecodss.air.plume`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingFieldError, UnknownFieldError
from ..met.profile import wind_profile_exponent
from ..registry import register_model
from ..validation import check_range
from . import plume
from ._plume_common import (
    URBAN_SO2_HALF_LIFE,
    dask_evaluate,
    hourly_emission_rates,
    read_met,
    reshape_to_receptors,
    resolve_backend,
    to_dataset,
)
from ._plume_kernel import SourceHours, blocked_concentration
from .receptors import Receptors


def _wind_at(height, u_ref, cls, z_anem, urban):
    """ISC3 wind at release height: u_ref (h/z_ref)^p for h ≥ z_ref, ≥ 1 m/s (ISC3-II Eq. 1-6)."""
    p = wind_profile_exponent(cls, urban=urban)[:, None]
    h = np.asarray(height, float)[None, :]
    us = np.where(h >= z_anem, u_ref[:, None] * (np.maximum(h, z_anem) / z_anem) ** p,
                  u_ref[:, None])
    return np.maximum(us, 1.0)


def _point_sources(inventory, met, pollutant, urban, z_anem, temporal, half_life, options):
    pts = inventory.points
    times, ws, wd, ta, cls, zi = met
    calm = ws == 0.0
    u_ref = np.maximum(ws, 1.0)
    hs = pts["stack_height"].to_numpy(float)
    ds = pts["stack_diameter"].to_numpy(float)[None, :]
    vs = pts["exit_velocity"].to_numpy(float)[None, :]
    ts = pts["exit_temperature"].to_numpy(float)[None, :]
    us = _wind_at(hs, u_ref, cls, z_anem, urban)
    tak = ta[:, None]
    c2 = cls[:, None]
    fb = plume.buoyancy_flux(vs, ds, ts, tak)
    fm = plume.momentum_flux(vs, ds, ts, tak)
    dhf, _, xfb, xfm = plume.final_plume_rise(fb, fm, us, vs, ds, ts, tak, c2)
    if not options["plume_rise"]:
        dhf = np.zeros_like(us)
    hs_eff = plume.stack_tip_downwash(hs[None, :], ds, vs, us) if options["downwash"] \
        else np.broadcast_to(hs[None, :], us.shape)
    he = hs_eff + dhf
    s = plume.stability_parameter(tak, c2) * np.ones_like(us)
    q = hourly_emission_rates(inventory, times, pollutant, "point", temporal) * (~calm)[:, None]
    phi = np.deg2rad((wd + 180.0) % 360.0)
    shape = us.shape
    bid = tuple(np.broadcast_to(a, shape) for a in (fb, fm, vs, s, xfb, xfm, dhf)) \
        if options["plume_rise"] else None
    return SourceHours(
        pts["x"].to_numpy(float), pts["y"].to_numpy(float), q, he, us, np.sin(phi), np.cos(phi),
        cls, zi, cls <= 4, np.full(shape, _decay_rate(half_life)), urban, None, bid,
        options["sigmas"])


def _decay_rate(half_life):
    return 0.0 if half_life is None or not np.isfinite(half_life) or half_life <= 0 \
        else 0.693 / half_life


def _area_sources(inventory, met, pollutant, urban, z_anem, temporal, half_life, options):
    """Areas (polygons rasterized by the inventory) → rectangles → ``n × n`` sub-rectangles."""
    areas = inventory.areas
    rects = inventory.area_rectangles()
    n_sub = options["area_subdivisions"]
    times, ws, wd, ta, cls, zi = met
    calm = ws == 0.0
    q_area = hourly_emission_rates(inventory, times, pollutant, "area", temporal) * (~calm)[:, None]
    parent = pd.Index(areas["id"]).get_indexer(rects["id"])
    n2 = n_sub * n_sub
    owner = np.repeat(parent, n2)
    q = np.repeat(q_area[:, parent] * rects["share"].to_numpy(float), n2, axis=1) / n2
    w = rects["width"].to_numpy(float)
    h = rects["height"].to_numpy(float)
    frac = (np.arange(n_sub) + 0.5) / n_sub - 0.5
    ox = frac[None, :, None] * w[:, None, None] + 0.0 * frac[None, None, :]  # (rect, n, n)
    oy = frac[None, None, :] * h[:, None, None] + 0.0 * frac[None, :, None]
    sx = (rects["x"].to_numpy(float)[:, None, None] + ox).ravel()
    sy = (rects["y"].to_numpy(float)[:, None, None] + oy).ravel()
    rel_sub = np.repeat(rects["release_height"].to_numpy(float), n2)
    us = _wind_at(rel_sub, np.maximum(ws, 1.0), cls, z_anem, urban)
    phi = np.deg2rad((wd + 180.0) % 360.0)
    sw = np.repeat(w / n_sub, n2)[None, :]
    sh = np.repeat(h / n_sub, n2)[None, :]
    # crosswind extents of the sub-rectangle's x side and y side (crosswind unit = (cos φ, −sin φ))
    width = np.stack([sw * np.abs(np.cos(phi))[:, None], sh * np.abs(np.sin(phi))[:, None]], -1)
    he = np.broadcast_to(rel_sub[None, :], us.shape)
    return SourceHours(sx, sy, q, he, us, np.sin(phi), np.cos(phi), cls, zi, cls <= 4,
                       np.full(us.shape, _decay_rate(half_life)), urban, width, None,
                       options["sigmas"], owner)


def source_sets(inventory, met_arrays, pollutant, urban, z_anem, temporal, half_life, options,
                 sources):
    sets = []
    if sources in ("all", "point") and inventory.points is not None and len(inventory.points) \
            and pollutant in inventory.points:
        sets.append(("point", _point_sources(inventory, met_arrays, pollutant, urban, z_anem,
                                             temporal, half_life, options)))
    if sources in ("all", "area") and inventory.areas is not None and len(inventory.areas) \
            and pollutant in inventory.areas:
        sets.append(("area", _area_sources(inventory, met_arrays, pollutant, urban, z_anem,
                                           temporal, half_life, options)))
    return sets


@register_model("gaussian_plume", domain="air")
def gaussian_plume(inventory, met, receptors, *, pollutant: str, urban: bool = False,
                   anemometer_height: float = 10.0, split_by: str | None = None,
                   sources: str = "all", temporal: bool = True, half_life: float | None = None,
                   mixing_height: str | None = None, area_subdivisions: int = 10,
                   plume_rise: bool = True, downwash: bool = True, sigmas=None,
                   chunks: dict | None = None, backend: str = "auto") -> xr.Dataset:
    """Hourly Gaussian-plume concentrations of ``pollutant`` [µg/m³] (ISC3 regulatory defaults).

    Parameters
    ----------
    inventory : ecodss.Inventory
        Point sources (stacks) and/or area sources; rates in g/s, temporal profiles applied when
        ``temporal`` (local time of the inventory's profiles), else the annual-mean rate every hour.
    met : xr.Dataset or pandas.DataFrame
        Hourly met (dim ``time``, UTC): ``wind_speed`` [m/s] at ``anemometer_height``,
        ``wind_direction`` [deg, from], ``air_temperature`` [K], ``stability_class`` [1–6],
        a mixing height [m]. Hours with wind_speed == 0 are calms: zero concentration, flagged in
        ``calm`` and left out of :func:`period_average` (ISC3-II §1.5.6).
    receptors : Receptors
        Discrete, polar or gridded receptors; gridded output is shaped (time, y, x).
    pollutant : str
        Inventory column to disperse (SO2, NOx, PM2.5, ...).
    urban : bool
        Urban Briggs σ, urban wind exponents and mixing height, SO2 4-h half-life.
    split_by : {None, "source", "sector"}
        Add a ``source`` or ``sector`` dimension (contributions sum to the total).
    sources : {"all", "point", "area"}
        Which source kinds to include.
    half_life : float, optional  [s]
        First-order decay half-life; default 4 h for SO2 in urban mode, else none.
    area_subdivisions : int
        Sub-rectangles per side of each area source (numerical integration resolution).
    plume_rise, downwash : bool
        Briggs plume rise (with buoyancy-induced dispersion) and stack-tip downwash (ISC3
        defaults: on). Off gives a passive release at stack height.
    sigmas : callable, optional
        ``sigmas(x [m], stability_class) -> (σy, σz)`` replacing the PG/Briggs curves (e.g.
        σ² = 2Kx/u for the K-theory slender-plume check).
    backend : {"auto", "numba", "numpy"}
        Kernel implementation: the compiled kernel (``auto`` when numba imports; parallel over
        receptors in eager runs, serial inside dask tasks) or the numpy kernel. Same numbers to
        ~1e-15; custom ``sigmas`` always use numpy.
    chunks : dict, optional
        e.g. ``{"time": 24, "receptor": 4000}`` or ``{"time": 24, "y": 100, "x": 100}``: the
        result is dask-backed and computed chunk by chunk (same numbers as eager).

    Returns
    -------
    xr.Dataset
        ``concentration`` (time, [source|sector], receptor | y, x) [µg m-3] with CF attributes,
        and ``calm`` (time).

    References
    ----------
    EPA (1995) ISC3 User's Guide Vol. II, EPA-454/B-95-003b, Eqs. 1-1…1-51.
    """
    if not isinstance(receptors, Receptors):
        raise TypeError("receptors must be an ecodss.Receptors")
    if split_by not in (None, "source", "sector"):
        raise UnknownFieldError(f"split_by={split_by!r} must be None, 'source' or 'sector'",
                                field="split_by")
    if sources not in ("all", "point", "area"):
        raise UnknownFieldError(f"sources={sources!r} must be 'all', 'point' or 'area'",
                                field="sources")
    check_range(anemometer_height, "anemometer_height", 0.5, 200.0, units="m")
    check_range(area_subdivisions, "area_subdivisions", 1, 200)
    backend = resolve_backend(backend)
    if pollutant not in inventory.pollutants:
        raise MissingFieldError(f"pollutant {pollutant!r} is not in the inventory "
                                f"(has {list(inventory.pollutants)})", field=pollutant,
                                where="inventory")
    met_arrays = read_met(met, urban, mixing_height)
    times = met_arrays[0]
    if half_life is None and urban and pollutant == "SO2":
        half_life = URBAN_SO2_HALF_LIFE
    options = {"area_subdivisions": int(area_subdivisions), "plume_rise": plume_rise,
               "downwash": downwash, "sigmas": sigmas, "backend": backend}
    args = (pollutant, urban, anemometer_height, temporal, half_life, options)

    if split_by == "sector":
        labels = _sector_labels(inventory, sources)
        parts = [_evaluate(inventory.select(sector=sec), met_arrays, receptors, args, sources,
                           False, chunks) for sec in labels]  # one pass per sector (≤ a dozen)
        data = _stack(parts, axis=1)
        extra = {"sector": np.asarray(labels, dtype=object)}
    elif split_by == "source":
        data = _evaluate(inventory, met_arrays, receptors, args, sources, True, chunks)
        extra = {"source": _source_ids(inventory, sources, pollutant)}
    else:
        data = _evaluate(inventory, met_arrays, receptors, args, sources, False, chunks)
        extra = {}
    return to_dataset(data, times, receptors, extra, pollutant, urban, met_arrays[1] == 0.0)


def _sector_labels(inventory, sources):
    frames = []
    if sources in ("all", "point") and inventory.points is not None:
        frames.append(inventory.points["sector"])
    if sources in ("all", "area") and inventory.areas is not None:
        frames.append(inventory.areas["sector"])
    return sorted(set(pd.concat(frames).astype(str))) if frames else []


def _source_ids(inventory, sources, pollutant):
    ids = []
    for kind, frame in (("point", inventory.points), ("area", inventory.areas)):
        if sources in ("all", kind) and frame is not None and len(frame) and pollutant in frame:
            ids.extend(frame["id"].astype(str))
    return np.asarray(ids, dtype=object)


def _stack(parts, axis):
    if parts and hasattr(parts[0], "dask"):
        import dask.array as dsa

        return dsa.stack(parts, axis=axis)
    return np.stack(parts, axis=axis)


def _evaluate(inventory, met_arrays, receptors, args, sources, split, chunks):
    """Eager result, or a dask array of the same blocks when ``chunks`` is given."""
    sets = source_sets(inventory, met_arrays, *args, sources)
    T = len(met_arrays[0])
    S = sum(s.n_reported for _, s in sets) if split else 0
    backend = args[-1]["backend"]

    def compute(t_sl, r_idx, parallel=False):
        rx, ry, rz = receptors.x[r_idx], receptors.y[r_idx], receptors.z[r_idx]
        outs = [blocked_concentration(s.hours(t_sl), rx, ry, rz, split, backend, parallel)
                for _, s in sets]
        if split:  # sum the sub-rectangles of each area back into their area
            outs = [s.to_reported(o) for o, (_, s) in zip(outs, sets, strict=True)]
        nt = len(range(T)[t_sl])
        if not outs:
            return np.zeros((nt, S, rx.size) if split else (nt, rx.size))
        return np.concatenate(outs, axis=1) if split else sum(outs[1:], outs[0])

    R = len(receptors)
    if not chunks:
        out = compute(slice(0, T), np.arange(R), parallel=True)
        return reshape_to_receptors(out, receptors)
    return dask_evaluate(compute, T, S, receptors, chunks, split)


def period_average(ds: xr.Dataset) -> xr.DataArray:
    """Period mean over non-calm hours — ISC3 excludes calms from the averaging count
    (EPA 1995 ISC3 User's Guide Vol. II §1.5.6, "calms processing")."""
    valid = ds["calm"] == 0
    out = ds["concentration"].where(valid).sum("time") / valid.sum()
    out.attrs = {**ds["concentration"].attrs, "cell_methods": "time: mean (calm hours excluded)"}
    return out
