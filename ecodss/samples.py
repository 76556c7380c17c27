"""The bundled sample case: Shijiazhuang (Hebei), a "2+26" city, in a five-day winter haze episode.

:func:`generate` writes, from a seed, a 60 km × 60 km city-scale case on a 1 km grid (WGS84 / UTM
zone 50N): ~300 industrial stacks, gridded area sources, 120 hours of winter-stagnation met, a
regional background series and seven monitoring stations. :func:`sample_dir` finds the copy in a
source checkout (``data/samples``) or generates one into the user cache on first use, bit for bit;
:func:`load_sample` reads it into pandas tables.

What is real and what is synthetic is told in ``data/samples/README.md``. In short: the city, its
coordinates, the station names (positions approximate) and the published totals the emissions are
scaled to are real; every source, stack, enterprise, grid value and hourly value is synthetic.

Magnitudes (t/yr, "circa 2017") follow from published figures and stated assumptions:

* BTH industrial emissions in 2014 and the industrial share of all anthropogenic emissions:
  Zheng, H. et al. (2019), ACP 19, 3447–3462, abstract (:data:`BTH_2014_INDUSTRIAL_KT`,
  :data:`BTH_2014_INDUSTRIAL_SHARE`).
* National change 2013→2017 applied to reach ~2017: Zheng, B. et al. (2018), ACP 18, 14095–14111,
  abstract (:data:`CHANGE_2013_2017`).
* NH3 and CO (not in Zheng et al. 2019): the national 2017 NH3/PM2.5 and CO/PM2.5 ratios of INTAC,
  Wu, N. et al. (2024), ESSD 16, 2893–2915, abstract (:data:`INTAC_2017_TG`).
* Fugitive dust (not in either inventory): 38.6 % of PM2.5 in the Langfang city inventory, Zhao, Q.
  et al. (2017), Acta Scientiae Circumstantiae 37(2), 436–445; PM10 = PM2.5 × 0.62/0.15 from the
  paved-road k factors of US EPA AP-42 §13.2.1 (2011), Table 13.2.1-1.
* Assumptions (not published): the domain holds :data:`DOMAIN_SHARE` = 5 % of BTH emissions, the
  sector splits :data:`INDUSTRIAL_SPLIT` / :data:`NONINDUSTRIAL_SPLIT`, the industrial shares of NH3
  and CO, the process profiles and the grade factors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataFileError
from .grid import Grid
from .met.solar import is_daytime
from .met.solar import solar_altitude as _solar_altitude
from .met.stability import turner_class
from .validation import require_fields

#: Default seed; the committed files in ``data/samples`` are ``generate(..., seed=SEED)``.
SEED = 20260110
#: Bumped whenever the generator's output changes, so stale cached copies are regenerated.
GENERATOR_VERSION = 2

POLLUTANTS = ("SO2", "NOx", "PM2.5", "PM10", "VOCs", "NH3", "CO")
POINT_SECTORS = ("power", "iron_steel", "cement", "coking", "glass", "chemicals", "boilers")
AREA_SECTORS = ("residential", "traffic", "agriculture", "dust")

CITY = {"name": "Shijiazhuang", "province": "Hebei", "country": "China",
        "lon": 114.51, "lat": 38.04}
#: Domain: 60 × 60 cells of 1 km, SW corner so that the (rounded) city centre is in the middle.
GRID = {"x0": 251000.0, "y0": 4183000.0, "dx": 1000.0, "dy": 1000.0, "nx": 60, "ny": 60,
        "crs": "EPSG:32650"}
CENTRE_XY = (281000.0, 4213000.0)  # 114.51°E 38.04°N is (281487, 4213180) m in EPSG:32650
START = "2026-01-10T00:00:00Z"
N_HOURS = 120
UTC_OFFSET_HOURS = 8
ANEMOMETER_HEIGHT = 10.0
URBAN_RADIUS_KM = 9.0  # built-up core (assumption, ~250 km²)

FILES = ("points.csv", "areas.csv", "met.csv", "background.csv", "stations.csv",
         "sector_totals.csv", "domain.yaml")

# --- published anchors ------------------------------------------------------------------------
#: BTH industrial emissions in 2014 [kt/yr] (Zheng H. et al. 2019, ACP 19:3447, abstract).
BTH_2014_INDUSTRIAL_KT = {"SO2": 869.0, "NOx": 1164.0, "PM10": 910.0, "PM2.5": 622.0,
                          "VOCs": 1390.0}
#: Industrial share of total BTH anthropogenic emissions in 2014 (same source); NH3 and CO are
#: assumptions (industry: coking/chemicals NH3 slip; steel and coking CO).
BTH_2014_INDUSTRIAL_SHARE = {"SO2": 0.61, "NOx": 0.55, "PM10": 0.62, "PM2.5": 0.56, "VOCs": 0.36,
                             "NH3": 0.06, "CO": 0.55}
#: Relative change of China's emissions 2013→2017 (Zheng B. et al. 2018, ACP 18:14095, abstract),
#: applied to the 2014 base to reach ~2017. NMVOC rose 11 % over 2010–2017 and has no 2013–2017
#: figure: kept at the 2014 level (assumption).
CHANGE_2013_2017 = {"SO2": -0.59, "NOx": -0.21, "PM10": -0.36, "PM2.5": -0.33, "VOCs": 0.0}
#: China's 2017 totals [Tg/yr] (INTAC, Wu N. et al. 2024, ESSD 16:2893, abstract), used only for
#: the NH3/PM2.5 and CO/PM2.5 ratios.
INTAC_2017_TG = {"SO2": 12.3, "NOx": 24.5, "CO": 141.0, "VOCs": 27.9, "NH3": 9.2, "PM10": 11.1,
                 "PM2.5": 8.4}
#: Fraction of BTH emissions inside the 60 × 60 km domain (assumption: Shijiazhuang prefecture
#: ≈ 10 % of BTH population and emissions, about half of it in the urban districts and the
#: industrial belt that the domain covers).
DOMAIN_SHARE = 0.05
#: Road + construction dust share of PM2.5 (Zhao Q. et al. 2017, Langfang city inventory),
#: assumed for Shijiazhuang; PM10/PM2.5 of paved-road dust from AP-42 13.2.1 k factors.
DUST_PM25_SHARE = 0.386
DUST_PM10_PER_PM25 = 0.62 / 0.15

# --- assumed sector splits (fractions; PM2.5 and PM10 share the "PM" row) ---------------------
#: Split of the industrial total over the point sectors, in POINT_SECTORS order.
INDUSTRIAL_SPLIT = {
    "SO2": (0.22, 0.30, 0.08, 0.08, 0.05, 0.07, 0.20),
    "NOx": (0.28, 0.22, 0.20, 0.06, 0.06, 0.04, 0.14),
    "PM": (0.08, 0.38, 0.18, 0.08, 0.04, 0.04, 0.20),
    "VOCs": (0.02, 0.15, 0.02, 0.25, 0.01, 0.50, 0.05),
    "NH3": (0.05, 0.05, 0.02, 0.25, 0.01, 0.54, 0.08),
    "CO": (0.04, 0.60, 0.08, 0.15, 0.01, 0.04, 0.08),
}
#: Split of the non-industrial (non-dust) total: residential, traffic, agriculture and the part
#: *omitted* from the sample (solvent use, non-road machinery, commercial, ...).
NONINDUSTRIAL_SPLIT = {
    "SO2": (0.70, 0.02, 0.01, 0.27),
    "NOx": (0.10, 0.55, 0.05, 0.30),
    "PM": (0.63, 0.08, 0.08, 0.21),
    "VOCs": (0.15, 0.25, 0.05, 0.55),
    "NH3": (0.05, 0.04, 0.85, 0.06),
    "CO": (0.55, 0.30, 0.03, 0.12),
}

# --- synthetic industry ------------------------------------------------------------------------
#: Process types: (sector, process, stacks per enterprise, stack height [m], diameter [m],
#: exit velocity [m/s], exit temperature [K], relative weights for SO2, NOx, PM, VOCs, NH3, CO).
#: Ranges are typical engineering values (assumption); boiler stacks follow the 20–45 m minimum
#: heights of GB 13271-2014 Table 4; power units are wet-FGD stacks without reheat.
PROCESSES = (
    ("power", "unit", 2, (150, 240), (5.0, 8.0), (15, 25), (320, 360), (1, 1, 1, 1, 1, 1)),
    ("iron_steel", "sinter machine", 2, (60, 120), (4.0, 6.5), (12, 18), (340, 420),
     (10, 6, 5, 3, 1, 8)),
    ("iron_steel", "pelletizing", 1, (50, 80), (2.5, 4.0), (10, 16), (330, 400),
     (3, 3, 2, 0.5, 0.5, 1)),
    ("iron_steel", "blast furnace cast house", 2, (30, 50), (2.5, 4.0), (12, 18), (330, 380),
     (0.5, 0.3, 3, 0.5, 0.2, 1)),
    ("iron_steel", "hot blast stove", 2, (40, 80), (2.0, 3.5), (8, 14), (400, 500),
     (1, 2, 0.5, 0.2, 0.1, 3)),
    ("iron_steel", "converter secondary dedusting", 2, (30, 50), (3.0, 4.5), (12, 18), (320, 360),
     (0.2, 0.2, 3, 0.5, 0.1, 4)),
    ("iron_steel", "reheating furnace", 2, (40, 80), (1.8, 3.0), (8, 14), (420, 520),
     (1, 2, 0.5, 0.3, 0.1, 0.5)),
    ("cement", "kiln tail", 1, (80, 110), (3.5, 5.0), (10, 16), (370, 420), (10, 10, 3, 1, 3, 5)),
    ("cement", "kiln head", 1, (30, 50), (2.5, 4.0), (10, 16), (360, 410),
     (0.2, 0.2, 3, 0.1, 0.1, 0.2)),
    ("cement", "mill", 3, (15, 35), (1.0, 2.0), (10, 16), (300, 340), (0, 0, 1, 0, 0, 0)),
    ("coking", "coke oven chimney", 2, (100, 150), (3.5, 5.5), (8, 14), (420, 480),
     (5, 8, 2, 3, 2, 5)),
    ("coking", "coke pushing", 1, (25, 40), (2.0, 3.0), (12, 18), (320, 360), (2, 0.5, 4, 2, 1, 1)),
    ("coking", "quenching", 1, (30, 60), (2.0, 3.5), (10, 16), (330, 380), (1, 0.2, 3, 3, 3, 0.5)),
    ("glass", "float furnace", 2, (60, 100), (2.5, 4.0), (8, 14), (380, 450), (1, 1, 1, 1, 1, 1)),
    ("chemicals", "process heater", 1, (40, 80), (1.5, 3.0), (8, 15), (400, 480),
     (3, 3, 1, 0.5, 0.5, 3)),
    ("chemicals", "process vent", 2, (15, 40), (0.6, 1.5), (8, 15), (310, 350),
     (0.2, 0.3, 0.5, 3, 1.5, 0.3)),
    ("boilers", "boiler", 1, (20, 45), (0.8, 2.5), (6, 14), (330, 420), (1, 1, 1, 1, 1, 1)),
)
_PROFILE_POLLUTANTS = ("SO2", "NOx", "PM", "VOCs", "NH3", "CO")

#: Enterprises per sector: (count, id prefix, label, size spread σ of ln, grade probabilities,
#: cluster centres (x, y, σ) [km from the centre]). Locations are synthetic, loosely after the
#: city's industrial areas (cement in the Luquan foothills west, chemicals and pharmaceuticals in
#: Luancheng, Gaocheng and the high-tech zone, steel and coking to the east).
ENTERPRISES = {
    "power": (5, "PWR", "Thermal power plant", 0.3, {"A": 0.5, "B": 0.5},
              ((9, 2, 1.0), (-6, -7, 1.0), (3, 10, 1.0), (-4, 6, 1.0), (14, -12, 1.5))),
    "iron_steel": (3, "STL", "Steel works", 0.4, {"A": 0.4, "B": 0.4, "C": 0.2},
                   ((18, 4, 2.0), (-14, -10, 2.0), (21, -6, 2.0))),
    "cement": (6, "CEM", "Cement plant", 0.4, {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2},
               ((-18, -6, 3.0), (-15, 4, 3.0), (-22, -14, 2.5))),
    "coking": (3, "COK", "Coking plant", 0.3, {"A": 0.1, "B": 0.4, "C": 0.3, "D": 0.2},
               ((16, -3, 2.0), (20, 8, 2.0))),
    "glass": (4, "GLS", "Glass works", 0.3, {"A": 0.1, "B": 0.4, "C": 0.3, "D": 0.2},
              ((10, -18, 2.5), (22, -10, 2.5))),
    "chemicals": (14, "CHM", "Chemical/pharmaceutical plant", 0.6,
                  {"A": 0.15, "leading": 0.1, "B": 0.35, "C": 0.25, "D": 0.15},
                  ((8, -15, 3.0), (24, 2, 3.0), (0, 15, 3.0), (10, 3, 2.0))),
    "boilers": (150, "BLR", "Boiler house", 0.8,
                {"A": 0.05, "leading": 0.05, "B": 0.3, "C": 0.35, "D": 0.25},
                ((0, 0, 6.0), (0, 0, 6.0), (0, 0, 6.0), (0, 0, 6.0), (0, 15, 3.0), (8, -15, 3.0),
                 (24, 2, 3.0), (-14, -2, 3.0), (-5, -20, 4.0), (20, 18, 4.0))),
}
#: Relative emission intensity by emergency-response performance grade (A best, D worst) under
#: MEE's 2020 technical guideline for key industries (assumption on the factors themselves).
GRADE_FACTOR = {"A": 0.6, "leading": 0.5, "B": 0.8, "C": 1.0, "D": 1.3}

#: Area sectors: (id prefix, release height [m]).
AREA_RELEASE = {"residential": ("res", 5.0), "traffic": ("trf", 1.0),
                "agriculture": ("agr", 1.0), "dust": ("dst", 1.0)}
#: Towns (x, y, σ) [km from centre] — county seats/districts inside the domain.
TOWNS = ((0, 15, 2.0), (8, -15, 2.0), (24, 2, 2.5), (-14, -2, 2.0), (-8, -24, 1.5), (20, 20, 1.5))
#: Main roads as segments (x1, y1, x2, y2) [km from centre]: G4 N–S to the east, G107 through the
#: city, the Shi–Tai expressway to the west, the Gaocheng road east; plus a 13 km ring.
ROADS = ((9, -30, 7, 30), (-2, -30, 2, 30), (0, 0, -30, -5), (0, 0, 30, 4), (-30, 2, 0, -1))
RING_KM = 13.0

#: Shijiazhuang's national monitoring stations (real names; positions approximate, ±1 km).
STATIONS = (
    ("SJZ01", "Shijigongyuan (Century Park)", 114.5358, 38.0170),
    ("SJZ02", "Renminhuitang (People's Hall)", 114.5217, 38.0525),
    ("SJZ03", "Gaoxinqu (High-tech Zone)", 114.6039, 38.0397),
    ("SJZ04", "Zhigongyiyuan (Staff Hospital)", 114.4600, 38.0300),
    ("SJZ05", "Xibeishuiyuan (Northwest Water Source)", 114.5025, 38.1390),
    ("SJZ06", "Xinangaojiao (Southwest Higher-education Zone)", 114.4590, 38.0100),
    ("SJZ07", "Fenglongshan (Fenglong Mountain)", 114.3536, 37.9101),
)

SOURCES_OF_MAGNITUDES = (
    "Zheng H. et al. (2019) ACP 19:3447-3462, doi:10.5194/acp-19-3447-2019 (BTH industrial "
    "emissions 2014 and industrial shares)",
    "Zheng B. et al. (2018) ACP 18:14095-14111, doi:10.5194/acp-18-14095-2018 (China 2013-2017 "
    "emission changes)",
    "Wu N. et al. (2024) ESSD 16:2893-2915, doi:10.5194/essd-16-2893-2024 (INTAC 2017 national "
    "totals: NH3/PM2.5 and CO/PM2.5 ratios)",
    "Zhao Q. et al. (2017) Acta Scientiae Circumstantiae 37(2):436-445 (Langfang: road and "
    "construction dust 38.6 % of PM2.5)",
    "US EPA AP-42 section 13.2.1 (2011) Table 13.2.1-1 (paved-road dust k factors PM2.5/PM10)",
    "GB 13271-2014 Table 4 (minimum boiler stack heights 20-45 m)",
)


# ===== emission targets ==========================================================================

def domain_totals() -> dict[str, float]:
    """All-anthropogenic emissions in the domain, fugitive dust excluded [t/yr], circa 2017.

    ``E = E_ind,BTH,2014 / share_ind × (1 + change_2013→2017) × DOMAIN_SHARE`` for SO2, NOx, PM10,
    PM2.5 and VOCs (Zheng H. et al. 2019; Zheng B. et al. 2018); NH3 and CO from the domain PM2.5
    times the national 2017 NH3/PM2.5 and CO/PM2.5 ratios (Wu et al. 2024).
    """
    out = {p: BTH_2014_INDUSTRIAL_KT[p] * 1000.0 / BTH_2014_INDUSTRIAL_SHARE[p]
           * (1.0 + CHANGE_2013_2017[p]) * DOMAIN_SHARE for p in BTH_2014_INDUSTRIAL_KT}
    for p in ("NH3", "CO"):
        out[p] = out["PM2.5"] * INTAC_2017_TG[p] / INTAC_2017_TG["PM2.5"]
    return {p: out[p] for p in POLLUTANTS}


def sector_targets() -> pd.DataFrame:
    """Sector totals in the sample [t/yr]: rows = sectors (points, then areas), columns = pollutants.

    Industrial sectors split ``share_ind × total``; residential/traffic/agriculture split the rest
    (part of it omitted, see :data:`NONINDUSTRIAL_SPLIT`); dust is added on top
    (:data:`DUST_PM25_SHARE`). Values are rounded to whole tonnes.
    """
    total = domain_totals()
    rows = {s: {} for s in POINT_SECTORS + AREA_SECTORS}
    for p in POLLUTANTS:
        key = "PM" if p.startswith("PM") else p
        ind = total[p] * BTH_2014_INDUSTRIAL_SHARE[p]
        for s, f in zip(POINT_SECTORS, INDUSTRIAL_SPLIT[key], strict=True):
            rows[s][p] = ind * f
        for s, f in zip(AREA_SECTORS[:3], NONINDUSTRIAL_SPLIT[key][:3], strict=True):
            rows[s][p] = (total[p] - ind) * f
        rows["dust"][p] = 0.0
    dust_pm25 = total["PM2.5"] * DUST_PM25_SHARE / (1.0 - DUST_PM25_SHARE)
    rows["dust"].update({"PM2.5": dust_pm25, "PM10": dust_pm25 * DUST_PM10_PER_PM25})
    df = pd.DataFrame.from_dict(rows, orient="index")[list(POLLUTANTS)]
    df = df.round(0).astype(np.int64)
    df.index.name = "sector"
    df.insert(0, "source_kind", ["point"] * len(POINT_SECTORS) + ["area"] * len(AREA_SECTORS))
    return df


# ===== small numerical helpers ===================================================================

def _round_sig(x, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant figures so that the CSV text is short and exact."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0, 1.0, np.abs(x))
    k = (np.floor(np.log10(safe)) - digits + 1).astype(int)
    up = np.round(x * 10.0 ** np.maximum(-k, 0)) / 10.0 ** np.maximum(-k, 0)  # k < 0: decimals
    down = np.round(x / 10.0 ** np.maximum(k, 0)) * 10.0 ** np.maximum(k, 0)  # k >= 0: tens
    return np.where(x == 0, 0.0, np.where(k < 0, up, down))


def _smooth_noise(rng: np.random.Generator, shape, sigma_cells: float) -> np.ndarray:
    """Standardised, spatially correlated Gaussian noise (Gaussian-filtered white noise)."""
    from scipy.ndimage import gaussian_filter

    z = gaussian_filter(rng.standard_normal(shape), sigma_cells, mode="reflect")
    return (z - z.mean()) / z.std()


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.8) -> np.ndarray:
    """AR(1) noise with stationary standard deviation ``sigma`` (lfilter, no Python loop)."""
    from scipy.signal import lfilter

    e = rng.standard_normal(n) * sigma * np.sqrt(1.0 - phi**2)
    return lfilter([1.0], [1.0, -phi], e)


# ===== generators ================================================================================

def _grid() -> Grid:
    return Grid(GRID["x0"], GRID["y0"], GRID["dx"], GRID["dy"], GRID["nx"], GRID["ny"],
                GRID["crs"])


def _points(rng: np.random.Generator, targets: pd.DataFrame) -> pd.DataFrame:
    """Synthetic industrial stacks, emissions scaled to the sector targets [t/yr]."""
    proc = pd.DataFrame(PROCESSES, columns=["sector", "process", "n_stacks", "H", "D", "V", "T",
                                            "profile"])
    ents = []
    for sector in POINT_SECTORS:  # 7 sectors; every per-enterprise step is vectorized
        n, prefix, label, spread, grades, clusters = ENTERPRISES[sector]
        c = np.asarray(clusters, dtype=float)[np.arange(n) % len(clusters)]
        xy = (c[:, :2] + rng.standard_normal((n, 2)) * c[:, 2:3]) * 1000.0
        width = len(str(n)) if n >= 100 else 2
        num = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)
        ents.append(pd.DataFrame({
            "sector": sector, "enterprise": prefix + "-" + num, "label": label + " " + prefix
            + "-" + num, "ex": xy[:, 0], "ey": xy[:, 1],
            "size": rng.lognormal(0.0, spread, n),
            "grade": rng.choice(list(grades), size=n, p=list(grades.values()))}))
    ent = pd.concat(ents, ignore_index=True)
    st = ent.merge(proc, on="sector", how="left", sort=False)
    st = st.loc[st.index.repeat(st["n_stacks"])].reset_index(drop=True)
    k = st.groupby(["enterprise", "process"], sort=False).cumcount() + 1
    st["name"] = st["label"] + " " + st["process"] + " " + k.astype(str)
    n = len(st)

    def draw(col):
        lo, hi = np.array(st[col].tolist(), dtype=float).T
        return lo + (hi - lo) * rng.random(n)

    half = 30000.0 - 500.0
    off = rng.standard_normal((n, 2)) * 150.0
    x = np.clip(st["ex"].to_numpy() + off[:, 0], -half, half) + CENTRE_XY[0]
    y = np.clip(st["ey"].to_numpy() + off[:, 1], -half, half) + CENTRE_XY[1]
    out = pd.DataFrame({
        "id": "P" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(3),
        "name": st["name"], "sector": st["sector"],
        "x": np.round(x).astype(np.int64), "y": np.round(y).astype(np.int64),
        "stack_height": np.round(draw("H")).astype(np.int64),
        "stack_diameter": np.round(draw("D"), 1), "exit_velocity": np.round(draw("V"), 1),
        "exit_temperature": np.round(draw("T")).astype(np.int64)})
    activity = (st["size"].to_numpy() * st["grade"].map(GRADE_FACTOR).to_numpy()
                * rng.lognormal(0.0, 0.3, n))
    profile = np.array(st["profile"].tolist(), dtype=float)
    for p in POLLUTANTS:
        w = activity * profile[:, _PROFILE_POLLUTANTS.index("PM" if p.startswith("PM") else p)]
        wsum = pd.Series(w).groupby(st["sector"].to_numpy()).transform("sum").to_numpy()
        target = st["sector"].map(targets[p]).to_numpy()
        out[p] = _round_sig(target * w / wsum)
    out["enterprise"] = st["enterprise"]
    out["grade"] = st["grade"]
    return out


def _segment_distance(xk, yk, x1, y1, x2, y2) -> np.ndarray:
    """Distance [km] from grid points to the segment (x1, y1)–(x2, y2)."""
    dx, dy = x2 - x1, y2 - y1
    t = np.clip(((xk - x1) * dx + (yk - y1) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(xk - (x1 + t * dx), yk - (y1 + t * dy))


def _area_proxies(rng: np.random.Generator, grid: Grid) -> dict[str, np.ndarray]:
    """Synthetic spatial proxies (ny, nx) for the four area sectors (non-negative, unnormalised)."""
    xk, yk = np.meshgrid((grid.x - CENTRE_XY[0]) / 1000.0, (grid.y - CENTRE_XY[1]) / 1000.0)
    r = np.hypot(xk, yk)
    urban = 1.0 / (1.0 + np.exp((r - URBAN_RADIUS_KM) / 1.5))
    towns = sum(np.exp(-((xk - tx) ** 2 + (yk - ty) ** 2) / (2 * s * s)) for tx, ty, s in TOWNS)
    mountain = 1.0 / (1.0 + np.exp((-xk - 20.0) / 2.5))  # Taihang foothills in the far west
    d_road = np.minimum.reduce([_segment_distance(xk, yk, *seg) for seg in ROADS]
                               + [np.abs(r - RING_KM)])
    roads = np.exp(-0.5 * (d_road / 0.6) ** 2)
    noise = {k: _smooth_noise(rng, grid.shape, 2.0) for k in AREA_SECTORS}
    rural = np.clip(1.0 - urban - 0.8 * towns, 0.0, 1.0)
    traffic = urban**1.5 + 0.7 * roads + 0.4 * towns + 0.03 * np.exp(0.3 * noise["traffic"])
    # loose-coal heating: villages around the city; the core has district heating / gas
    residential = ((0.15 * urban + rural * (1.0 - 0.7 * mountain) + 0.3 * towns)
                   * np.exp(0.5 * noise["residential"]))
    agriculture = np.where(urban > 0.6, 0.0,
                           rural**2 * (1.0 - 0.85 * mountain) * np.exp(0.4 * noise["agriculture"]))
    construction = np.exp(-0.5 * ((r - 11.0) / 3.0) ** 2) + 0.3 * towns
    dust = (0.5 * traffic / traffic.mean() + 0.5 * construction / construction.mean()
            + 0.1 * rural) * np.exp(0.4 * noise["dust"])
    return {"residential": residential, "traffic": traffic, "agriculture": agriculture,
            "dust": dust}


def _areas(rng: np.random.Generator, targets: pd.DataFrame) -> pd.DataFrame:
    """One row per (1 km cell, area sector) with non-zero emissions [t/yr over the cell]."""
    grid = _grid()
    proxies = _area_proxies(rng, grid)
    iy, ix = np.indices(grid.shape)
    cell = pd.DataFrame({"iy": iy.ravel(), "ix": ix.ravel()})
    tables = []
    for sector in AREA_SECTORS:  # 4 sectors; all cells at once
        prefix, release = AREA_RELEASE[sector]
        share = proxies[sector].ravel() / proxies[sector].sum()
        t = pd.DataFrame({
            "id": prefix + "-" + cell["iy"].astype(str).str.zfill(2) + cell["ix"].astype(str)
            .str.zfill(2),
            "sector": sector, "x": (grid.x[cell["ix"]]).astype(np.int64),
            "y": (grid.y[cell["iy"]]).astype(np.int64), "width": int(grid.dx),
            "height": int(grid.dy), "release_height": release})
        for p in POLLUTANTS:
            t[p] = _round_sig(targets.loc[sector, p] * share)
        tables.append(t[(t[list(POLLUTANTS)] > 0).any(axis=1)])
    return pd.concat(tables, ignore_index=True)


def _times() -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(START), periods=N_HOURS, freq="h")


def _iso(times: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(times.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _episode(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stagnation index (0→1 over day 1–2, 1 over days 2–4) and post-front index (day 5)."""
    stagnant = np.interp(hours, [0, 30, 96, 104, 119], [0, 1, 1, 0, 0])
    post_front = np.interp(hours, [0, 98, 104, 119], [0, 0, 1, 1])
    return stagnant, post_front


