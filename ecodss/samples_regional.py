"""The regional sample: the "2+26" cities of the North China Plain in a ten-day winter haze episode.

A 600 km × 600 km domain of 6 km cells (100 × 100) in WGS 84 / UTM zone 50N covering Beijing,
Tianjin and the 26 transport-channel cities of Hebei, Shanxi, Shandong and Henan. It holds:

* ``cities.csv`` — the 28 cities, real names and approximate real coordinates;
* ``sector_totals.csv`` — domain totals per sector and pollutant [t/yr] (:func:`regional_targets`);
* ``boundary.csv`` — hourly inflow concentrations on the four domain edges [µg/m³];
* ``domain.yaml`` — grid, period, sources, generator version and seed;
* ``emissions.nc`` — gridded area emissions (sector, y, x) [t/yr per cell], **generated and cached**;
* ``met.nc`` — hourly gridded met (time, y, x), **generated and cached** (float32, ~25 MB).

The small tables are committed in ``data/samples/regional``; the two NetCDF files are generated at
first use into the user cache (``$ECODSS_CACHE/regional``, else ``$XDG_CACHE_HOME/ecodss/regional``,
else ``~/.cache/ecodss/regional``), bit for bit from the seed. What is real and what is synthetic is
told in ``data/samples/regional/README.md``: the cities and their coordinates, and the published
totals the emissions are scaled to, are real; every grid value and hourly value is synthetic.

Magnitudes: the city sample's chain (Zheng H. et al. 2019 BTH 2014 industrial emissions and
shares, Zheng B. et al. 2018 2013→2017 changes, Wu et al. 2024 NH3/CO ratios, Zhao et al. 2017
dust share; :mod:`ecodss.samples`) gives the BTH total circa 2017; the domain holds
:data:`REGION_FACTOR` × that total (assumption, see the README).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import samples as city_sample
from .errors import DataFileError
from .grid import Grid
from .validation import require_fields

#: Default seed.
SEED = 20260108
#: Bumped whenever the generator's output changes (stale cached copies are regenerated).
GENERATOR_VERSION = 1

POLLUTANTS = city_sample.POLLUTANTS
SECTORS = ("power", "industry", "residential", "traffic", "agriculture", "dust")
#: 100 × 100 cells of 6 km, EPSG:32650; SW corner chosen so all 28 cities are ≥ 17 km inside.
GRID = {"x0": 55000.0, "y0": 3834000.0, "dx": 6000.0, "dy": 6000.0, "nx": 100, "ny": 100,
        "crs": "EPSG:32650"}
START = "2026-01-08T00:00:00Z"
N_HOURS = 240
UTC_OFFSET_HOURS = 8
EDGES = ("west", "east", "south", "north")
BOUNDARY_SPECIES = ("PM2.5", "SO4", "NO3", "NH4", "SO2", "NOx", "NH3")

#: Domain emissions = REGION_FACTOR × BTH total (assumption: 10 of BTH's 13 prefectures, ~85 % of
#: its emissions, lie inside, plus 18 Shanxi/Shandong/Henan cities of roughly a Hebei
#: prefecture's size each, partly cut by the domain edges: 0.85 + 18/13 × ~0.8 ≈ 2.0).
REGION_FACTOR = 2.0

#: The "2+26" cities (MEE 2017 action plan): id, name, province, lon, lat [deg] (city centres,
#: public geography, ±0.05°), resident population [million] (rounded, circa 2020 census; used
#: only as a weight of the synthetic proxies).
CITIES = (
    ("BJ", "Beijing", "Beijing", 116.40, 39.90, 21.9),
    ("TJ", "Tianjin", "Tianjin", 117.20, 39.13, 13.9),
    ("SJZ", "Shijiazhuang", "Hebei", 114.51, 38.04, 11.2),
    ("TS", "Tangshan", "Hebei", 118.18, 39.63, 7.7),
    ("LF", "Langfang", "Hebei", 116.70, 39.52, 5.5),
    ("BD", "Baoding", "Hebei", 115.46, 38.87, 11.5),
    ("CZ", "Cangzhou", "Hebei", 116.84, 38.30, 7.3),
    ("HS", "Hengshui", "Hebei", 115.67, 37.74, 4.2),
    ("XT", "Xingtai", "Hebei", 114.50, 37.07, 7.1),
    ("HD", "Handan", "Hebei", 114.49, 36.61, 9.4),
    ("TY", "Taiyuan", "Shanxi", 112.55, 37.87, 5.3),
    ("YQ", "Yangquan", "Shanxi", 113.58, 37.86, 1.3),
    ("CHZ", "Changzhi", "Shanxi", 113.12, 36.20, 3.2),
    ("JC", "Jincheng", "Shanxi", 112.85, 35.49, 2.2),
    ("JN", "Jinan", "Shandong", 117.00, 36.67, 9.2),
    ("ZB", "Zibo", "Shandong", 118.05, 36.81, 4.7),
    ("JNI", "Jining", "Shandong", 116.59, 35.41, 8.4),
    ("DZ", "Dezhou", "Shandong", 116.36, 37.44, 5.6),
    ("LC", "Liaocheng", "Shandong", 115.99, 36.46, 6.1),
    ("BZ", "Binzhou", "Shandong", 117.97, 37.38, 3.9),
    ("HZ", "Heze", "Shandong", 115.48, 35.23, 8.8),
    ("ZZ", "Zhengzhou", "Henan", 113.62, 34.75, 12.6),
    ("KF", "Kaifeng", "Henan", 114.31, 34.80, 4.8),
    ("AY", "Anyang", "Henan", 114.39, 36.10, 5.5),
    ("HB", "Hebi", "Henan", 114.30, 35.75, 1.6),
    ("XX", "Xinxiang", "Henan", 113.93, 35.30, 6.3),
    ("JZ", "Jiaozuo", "Henan", 113.24, 35.22, 3.5),
    ("PY", "Puyang", "Henan", 115.03, 35.76, 3.8),
)
#: Relative heavy-industry intensity per city (assumption after the regions' known industry:
#: steel in Tangshan, Handan, Anyang, Xingtai; coking and coal in Shanxi; chemicals in Zibo).
INDUSTRY_WEIGHT = {"TS": 4.0, "HD": 3.0, "AY": 2.0, "XT": 1.5, "ZB": 2.0, "CHZ": 2.0, "JC": 1.5,
                   "YQ": 1.5, "TY": 1.5, "TJ": 2.0, "SJZ": 1.5, "BJ": 0.3, "LF": 0.7}
#: Expressway links between cities (the national G1, G2, G4, G5, G20, G35... corridors; only
#: their end cities are used, as straight segments).
ROADS = (("BJ", "BD"), ("BD", "SJZ"), ("SJZ", "XT"), ("XT", "HD"), ("HD", "AY"), ("AY", "HB"),
         ("HB", "XX"), ("XX", "ZZ"), ("BJ", "LF"), ("LF", "TJ"), ("TJ", "CZ"), ("CZ", "DZ"),
         ("DZ", "JN"), ("BJ", "TS"), ("TJ", "TS"), ("SJZ", "YQ"), ("YQ", "TY"), ("SJZ", "HS"),
         ("HS", "DZ"), ("JN", "ZB"), ("ZB", "BZ"), ("JN", "LC"), ("LC", "HD"), ("JN", "JNI"),
         ("JNI", "HZ"), ("ZZ", "KF"), ("TY", "CHZ"), ("CHZ", "JC"), ("JC", "JZ"), ("JZ", "ZZ"),
         ("PY", "AY"), ("PY", "LC"), ("BD", "TJ"), ("HZ", "KF"))
#: Foot of the Taihang and Yan mountains: longitude [deg] at latitudes [deg] (approximate).
_MOUNTAIN_FOOT = ((34.5, 35.2, 36.0, 38.0, 40.0, 40.6), (112.9, 113.2, 113.8, 114.3, 116.0, 116.3))

SOURCES_OF_MAGNITUDES = city_sample.SOURCES_OF_MAGNITUDES[:5]
SMALL_FILES = ("cities.csv", "sector_totals.csv", "boundary.csv", "domain.yaml")
LARGE_FILES = ("emissions.nc", "met.nc")


def grid() -> Grid:
    """The regional grid (:data:`GRID`)."""
    return Grid(**GRID)


def regional_targets() -> pd.DataFrame:
    """Domain totals per sector [t/yr]: rows :data:`SECTORS`, columns :data:`POLLUTANTS`.

    The city sample's sector totals (:func:`ecodss.samples.sector_targets`, 5 % of BTH) × REGION_FACTOR / 0.05; its seven point sectors are regrouped into ``power`` and
    ``industry``.
    """
    city = city_sample.sector_targets()[list(POLLUTANTS)].astype(float)
    scale = REGION_FACTOR / city_sample.DOMAIN_SHARE
    rows = {"power": city.loc["power"],
            "industry": city.loc[[s for s in city_sample.POINT_SECTORS if s != "power"]].sum()}
    rows.update({s: city.loc[s] for s in city_sample.AREA_SECTORS})
    df = (pd.DataFrame(rows).T * scale).round(0).astype(np.int64)
    df.index.name = "sector"
    return df.loc[list(SECTORS)]


# ===== generator ==================================================================================

def _times() -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(START).tz_localize(None), periods=N_HOURS, freq="h")


def _cities(g: Grid) -> pd.DataFrame:
    ids, names, prov, lon, lat, _ = (list(c) for c in zip(*CITIES, strict=True))
    x, y = g.transform_from_lonlat(lon, lat)
    return pd.DataFrame({"id": ids, "name": names, "province": prov,
                         "x": np.round(x).astype(np.int64), "y": np.round(y).astype(np.int64),
                         "lon": lon, "lat": lat})


def _smooth(rng, shape, sigma_cells):
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), sigma_cells, mode="wrap")
    return f / f.std()


def _segment_distance(px, py, x1, y1, x2, y2):
    """Distance [m] from points (..., 1) to segments (nseg,), broadcast → (..., nseg)."""
    dx, dy = x2 - x1, y2 - y1
    t = np.clip(((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(px - (x1 + t * dx), py - (y1 + t * dy))


def _geography(g: Grid):
    """Terrain height proxy [m], land mask, urban and road proxies on the grid (approximate)."""
    lon, lat = g.lonlat()
    foot = np.interp(lat, *_MOUNTAIN_FOOT)
    taihang = np.clip((foot - lon) / 0.6, 0.0, 1.0)
    yan = np.clip((lat - 40.25) / 0.3, 0.0, 1.0) * (lon > 115.8)
    taishan = np.exp(-((lon - 117.1) ** 2 + (lat - 36.25) ** 2) / (2 * 0.25**2))
    elevation = 1200.0 * np.maximum(taihang, yan) + 600.0 * taishan
    sea = ((lon > 117.75) & (lat > 38.3) & (lat < 39.15)) | \
          ((lon > 118.45) & (lat > 37.25) & (lat < 39.0))
    land = (~sea).astype(float)
    cities = _cities(g)
    pop = np.array([c[5] for c in CITIES])
    xx, yy = np.meshgrid(g.x, g.y)
    d2 = (xx[..., None] - cities["x"].to_numpy()) ** 2 + (yy[..., None] - cities["y"].to_numpy()) ** 2
    sigma = 7000.0 * np.sqrt(pop / 5.0)
    urban_each = np.exp(-d2 / (2 * sigma**2)) * pop / (sigma / 7000.0) ** 2
    idx = {c: i for i, c in enumerate(cities["id"])}
    a = np.array([idx[r[0]] for r in ROADS])
    b = np.array([idx[r[1]] for r in ROADS])
    cx, cy = cities["x"].to_numpy(float), cities["y"].to_numpy(float)
    dist = _segment_distance(xx[..., None], yy[..., None], cx[a], cy[a], cx[b], cy[b])
    roads = np.exp(-(dist.min(axis=-1) ** 2) / (2 * 4000.0**2))
    return {"lon": lon, "lat": lat, "elevation": elevation, "land": land, "xx": xx, "yy": yy,
            "urban_each": urban_each, "urban": urban_each.sum(-1), "roads": roads,
            "cities": cities}


def _proxies(rng, geo) -> dict[str, np.ndarray]:
    """Spatial weight of each sector (y, x), each summing to 1 (synthetic)."""
    land, mount = geo["land"], geo["elevation"] / 1200.0
    plain = land * np.clip(1.0 - mount, 0.05, 1.0)
    urban = geo["urban"] / geo["urban"].max()
    noise = {k: np.exp(0.35 * _smooth(rng, land.shape, 2.0)) for k in SECTORS}
    cities = geo["cities"]
    # industrial and power sites: 4 per city, 5–35 km from the centre, log-normal sizes
    n_site = 4
    ang = rng.uniform(0, 2 * np.pi, (len(cities), n_site))
    rad = rng.uniform(5e3, 35e3, (len(cities), n_site))
    sx = cities["x"].to_numpy(float)[:, None] + rad * np.cos(ang)
    sy = cities["y"].to_numpy(float)[:, None] + rad * np.sin(ang)
    size = rng.lognormal(0.0, 0.8, (len(cities), n_site))
    pop = np.array([c[5] for c in CITIES])[:, None]
    ind_w = np.array([INDUSTRY_WEIGHT.get(c, 1.0) for c in cities["id"]])[:, None]
    d2 = (geo["xx"][..., None, None] - sx) ** 2 + (geo["yy"][..., None, None] - sy) ** 2
    blobs = np.exp(-d2 / (2 * 5000.0**2))
    power_size = size * np.sqrt(pop) * rng.lognormal(0.0, 0.5, size.shape)
    prox = {
        "power": (blobs * power_size).sum((-1, -2)),
        "industry": (blobs * size * ind_w * pop**0.5).sum((-1, -2)) + 0.3 * urban,
        "residential": plain * (0.6 + 2.0 * urban),
        "traffic": land * (0.05 + 1.5 * urban + geo["roads"]),
        "agriculture": plain * np.clip(1.0 - 0.8 * urban, 0.0, 1.0),
        "dust": land * (0.1 + 1.5 * urban + 0.8 * geo["roads"]),
    }
    return {k: land * v * noise[k] / (land * v * noise[k]).sum() for k, v in prox.items()}


def make_emissions(seed: int = SEED) -> xr.Dataset:
    """Gridded area emissions, Dataset of pollutants (sector, y, x) [t/yr per cell]."""
    g = grid()
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])
    prox = _proxies(rng, _geography(g))
    targets = regional_targets()
    weights = np.stack([prox[s] for s in SECTORS])  # (sector, y, x)
    data = {}
    for p in POLLUTANTS:
        values = weights * targets[p].to_numpy(float)[:, None, None]
        data[p] = (("sector", "y", "x"), values,
                   {"units": "t yr-1", "long_name": f"{p} emission per grid cell",
                    "cell_methods": "time: mean (annual)", "grid_mapping": "crs"})
    ds = xr.Dataset(data, coords={"sector": ("sector", list(SECTORS)), **g.coords()})
    ds["crs"] = g.crs_variable()
    ds.attrs.update({"title": "ecodss regional sample: gridded area emissions (synthetic)",
                     "emission_year": "circa 2017", "generator_version": GENERATOR_VERSION,
                     "seed": int(seed)})
    return ds


def _ar1(rng, n, sigma, phi=0.9):
    e = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for i in range(1, n):  # a short time series (n hours), not a hot path
        out[i] = phi * out[i - 1] + e[i]
    return out


#: Episode key hours (from START) and the domain-mean flow toward east/north [m s-1]:
#: NW flow behind an earlier front, weak southerlies from ~h 36 (stagnation), a cold front
#: around h 170–190 (strong northerlies), then easing northerlies.
FLOW_KEYS = ((0, 18, 30, 42, 165, 172, 180, 190, 215, 239),
             (2.5, 1.5, 0.5, 0.3, 0.3, 1.0, 3.0, 2.5, 1.5, 1.0),
             (-3.5, -2.0, 0.4, 1.1, 1.1, -1.0, -7.5, -7.0, -4.0, -3.0))
#: Stagnation weight before the front (0 clean … 1 stagnant) at hours.
STAGNATION_KEYS = ((0, 30, 48, 239), (0.0, 0.3, 1.0, 1.0))
#: Front: normal (toward SE), crossing time of the domain centre [h], speed [km/h], width [km].
FRONT = {"normal": (1 / np.sqrt(2), -1 / np.sqrt(2)), "hour": 178.0, "speed": 35.0,
         "width": 30.0}


def _regime(value_clean, value_stagnant, value_post, stag, behind):
    return (1.0 - behind) * (value_clean * (1.0 - stag) + value_stagnant * stag) + \
        behind * value_post


def make_met(seed: int = SEED, *, stability: bool = True) -> xr.Dataset:
    """Hourly gridded met (time, y, x), canonical names and CF attributes (float32 fields).

    The wind is a uniform flow plus the curl of a stream function, ``u = U(t) − ∂ψ/∂y``,
    ``v = V(t) + ∂ψ/∂x``, evaluated analytically, so it is non-divergent up to the centred-
    difference truncation error. (A 2-D non-divergent field cannot hold the convergence of a
    real front: the front moves through the scalar fields, the flow switches domain-wide.)
    """
    from .met.gridded import GRIDDED_VARIABLES, stability_class_gridded
    from .met.solar import solar_altitude

    g = grid()
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1])
    geo = _geography(g)
    times = _times()
    h = np.arange(N_HOURS, dtype=float)[:, None, None]
    hours = h[:, 0, 0]
    # --- wind: uniform flow + stream-function eddies ---------------------------------------
    U = np.interp(hours, FLOW_KEYS[0], FLOW_KEYS[1]) + _ar1(rng, N_HOURS, 0.3)
    V = np.interp(hours, FLOW_KEYS[0], FLOW_KEYS[2]) + _ar1(rng, N_HOURS, 0.3)
    stag_t = np.interp(hours, *STAGNATION_KEYS)
    n_modes = 5
    wavelength = rng.uniform(180e3, 450e3, n_modes)
    theta = rng.uniform(0, 2 * np.pi, n_modes)
    kx, ky = 2 * np.pi / wavelength * np.cos(theta), 2 * np.pi / wavelength * np.sin(theta)
    phase = rng.uniform(0, 2 * np.pi, n_modes)
    omega = 2 * np.pi / rng.uniform(30.0, 90.0, n_modes)  # [rad/h]
    speed_amp = rng.uniform(0.4, 1.0, n_modes) / np.sqrt(n_modes)  # [m/s] per mode
    amp_t = 1.4 - 0.8 * np.interp(hours, *STAGNATION_KEYS)  # weaker eddies when stagnant
    a = speed_amp / np.hypot(kx, ky)  # ψ amplitude [m²/s]
    xx, yy = geo["xx"] - geo["xx"].mean(), geo["yy"] - geo["yy"].mean()
    dpsi_dx = np.zeros((N_HOURS,) + g.shape)
    dpsi_dy = np.zeros((N_HOURS,) + g.shape)
    for m in range(n_modes):  # a handful of modes; each term is a full (time, y, x) array op
        c = np.cos(kx[m] * xx + ky[m] * yy + phase[m] - omega[m] * h)
        dpsi_dx += amp_t[:, None, None] * a[m] * kx[m] * c
        dpsi_dy += amp_t[:, None, None] * a[m] * ky[m] * c
    u = U[:, None, None] - dpsi_dy
    v = V[:, None, None] + dpsi_dx
    # --- front position and regimes --------------------------------------------------------
    nx_, ny_ = FRONT["normal"]
    s = (nx_ * xx + ny_ * yy) / 1000.0  # [km] along the front's motion
    s_front = FRONT["speed"] * (h - FRONT["hour"])
    behind = 1.0 / (1.0 + np.exp(-(s_front - s) / FRONT["width"]))
    stag = stag_t[:, None, None] * np.ones(g.shape)
    band = np.exp(-(((s - s_front) / 60.0) ** 2))
    alt = solar_altitude(times.values + np.timedelta64(30, "m"), 115.5, 37.5)
    day = np.clip(np.sin(np.deg2rad(alt)) / np.sin(np.deg2rad(alt.max())), 0.0, 1.0)
    day = day[:, None, None]
    elev = geo["elevation"]
    urban = geo["urban"] / geo["urban"].max()
    # --- mixing height [m] ------------------------------------------------------------------
    h_night = _regime(350.0, 150.0, 700.0, stag, behind)
    h_day = _regime(900.0, 450.0, 1400.0, stag, behind)
    field = np.exp(0.15 * _smooth(rng, g.shape, 4.0)) * (1.0 + 0.3 * urban + elev / 2400.0)
    mixing = (h_night + (h_day - h_night) * day**0.8) * field
    mixing = np.clip(mixing * np.exp(_ar1(rng, N_HOURS, 0.08))[:, None, None], 50.0, 2500.0)
    # --- temperature [K], RH [%], cloud [1], precipitation [mm/h] --------------------------
    lat_dev = geo["lat"] - 37.5
    t_mean = _regime(-2.0, 1.0, -8.0, stag, behind)
    t_amp = _regime(9.0, 5.0, 8.0, stag, behind)
    solar_hour = ((times.hour.to_numpy() + 115.5 / 15.0) % 24.0)[:, None, None]
    t_c = (t_mean + 0.5 * t_amp * np.cos(2 * np.pi * (solar_hour - 14.5) / 24.0)
           - 0.8 * lat_dev - 0.0065 * elev + 1.5 * urban * (1.0 - day)
           + _ar1(rng, N_HOURS, 0.5)[:, None, None])
    rh = (_regime(45.0, 88.0, 30.0, stag, behind) - 15.0 * day - 10.0 * elev / 1200.0
          + 4.0 * _smooth(rng, g.shape, 3.0) + 20.0 * band * (1.0 - behind)
          + _ar1(rng, N_HOURS, 3.0)[:, None, None])
    rh = np.clip(rh, 15.0, 99.0)
    cloud = np.clip(_regime(0.15, 0.55, 0.05, stag, behind) + 0.9 * band
                    + 0.1 * _smooth(rng, g.shape, 3.0), 0.0, 1.0)
    precip = 0.6 * np.exp(-(((s - s_front + 25.0) / 35.0) ** 2)) * np.exp(
        0.5 * _smooth(rng, g.shape, 2.0))  # light frontal snow, water equivalent
    precip = np.where(precip < 0.02, 0.0, np.minimum(precip, 3.0))
    fields = {"u": u, "v": v, "air_temperature": t_c + 273.15, "relative_humidity": rh,
              "precipitation": precip, "mixing_height": mixing, "cloud_cover": cloud}
    ds = xr.Dataset(
        {k: (("time", "y", "x"), np.asarray(np.broadcast_to(f, (N_HOURS,) + g.shape),
                                             np.float32), dict(GRIDDED_VARIABLES[k]))
         for k, f in fields.items()},
        coords={"time": ("time", times.values, {"long_name": "start of the hour (UTC)"}),
                **g.coords()})
    if stability:
        ds["stability_class"] = stability_class_gridded(ds).astype(np.int8)
        ds["stability_class"].attrs = dict(GRIDDED_VARIABLES["stability_class"],
                                           comment="Turner (1964) from the generated wind and "
                                                   "cloud (ecodss.met.gridded)")
    ds["crs"] = g.crs_variable()
    for name in ds.data_vars:
        if name != "crs":
            ds[name].attrs["grid_mapping"] = "crs"
    ds.attrs.update({"title": "ecodss regional sample: hourly gridded met (synthetic)",
                     "generator_version": GENERATOR_VERSION, "seed": int(seed)})
    return ds


def make_boundary(seed: int = SEED) -> pd.DataFrame:
    """Hourly inflow concentrations on each edge [µg/m³] (synthetic), long table."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])
    hours = np.arange(N_HOURS, dtype=float)
    # regional PM2.5 upwind of the domain: builds through the stagnation, cleaned by the front
    base = np.interp(hours, [0, 30, 60, 100, 140, 168, 180, 192, 239],
                     [25, 35, 80, 140, 190, 220, 120, 20, 15])
    edge_factor = {"west": 0.6, "east": 0.8, "south": 1.0, "north": 0.35}
    haze = np.clip((base - 35.0) / 150.0, 0.0, 1.0)
    # fractions of PM2.5 (assumption, of the order reported for NCP winter haze)
    frac = {"SO4": 0.12 + 0.04 * haze, "NO3": 0.12 + 0.14 * haze, "NH4": 0.07 + 0.06 * haze}
    rows = []
    for edge in EDGES:  # four edges
        pm = base * edge_factor[edge] * np.exp(_ar1(rng, N_HOURS, 0.08))
        pm = np.maximum(pm, 8.0)
        rows.append(pd.DataFrame({
            "time": pd.Series(_times()).dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "edge": edge,
            "PM2.5": pm, **{k: pm * f for k, f in frac.items()},
            "SO2": 8.0 + 0.10 * pm, "NOx": 15.0 + 0.30 * pm, "NH3": 6.0 + 0.05 * pm}))
    df = pd.concat(rows, ignore_index=True)
    df[list(BOUNDARY_SPECIES)] = df[list(BOUNDARY_SPECIES)].round(2)
    return df


