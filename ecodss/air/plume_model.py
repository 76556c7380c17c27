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
from ..met.dataset import validate_met
from ..met.profile import wind_profile_exponent
from ..registry import register_model
from ..validation import check_range
from . import plume
from ._plume_kernel import SourceHours, concentration_block
from .receptors import Receptors

#: Elements (hour × source × receptor) per kernel pass: ~16 MB per float64 temporary.
BLOCK_ELEMENTS = 2**21
#: Default SO2 half-life in urban mode [s] (ISC3-II §1.1.7: 4 h for SO2 in urban mode).
URBAN_SO2_HALF_LIFE = 4 * 3600.0


def _met_arrays(met, urban: bool, mixing_height: str | None):
    """Validated numpy arrays from a met Dataset/DataFrame (values computed if dask-backed)."""
    if isinstance(met, pd.DataFrame):
        met = xr.Dataset.from_dataframe(met.set_index("time") if "time" in met else met)
    validate_met(met, required=("wind_speed", "wind_direction", "air_temperature",
                                "stability_class"), allow_class7=True)
    if mixing_height is None:
        order = ("mixing_height_urban", "mixing_height_rural") if urban else (
            "mixing_height_rural", "mixing_height_urban")
        mixing_height = next((v for v in (*order, "mixing_height") if v in met), None)
        if mixing_height is None:
            raise MissingFieldError("met has no mixing height variable (mixing_height, "
                                    "mixing_height_rural or mixing_height_urban)",
                                    field="mixing_height", where="met")
    elif mixing_height not in met:
        raise MissingFieldError(f"met has no variable {mixing_height!r}", field=mixing_height,
                                where="met")
    m = met[["wind_speed", "wind_direction", "air_temperature", "stability_class",
             mixing_height]].compute()
    # class 7 (G, extremely stable) is treated as F, as ISC3 does (ISC3-II §1.1.3)
    cls = np.minimum(m["stability_class"].values.astype(np.intp), 6)
    return (m["time"].values, m["wind_speed"].values.astype(float),
            m["wind_direction"].values.astype(float), m["air_temperature"].values.astype(float),
            cls, m[mixing_height].values.astype(float))


def _wind_at(height, u_ref, cls, z_anem, urban):
    """ISC3 wind at release height: u_ref (h/z_ref)^p for h ≥ z_ref, ≥ 1 m/s (ISC3-II Eq. 1-6)."""
    p = wind_profile_exponent(cls, urban=urban)[:, None]
    h = np.asarray(height, float)[None, :]
    us = np.where(h >= z_anem, u_ref[:, None] * (np.maximum(h, z_anem) / z_anem) ** p,
                  u_ref[:, None])
    return np.maximum(us, 1.0)


def _emission_rates(inventory, times, pollutant, kind, temporal):
    frame = inventory.points if kind == "point" else inventory.areas
    if temporal:
        q = inventory.hourly(times, pollutant, kind=kind)
        return np.asarray(q.transpose("time", "source").values, float)
    return np.broadcast_to(frame[pollutant].to_numpy(float), (len(times), len(frame))).copy()


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
    q = _emission_rates(inventory, times, pollutant, "point", temporal) * (~calm)[:, None]
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
    q_area = _emission_rates(inventory, times, pollutant, "area", temporal) * (~calm)[:, None]
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


