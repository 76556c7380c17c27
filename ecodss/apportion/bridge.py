"""Bridge between source-oriented and receptor-oriented apportionment.

The inventory's PM2.5 emissions are speciated with sector source profiles, the source–receptor
matrix (:func:`ecodss.apportion.source_receptor`) turns them into each sector's chemical
composition at a city, and a receptor model's factors (PMF or CMB) are matched to sectors by
profile correlation, so the two apportionments can be tabled and plotted side by side.

Source profiles (:data:`SECTOR_PROFILES`): mass fractions [g/g] of primary PM2.5 for the five
emitting sectors of the regional sample. They are **representative rounded composites**, chosen
within the ranges of the Chinese primary-profile review of Bi et al. (2019) (coal combustion with
high SO4 and crustal elements from fly ash and desulfurisation; steel/industrial processes rich in
Fe, Mn, Zn, Pb, Cl; residential coal and biomass with OC, EC, K, Cl; vehicle exhaust dominated by
OC and EC; road and soil dust by Si, Al, Ca, Fe) and of the corresponding SPECIATE 5.x composite
categories (US EPA SPECIATE 5.x). They are not a copy of any single measured
profile: local profiles should replace them in real applications.

References
----------
* Bi, X. et al. (2019) Characteristics of the main primary source profiles of particulate matter
  across China from 1987 to 2017. *Atmos. Chem. Phys.* 19, 3223–3243,
  doi:10.5194/acp-19-3223-2019.
* US EPA, SPECIATE database version 5.x (speciation profiles of PM emissions), Office of
  Research and Development.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingFieldError
from ..validation import check_nonnegative

#: Species of the profiles (mass fractions of PM2.5 [g/g]).
SPECIES = ("OC", "EC", "SO4", "NO3", "NH4", "Cl", "K", "Ca", "Al", "Si", "Fe", "Ti", "Mn", "Zn",
           "Pb", "Cu")
#: Primary PM2.5 source profiles [g/g] per sector (representative composites, see module notes).
SECTOR_PROFILES = {
    #          OC     EC     SO4    NO3    NH4    Cl     K      Ca     Al     Si     Fe     Ti
    #          Mn      Zn      Pb      Cu
    "power": (0.050, 0.020, 0.200, 0.010, 0.005, 0.010, 0.005, 0.060, 0.070, 0.120, 0.030, 0.005,
              0.0005, 0.0010, 0.0005, 0.0002),
    "industry": (0.060, 0.020, 0.100, 0.010, 0.010, 0.050, 0.040, 0.060, 0.015, 0.030, 0.150,
                 0.001, 0.0060, 0.0150, 0.0100, 0.0010),
    "residential": (0.350, 0.120, 0.060, 0.010, 0.015, 0.060, 0.040, 0.008, 0.008, 0.015, 0.005,
                    0.0005, 0.0002, 0.0020, 0.0010, 0.0002),
    "traffic": (0.300, 0.350, 0.020, 0.020, 0.005, 0.005, 0.002, 0.010, 0.003, 0.010, 0.010,
                0.0002, 0.0003, 0.0060, 0.0005, 0.0030),
    "dust": (0.060, 0.010, 0.015, 0.007, 0.002, 0.005, 0.020, 0.090, 0.070, 0.200, 0.040, 0.004,
             0.0008, 0.0005, 0.0002, 0.0001),
}
#: Species formed from gaseous precursors (secondary inorganic aerosol) in Eulerian runs.
SECONDARY = ("SO4", "NO3", "NH4")
#: Names of primary PM2.5 in source–receptor datasets (inventory pollutant, Eulerian species).
PRIMARY_PM = ("PM2.5", "PPM25")


def source_profiles() -> pd.DataFrame:
    """:data:`SECTOR_PROFILES` as a table: rows = species, columns = sectors [g/g]."""
    return pd.DataFrame(SECTOR_PROFILES, index=list(SPECIES))


def speciate(emission, profiles: pd.DataFrame | None = None) -> xr.DataArray:
    """Speciated primary PM2.5 emissions [same unit as ``emission``] (sector, species).

    ``emission`` is PM2.5 per sector (pandas Series or 1-D DataArray with dim ``sector`` or
    ``source``); each is multiplied by its sector's profile (E_s,k = E_s · f_k,s).
    """
    profiles = source_profiles() if profiles is None else profiles
    e = emission.to_series() if isinstance(emission, xr.DataArray) else pd.Series(emission)
    missing = [s for s in e.index if s not in profiles.columns]
    if missing:
        raise MissingFieldError(f"no source profile for sector {missing[0]!r}",
                                field=str(missing[0]), where="profiles")
    check_nonnegative(e.to_numpy(float), "PM2.5", ids=list(map(str, e.index)), kind="sector")
    values = e.to_numpy(float)[:, None] * profiles[list(e.index)].to_numpy(float).T
    return xr.DataArray(values, dims=("sector", "species"),
                        coords={"sector": list(map(str, e.index)),
                                "species": list(profiles.index)},
                        attrs={"long_name": "speciated primary PM2.5 emission"})


def _pm_species(sr: xr.Dataset):
    prim = [s for s in PRIMARY_PM if s in sr["species"].values]
    if not prim:
        raise MissingFieldError(f"source-receptor dataset has no primary PM species "
                                f"({PRIMARY_PM})", field="species", where="source_receptor")
    return prim[0], [s for s in SECONDARY if s in sr["species"].values]


def sector_composition(sr: xr.Dataset, receptor: str,
                       profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each sector's PM2.5 composition at ``receptor`` [µg/m³] (rows sectors, columns species).

    Primary PM2.5 contributions are speciated with the sector profiles; secondary SO4, NO3 and
    NH4 contributions of the source–receptor matrix (Eulerian runs) are added to those species.
    Groups without a profile (e.g. the ``boundary`` tag) are left out. Time-mean values.
    """
    profiles = source_profiles() if profiles is None else profiles
    primary, secondary = _pm_species(sr)
    c = sr["contribution"].sel(receptor=receptor)
    if "time" in c.dims:
        c = c.mean("time")
    sectors = [s for s in map(str, c["source"].values) if s in profiles.columns]
    out = speciate(c.sel(source=sectors, species=primary).to_series().rename_axis("sector"),
                   profiles).to_pandas()
    for s in secondary:
        out[s] = out[s] + c.sel(source=sectors, species=s).to_numpy()
    return out