def _domain(seed: int) -> dict:
    end = (pd.Timestamp(START) + pd.Timedelta(hours=N_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "name": "North China Plain '2+26' region", "country": "China", "grid": dict(GRID),
        "time": {"start": START, "end": end, "step_hours": 1, "n_hours": N_HOURS,
                 "convention": "UTC; hourly values at the time stamp; end exclusive"},
        "utc_offset_hours": UTC_OFFSET_HOURS, "anemometer_height": 10.0,
        "sectors": list(SECTORS), "pollutants": list(POLLUTANTS),
        "emission_units": "t/yr per grid cell", "emission_year": "circa 2017",
        "region_factor": REGION_FACTOR,
        "files": {"cities": "cities.csv", "sector_totals": "sector_totals.csv",
                  "boundary": "boundary.csv", "emissions": "emissions.nc (cached)",
                  "met": "met.nc (cached)"},
        "sources_of_magnitudes": list(SOURCES_OF_MAGNITUDES),
        "generator": "ecodss.samples_regional.generate", "generator_version": GENERATOR_VERSION,
        "seed": int(seed), "synthetic": True,
    }


def generate(out_dir: str | os.PathLike, seed: int = SEED, *, large: bool = True
             ) -> dict[str, Path]:
    """Write the regional sample into ``out_dir``; ``large=False`` writes only the small tables."""
    import yaml

    from .io.netcdf import atomic_write_text, write_netcdf

    out = Path(out_dir)
    tables = {"cities.csv": _cities(grid()),
              "sector_totals.csv": regional_targets().reset_index(),
              "boundary.csv": make_boundary(seed)}
    paths = {n: atomic_write_text(out / n, df.to_csv(index=False, lineterminator="\n"))
             for n, df in tables.items()}
    text = yaml.safe_dump(_domain(seed), sort_keys=False, allow_unicode=False, width=100)
    paths["domain.yaml"] = atomic_write_text(out / "domain.yaml", text)
    if large:
        paths["emissions.nc"] = write_netcdf(make_emissions(seed), out / "emissions.nc")
        met = make_met(seed)
        enc = {k: {"zlib": True, "complevel": 1} for k in met.data_vars if k != "crs"}
        paths["met.nc"] = _write_encoded(met, out / "met.nc", enc)
    for p in paths.values():
        Path(p).chmod(0o644)
    return {k: Path(v) for k, v in paths.items()}


def _write_encoded(ds, path, encoding):
    from .io.netcdf import atomic_write, cf_global_attrs, check_cf

    check_cf(ds)
    ds = cf_global_attrs(ds)
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, encoding=encoding))


