"""Pieces shared by the Gaussian plume, puff and gridded-plume runners: met arrays, emission
rates, backend choice, the dask block graph over (time, receptor) chunks and the CF output Dataset.

ISC3 conventions (EPA 1995, ISC3 User's Guide Vol. II, EPA-454/B-95-003b) as cited per function.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingFieldError, UnknownFieldError
from ..met.dataset import validate_met

#: Elements (hour × source × receptor) per kernel pass: ~16 MB per float64 temporary.
BLOCK_ELEMENTS = 2**21
#: Default SO2 half-life in urban mode [s] (ISC3-II §1.1.7: 4 h for SO2 in urban mode).
URBAN_SO2_HALF_LIFE = 4 * 3600.0


def read_met(met, urban: bool, mixing_height: str | None):
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


def hourly_emission_rates(inventory, times, pollutant, kind, temporal):
    frame = inventory.points if kind == "point" else inventory.areas
    if temporal:
        q = inventory.hourly(times, pollutant, kind=kind)
        return np.asarray(q.transpose("time", "source").values, float)
    return np.broadcast_to(frame[pollutant].to_numpy(float), (len(times), len(frame))).copy()


def resolve_backend(backend: str) -> str:
    if backend not in ("auto", "numba", "numpy"):
        raise UnknownFieldError(f"backend={backend!r} must be 'auto', 'numba' or 'numpy'",
                                field="backend")
    if backend == "numpy":
        return backend
    from ._plume_numba import AVAILABLE

    if not AVAILABLE and backend == "numba":
        raise ImportError("backend='numba' needs the numba package")
    return "numba" if AVAILABLE else "numpy"


def reshape_to_receptors(out, receptors):
    if receptors.is_grid:
        ny, nx = receptors.axes["y"].size, receptors.axes["x"].size
        return out.reshape(out.shape[:-1] + (ny, nx))
    return out


def dask_evaluate(compute, T, S, receptors, chunks, split):
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


def to_dataset(data, times, receptors, extra, pollutant, urban, calm):
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
        "standard_name": STANDARD_NAMES.get(pollutant, "mass_concentration_of_air_pollutant_in_air"),
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
STANDARD_NAMES = {
    "SO2": "mass_concentration_of_sulfur_dioxide_in_air",
    "NOx": "mass_concentration_of_nox_expressed_as_nitrogen_dioxide_in_air",
    "NO2": "mass_concentration_of_nitrogen_dioxide_in_air",
    "PM2.5": "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air",
    "PM10": "mass_concentration_of_pm10_ambient_aerosol_particles_in_air",
    "CO": "mass_concentration_of_carbon_monoxide_in_air",
    "NH3": "mass_concentration_of_ammonia_in_air",
}