def solar_altitude(times: pd.DatetimeIndex, lon: float, lat: float) -> np.ndarray:
    """Solar altitude [deg] at UTC ``times`` (:func:`ecodss.met.solar.solar_altitude`)."""
    return np.asarray(_solar_altitude(times.tz_localize(None).values if times.tz else times.values,
                                      lon, lat), float)


def _assumed_ceiling(cloud_tenths) -> np.ndarray:
    """Ceiling [m]: the sample has no ceiling data, so 3000 m (between Turner's 7000 and 16000 ft)
    is assumed whenever cloud cover exceeds 5/10, else no ceiling (assumption)."""
    return np.where(np.asarray(cloud_tenths) > 5, 3000.0, np.inf)


def _met(rng: np.random.Generator) -> pd.DataFrame:
    """Five days of hourly winter-stagnation met at the city centre (synthetic)."""
    times = _times()
    h = np.arange(N_HOURS, dtype=float)
    alt = solar_altitude(times, CITY["lon"], CITY["lat"])
    # Turner's night: 1 h before sunset to 1 h after sunrise
    night = ~np.asarray(is_daytime(times.tz_localize(None).values, CITY["lon"], CITY["lat"],
                                   margin_hours=1))
    day = np.clip(np.sin(np.deg2rad(alt)) / np.sin(np.deg2rad(alt.max())), 0.0, 1.0)
    stag, front = _episode(h)
    clear = (1.0 - stag) * (1.0 - front)

    ws = 2.0 * clear + 0.9 * stag + 2.6 * front + 0.35 * day + _ar1(rng, N_HOURS, 0.18)
    ws = np.round(np.clip(ws, 0.5, 3.0), 1)
    # S/SW synoptic flow; nocturnal westerly drainage off the Taihang in stagnation; N/NW after front
    wd = 215.0 * clear + (235.0 - 50.0 * day) * stag + 340.0 * front + _ar1(rng, N_HOURS, 12.0)
    wd = np.round(np.mod(wd, 360.0), 0).astype(np.int64) % 360

    solar_hour = (times.hour.to_numpy() + CITY["lon"] / 15.0) % 24.0
    t_mean = np.interp(h, [0, 24, 48, 72, 96, 102, 119], [-3.0, -1.5, -0.5, 0.5, 1.0, -2.0, -4.0])
    t_amp = 3.0 + 3.0 * (1.0 - stag)
    t_c = (t_mean + 0.5 * t_amp * np.cos(2 * np.pi * (solar_hour - 14.5) / 24.0)
           + _ar1(rng, N_HOURS, 0.3))
    t_k = np.round(np.clip(t_c, -8.0, 5.0) + 273.15, 2)

    h_night = 250.0 * clear + 140.0 * stag + 280.0 * front
    h_day = 700.0 * clear + 460.0 * stag + 800.0 * front
    mix = h_night + (h_day - h_night) * day**0.8 + _ar1(rng, N_HOURS, 15.0)
    mix = np.round(np.clip(mix, 100.0, 800.0), -1).astype(np.int64)

    front_cloud = np.interp(h, [0, 94, 98, 104, 108, 119], [0, 0, 1, 1, 0, 0])
    cloud = 2.5 * stag + 1.5 * clear * (1 - front) + 7.0 * front_cloud + 0.2 * front \
        + rng.normal(0.0, 0.8, N_HOURS)
    cloud = np.clip(np.round(cloud), 0, 9).astype(np.int64)

    rh = 55.0 + 30.0 * stag - 25.0 * front - 15.0 * day + _ar1(rng, N_HOURS, 4.0)
    rh = np.round(np.clip(rh, 20.0, 95.0), 0).astype(np.int64)

    return pd.DataFrame({
        "time": _iso(times), "wind_speed": ws, "wind_direction": wd, "air_temperature": t_k,
        "stability_class": turner_class(ws, alt, cloud, _assumed_ceiling(cloud), night,
                                        merge_g=True).astype(np.int64),
        "mixing_height": mix, "cloud_cover": cloud, "relative_humidity": rh})