def inventory_shares(sr: xr.Dataset, receptor: str) -> pd.Series:
    """Share [%] of each group in the modelled PM2.5 at ``receptor`` (primary + secondary
    species of the matrix, time mean; includes ``boundary`` when present)."""
    primary, secondary = _pm_species(sr)
    c = sr["contribution"].sel(receptor=receptor, species=[primary, *secondary]).sum("species")
    if "time" in c.dims:
        c = c.mean("time")
    s = c.to_series()
    return 100.0 * s / s.sum()


def match_factors(factor_profiles: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Match receptor-model factors to sectors by the Pearson correlation of their profiles.

    Parameters
    ----------
    factor_profiles : DataFrame
        Rows = factors, columns = species (any units: correlation is scale-free).
    reference : DataFrame
        Rows = sectors, columns = species (e.g. :func:`sector_composition`).

    Returns
    -------
    DataFrame indexed by factor: ``sector`` and its correlation ``r``; each sector is used once
    (maximum total correlation, Hungarian algorithm) while there are at least as many sectors as
    factors, remaining factors take their best sector. The full matrix is in ``attrs["r"]``.
    """
    from scipy.optimize import linear_sum_assignment

    common = [s for s in factor_profiles.columns if s in reference.columns]
    if len(common) < 3:
        raise MissingFieldError(f"factor and reference profiles share {len(common)} species "
                                "(need ≥ 3)", field="species", where="match_factors")
    a = factor_profiles[common].to_numpy(float)
    b = reference[common].to_numpy(float)
    za = (a - a.mean(1, keepdims=True)) / a.std(1, keepdims=True)
    zb = (b - b.mean(1, keepdims=True)) / b.std(1, keepdims=True)
    r = za @ zb.T / len(common)
    rows, cols = linear_sum_assignment(-r)
    best = r.argmax(1)
    best[rows] = cols
    out = pd.DataFrame({"sector": reference.index.to_numpy()[best],
                        "r": r[np.arange(len(a)), best]}, index=factor_profiles.index)
    out.index.name = "factor"
    out.attrs["r"] = pd.DataFrame(r, index=factor_profiles.index, columns=reference.index)
    return out


def compare_apportionment(factor_contributions: pd.DataFrame, factor_profiles: pd.DataFrame,
                          sr: xr.Dataset, receptor: str, *,
                          profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Inventory-based versus receptor-model sector shares of PM2.5 at one city.

    Parameters
    ----------
    factor_contributions : DataFrame  [µg/m³]
        Receptor-model contributions, rows = samples, columns = factors (PMF G in mass units, or
        ``cmb(...)["contribution"].to_pandas()``).
    factor_profiles : DataFrame
        Rows = factors, columns = species (PMF F, or the CMB profiles transposed).
    sr : xr.Dataset
        Source–receptor matrix with the city as a receptor.
    receptor : str
        The city.
    profiles : DataFrame, optional
        Sector source profiles (default :func:`source_profiles`).

    Returns
    -------
    DataFrame indexed by sector: ``inventory_share`` [%] (of the modelled PM2.5, boundary
    inflow listed as its own row), ``receptor_share`` [%] (mean contribution of the factors
    mapped to the sector over the mean sum of all factors), ``factors`` (names), ``r`` (lowest
    correlation of its factors). ``attrs["mapping"]`` is the :func:`match_factors` table.
    """
    ref = sector_composition(sr, receptor, profiles)
    mapping = match_factors(factor_profiles, ref)
    means = factor_contributions[list(factor_profiles.index)].mean()
    rec = (100.0 * means / means.sum()).groupby(mapping["sector"]).sum()
    inv = inventory_shares(sr, receptor)
    table = pd.DataFrame({"inventory_share": inv}).join(
        rec.rename("receptor_share"), how="outer")
    grouped = mapping.reset_index().groupby("sector")
    table["factors"] = grouped["factor"].agg(lambda f: ", ".join(map(str, f)))
    table["r"] = grouped["r"].min()
    table.index.name = "sector"
    table.attrs["mapping"] = mapping
    return table


def plot_comparison(table: pd.DataFrame, ax=None, title: str | None = None):
    """Grouped bars of inventory-based and receptor-model shares [%] per sector (matplotlib)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["inventory_share"].fillna(0), 0.4, label="inventory + dispersion")
    ax.bar(x + 0.2, table["receptor_share"].fillna(0), 0.4, label="receptor model")
    ax.set_xticks(x, table.index, rotation=20)
    ax.set_ylabel("share of PM2.5 [%]")
    ax.set_title(title or "Source apportionment: inventory vs receptor model")
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure


__all__ = ["SECTOR_PROFILES", "SPECIES", "source_profiles", "speciate", "sector_composition",
           "inventory_shares", "match_factors", "compare_apportionment", "plot_comparison"]
