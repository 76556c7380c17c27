"""Synthetic speciated PM2.5 sample with known true factors, for PMF/CMB tests and the bridge.

One year (2025) of 24-h filter samples every third day (122 samples) at **Shijiazhuang** (``SJZ``
of the regional "2+26" sample), 16 species (:data:`ecodss.apportion.bridge.SPECIES`) plus the
PM2.5 mass, generated as X = G F + noise from five known factors named after the regional sample's
emitting sectors. Everything is synthetic; the files are a pure function of the seed.

* F (factor × species) [g/g]: each sector's primary profile
  (:data:`ecodss.apportion.bridge.SECTOR_PROFILES`) mixed with the secondary inorganic aerosol it
  leads to (:data:`SECONDARY_MIX`: ammonium sulfate for the SO2-rich sectors, ammonium nitrate
  for traffic), as PMF factors of North China typically show ("coal combustion + secondary
  sulfate", "vehicles + nitrate").
* G (sample × factor) [µg/m³]: annual means (:data:`FACTOR_MEAN`), seasonal cycles (heating
  season for power and residential, spring for dust), a common log-normal "meteorology" factor
  (stagnant days raise every source) and independent log-normal day-to-day variability.
* Uncertainties after the EPA PMF 5.0 User Guide (Norris et al. 2014, EPA/600/R-14/108, Eqs. 5-1
  and 5-2): σ = √((EF·x)² + (0.5·MDL)²) above the MDL; values below the MDL are replaced by MDL/2
  with σ = 5/6·MDL. Measurements are x + N(0, σ).
* Outliers not reflected in σ: the Spring Festival fireworks sample (K, Cl, Cu, Pb enhanced) and
  three gross errors (contamination / transcription), listed in ``outliers.csv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .apportion.bridge import SECTOR_PROFILES, SPECIES, source_profiles
from .apportion.uncertainty import uncertainty_from_mdl

SEED = 20250101
GENERATOR_VERSION = 1
CITY = "SJZ"
FACTORS = ("power", "industry", "residential", "traffic", "dust")
#: Secondary mass fraction of each factor and its composition (ammonium sulfate: SO4 0.727,
#: NH4 0.273; ammonium nitrate: NO3 0.775, NH4 0.225 by molar mass).
SECONDARY_MIX = {"power": (0.65, "AS"), "industry": (0.30, "AS"), "residential": (0.15, "AS"),
                 "traffic": (0.60, "AN"), "dust": (0.0, "AS")}
_SALTS = {"AS": {"SO4": 96.06 / 132.14, "NH4": 36.08 / 132.14},
          "AN": {"NO3": 62.00 / 80.04, "NH4": 18.04 / 80.04}}
#: Annual-mean factor contributions [µg/m³] (total ≈ 60 µg/m³, the order of Shijiazhuang's
#: recent annual PM2.5; assumption) and their seasonal amplitude and peak day of year.
FACTOR_MEAN = {"power": 14.0, "industry": 10.0, "residential": 12.0, "traffic": 14.0,
               "dust": 7.0}
SEASON = {"power": (0.4, 15), "industry": (0.1, 15), "residential": (0.8, 15),
          "traffic": (0.15, 15), "dust": (0.6, 105)}
#: Method detection limits [µg/m³] and error fractions [1] (typical of IC, TOR and XRF/ICP-MS).
MDL = {"OC": 0.2, "EC": 0.1, "SO4": 0.1, "NO3": 0.1, "NH4": 0.1, "Cl": 0.05, "K": 0.02,
       "Ca": 0.02, "Al": 0.03, "Si": 0.03, "Fe": 0.01, "Ti": 0.005, "Mn": 0.002, "Zn": 0.005,
       "Pb": 0.005, "Cu": 0.002}
ERROR_FRACTION = {"OC": 0.10, "EC": 0.10, "SO4": 0.05, "NO3": 0.05, "NH4": 0.05, "Cl": 0.10,
                  "K": 0.08, "Ca": 0.10, "Al": 0.15, "Si": 0.15, "Fe": 0.08, "Ti": 0.15,
                  "Mn": 0.10, "Zn": 0.10, "Pb": 0.10, "Cu": 0.15}
SPRING_FESTIVAL = "2025-01-29"
FIREWORKS = {"K": 8.0, "Cl": 3.0, "Cu": 5.0, "Pb": 3.0}
FILES = ("concentrations.csv", "uncertainties.csv", "true_contributions.csv",
         "true_profiles.csv", "source_profiles.csv", "outliers.csv")


def true_profiles() -> pd.DataFrame:
    """F: rows = factors, columns = species [g/g of the factor's PM2.5 mass]."""
    prim = source_profiles()
    rows = {}
    for f in FACTORS:
        share, salt = SECONDARY_MIX[f]
        p = (1.0 - share) * prim[f].copy()
        for s, frac in _SALTS[salt].items():
            p[s] += share * frac
        rows[f] = p
    out = pd.DataFrame(rows).T[list(SPECIES)]
    out.index.name = "factor"
    return out


def sample_dates() -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", "2025-12-31", freq="3D")


def _contributions(rng, dates) -> pd.DataFrame:
    doy = dates.day_of_year.to_numpy()
    met = rng.lognormal(-0.5 * 0.4**2, 0.4, doy.size)  # shared stagnation factor, mean 1
    cols = {}
    for f in FACTORS:
        amp, peak = SEASON[f]
        season = 1.0 + amp * np.cos(2 * np.pi * (doy - peak) / 365.0)
        noise = rng.lognormal(-0.5 * 0.5**2, 0.5, doy.size)
        cols[f] = FACTOR_MEAN[f] * season * met * noise
    g = pd.DataFrame(cols, index=pd.Index(dates.strftime("%Y-%m-%d"), name="date"))
    return g


def make(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All tables of the sample (see :data:`FILES`)."""
    rng = np.random.default_rng(seed)
    dates = sample_dates()
    F = true_profiles()
    G = _contributions(rng, dates)
    x_true = G.to_numpy() @ F.to_numpy()
    mdl = np.array([MDL[s] for s in SPECIES])
    ef = np.array([ERROR_FRACTION[s] for s in SPECIES])
    sigma = np.sqrt((ef * x_true) ** 2 + (0.5 * mdl) ** 2)
    x = x_true + rng.normal(size=x_true.shape) * sigma
    x = np.where(x < mdl, 0.5 * mdl, x)
    unc = uncertainty_from_mdl(x, mdl, ef).to_numpy()  # 5/6 MDL below the limit
    conc = pd.DataFrame(x, index=G.index, columns=list(SPECIES))
    outliers = []
    fw_row = int(np.argmin(np.abs(dates - pd.Timestamp(SPRING_FESTIVAL))))  # nearest sample
    for s, k in FIREWORKS.items():
        conc.iloc[fw_row, conc.columns.get_loc(s)] *= k
        outliers.append((G.index[fw_row], s, k, "Spring Festival fireworks"))
    picks = rng.choice(np.setdiff1d(np.arange(len(G)), [fw_row]), 3, replace=False)
    for r, s in zip(picks, rng.choice(list(SPECIES), 3, replace=False), strict=True):
        k = float(rng.uniform(5.0, 10.0))
        conc.iloc[r, conc.columns.get_loc(s)] *= k
        outliers.append((G.index[r], s, round(k, 3), "gross error"))
    mass = G.sum(axis=1) * rng.normal(1.0, 0.05, len(G))
    conc.insert(0, "PM2.5", mass)
    uncd = pd.DataFrame(unc, index=G.index, columns=list(SPECIES))
    uncd.insert(0, "PM2.5", 0.05 * mass + 1.0)
    prof = source_profiles()
    prof.index.name = "species"
    return {"concentrations.csv": conc.round(5), "uncertainties.csv": uncd.round(5),
            "true_contributions.csv": G.round(5), "true_profiles.csv": F.round(6),
            "source_profiles.csv": prof,
            "outliers.csv": pd.DataFrame(outliers, columns=["date", "species", "factor",
                                                            "reason"]).set_index("date")}


def generate(out_dir: str | os.PathLike, seed: int = SEED) -> dict[str, Path]:
    """Write the sample's CSV files into ``out_dir`` (atomic writes)."""
    from .io.netcdf import atomic_write_text

    out = Path(out_dir)
    paths = {}
    for name, df in make(seed).items():
        paths[name] = atomic_write_text(out / name, df.to_csv(lineterminator="\n"))
    return paths


def bundled_dir() -> Path:
    """``data/samples/speciation`` of the source checkout."""
    return Path(__file__).resolve().parents[1] / "data" / "samples" / "speciation"


@dataclass(frozen=True)
class SpeciationSample:
    """The sample: ``concentrations`` and ``uncertainties`` (date × species, PM2.5 first)
    [µg/m³], the truth ``G`` (date × factor) [µg/m³] and ``F`` (factor × species) [g/g],
    ``profiles`` (species × sector) [g/g] and the ``outliers`` table."""

    concentrations: pd.DataFrame
    uncertainties: pd.DataFrame
    G: pd.DataFrame
    F: pd.DataFrame
    profiles: pd.DataFrame
    outliers: pd.DataFrame

    @property
    def species(self) -> list[str]:
        return list(SPECIES)


def load_speciation_sample(path: str | os.PathLike | None = None) -> SpeciationSample:
    """Read the bundled CSVs (or generate them in memory when the folder is absent)."""
    folder = Path(path) if path is not None else bundled_dir()
    if all((folder / n).is_file() for n in FILES):
        t = {n: pd.read_csv(folder / n, index_col=0) for n in FILES}
    else:
        t = make()
    return SpeciationSample(t["concentrations.csv"], t["uncertainties.csv"],
                            t["true_contributions.csv"], t["true_profiles.csv"],
                            t["source_profiles.csv"], t["outliers.csv"])


__all__ = ["generate", "make", "load_speciation_sample", "SpeciationSample", "true_profiles",
           "FACTORS", "SEED", "CITY", "SECTOR_PROFILES"]