def _blocked(src: SourceHours, rx, ry, rz, split: bool, backend: str = "numpy",
             parallel: bool = False):
    """Run the kernel: compiled in one call, or numpy over (hour, receptor) sub-blocks of at most
    BLOCK_ELEMENTS triples (bounded temporaries)."""
    if backend == "numba" and src.sigma_fn is None:
        from ._plume_numba import concentration_block_numba

        return concentration_block_numba(src, rx, ry, rz, split, parallel)
    T, S = src.q.shape
    R = rx.size
    out = np.zeros((T, S, R) if split else (T, R))
    if S == 0:
        return out
    r_step = max(1, min(R, BLOCK_ELEMENTS // max(S, 1)))
    t_step = max(1, BLOCK_ELEMENTS // (S * r_step))
    for t0 in range(0, T, t_step):  # blocks of hours and receptors, each a vectorized pass
        sub = src.hours(slice(t0, t0 + t_step))
        for r0 in range(0, R, r_step):
            rs = slice(r0, r0 + r_step)
            out[t0:t0 + t_step, ..., rs] = concentration_block(sub, rx[rs], ry[rs], rz[rs], split)
    return out


def _source_sets(inventory, met_arrays, pollutant, urban, z_anem, temporal, half_life, options,
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
    backend = _resolve_backend(backend)
    if pollutant not in inventory.pollutants:
        raise MissingFieldError(f"pollutant {pollutant!r} is not in the inventory "
                                f"(has {list(inventory.pollutants)})", field=pollutant,
                                where="inventory")
    met_arrays = _met_arrays(met, urban, mixing_height)
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
    return _to_dataset(data, times, receptors, extra, pollutant, urban, met_arrays[1] == 0.0)


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


def _resolve_backend(backend: str) -> str:
    if backend not in ("auto", "numba", "numpy"):
        raise UnknownFieldError(f"backend={backend!r} must be 'auto', 'numba' or 'numpy'",
                                field="backend")
    if backend == "numpy":
        return backend
    from ._plume_numba import AVAILABLE

    if not AVAILABLE and backend == "numba":
        raise ImportError("backend='numba' needs the numba package")
    return "numba" if AVAILABLE else "numpy"


def _evaluate(inventory, met_arrays, receptors, args, sources, split, chunks):
    """Eager result, or a dask array of the same blocks when ``chunks`` is given."""
    sets = _source_sets(inventory, met_arrays, *args, sources)
    T = len(met_arrays[0])
    S = sum(s.n_reported for _, s in sets) if split else 0
    backend = args[-1]["backend"]

    def compute(t_sl, r_idx, parallel=False):
        rx, ry, rz = receptors.x[r_idx], receptors.y[r_idx], receptors.z[r_idx]
        outs = [_blocked(s.hours(t_sl), rx, ry, rz, split, backend, parallel) for _, s in sets]
        if split:  # sum the sub-rectangles of each area back into their area
            outs = [s.to_reported(o) for o, (_, s) in zip(outs, sets, strict=True)]
        nt = len(range(T)[t_sl])
        if not outs:
            return np.zeros((nt, S, rx.size) if split else (nt, rx.size))
        return np.concatenate(outs, axis=1) if split else sum(outs[1:], outs[0])

    R = len(receptors)
    if not chunks:
        out = compute(slice(0, T), np.arange(R), parallel=True)
        return _reshape(out, receptors)
    return _dask_evaluate(compute, T, S, receptors, chunks, split)


def _reshape(out, receptors):
    if receptors.is_grid:
        ny, nx = receptors.axes["y"].size, receptors.axes["x"].size
        return out.reshape(out.shape[:-1] + (ny, nx))
    return out


def _dask_evaluate(compute, T, S, receptors, chunks, split):
    import dask
    import dask.array as dsa

    tc = int(chunks.get("time", T) or T)
    t_blocks = [slice(t0, min(t0 + tc, T)) for t0 in range(0, T, tc)]

    def block(t_sl, r_idx, shape):
        return dsa.from_delayed(dask.delayed(compute)(t_sl, r_idx), shape=shape, dtype=float)

    lead = (S,) if split else ()
    if receptors.is_grid:
        ny, nx = receptors.axes["y"].size, receptors.axes["x"].size
        cy, cx = int(chunks.get("y", ny) or ny), int(chunks.get("x", nx) or nx)
        full = np.arange(ny * nx).reshape(ny, nx)
        rows = []
        for t_sl in t_blocks:  # assembling the task graph: one task per chunk
            nt = t_sl.stop - t_sl.start
            ys = []
            for y0 in range(0, ny, cy):
                xs = []
                for x0 in range(0, nx, cx):
                    idx = full[y0:y0 + cy, x0:x0 + cx]
                    b = block(t_sl, idx.ravel(), (nt, *lead, idx.size))
                    xs.append(b.reshape((nt, *lead) + idx.shape))
                ys.append(xs)
            rows.append([ys] if split else ys)
        return dsa.block(rows)
    R = len(receptors)
    rc = int(chunks.get("receptor", R) or R)
    blocks = []
    for t_sl in t_blocks:
        row = [block(t_sl, np.arange(r0, min(r0 + rc, R)),
                     (t_sl.stop - t_sl.start, *lead, min(r0 + rc, R) - r0))
               for r0 in range(0, R, rc)]
        blocks.append([row] if split else row)
    return dsa.block(blocks)


def _to_dataset(data, times, receptors, extra, pollutant, urban, calm):
    dims = ["time", *extra]
    coords = {"time": ("time", times, {"standard_name": "time", "long_name": "time (UTC)"})}
    for k, v in extra.items():
        coords[k] = (k, v)
    if receptors.is_grid:
        dims += ["y", "x"]
        coords["x"] = ("x", receptors.axes["x"], {"units": "m",
                                                  "standard_name": "projection_x_coordinate"})
        coords["y"] = ("y", receptors.axes["y"], {"units": "m",
                                                  "standard_name": "projection_y_coordinate"})
    else:
        dims += ["receptor"]
        coords["receptor"] = ("receptor", np.arange(len(receptors)))
        coords["x"] = ("receptor", receptors.x, {"units": "m",
                                                 "standard_name": "projection_x_coordinate"})
        coords["y"] = ("receptor", receptors.y, {"units": "m",
                                                 "standard_name": "projection_y_coordinate"})
        for k, v in receptors.axes.items():
            rep = np.repeat(v, len(receptors) // v.size) if k == "direction" else np.tile(
                v, len(receptors) // v.size)
            coords[k] = ("receptor", rep, {"units": "degree" if k == "direction" else "m"})
    conc = xr.DataArray(data, dims=dims, coords=coords, name="concentration", attrs={
        "units": "ug m-3",
        "standard_name": _STANDARD_NAMES.get(pollutant, "mass_concentration_of_air_pollutant_in_air"),
        "long_name": f"hourly mean {pollutant} concentration from the Gaussian plume model",
        "pollutant": pollutant,
        "cell_methods": "time: mean",
    })
    ds = xr.Dataset({"concentration": conc,
                     "calm": ("time", np.asarray(calm, np.int8),
                              {"units": "1", "long_name": "calm hour flag (1 = calm, skipped)",
                               "flag_values": np.array([0, 1], np.int8),
                               "flag_meanings": "not_calm calm"})})
    ds.attrs.update({"model": "ecodss gaussian_plume (ISC3 regulatory defaults)",
                     "dispersion": "urban Briggs" if urban else "rural Pasquill-Gifford",
                     "references": "EPA-454/B-95-003b (ISC3 User's Guide Vol. II)"})
    return ds


#: CF standard names of the concentration variables (CF standard-name table v84).
_STANDARD_NAMES = {
    "SO2": "mass_concentration_of_sulfur_dioxide_in_air",
    "NOx": "mass_concentration_of_nox_expressed_as_nitrogen_dioxide_in_air",
    "NO2": "mass_concentration_of_nitrogen_dioxide_in_air",
    "PM2.5": "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air",
    "PM10": "mass_concentration_of_pm10_ambient_aerosol_particles_in_air",
    "CO": "mass_concentration_of_carbon_monoxide_in_air",
    "NH3": "mass_concentration_of_ammonia_in_air",
}


def period_average(ds: xr.Dataset) -> xr.DataArray:
    """Period mean over non-calm hours — ISC3 excludes calms from the averaging count
    (EPA 1995 ISC3 User's Guide Vol. II §1.5.6, "calms processing")."""
    valid = ds["calm"] == 0
    out = ds["concentration"].where(valid).sum("time") / valid.sum()
    out.attrs = {**ds["concentration"].attrs, "cell_methods": "time: mean (calm hours excluded)"}
    return out
