"""Sample decision data: control measures, enterprise value added, and a population grid.

Written into ``data/samples/measures`` by :func:`generate` (``python
data/samples/measures/make_measures.py``), from a seed:

* ``measures.csv`` — emergency actions for the city sample (production limits and stops per
  enterprise grade; traffic, dust and residential measures per sector) and long-term control
  measures for the regional sample's sectors (:data:`EMERGENCY_MEASURES`, :data:`CONTROL_MEASURES`);
* ``enterprises.csv`` — the city sample's 185 enterprises with sector, grade (from
  ``points.csv``) and daily value added [CNY d-1] (:func:`enterprises`);
* ``population.csv`` — resident population per cell of the regional grid (:func:`population`).

What is real and what is assumed is told in ``data/samples/README.md`` ("Decision data"). In
short: Shijiazhuang's 2017 secondary-industry value added (291.39 bn CNY; 2017 statistical
bulletin of Shijiazhuang) and the 2020-census city populations of
:data:`ecodss.samples_regional.CITIES` set the magnitudes; the power-plant control costs are the
per-tonne costs of ultra-low-emission retrofits reported in China Environmental Science
(zghjkx.com.cn abstract 14801: SO2 44 600, NOx 23 500, PM 4 300 CNY/t); every other efficiency and
cost is an engineering assumption of plausible magnitude.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import samples as city_sample
from . import samples_regional as regional
from .inventory.measures import EFFICIENCY_COLUMNS, Measures

SEED = 20260111
GENERATOR_VERSION = 1
FILES = ("measures.csv", "enterprises.csv", "population.csv")

#: Shijiazhuang 2017 secondary-industry value added [CNY yr-1] (2017 statistical bulletin,
#: 石家庄市2017年国民经济和社会发展统计公报: 2913.9 亿元, 45.1 % of GDP 6460.9 亿元).
SJZ_2017_SECONDARY_VA = 291.39e9
#: Share of industry (not construction) in secondary value added (assumption).
INDUSTRY_SHARE_OF_SECONDARY = 0.85
#: Share of the city's industry inside the sample domain (assumption, as ``samples.DOMAIN_SHARE``:
#: about half of the prefecture's industry lies in the urban districts and belt the domain covers).
DOMAIN_INDUSTRY_SHARE = 0.5
#: Split of the sample's industrial value added over the point sectors (assumption: boilers stand
#: for the light industry they serve; chemicals include Shijiazhuang's pharmaceutical industry).
SECTOR_VA_SHARE = {"power": 0.10, "iron_steel": 0.15, "cement": 0.05, "coking": 0.05,
                   "glass": 0.03, "chemicals": 0.32, "boilers": 0.30}

_COLS = ("measure", "name", "horizon", "scope", "sector", "action", *EFFICIENCY_COLUMNS, "cost",
         "cost_basis", "cost_pollutant", "max_penetration", "exclusive_group", "source")
_ASSUMED = "assumption (plausible magnitude; see data/samples/README.md)"
_GUIDE = "action class per MEE 2020 guide (340号); depth and cost assumed"
_ULE = ("China Environmental Science, ultra-low-emission retrofit costs of coal power "
        "(zghjkx.com.cn abstract 14801)")

#: Emergency measures: (measure, name, scope, sector, action, efficiencies SO2, NOx, PM2.5, PM10,
#: VOCs, NH3, CO, cost, basis, max penetration, exclusive group, source).
EMERGENCY_MEASURES = (
    ("E-OWN", "own measures of A/leading enterprises (ultra-low operation, no diesel trucks)",
     "enterprise", "*", "own", (0.05, 0.10, 0.10, 0.10, 0.05, 0.0, 0.05), 0.02, "value_added",
     1.0, "production", _GUIDE),
    ("E-LIMIT30", "production limit 30 % (以限代停)", "enterprise", "*", "limit",
     (0.3,) * 7, 0.30, "value_added", 1.0, "production", _GUIDE),
    ("E-LIMIT50", "production limit 50 % (以限代停)", "enterprise", "*", "limit",
     (0.5,) * 7, 0.50, "value_added", 1.0, "production", _GUIDE),
    ("E-LIMIT-VOC", "chemicals: stop solvent-using units, other load -30 %", "enterprise",
     "chemicals", "limit", (0.3, 0.3, 0.3, 0.3, 0.7, 0.3, 0.3), 0.35, "value_added", 1.0,
     "production", _GUIDE),
    ("E-PSTOP", "stop the highest-emitting lines, half of capacity (以停代限)", "enterprise", "*",
     "partial_stop", (0.6,) * 7, 0.50, "value_added", 1.0, "production", _GUIDE),
    ("E-PSTOP-VOC", "chemicals: stop VOC process units and half of capacity",
     "enterprise", "chemicals", "partial_stop", (0.6, 0.6, 0.6, 0.6, 0.9, 0.6, 0.6), 0.55,
     "value_added", 1.0, "production", _GUIDE),
    ("E-PSTOP-VOC-COK", "coking: extend coking time, stop coke pushing lines", "enterprise",
     "coking", "partial_stop", (0.6, 0.6, 0.6, 0.6, 0.8, 0.6, 0.6), 0.50, "value_added", 1.0,
     "production", _GUIDE),
    ("E-STOP", "stop production", "enterprise", "*", "stop", (1.0,) * 7, 1.0, "value_added", 1.0,
     "production", _GUIDE),
    ("E-TRAFFIC", "ban heavy-duty diesel trucks, odd-even plates, stop non-road machinery",
     "sector", "traffic", "sector", (0.2, 0.4, 0.3, 0.3, 0.3, 0.1, 0.3), 12.0e6, "daily", 1.0,
     "traffic", _ASSUMED),
    ("E-DUST", "stop earthworks and demolition, wash and spray roads", "sector", "dust", "sector",
     (0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0), 20.0e6, "daily", 0.9, "dust", _ASSUMED),
    ("E-RESID", "ban loose-coal burning, extra gas/electric heating supply", "sector",
     "residential", "sector", (0.3, 0.1, 0.3, 0.3, 0.3, 0.0, 0.3), 8.0e6, "daily", 1.0,
     "residential", _ASSUMED),
)

#: Long-term measures for the regional sectors: (measure, name, sector, efficiencies, cost
#: [CNY/t of the reference pollutant], reference pollutant, max penetration, group, source).
CONTROL_MEASURES = (
    ("L-PWR-FGD", "power: ultra-low SO2 (FGD upgrade)", "power",
     (0.7, 0, 0, 0, 0, 0, 0), 44_600, "SO2", 1.0, "", _ULE),
    ("L-PWR-SCR", "power: ultra-low NOx (SCR upgrade)", "power",
     (0, 0.6, 0, 0, 0, 0, 0), 23_500, "NOx", 1.0, "", _ULE),
    ("L-PWR-ESP", "power: ultra-low PM (wet ESP)", "power",
     (0, 0, 0.7, 0.7, 0, 0, 0), 4_300, "PM10", 1.0, "", _ULE),
    ("L-IND-FGD", "industry: sinter/kiln desulphurisation", "industry",
     (0.6, 0, 0, 0, 0, 0, 0), 20_000, "SO2", 0.9, "", _ASSUMED),
    ("L-IND-SCR", "industry: SCR/SNCR denitrification", "industry",
     (0, 0.5, 0, 0, 0, 0, 0), 25_000, "NOx", 0.9, "", _ASSUMED),
    ("L-IND-FF", "industry: fabric filters and enclosed storage", "industry",
     (0, 0, 0.6, 0.6, 0, 0, 0), 8_000, "PM10", 0.9, "", _ASSUMED),
    ("L-IND-VOC", "industry: LDAR and VOC incineration", "industry",
     (0, 0, 0, 0, 0.4, 0, 0), 30_000, "VOCs", 0.8, "", _ASSUMED),
    ("L-RES-GAS", "residential: coal to gas heating", "residential",
     (0.9, 0.3, 0.9, 0.9, 0.8, 0, 0.9), 150_000, "PM2.5", 0.7, "heating", _ASSUMED),
    ("L-RES-ELEC", "residential: coal to electric heat pumps", "residential",
     (0.95, 0.9, 0.95, 0.95, 0.9, 0, 0.95), 200_000, "PM2.5", 0.7, "heating", _ASSUMED),
    ("L-RES-BRIQ", "residential: clean coal briquettes and stoves", "residential",
     (0.5, 0.1, 0.5, 0.5, 0.4, 0, 0.4), 40_000, "PM2.5", 0.9, "heating", _ASSUMED),
    ("L-TRF-VI", "traffic: China VI vehicles, scrap old trucks", "traffic",
     (0, 0.4, 0.4, 0.4, 0.3, 0, 0.3), 60_000, "NOx", 0.8, "", _ASSUMED),
    ("L-AGR-NH3", "agriculture: deep fertiliser placement, covered manure", "agriculture",
     (0, 0, 0, 0, 0, 0.3, 0), 12_000, "NH3", 0.8, "", _ASSUMED),
    ("L-DST-ROAD", "dust: road washing and covered sites", "dust",
     (0, 0, 0.4, 0.4, 0, 0, 0), 2_000, "PM10", 0.9, "", _ASSUMED),
)


def measures_table() -> pd.DataFrame:
    """The sample measures table (columns of :class:`ecodss.inventory.measures.Measures`)."""
    rows = []
    for m, name, scope, sector, action, eff, cost, basis, pen, grp, src in EMERGENCY_MEASURES:
        rows.append((m, name, "emergency", scope, sector, action, *eff, cost, basis, "", pen,
                     grp, src))
    for m, name, sector, eff, cost, ref, pen, grp, src in CONTROL_MEASURES:
        rows.append((m, name, "long_term", "sector", sector, "control", *eff, cost, "per_tonne",
                     ref, pen, grp, src))
    df = pd.DataFrame(rows, columns=list(_COLS))
    Measures(df)  # validated on the way out
    return df


def enterprises(seed: int = SEED, points: pd.DataFrame | None = None) -> pd.DataFrame:
    """The city sample's enterprises with daily value added [CNY d-1] (synthetic).

    Sector value added = Shijiazhuang's 2017 secondary value added × industry share × domain
    share × :data:`SECTOR_VA_SHARE`; within a sector it is split in proportion to activity,
    estimated as the enterprise's mean share of the sector's SO2, NOx, PM10 and VOCs divided by
    its grade's emission intensity (:data:`ecodss.samples.GRADE_FACTOR`), times log-normal noise
    (σ = 0.25).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    pts = points if points is not None else city_sample.load_sample().points
    pols = ["SO2", "NOx", "PM10", "VOCs"]
    ent = pts.groupby("enterprise", sort=True).agg(
        sector=("sector", "first"), grade=("grade", "first"), n_stacks=("id", "size"),
        name=("name", "first"), **{p: (p, "sum") for p in pols})
    ent["name"] = ent["name"].str.extract(r"^(.*?\b[A-Z]{3}-\d+)", expand=False)
    share = ent[pols] / ent.groupby("sector")[pols].transform("sum")
    activity = share.mean(axis=1) / ent["grade"].map(city_sample.GRADE_FACTOR)
    activity = activity * rng.lognormal(0.0, 0.25, len(ent))
    weight = activity / activity.groupby(ent["sector"]).transform("sum")
    total = SJZ_2017_SECONDARY_VA * INDUSTRY_SHARE_OF_SECONDARY * DOMAIN_INDUSTRY_SHARE / 365.0
    va = weight * ent["sector"].map(SECTOR_VA_SHARE) * total
    out = ent[["name", "sector", "grade", "n_stacks"]].copy()
    out["value_added"] = city_sample._round_sig(va.to_numpy(), 4)
    return out.reset_index()