# ===== loader ======================================================================================

def bundled_dir() -> Path:
    """``data/samples/regional`` of the source checkout (small tables only; may not exist)."""
    return Path(__file__).resolve().parents[1] / "data" / "samples" / "regional"


def cache_dir() -> Path:
    """``$ECODSS_CACHE/regional``, else ``$XDG_CACHE_HOME/ecodss/regional``, else
    ``~/.cache/ecodss/regional``."""
    return city_sample.cache_dir().parent / "regional"


def _stamp_ok(folder: Path, names, seed: int) -> bool:
    import yaml

    if not all((folder / n).is_file() for n in names + ("domain.yaml",)):
        return False
    meta = yaml.safe_load((folder / "domain.yaml").read_text())
    return meta.get("generator_version") == GENERATOR_VERSION and meta.get("seed") == seed


def regional_dir(seed: int = SEED, *, generate_missing: bool = True) -> Path:
    """Cache folder holding every regional file for ``seed``, generated on first use (or when
    the generator version changed)."""
    folder = cache_dir() if seed == SEED else cache_dir() / f"seed-{seed}"
    if generate_missing and not _stamp_ok(folder, SMALL_FILES + LARGE_FILES, seed):
        generate(folder, seed)
    return folder


@dataclass(frozen=True)
class RegionalSample:
    """The regional case. ``emissions`` are t/yr per cell (:func:`ecodss.units.tpy_to_gps` for
    g/s); ``met`` is :func:`ecodss.met.gridded.read_gridded_met` output; ``boundary`` has one
    variable per species [ug m-3] with dims (time, edge)."""

    grid: Grid
    cities: pd.DataFrame
    emissions: xr.Dataset
    met: xr.Dataset
    boundary: xr.Dataset
    sector_totals: pd.DataFrame
    domain: dict
    path: Path

    def inflow(self) -> dict[str, np.ndarray]:
        """Hourly inflow concentration per species [µg/m³], the edges weighted by the
        domain-mean wind blowing into each (the ``boundary`` argument of the Eulerian model)."""
        u = self.met["u"].mean(("y", "x")).values
        v = self.met["v"].mean(("y", "x")).values
        w = np.stack([np.maximum(u, 0), np.maximum(-u, 0), np.maximum(v, 0),
                      np.maximum(-v, 0)], axis=1)  # west, east, south, north inflow
        w = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
        return {s: (self.boundary[s].sel(edge=list(EDGES)).values * w).sum(1)
                for s in BOUNDARY_SPECIES}


