"""Gridded meteorology: read CF NetCDF (e.g. WRF output on a regular grid), stability, K profiles.

:func:`read_gridded_met` turns any NetCDF file or Dataset with hourly 2-D fields into the gridded
Met dataset of ecodss (dims ``(time, y, x)``, canonical names, CF attributes, validated).
:func:`stability_class_gridded` applies Turner's method on every cell; :func:`kz_profile` gives the
vertical eddy diffusivity at layer interfaces for the Eulerian model; :func:`kh_smagorinsky` the
horizontal one.

Canonical variables (units; CF standard name)
---------------------------------------------
=================== ========= ===================================== ============================
name                units     standard_name (looked up first)       common names (then)
=================== ========= ===================================== ============================
``u``               m s-1     eastward_wind                         U10, u10, U, UWND, uas, u
``v``               m s-1     northward_wind                        V10, v10, V, VWND, vas, v
``air_temperature`` K         air_temperature                       T2, t2m, T2M, TEMP, tas, temp
``relative_humidity`` %       relative_humidity                     RH2, rh2, RH, rh, hurs
``precipitation``   mm h-1    lwe_precipitation_rate,               RAIN, PRECIP, precip, pr, prate,
                              precipitation_flux                    precipitation
``mixing_height``   m         atmosphere_boundary_layer_thickness   PBLH, pblh, HPBL, blh, ZI, MIXHT
``stability_class`` 1         —                                     stability_class, PGSTAB, STAB
``cloud_cover``     1 (0–1)   cloud_area_fraction                   CLDFRA2D, tcc, clt, cloud_cover
=================== ========= ===================================== ============================

Accepted units and conversions: wind ``knot``, ``km h-1``; temperature ``degC``; humidity ``1``
(fraction); precipitation ``kg m-2 s-1`` and ``mm s-1`` (×3600), ``m s-1`` (×3.6e6), ``mm day-1``
(÷24), ``m h-1``; mixing height ``km``; cloud ``%``, ``tenths``, ``okta``. Precipitation must be a
*rate*: WRF's accumulated ``RAINNC``/``RAINC`` totals must be differenced first (a variable whose
units are an amount, ``mm`` or ``kg m-2``, is refused).

Dimensions are recognised under their CF or WRF names (``Time``/``t``; ``south_north``/``lat``/
``latitude``; ``west_east``/``lon``/``longitude``); a vertical dimension (``z``, ``bottom_top``,
``level``, ``height``, ...) is reduced to its lowest level, so every field here is 2-D per hour.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from ..errors import MetError, MissingFieldError, UnitError
from ..validation import check_nonnegative, check_range
from ._kernel import apply_kernel
from .dataset import MET_VARIABLES, validate_met

KARMAN = 0.4
#: CF attributes of the gridded variables (the Met ones from :mod:`ecodss.met.dataset`).
GRIDDED_VARIABLES: dict[str, dict[str, str]] = {
    "u": {"units": "m s-1", "standard_name": "eastward_wind",
          "long_name": "eastward wind (10 m or lowest model level)"},
    "v": {"units": "m s-1", "standard_name": "northward_wind",
          "long_name": "northward wind (10 m or lowest model level)"},
    "air_temperature": dict(MET_VARIABLES["air_temperature"]),
    "relative_humidity": dict(MET_VARIABLES["relative_humidity"]),
    "precipitation": {"units": "mm h-1", "standard_name": "lwe_precipitation_rate",
                      "long_name": "precipitation rate (liquid water equivalent)"},
    "mixing_height": dict(MET_VARIABLES["mixing_height"]),
    "stability_class": dict(MET_VARIABLES["stability_class"]),
    "cloud_cover": dict(MET_VARIABLES["cloud_cover"]),
}
#: Variables :func:`read_gridded_met` requires by default (stability and cloud are optional).
GRIDDED_REQUIRED = ("u", "v", "air_temperature", "relative_humidity", "precipitation",
                    "mixing_height")

#: CF standard names → canonical name (searched first).
STANDARD_NAMES = {
    "eastward_wind": "u", "northward_wind": "v", "air_temperature": "air_temperature",
    "relative_humidity": "relative_humidity", "lwe_precipitation_rate": "precipitation",
    "precipitation_flux": "precipitation", "atmosphere_boundary_layer_thickness": "mixing_height",
    "cloud_area_fraction": "cloud_cover",
}
#: Common variable names (WRF, ERA5, CMIP, MCIP) → canonical name, in order of preference.
COMMON_NAMES = {
    "u": ("u", "U10", "u10", "U", "UWND", "uas"),
    "v": ("v", "V10", "v10", "V", "VWND", "vas"),
    "air_temperature": ("air_temperature", "T2", "t2m", "T2M", "TEMP", "tas", "temp"),
    "relative_humidity": ("relative_humidity", "RH2", "rh2", "RH", "rh", "hurs"),
    "precipitation": ("precipitation", "RAIN", "PRECIP", "precip", "pr", "prate"),
    "mixing_height": ("mixing_height", "PBLH", "pblh", "HPBL", "blh", "ZI", "MIXHT"),
    "stability_class": ("stability_class", "PGSTAB", "STAB"),
    "cloud_cover": ("cloud_cover", "CLDFRA2D", "tcc", "clt"),
}
#: Unit spellings → (scale, offset) to the canonical unit: canonical = value * scale + offset.
UNIT_FACTORS: dict[str, dict[str, tuple[float, float]]] = {
    "u": {"m s-1": (1, 0), "m/s": (1, 0), "m s**-1": (1, 0), "m s^-1": (1, 0), "m.s-1": (1, 0),
          "knot": (1852 / 3600, 0), "km h-1": (1 / 3.6, 0)},
    "air_temperature": {"K": (1, 0), "kelvin": (1, 0), "degK": (1, 0), "degC": (1, 273.15),
                        "celsius": (1, 273.15), "C": (1, 273.15)},
    "relative_humidity": {"%": (1, 0), "percent": (1, 0), "1": (100, 0), "fraction": (100, 0)},
    "precipitation": {"mm h-1": (1, 0), "mm/h": (1, 0), "mm hr-1": (1, 0), "mm h**-1": (1, 0),
                      "kg m-2 s-1": (3600, 0), "kg m**-2 s**-1": (3600, 0),
                      "mm s-1": (3600, 0), "m s-1": (3.6e6, 0), "m h-1": (1000, 0),
                      "mm day-1": (1 / 24, 0), "mm d-1": (1 / 24, 0)},
    "mixing_height": {"m": (1, 0), "meter": (1, 0), "meters": (1, 0), "metre": (1, 0),
                      "km": (1000, 0)},
    "stability_class": {"1": (1, 0), "": (1, 0)},
    "cloud_cover": {"1": (1, 0), "fraction": (1, 0), "%": (0.01, 0), "percent": (0.01, 0),
                    "tenths": (0.1, 0), "okta": (0.125, 0)},
}
UNIT_FACTORS["v"] = UNIT_FACTORS["u"]
#: Physical limits checked after conversion [canonical units] (temperature, RH, cloud, class and
#: mixing height > 0 are checked by :func:`ecodss.met.validate_met`).
LIMITS = {"u": (-100.0, 100.0), "v": (-100.0, 100.0), "precipitation": (0.0, 500.0),
          "mixing_height": (0.0, 10000.0)}

_DIM_NAMES = {"time": ("time", "Time", "t", "XTIME"),
              "y": ("y", "south_north", "lat", "latitude", "rlat"),
              "x": ("x", "west_east", "lon", "longitude", "rlon")}
_VERTICAL_DIMS = ("z", "bottom_top", "level", "lev", "height", "pressure", "plev")


def _find_variable(ds: xr.Dataset, name: str) -> str | None:
    for var in ds.data_vars:
        if STANDARD_NAMES.get(ds[var].attrs.get("standard_name")) == name:
            return str(var)
    return next((c for c in COMMON_NAMES[name] if c in ds.data_vars), None)


def _to_2d(var: xr.DataArray, name: str, where: str) -> xr.DataArray:
    renames = {}
    for canon, aliases in _DIM_NAMES.items():
        found = [d for d in var.dims if d in aliases]
        if not found:
            raise MissingFieldError(f"{name} has dims {var.dims}; no {canon!r} dimension "
                                    f"(accepted names {aliases})", field=name, where=where)
        renames[found[0]] = canon
    var = var.rename({k: v for k, v in renames.items() if k != v})
    for d in var.dims:
        if d in _VERTICAL_DIMS:
            var = var.isel({d: 0}, drop=True)  # lowest level: fields here are 2-D
    extra = [d for d in var.dims if d not in ("time", "y", "x")]
    if extra:
        raise MetError(f"{name} has unexpected dimension(s) {extra}", field=name, where=where)
    return var.transpose("time", "y", "x")


def _convert_units(var: xr.DataArray, name: str, where: str) -> xr.DataArray:
    known = UNIT_FACTORS[name]
    if "units" not in var.attrs:
        if name == "stability_class":
            return var
        raise UnitError(f"{name} (variable {var.name!r}) has no 'units' attribute; expected one "
                        f"of {sorted(known)}", field=name, where=where)
    unit = str(var.attrs["units"]).strip()
    if unit not in known:
        raise UnitError(f"{name} (variable {var.name!r}) has units {unit!r}; accepted: "
                        f"{sorted(known)}", field=name, where=where)
    scale, offset = known[unit]
    if (scale, offset) == (1, 0):
        return var
    return var * float(scale) + float(offset)


def read_gridded_met(path_or_dataset, grid=None, *, required=GRIDDED_REQUIRED,
                     allow_class7: bool = False) -> xr.Dataset:
    """Read hourly gridded meteorology into the ecodss gridded Met dataset.

    Parameters
    ----------
    path_or_dataset : str, path or xarray.Dataset
        A CF NetCDF file (opened with :func:`xarray.open_dataset`, CF time decoding) or a Dataset.
    grid : ecodss.Grid, optional
        The grid the fields lie on. Its shape must match; the result gets its ``x``/``y`` (and 2-D
        ``lon``/``lat``) coordinates. Without it the file's own ``x``/``y`` coordinates are kept.
    required : sequence of str
        Canonical variables that must be found (default :data:`GRIDDED_REQUIRED`).
    allow_class7 : bool
        Accept stability class 7 (G).

    Returns
    -------
    xarray.Dataset
        Dims ``(time, y, x)``; variables named as in :data:`GRIDDED_VARIABLES` (only those
        found), converted to the canonical units, with CF attributes; ``source_variable`` records
        the original name.

    Raises
    ------
    MissingFieldError
        A required variable, or a time/y/x dimension, is absent.
    UnitError
        A variable without ``units`` or in a unit that cannot be converted.
    MetError, NonFiniteValueError, OutOfRangeError, InvalidValueError, GridError
        Bad time axis, NaN, values outside :data:`LIMITS` or the Met ranges (RH 0–100 %,
        temperature 180–340 K, mixing height > 0, cloud 0–1, class 1–6), grid shape mismatch.

    Notes
    -----
    Variables are identified by CF ``standard_name`` first, then by the common names of
    :data:`COMMON_NAMES` (module docstring table). Dask-backed inputs stay lazy, but the
    validation computes every field once.
    """
    where = "gridded met"
    if isinstance(path_or_dataset, xr.Dataset):
        src = path_or_dataset
    else:
        where = f"gridded met {os.fspath(path_or_dataset)}"
        src = xr.open_dataset(path_or_dataset)
    out = {}
    for name in GRIDDED_VARIABLES:
        var_name = _find_variable(src, name)
        if var_name is None:
            continue
        var = _to_2d(src[var_name], name, where)
        var = _convert_units(var, name, where).astype(float)
        var.attrs = {**GRIDDED_VARIABLES[name], "source_variable": var_name}
        out[name] = var
    missing = [n for n in required if n not in out]
    if missing:
        raise MissingFieldError(f"missing gridded met variable(s) {missing}; looked for standard "
                                f"names and {[COMMON_NAMES[m] for m in missing]}",
                                field=missing[0], where=where)
    ds = xr.Dataset({n: v.variable for n, v in out.items()})
    first = next(iter(out.values()))
    if "time" in first.coords:
        ds = ds.assign_coords(time=first["time"].values)
    for name in LIMITS:
        if name in ds:
            lo, hi = LIMITS[name]
            check_range(ds[name].values, name, lo, hi, kind=f"{where} {name} element",
                        units=GRIDDED_VARIABLES[name]["units"])
    met_names = [n for n in ds.data_vars if n in MET_VARIABLES]
    validate_met(ds[met_names], required=(), allow_class7=allow_class7, where=where)
    if "stability_class" in ds:
        ds["stability_class"] = ds["stability_class"].astype(np.int8)
        ds["stability_class"].attrs = dict(GRIDDED_VARIABLES["stability_class"])
    return _attach_grid(ds, src, grid, where)


def _attach_grid(ds: xr.Dataset, src: xr.Dataset, grid, where: str) -> xr.Dataset:
    from ..errors import GridError

    if grid is None:
        coords = {}
        for d in ("x", "y"):
            for alias in _DIM_NAMES[d]:
                if alias in src.coords and src[alias].ndim == 1 and \
                        src[alias].size == ds.sizes[d]:
                    coords[d] = src[alias].values
                    break
        return ds.assign_coords(coords)
    if (ds.sizes["y"], ds.sizes["x"]) != grid.shape:
        raise GridError(f"fields are (y, x) = {(ds.sizes['y'], ds.sizes['x'])}, grid is "
                        f"{grid.shape}", field="grid", where=where)
    ds = ds.assign_coords(grid.coords())
    ds["crs"] = grid.crs_variable()
    for name in ds.data_vars:
        if name != "crs":
            ds[name].attrs["grid_mapping"] = "crs"
    return ds


# ===== stability ==================================================================================

#: Total cloud cover assumed when the dataset has none [fraction]: clear sky, Turner's most
#: stable night (index −2) and full daytime insolation — the conservative choice for ground-level
#: concentrations from low sources at night.
DEFAULT_CLOUD_COVER = 0.0
#: Ceiling assumed under more than 5/10 cloud when the dataset has no ``ceiling_height`` [m]
#: (below 7000 ft, Turner's "low ceiling"; the city sample's assumption too).
ASSUMED_LOW_CEILING = 3000.0


def stability_class_gridded(ds: xr.Dataset, lon=None, lat=None, *,
                            default_cloud_cover: float = DEFAULT_CLOUD_COVER,
                            merge_g: bool = True) -> xr.DataArray:
    """Turner stability class on every cell and hour of a gridded Met dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Gridded met (:func:`read_gridded_met`) with ``u``, ``v`` [m s-1]; ``cloud_cover`` [0–1]
        and ``ceiling_height`` [m] are used when present.
    lon, lat : DataArray (y, x) or float, optional  [deg]
        Cell longitudes/latitudes; default the ``lon``/``lat`` coordinates of ``ds``.
    default_cloud_cover : float  [fraction]
        Used when ``ds`` has no ``cloud_cover`` (:data:`DEFAULT_CLOUD_COVER`, clear sky).
    merge_g : bool
        Fold G into F (regulatory classes 1–6).

    Returns
    -------
    xarray.DataArray ``stability_class`` (time, y, x), int8.

    Notes
    -----
    Wind speed = √(u² + v²); the class is Turner's (1964) key, EPA-454/R-99-005 (2000) Tables
    6-4 to 6-6, via :func:`ecodss.met.stability.stability_from_met` (sun at mid-hour, night =
    1 h before sunset to 1 h after sunrise). Without ``ceiling_height`` the ceiling is
    :data:`ASSUMED_LOW_CEILING` under more than 5/10 cloud and unlimited otherwise.
    """
    from .stability import stability_from_met

    for name in ("u", "v"):
        if name not in ds:
            raise MissingFieldError(f"gridded met lacks {name!r}", field=name,
                                    where="stability_class_gridded")
    lon = ds["lon"] if lon is None else lon
    lat = ds["lat"] if lat is None else lat
    speed = np.hypot(ds["u"], ds["v"])
    cloud = ds["cloud_cover"] if "cloud_cover" in ds else xr.full_like(speed,
                                                                         default_cloud_cover)
    ceiling = ds["ceiling_height"] if "ceiling_height" in ds else \
        xr.where(cloud > 0.5, ASSUMED_LOW_CEILING, np.inf)
    tmp = xr.Dataset({"wind_speed": speed.assign_attrs(units="m s-1"),
                      "cloud_cover": cloud.assign_attrs(units="1"),
                      "ceiling_height": ceiling.assign_attrs(units="m")})
    return stability_from_met(tmp, lon, lat, merge_g=merge_g).transpose("time", ...)


# ===== eddy diffusivities =========================================================================

#: Golder (1972) fit of the inverse Monin–Obukhov length to Pasquill class and roughness,
#: ``1/L = a + b log10(z0)`` [1/m], as tabulated by Seinfeld & Pandis (2006), *Atmospheric
#: Chemistry and Physics*, 2nd ed., §16.4 (after Myrup & Ranzieri 1976). Rows A…F.
GOLDER_COEFFICIENTS = np.array([
    [-0.096, 0.029], [-0.037, 0.029], [-0.002, 0.018], [0.0, 0.0], [0.004, -0.018],
    [0.035, -0.036]])
#: Default roughness length [m]: "rough" terrain of the Davenport–Wieringa classification
#: (Wieringa 1992, J. Wind Eng. Ind. Aerodyn. 41:357, Table 1), farmland with villages and
#: tree rows as on the North China Plain.
DEFAULT_ROUGHNESS = 0.25
#: Free-troposphere Kz above the mixing height and floor inside it [m² s-1].
KZ_FREE = 0.1
#: Smagorinsky coefficient (the WRF ARW default ``c_s = 0.25``; Skamarock et al. 2019,
#: NCAR/TN-556+STR §4.2.3).
SMAGORINSKY_CS = 0.25


def inverse_obukhov_length(stability_class, roughness_length=DEFAULT_ROUGHNESS):
    """1/L [1/m] from Pasquill class 1–6 (7 → 6) and z0 [m], Golder (1972).

    ``1/L = a + b log10(z0)`` with :data:`GOLDER_COEFFICIENTS` (Seinfeld & Pandis 2006 §16.4).
    """
    cls = np.asarray(stability_class)
    check_range(cls, "stability_class", 1, 7, kind="kz input")
    row = np.clip(np.rint(cls).astype(int), 1, 6) - 1
    a, b = GOLDER_COEFFICIENTS[row, 0], GOLDER_COEFFICIENTS[row, 1]
    return a + b * np.log10(roughness_length)


def _psi_m(zeta):
    """Integrated stability function for momentum ψm(ζ) (Paulson 1970 Eq. 4, unstable with the
    Businger–Dyer x = (1 − 16ζ)^¼, Dyer 1974; stable ψm = −5ζ, Dyer 1974)."""
    x = np.sqrt(np.sqrt(1.0 - 16.0 * np.minimum(zeta, 0.0)))
    unstable = (2.0 * np.log((1.0 + x) / 2.0) + np.log((1.0 + x * x) / 2.0)
                - 2.0 * np.arctan(x) + np.pi / 2.0)
    return np.where(zeta < 0.0, unstable, -5.0 * zeta)


def friction_velocity(wind_speed, inv_obukhov, height=10.0, roughness_length=DEFAULT_ROUGHNESS):
    """u* [m s-1] from the wind at ``height`` by the diabatic log law (Businger–Dyer).

    ``u* = κ U / [ln(z/z0) − ψm(z/L) + ψm(z0/L)]``, κ = 0.4 (Stull 1988, *An Introduction to
    Boundary Layer Meteorology*, Eq. 9.7.5g with Paulson's ψm). The stable ψm is capped at
    ζ = 1 (beyond it the linear law is unreliable).
    """
    zeta = np.minimum(height * inv_obukhov, 1.0)
    zeta0 = np.minimum(roughness_length * inv_obukhov, 1.0)
    denom = np.log(height / roughness_length) - _psi_m(zeta) + _psi_m(zeta0)
    return KARMAN * np.asarray(wind_speed, float) / denom


def _kz_kernel(z, mixing_height, stability_class, wind_speed, roughness_length, kz_free,
               anemometer_height):
    h = np.asarray(mixing_height, float)
    check_range(h, "mixing_height", 0.0, None, lo_inclusive=False, units="m", kind="kz input")
    check_nonnegative(wind_speed, "wind_speed", units="m s-1", kind="kz input")
    inv_l = inverse_obukhov_length(stability_class, roughness_length)
    ustar = friction_velocity(np.maximum(wind_speed, 0.5), inv_l, anemometer_height,
                              roughness_length)
    z = np.asarray(z, float).reshape((-1,) + (1,) * np.ndim(h * inv_l))
    # velocity scale: stable/neutral u*/φm(z/L), φm = 1 + 5ζ (Dyer 1974); unstable
    # w_m = (u*³ + 7 ε κ w*³)^(1/3), ε = 0.1, w*³ = −u*³ h/(κL) (Holtslag & Boville 1993 §3b)
    zeta = np.minimum(z * inv_l, 1.0)
    w_stable = ustar / (1.0 + 5.0 * np.maximum(zeta, 0.0))
    wstar3 = np.maximum(-ustar**3 * h * inv_l / KARMAN, 0.0)
    w_unstable = np.cbrt(ustar**3 + 7.0 * 0.1 * KARMAN * wstar3)
    w = np.where(inv_l < 0.0, w_unstable, w_stable)
    xi = z / h
    k = KARMAN * w * z * np.clip(1.0 - xi, 0.0, None) ** 2
    return np.where(xi < 1.0, np.maximum(k, kz_free), kz_free)


def kz_profile(z_interfaces, mixing_height, stability_class, wind_speed, *,
               roughness_length=DEFAULT_ROUGHNESS, kz_free=KZ_FREE, anemometer_height=10.0):
    """Vertical eddy diffusivity Kz at layer interfaces from the mixing height and P-G class.

    Parameters
    ----------
    z_interfaces : array_like (nf,)  [m]
        Interface heights above ground — for an Eulerian column of nz layers pass the nz − 1
        *internal* interfaces.
    mixing_height : numeric, ndarray or DataArray (...)  [m], > 0
    stability_class : numeric, ndarray or DataArray (...)  [1], Pasquill class 1–6 (7 → 6)
    wind_speed : numeric, ndarray or DataArray (...)  [m s-1] at ``anemometer_height``
    roughness_length : float  [m]
    kz_free : float  [m² s-1]
        Kz above the mixing height and minimum inside it.
    anemometer_height : float  [m]

    Returns
    -------
    ndarray (nf, ...) or DataArray (z_face, ...)  [m² s-1]

    Notes
    -----
    ``K(z) = κ w_s z (1 − z/h)²`` for z < h (Troen & Mahrt 1986, Boundary-Layer Meteorol.
    37:129, Eq. 4; Holtslag & Boville 1993, J. Climate 6:1825, Eq. 3.9), ``kz_free`` above.
    The Obukhov length comes from the class and z0 by Golder's (1972) fit
    (:func:`inverse_obukhov_length`), u* from the 10 m wind (:func:`friction_velocity`, wind
    floored at 0.5 m s-1). Velocity scale: stable/neutral ``w_s = u*/φm(z/L)``, φm = 1 + 5 z/L
    (Dyer 1974); unstable the mixed-layer scale ``w_s = (u*³ + 0.7 κ w*³)^(1/3)`` with
    ``w*³ = −u*³ h/(κ L)`` (Holtslag & Boville 1993 §3b, ε = 0.1).

    Use with :func:`ecodss.air.eulerian.eulerian` as
    ``kz=lambda z, h: kz_profile(z, h, cls_hour, speed_hour)`` or precompute a ``kz`` variable.
    """
    z = np.asarray(z_interfaces, float)
    check_nonnegative(z, "z_interfaces", units="m", kind="kz input")
    args = (mixing_height, stability_class, wind_speed)
    if any(isinstance(a, xr.DataArray) for a in args):
        zf = xr.DataArray(z, dims="z_face", attrs={"units": "m"})
        out = xr.apply_ufunc(
            lambda h, c, u: np.moveaxis(_kz_kernel(z, h, c, u, roughness_length, kz_free,
                                                   anemometer_height), 0, -1),
            *args, dask="parallelized", output_dtypes=[float],
            output_core_dims=[["z_face"]], dask_gufunc_kwargs={"output_sizes": {"z_face": z.size}})
        out = out.assign_coords(z_face=zf).transpose("z_face", ...)
        return out.assign_attrs(units="m2 s-1", long_name="vertical eddy diffusivity")
    return apply_kernel(_kz_kernel, z, *args, roughness_length=roughness_length, kz_free=kz_free,
                        anemometer_height=anemometer_height)


def _smagorinsky_kernel(u, v, dx, dy, c_s, kh_min):
    dudx = np.gradient(u, dx, axis=-1)
    dudy = np.gradient(u, dy, axis=-2)
    dvdx = np.gradient(v, dx, axis=-1)
    dvdy = np.gradient(v, dy, axis=-2)
    deformation = np.hypot(dudx - dvdy, dvdx + dudy)
    return np.maximum(c_s**2 * dx * dy * deformation, kh_min)


def kh_smagorinsky(u, v, dx, dy, *, c_s=SMAGORINSKY_CS, kh_min=0.0):
    """Horizontal eddy diffusivity [m² s-1] from the resolved deformation (Smagorinsky 1963).

    ``K_h = max(c_s² Δx Δy |D|, kh_min)``, ``|D| = √[(∂u/∂x − ∂v/∂y)² + (∂v/∂x + ∂u/∂y)²]``
    (Smagorinsky 1963, Mon. Wea. Rev. 91:99; the 2-D form of the WRF ARW scheme, Skamarock et al.
    2019 §4.2.3, c_s = 0.25). Centred differences (one-sided at the edges) on the last two axes
    (y, x). DataArrays with dims (..., y, x) are accepted (y/x each in one dask chunk).

    Parameters
    ----------
    u, v : ndarray or DataArray (..., y, x)  [m s-1]
    dx, dy : float  [m]
    c_s : float
    kh_min : float  [m² s-1], a background floor.
    """
    if isinstance(u, xr.DataArray):
        return xr.apply_ufunc(_smagorinsky_kernel, u, v, dx, dy, c_s, kh_min,
                              input_core_dims=[["y", "x"], ["y", "x"], [], [], [], []],
                              output_core_dims=[["y", "x"]], dask="parallelized",
                              output_dtypes=[float]).assign_attrs(units="m2 s-1")
    return _smagorinsky_kernel(np.asarray(u, float), np.asarray(v, float), dx, dy, c_s, kh_min)


def divergence(u, v, dx, dy):
    """Horizontal divergence ∂u/∂x + ∂v/∂y [s-1] by centred differences on the last two axes."""
    return np.gradient(np.asarray(u, float), dx, axis=-1) + \
        np.gradient(np.asarray(v, float), dy, axis=-2)
