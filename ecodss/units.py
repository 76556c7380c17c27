"""Unit conversions used at the boundaries of ecodss (SI inside).

* Mass-rate units are converted to g/s (emissions) — a year is 365 days (8760 h), the convention of
  annual emission inventories (e.g. MEIC, Li et al. 2017, ACP 17:935).
* Mixing ratio ↔ mass concentration uses the ideal-gas law:
  C[µg/m³] = ppb · M · p / (R · T) · 1e-3, with R = 8.314462618 J/(mol K)
  (Seinfeld & Pandis 2016, *Atmospheric Chemistry and Physics*, 3rd ed., Eq. 1.6 and Table 1.3).
  At 25 °C and 1 atm this is the familiar C = ppb · M / 24.45.
"""

from __future__ import annotations

from .errors import UnitError

R_GAS = 8.314462618  # J mol-1 K-1 (CODATA 2018)
SECONDS_PER_YEAR = 365.0 * 86400.0
P_STANDARD = 101325.0  # Pa
T_STANDARD = 298.15  # K, 25 °C (HJ 633/GB 3095-2012 reference state for gases since the 2018 amendment)

#: Standard atomic weights [g/mol], the IUPAC conventional values for the elements whose standard
#: atomic weight is an interval (Meija et al. 2016, "Atomic weights of the elements 2013", *Pure
#: Appl. Chem.* 88:265-291; unchanged in the abridged values of Prohaska et al. 2022, *Pure Appl.
#: Chem.* 94:573).
ATOMIC_WEIGHT = {"H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "S": 32.06}

_FORMULA = {"SO2": {"S": 1, "O": 2}, "NO2": {"N": 1, "O": 2}, "NOx": {"N": 1, "O": 2},
            "NO": {"N": 1, "O": 1}, "O3": {"O": 3}, "CO": {"C": 1, "O": 1},
            "NH3": {"N": 1, "H": 3}, "SO4": {"S": 1, "O": 4}, "NO3": {"N": 1, "O": 3},
            "HNO3": {"H": 1, "N": 1, "O": 3}, "NH4": {"N": 1, "H": 4}}

#: Molar masses [g/mol] from :data:`ATOMIC_WEIGHT`. NOx is expressed as NO2 (the inventory
#: convention); SO4, NO3 and NH4 are the sulfate, nitrate and ammonium ions.
MOLAR_MASS = {name: sum(ATOMIC_WEIGHT[el] * n for el, n in formula.items())
              for name, formula in _FORMULA.items()}

#: Factors that convert each accepted mass-rate unit to g/s.
_RATE_TO_GPS = {
    "g/s": 1.0,
    "kg/s": 1e3,
    "kg/h": 1e3 / 3600.0,
    "kg/d": 1e3 / 86400.0,
    "t/d": 1e6 / 86400.0,
    "t/yr": 1e6 / SECONDS_PER_YEAR,
    "kg/yr": 1e3 / SECONDS_PER_YEAR,
    "g/h": 1.0 / 3600.0,
}
_ALIASES = {"t/a": "t/yr", "t/y": "t/yr", "tonne/yr": "t/yr", "tons/yr": "t/yr", "kg/a": "kg/yr",
            "g s-1": "g/s", "kg h-1": "kg/h", "t yr-1": "t/yr", "t a-1": "t/yr"}


def _rate_factor(unit: str, field: str = "rate") -> float:
    key = _ALIASES.get(unit.strip(), unit.strip())
    try:
        return _RATE_TO_GPS[key]
    except KeyError:
        known = ", ".join(sorted(_RATE_TO_GPS))
        raise UnitError(f"unknown mass-rate unit {unit!r} for {field}; expected one of {known}",
                        field=field) from None


def rate_to_gps(value, unit: str, field: str = "rate"):
    """Convert a mass emission rate in ``unit`` (e.g. ``"t/yr"``, ``"kg/h"``) to g/s."""
    return value * _rate_factor(unit, field)


def gps_to_rate(value, unit: str, field: str = "rate"):
    """Convert g/s to a mass-rate ``unit``; the inverse of :func:`rate_to_gps`."""
    return value / _rate_factor(unit, field)


def tpy_to_gps(tonnes_per_year):
    """Tonnes per year (365-day year) → g/s."""
    return rate_to_gps(tonnes_per_year, "t/yr")


def gps_to_tpy(grams_per_second):
    """g/s → tonnes per year (365-day year)."""
    return gps_to_rate(grams_per_second, "t/yr")


def _molar_mass(species: str) -> float:
    try:
        return MOLAR_MASS[species]
    except KeyError:
        raise UnitError(f"no molar mass for species {species!r}; known: {sorted(MOLAR_MASS)}",
                        field="species") from None


def ppb_to_ugm3(ppb, species: str, temperature=T_STANDARD, pressure=P_STANDARD):
    """Mixing ratio [ppb] → mass concentration [µg/m³] at temperature [K] and pressure [Pa].

    C = x · M · p / (R T) with x = ppb·1e-9 mol/mol, giving g/m³; ×1e6 for µg/m³
    (Seinfeld & Pandis 2016, Eq. 1.6).
    """
    return ppb * _molar_mass(species) * pressure / (R_GAS * temperature) * 1e-3


def ugm3_to_ppb(ugm3, species: str, temperature=T_STANDARD, pressure=P_STANDARD):
    """Mass concentration [µg/m³] → mixing ratio [ppb]; inverse of :func:`ppb_to_ugm3`."""
    return ugm3 * R_GAS * temperature / (_molar_mass(species) * pressure * 1e-3)