def population(seed: int = SEED) -> pd.DataFrame:
    """Resident population per regional grid cell [persons] (synthetic, rounded to 10).

    Each "2+26" city's 2020-census population (:data:`ecodss.samples_regional.CITIES`) is spread
    60 % over its urban area (Gaussian, σ = 7 km √(pop / 5 M), as the regional emission proxies)
    and 40 % over the surrounding land (Gaussian, σ = 35 km), sea cells masked, times smooth
    log-normal noise (σ = 0.2). Columns ``x, y`` (cell centre [m], EPSG:32650), ``population``.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    g = regional.grid()
    geo = regional._geography(g)
    pop = np.array([c[5] for c in regional.CITIES]) * 1e6
    cities = geo["cities"]
    d2 = (geo["xx"][..., None] - cities["x"].to_numpy(float)) ** 2 + \
        (geo["yy"][..., None] - cities["y"].to_numpy(float)) ** 2
    sigma_u = 7000.0 * np.sqrt(pop / 5e6)
    land = geo["land"][..., None]
    urban = np.exp(-d2 / (2 * sigma_u**2)) * land
    rural = np.exp(-d2 / (2 * 35_000.0**2)) * land
    each = 0.6 * urban / urban.sum((0, 1)) + 0.4 * rural / rural.sum((0, 1))
    noise = np.exp(0.2 * regional._smooth(rng, g.shape, 2.0))
    field = (each * pop).sum(-1) * noise * geo["land"]
    field *= pop.sum() / field.sum()
    xx, yy = np.meshgrid(g.x, g.y)
    return pd.DataFrame({"x": xx.ravel().astype(np.int64), "y": yy.ravel().astype(np.int64),
                         "population": (np.round(field.ravel() / 10.0) * 10).astype(np.int64)})


def population_grid(path: str | os.PathLike | None = None):
    """The population table as a DataArray (y, x) [persons per cell] on the regional grid."""
    import xarray as xr

    df = pd.read_csv(Path(path) if path else sample_dir() / "population.csv")
    g = regional.grid()
    arr = df.set_index(["y", "x"])["population"].unstack("x").reindex(
        index=g.y.astype(np.int64), columns=g.x.astype(np.int64)).to_numpy(float)
    return xr.DataArray(arr, dims=("y", "x"), coords={"y": g.y, "x": g.x}, name="population",
                        attrs={"units": "1", "long_name": "resident population per grid cell"})


def generate(out_dir: str | os.PathLike, seed: int = SEED) -> dict[str, Path]:
    """Write ``measures.csv``, ``enterprises.csv`` and ``population.csv`` into ``out_dir``."""
    from .io.netcdf import atomic_write_text

    out = Path(out_dir)
    tables = {"measures.csv": measures_table(), "enterprises.csv": enterprises(seed),
              "population.csv": population(seed)}
    paths = {}
    for name, df in tables.items():
        paths[name] = atomic_write_text(out / name, df.to_csv(index=False, lineterminator="\n"))
        paths[name].chmod(0o644)
    return paths


def bundled_dir() -> Path:
    """``data/samples/measures`` of the source checkout (may not exist)."""
    return Path(__file__).resolve().parents[1] / "data" / "samples" / "measures"


def sample_dir() -> Path:
    """The bundled folder if complete, else the user cache (generated on first use)."""
    if all((bundled_dir() / f).is_file() for f in FILES):
        return bundled_dir()
    cache = city_sample.cache_dir().parent / "measures"
    if not all((cache / f).is_file() for f in FILES):
        generate(cache)
    return cache


def load_measures() -> Measures:
    """The sample :class:`~ecodss.inventory.measures.Measures`."""
    return Measures.from_csv(sample_dir() / "measures.csv")


def load_enterprises() -> pd.DataFrame:
    """The sample enterprise table (``enterprise, name, sector, grade, n_stacks, value_added``)."""
    return pd.read_csv(sample_dir() / "enterprises.csv", dtype={"enterprise": str})