def load_regional_sample(seed: int = SEED) -> RegionalSample:
    """Load the regional sample (generating and caching the large fields on first use)."""
    import yaml

    from .met.gridded import read_gridded_met

    folder = regional_dir(seed)
    small = bundled_dir() if seed == SEED and _stamp_ok(bundled_dir(), SMALL_FILES, seed) \
        else folder
    for n in SMALL_FILES + LARGE_FILES:
        f = (small if n in SMALL_FILES else folder) / n
        if not f.is_file():
            raise DataFileError(f"{f}: regional sample file missing")
    cities = pd.read_csv(small / "cities.csv", dtype={"id": str})
    require_fields(cities.columns, ("id", "name", "x", "y", "lon", "lat", "province"),
                   str(small / "cities.csv"))
    totals = pd.read_csv(small / "sector_totals.csv").set_index("sector")
    bnd = pd.read_csv(small / "boundary.csv")
    require_fields(bnd.columns, ("time", "edge", *BOUNDARY_SPECIES), str(small / "boundary.csv"))
    bnd["time"] = pd.to_datetime(bnd["time"]).dt.tz_localize(None)
    boundary = bnd.set_index(["time", "edge"]).to_xarray()
    for s in BOUNDARY_SPECIES:
        boundary[s].attrs = {"units": "ug m-3", "long_name": f"{s} inflow concentration"}
    domain = yaml.safe_load((small / "domain.yaml").read_text())
    g = grid()
    met = read_gridded_met(xr.open_dataset(folder / "met.nc").load(), g,
                           required=("u", "v", "air_temperature", "relative_humidity",
                                     "precipitation", "mixing_height", "stability_class"))
    emissions = xr.open_dataset(folder / "emissions.nc").load()
    return RegionalSample(g, cities, emissions, met, boundary, totals, domain, folder)