def _background(rng: np.random.Generator) -> pd.DataFrame:
    """Regional background concentrations during the haze episode (µg/m³; CO mg/m³; synthetic)."""
    times = _times()
    h = np.arange(N_HOURS, dtype=float)
    alt = solar_altitude(times, CITY["lon"], CITY["lat"])
    day = np.clip(np.sin(np.deg2rad(alt)) / np.sin(np.deg2rad(alt.max())), 0.0, 1.0)
    stag, front = _episode(h)
    solar_hour = (times.hour.to_numpy() + CITY["lon"] / 15.0) % 24.0
    pm_base = np.interp(h, [0, 12, 24, 36, 48, 60, 72, 84, 92, 98, 102, 106, 112, 119],
                        [80, 95, 130, 170, 195, 220, 240, 265, 280, 285, 240, 120, 55, 35])
    diurnal = 1.0 + 0.08 * stag * np.cos(2 * np.pi * (solar_hour - 2.0) / 24.0)
    pm25 = pm_base * diurnal * np.exp(_ar1(rng, N_HOURS, 0.05))
    coarse = np.interp(h, [0, 104, 110, 119], [0, 0, 1, 1])  # windy, dusty air behind the front
    ratio = 0.70 - 0.20 * coarse + _ar1(rng, N_HOURS, 0.015)  # PM2.5/PM10: fine in haze
    so2 = 12.0 + 0.07 * pm25 + _ar1(rng, N_HOURS, 2.0)
    no2 = 35.0 + 0.2 * pm25 + 10.0 * (1 - day) + _ar1(rng, N_HOURS, 4.0)
    co = 0.5 + 0.009 * pm25 + _ar1(rng, N_HOURS, 0.1)
    o3 = 5.0 + 50.0 * day * np.clip(1.0 - pm25 / 350.0, 0.1, 1.0) + 15.0 * front \
        + _ar1(rng, N_HOURS, 3.0)
    return pd.DataFrame({
        "time": _iso(times), "PM2.5": np.round(pm25, 1), "PM10": np.round(pm25 / ratio, 1),
        "SO2": np.round(np.clip(so2, 3.0, None), 1), "NO2": np.round(np.clip(no2, 10.0, None), 1),
        "CO": np.round(np.clip(co, 0.3, None), 2), "O3": np.round(np.clip(o3, 2.0, None), 1)})


def _stations() -> pd.DataFrame:
    ids, names, lon, lat = (list(c) for c in zip(*STATIONS, strict=True))
    x, y = _grid().transform_from_lonlat(lon, lat)
    return pd.DataFrame({"id": ids, "name": names, "city": CITY["name"],
                         "x": np.round(x).astype(np.int64), "y": np.round(y).astype(np.int64),
                         "lon": lon, "lat": lat})


def _domain(seed: int) -> dict:
    end = (pd.Timestamp(START) + pd.Timedelta(hours=N_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "city": CITY["name"], "province": CITY["province"], "country": CITY["country"],
        "centre": {"lon": CITY["lon"], "lat": CITY["lat"], "x": CENTRE_XY[0], "y": CENTRE_XY[1]},
        "grid": dict(GRID),
        "time": {"start": START, "end": end, "step_hours": 1, "n_hours": N_HOURS,
                 "convention": "UTC; hourly values at the time stamp; end exclusive"},
        "utc_offset_hours": UTC_OFFSET_HOURS,
        "anemometer_height": ANEMOMETER_HEIGHT,
        "urban": True,
        "urban_core": {"x": CENTRE_XY[0], "y": CENTRE_XY[1], "radius": URBAN_RADIUS_KM * 1000.0},
        "urban_note": ("the city AQI is assessed at stations in the built-up core, so the demo "
                       "uses urban dispersion coefficients; cells beyond urban_core.radius are "
                       "farmland and would be rural by Auer's (1978) land-use criterion"),
        "emission_units": "t/yr",
        "emission_year": "circa 2017 (2014 base scaled by 2013-2017 national changes)",
        "files": {"points": "points.csv", "areas": "areas.csv", "met": "met.csv",
                  "background": "background.csv", "stations": "stations.csv",
                  "sector_totals": "sector_totals.csv"},
        "sources_of_magnitudes": list(SOURCES_OF_MAGNITUDES),
        "generator": "ecodss.samples.generate", "generator_version": GENERATOR_VERSION,
        "seed": int(seed), "synthetic": True,
    }


# ===== public API ================================================================================

def generate(out_dir: str | os.PathLike, seed: int = SEED) -> dict[str, Path]:
    """Write the sample case into ``out_dir`` (created if needed) and return the file paths.

    The output is a pure function of ``seed`` (bit for bit on a given numpy/scipy/pandas); each
    component draws from its own child of ``numpy.random.SeedSequence(seed)``. Files are written
    atomically. ``README.md`` in ``out_dir`` is left alone.
    """
    import yaml

    from .io.netcdf import atomic_write_text

    out = Path(out_dir)
    rng_points, rng_areas, rng_met, rng_bg = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    targets = sector_targets()
    tables = {
        "points.csv": _points(rng_points, targets),
        "areas.csv": _areas(rng_areas, targets),
        "met.csv": _met(rng_met),
        "background.csv": _background(rng_bg),
        "stations.csv": _stations(),
        "sector_totals.csv": targets.reset_index(),
    }
    paths = {}
    for name, df in tables.items():
        paths[name] = atomic_write_text(out / name, df.to_csv(index=False, lineterminator="\n"))
    text = yaml.safe_dump(_domain(seed), sort_keys=False, allow_unicode=False, width=100)
    paths["domain.yaml"] = atomic_write_text(out / "domain.yaml", text)
    for path in paths.values():
        path.chmod(0o644)  # atomic_write's temp files are private (0600); data files are not
    return paths


def _is_complete(folder: Path) -> bool:
    if not all((folder / f).is_file() for f in FILES):
        return False
    import yaml

    try:
        meta = yaml.safe_load((folder / "domain.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(meta, dict) and meta.get("generator_version") == GENERATOR_VERSION


def bundled_dir() -> Path:
    """``data/samples`` of the source checkout this package runs from (may not exist)."""
    return Path(__file__).resolve().parents[1] / "data" / "samples"


def cache_dir() -> Path:
    """User cache for generated samples: ``$ECODSS_CACHE/samples``, else
    ``$XDG_CACHE_HOME/ecodss/samples``, else ``~/.cache/ecodss/samples``."""
    root = os.environ.get("ECODSS_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "ecodss" if xdg else Path.home() / ".cache" / "ecodss"
    return Path(root) / "samples"


def sample_dir(*, generate_missing: bool = True) -> Path:
    """Folder holding the sample files: the bundled copy in a source checkout, else the user cache,
    generated there (default seed) on first use or when the generator version changed."""
    bundled = bundled_dir()
    if _is_complete(bundled):
        return bundled
    cache = cache_dir()
    if generate_missing and not _is_complete(cache):
        generate(cache)
    return cache


#: Columns each table must have (the file formats documented in data/samples/README.md).
COLUMNS = {
    "points.csv": ("id", "name", "sector", "x", "y", "stack_height", "stack_diameter",
                   "exit_velocity", "exit_temperature", *POLLUTANTS, "enterprise", "grade"),
    "areas.csv": ("id", "sector", "x", "y", "width", "height", "release_height", *POLLUTANTS),
    "met.csv": ("time", "wind_speed", "wind_direction", "air_temperature", "stability_class",
                "mixing_height", "cloud_cover", "relative_humidity"),
    "background.csv": ("time", "PM2.5", "PM10", "SO2", "NO2", "CO", "O3"),
    "stations.csv": ("id", "name", "city", "x", "y", "lon", "lat"),
    "sector_totals.csv": ("sector", "source_kind", *POLLUTANTS),
}


@dataclass(frozen=True)
class SampleCase:
    """The sample tables (pandas) and the domain description; emissions in t/yr."""

    points: pd.DataFrame
    areas: pd.DataFrame
    met: pd.DataFrame
    background: pd.DataFrame
    stations: pd.DataFrame
    sector_totals: pd.DataFrame
    domain: dict
    path: Path
    grid: Grid = field(init=False)

    def __post_init__(self):
        g = self.domain["grid"]
        object.__setattr__(self, "grid", Grid(g["x0"], g["y0"], g["dx"], g["dy"], g["nx"],
                                              g["ny"], g["crs"]))


def load_sample(path: str | os.PathLike | None = None) -> SampleCase:
    """Read the sample case from ``path`` (default :func:`sample_dir`) into a :class:`SampleCase`.

    Times are parsed as UTC; ids are strings. Raises :class:`~ecodss.errors.DataFileError` for a
    missing file and :class:`~ecodss.errors.MissingFieldError` for a missing column.
    """
    import yaml

    folder = Path(path) if path is not None else sample_dir()
    tables = {}
    for name, cols in COLUMNS.items():
        f = folder / name
        if not f.is_file():
            raise DataFileError(f"{f}: sample file missing (run python data/samples/"
                                f"make_samples.py or ecodss.samples.generate)")
        df = pd.read_csv(f, dtype={"id": str, "enterprise": str, "name": str})
        require_fields(df.columns, cols, where=str(f))
        if "time" in df:
            df["time"] = pd.to_datetime(df["time"], utc=True)
        tables[name.removesuffix(".csv")] = df
    domain_file = folder / "domain.yaml"
    if not domain_file.is_file():
        raise DataFileError(f"{domain_file}: sample file missing")
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    require_fields(domain, ("grid", "city", "time", "urban"), where=str(domain_file))
    return SampleCase(domain=domain, path=folder, **tables)
