"""Secondary inorganic PM chemistry and first-order removal for the Eulerian grid model.

Species (:data:`SPECIES`, fixed order) are carried in µg/m³ as the mass of the species itself
(molar masses :data:`ecodss.units.MOLAR_MASS`):
SO4 as sulfate, NO3 as nitrate, NH4 as ammonium, NOx as NO2. ``NO3`` is the *total* nitrate pool
(gas-phase HNO3 + particulate NO3⁻, counted as NO3 mass); :func:`ammonium_neutralisation` splits it
into gas and particle, and :func:`pm25` counts only the neutralised (particulate) part.

Per step the driver calls :func:`chemistry_step`:

1. the linear first-order system (SO2 → SO4, NOx → NO3, NOx → organic nitrate sink, plus any
   first-order removal of every species) integrated **exactly** for rates frozen over the step;
2. the ammonium neutralisation (sulfate first, then nitrate, limited by ammonia in moles).

Sulfur and nitrogen are conserved in moles to round-off; :func:`moles` and :func:`budget_moles`
turn concentrations and the step budget into S and N amounts the driver adds up.

References
----------
Scire, J.S., Lurmann, F.W., Bass, A., Hanna, S.R. (1984). *Development of the MESOPUFF II dispersion
model*. EPA-600/3-84-057.
Scire, J.S., Strimaitis, D.G., Yamartino, R.J. (2000). *A User's Guide for the CALPUFF Dispersion
Model (Version 5)*. Earth Tech, Concord MA. Sect. 2.8 (MESOPUFF II chemistry), Sect. 2.9 (wet
removal); default control-file values of Input Groups 10 and 11.
Mozurkewich, M. (1993). The dissociation constant of ammonium nitrate and its dependence on
temperature, relative humidity and particle size. *Atmos. Environ.* 27A:261–270.
Seinfeld, J.H., Pandis, S.N. (2016). *Atmospheric Chemistry and Physics*, 3rd ed., Wiley.
Ch. 10 (ammonium sulfate/nitrate), Ch. 19 (dry deposition), Ch. 20 (wet deposition).
Zhang, L., Brook, J.R., Vet, R. (2003). A revised parameterization for gaseous dry deposition in
air-quality models. *Atmos. Chem. Phys.* 3:2067–2082.
Zhang, L., Gong, S., Padro, J., Barrie, L. (2001). A size-segregated particle dry deposition scheme
for an atmospheric aerosol module. *Atmos. Environ.* 35:549–560.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..errors import MissingFieldError, OutOfRangeError
from ..units import MOLAR_MASS, P_STANDARD, R_GAS
from ..validation import check_nonnegative, check_range, reject_unknown_fields

#: Species carried by the grid model, in this order (VOC and SOA are optional trailing species).
SPECIES = ("SO2", "SO4", "NOx", "NO3", "NH3", "NH4", "PPM25", "VOC", "SOA")

#: Atoms of each conserved element per molecule of each species.
ELEMENT_CONTENT = {"S": {"SO2": 1, "SO4": 1}, "N": {"NOx": 1, "NO3": 1, "NH3": 1, "NH4": 1}}

#: First-order reactions: key → (precursor, product or None for an untracked sink).
#: ``NOx->RNO3`` is MESOPUFF II's organic-nitrate branch (k2 − k3); its N leaves the modelled
#: species and is reported in the step budget under ``"RNO3"``.
REACTIONS = {"SO2->SO4": ("SO2", "SO4"), "NOx->NO3": ("NOx", "NO3"), "NOx->RNO3": ("NOx", None)}

#: MESOPUFF II nighttime rates [%/h]: SO2 loss (RNITE1), NOx loss (RNITE2), HNO3 formation
#: (RNITE3) — CALPUFF defaults (Scire et al. 2000, Input Group 11).
MESOPUFF2_NIGHT = {"SO2": 0.2, "NOx": 2.0, "HNO3": 2.0}

#: Floor on plume NOx [ppm] in MESOPUFF II's NOx^-0.33 / NOx^-0.12 factors (ecodss choice: keeps
#: the rate finite in clean cells, where the converted mass is negligible anyway).
NOX_FLOOR_PPM = 1e-4

#: Representative winter dry-deposition velocities [m/s], within the ranges of Seinfeld & Pandis
#: (2016, Ch. 19) and of Zhang et al. (2003) for gases / Zhang et al. (2001) for fine particles.
#: ``HNO3`` is the gas part of the NO3 pool, ``NO3p`` its particulate part.
DEPOSITION_VELOCITY = {"SO2": 0.005, "SO4": 0.0015, "NOx": 0.001, "HNO3": 0.015,
                       "NO3p": 0.0015, "NH3": 0.005, "NH4": 0.0015, "PPM25": 0.0015,
                       "VOC": 0.0, "SOA": 0.0015}

#: Wet scavenging coefficients Λ [1/s] at 1 mm/h: (liquid, frozen) precipitation. SO2, SO4, HNO3,
#: NO3 (particulate) and fine PM are CALPUFF's defaults (Scire et al. 2000, Input Group 10); NH3 is
#: taken like HNO3 (a highly soluble gas) and NH4/SOA like SO4 — ecodss choices. NOx and VOC: 0.
SCAVENGING_COEFFICIENT = {"SO2": (3.0e-5, 0.0), "SO4": (1.0e-4, 3.0e-5), "NOx": (0.0, 0.0),
                          "HNO3": (6.0e-5, 0.0), "NO3p": (1.0e-4, 3.0e-5), "NH3": (6.0e-5, 0.0),
                          "NH4": (1.0e-4, 3.0e-5), "PPM25": (1.0e-4, 3.0e-5), "VOC": (0.0, 0.0),
                          "SOA": (1.0e-4, 3.0e-5)}

_PERCENT_PER_HOUR = 0.01 / 3600.0  # %/h → 1/s
_TINY = 1e-300


# --------------------------------------------------------------------------------------- rates
def mesopuff2_rates(solar_radiation, stability_class, ozone, relative_humidity, nox):
    """MESOPUFF II first-order conversion rates [1/s] (Scire et al. 1984; CALPUFF Sect. 2.8).

    Parameters
    ----------
    solar_radiation : array_like  [W/m²]
        Total (global) solar radiation; 0 at night. Daytime formulas apply where it is > 0.
    stability_class : array_like  [1–6]
        Pasquill–Gifford class A–F as 1–6; MESOPUFF II's index S is 2 for A and B, else the class.
    ozone : array_like  [ppm]
        Background ozone mixing ratio.
    relative_humidity : array_like  [%]
    nox : array_like  [ppm]
        Local NOx mixing ratio (floored at :data:`NOX_FLOOR_PPM`).

    Returns
    -------
    dict
        ``"SO2->SO4"``, ``"NOx->NO3"``, ``"NOx->RNO3"`` rates [1/s].

    Notes
    -----
    Daytime, with R in kW/m² and rates in %/h:

    * k1 = 36 R^0.55 [O3]^0.71 S^-1.29 + 3·10⁻⁸ RH⁴ (SO2 → SO4, gas + aqueous phase)
    * k2 = 1206 [O3]^1.5 S^-1.41 [NOx]^-0.33 (total NOx oxidation: HNO3 + organic nitrates)
    * k3 = 1261 [O3]^1.45 S^-1.34 [NOx]^-0.12 (NOx → HNO3)

    Night: k1 = 0.2, k2 = 2.0, k3 = 2.0 %/h (CALPUFF RNITE1–3 defaults). NOx → NO3 uses
    min(k3, k2) and the rest of k2 goes to the organic-nitrate sink, so the NOx loss is k2.
    """
    for value, name, lo, hi, units in ((solar_radiation, "solar_radiation", 0, 1500, "W/m2"),
                                       (stability_class, "stability_class", 1, 6, ""),
                                       (ozone, "ozone", 0, 1.0, "ppm"),
                                       (relative_humidity, "relative_humidity", 0, 100, "%")):
        check_range(value, name, lo, hi, kind="cell", units=units)
    check_nonnegative(nox, "nox", kind="cell", units="ppm")
    r_kw = solar_radiation / 1000.0
    s = np.maximum(stability_class, 2.0)
    nx = np.maximum(nox, NOX_FLOOR_PPM)
    day = 1.0 * (r_kw > 0)  # plain arithmetic (no np.where) keeps xarray/dask inputs lazy
    k1_day = 36.0 * r_kw ** 0.55 * ozone ** 0.71 * s ** -1.29 + 3e-8 * relative_humidity ** 4
    k2_day = 1206.0 * ozone ** 1.5 * s ** -1.41 * nx ** -0.33
    k3_day = 1261.0 * ozone ** 1.45 * s ** -1.34 * nx ** -0.12
    k1 = day * k1_day + (1.0 - day) * MESOPUFF2_NIGHT["SO2"]
    k2 = day * k2_day + (1.0 - day) * MESOPUFF2_NIGHT["NOx"]
    k3 = np.minimum(day * k3_day + (1.0 - day) * MESOPUFF2_NIGHT["HNO3"], k2)
    return {"SO2->SO4": k1 * _PERCENT_PER_HOUR, "NOx->NO3": k3 * _PERCENT_PER_HOUR,
            "NOx->RNO3": (k2 - k3) * _PERCENT_PER_HOUR}


def constant_rates(so2_to_so4, nox_to_no3):
    """Constant conversion rates given in %/h → dict of rates [1/s] (no organic-nitrate sink).

    Parameters
    ----------
    so2_to_so4, nox_to_no3 : float or array_like  [%/h]
        E.g. the MESOPUFF II nighttime values 0.2 and 2.0 %/h (:data:`MESOPUFF2_NIGHT`).
    """
    check_nonnegative(so2_to_so4, "so2_to_so4", units="%/h")
    check_nonnegative(nox_to_no3, "nox_to_no3", units="%/h")
    return {"SO2->SO4": np.asarray(so2_to_so4, float) * _PERCENT_PER_HOUR,
            "NOx->NO3": np.asarray(nox_to_no3, float) * _PERCENT_PER_HOUR}


def conversion_rates(relative_humidity=None, *, scheme="mesopuff2", solar_radiation=None,
                     stability_class=None, ozone=0.04, nox=None, so2_to_so4=None,
                     nox_to_no3=None):
    """First-order conversion rates [1/s] by scheme name: ``"mesopuff2"`` or ``"constant"``.

    ``"mesopuff2"`` needs ``relative_humidity`` [%], ``solar_radiation`` [W/m²],
    ``stability_class`` [1–6], ``ozone`` [ppm] and ``nox`` [ppm] (:func:`mesopuff2_rates`);
    ``"constant"`` needs ``so2_to_so4`` and ``nox_to_no3`` [%/h] (:func:`constant_rates`).
    Temperature does not enter these rates; it enters the nitrate equilibrium
    (:func:`ammonium_neutralisation`).
    """
    if scheme == "mesopuff2":
        given = {"relative_humidity": relative_humidity, "solar_radiation": solar_radiation,
                 "stability_class": stability_class, "nox": nox}
        missing = [k for k, v in given.items() if v is None]
        if missing:
            raise MissingFieldError(f"scheme 'mesopuff2' needs {missing}", field=missing[0],
                                    where="conversion_rates")
        return mesopuff2_rates(solar_radiation, stability_class, ozone, relative_humidity, nox)
    if scheme == "constant":
        if so2_to_so4 is None or nox_to_no3 is None:
            raise MissingFieldError("scheme 'constant' needs so2_to_so4 and nox_to_no3 [%/h]",
                                    field="so2_to_so4" if so2_to_so4 is None else "nox_to_no3",
                                    where="conversion_rates")
        return constant_rates(so2_to_so4, nox_to_no3)
    reject_unknown_fields([scheme], ["mesopuff2", "constant"], where="conversion_rates scheme")


# ------------------------------------------------------------------------------------ removal
def dry_deposition_loss(vd, dz_lowest, nz=None):
    """First-order dry-deposition loss rate vd/Δz [1/s] of the lowest model layer.

    Parameters
    ----------
    vd : float or array_like  [m/s]
        Deposition velocity (see :data:`DEPOSITION_VELOCITY`).
    dz_lowest : float  [m]
        Thickness of the lowest layer (Seinfeld & Pandis 2016, Eq. 19.1: flux = vd·C).
    nz : int, optional
        When given, return an array (nz, 1, 1) with the rate in layer 0 and zero above.
    """
    check_nonnegative(vd, "vd", units="m/s")
    check_range(dz_lowest, "dz_lowest", 0, None, lo_inclusive=False, units="m")
    rate = np.asarray(vd, float) / float(dz_lowest)
    if nz is None:
        return rate
    prof = np.zeros((int(nz), 1, 1))
    prof[0] = rate
    return prof


def wet_scavenging_rate(precip_mm_per_h, species, frozen=False):
    """Wet scavenging rate λ = Λ·(P / 1 mm/h) [1/s] (Scire et al. 2000, Sect. 2.9).

    Parameters
    ----------
    precip_mm_per_h : array_like  [mm/h]
    species : str
        A key of :data:`SCAVENGING_COEFFICIENT` (``"HNO3"``/``"NO3p"`` for the nitrate pool's gas
        and particle parts; ``"NO3"`` means particulate nitrate).
    frozen : bool
        Use the frozen-precipitation coefficient.
    """
    key = "NO3p" if species == "NO3" else species
    reject_unknown_fields([key], SCAVENGING_COEFFICIENT, where="wet_scavenging_rate species")
    check_nonnegative(precip_mm_per_h, "precipitation", units="mm/h")
    return SCAVENGING_COEFFICIENT[key][1 if frozen else 0] * np.asarray(precip_mm_per_h, float)


def removal_rates(c, species=SPECIES, *, dz_lowest=None, nz=None, precipitation=0.0,
                  frozen=False, deposition_velocity=None):
    """Per-process first-order removal rates for :func:`chemistry_step`.

    Returns ``{"dry": {species: rate}, "wet": {species: rate}}`` [1/s]. The NO3 pool's rate is
    weighted by its particulate fraction in ``c`` (from the neutralised state: gas HNO3 deposits
    and scavenges faster than nitrate particles). Dry deposition acts in the lowest layer only
    (``nz`` layers, axis -3 of each species field) or everywhere when ``nz`` is None.
    """
    amounts = _as_mapping(c, species)
    vd = dict(DEPOSITION_VELOCITY, **(deposition_velocity or {}))
    frac = _particulate_nitrate_fraction(amounts) if "NO3" in amounts else None
    dry, wet = {}, {}
    for name in amounts:
        if name == "NO3":
            gas, part = ("HNO3", "NO3p")
            w = wet_scavenging_rate(precipitation, "HNO3", frozen) * (1 - frac) \
                + wet_scavenging_rate(precipitation, "NO3p", frozen) * frac
            v = vd[gas] * (1 - frac) + vd[part] * frac
        else:
            w = wet_scavenging_rate(precipitation, name, frozen)
            v = vd[name]
        wet[name] = w
        if dz_lowest is not None:
            per_m = dry_deposition_loss(1.0, dz_lowest, nz)  # 1/Δz in layer 0 [1/m]
            if nz is not None and isinstance(amounts[name], xr.DataArray):
                per_m = xr.DataArray(per_m[:, 0, 0], dims=(amounts[name].dims[-3],))
            dry[name] = per_m * v
    return {"dry": dry, "wet": wet} if dry else {"wet": wet}


# ------------------------------------------------------------------------------ neutralisation
def nh4no3_dissociation_constant(temperature):
    """K_p of NH4NO3(s) ⇌ NH3(g) + HNO3(g) [ppb²] (Mozurkewich 1993; Seinfeld & Pandis 2016, §10.4).

    ln K_p = 118.87 − 24084/T − 6.025 ln T, T in K; for the dry (solid) salt below deliquescence.
    """
    check_range(temperature, "temperature", 200, 340, kind="cell", units="K")
    return np.exp(118.87 - 24084.0 / temperature - 6.025 * np.log(temperature))


def ammonium_neutralisation(SO4, NO3, NH3, NH4, temperature=None, pressure=P_STANDARD):
    """Share total ammonia between sulfate and nitrate, in moles (sulfate first).

    Parameters
    ----------
    SO4, NO3, NH3, NH4 : array_like  [µg/m³]
        Sulfate, total nitrate (HNO3 + NO3⁻ as NO3), ammonia and ammonium.
    temperature : array_like, optional  [K]
        None: complete neutralisation, particulate nitrate = min(nitrate, ammonia left after
        sulfate). Given: NH4NO3 forms only until p_NH3·p_HNO3 = K_p(T)
        (:func:`nh4no3_dissociation_constant`).
    pressure : float  [Pa]
        Converts K_p [ppb²] to (µmol/m³)².

    Returns
    -------
    dict
        ``NH3``, ``NH4`` (updated) and the PM composition ``SO4``, ``NO3_particulate``,
        ``HNO3`` (gas, as NO3 mass), all µg/m³.

    Notes
    -----
    Ammonia neutralises sulfate up to (NH4)2SO4 (2 mol per mol sulfate); what is left forms
    NH4NO3 with the nitrate (Seinfeld & Pandis 2016, §10.4; the sulfate-first ordering of
    CALPUFF's MESOPUFF II equilibrium). Sulfate is all particulate; nitrate without ammonia stays
    gas-phase HNO3 inside the NO3 pool. N and S moles are conserved exactly.
    """
    m = MOLAR_MASS
    s = SO4 / m["SO4"]
    n = NO3 / m["NO3"]
    a = NH3 / m["NH3"] + NH4 / m["NH4"]
    a_s = np.minimum(a, 2.0 * s)
    free = a - a_s
    x = np.minimum(free, n)
    if temperature is not None:
        ppb_per_umol = 1e3 * R_GAS * temperature / pressure
        kp = nh4no3_dissociation_constant(temperature) / ppb_per_umol ** 2
        # (free - x)(n - x) = Kp, the root below min(free, n)
        x = 0.5 * ((free + n) - np.sqrt((free - n) ** 2 + 4.0 * kp))
        x = np.minimum(np.maximum(x, 0.0), np.minimum(free, n))
    return {"NH3": (free - x) * m["NH3"], "NH4": (a_s + x) * m["NH4"], "SO4": SO4,
            "NO3_particulate": x * m["NO3"], "HNO3": (n - x) * m["NO3"]}


def _particulate_nitrate_fraction(amounts):
    """Particulate share of the NO3 pool implied by a neutralised state (0 where no nitrate)."""
    p = particulate_nitrate(amounts)
    return p / np.maximum(amounts["NO3"], _TINY)


def particulate_nitrate(c, species=SPECIES):
    """Particulate nitrate [µg/m³] of a neutralised state: NH4 beyond (NH4)2SO4, capped by NO3."""
    d = _as_mapping(c, species)
    zero = 0.0 * d["NO3"]
    nh4 = d.get("NH4", zero) / MOLAR_MASS["NH4"]
    so4 = d.get("SO4", zero) / MOLAR_MASS["SO4"]
    x = np.minimum(np.maximum(nh4 - 2.0 * so4, 0.0), d["NO3"] / MOLAR_MASS["NO3"])
    return x * MOLAR_MASS["NO3"]


def pm25(c, species=SPECIES):
    """PM2.5 [µg/m³] = PPM25 + SO4 + particulate NO3 + NH4 (+ SOA) of a neutralised state."""
    d = _as_mapping(c, species)
    total = 0.0
    for name in ("PPM25", "SO4", "NH4", "SOA"):
        if name in d:
            total = total + d[name]
    if "NO3" in d:
        total = total + particulate_nitrate(d)
    return total


# ---------------------------------------------------------------------------- chemistry step
def _decay_integral(k, dt):
    """∫₀^dt e^{-k t} dt = (1 − e^{-k dt})/k, exact also for k → 0."""
    d = np.maximum(k * dt, _TINY)
    return dt * (-np.expm1(-d)) / d


def _chain_integral(ka, kb, dt):
    """∫₀^dt e^{-ka s} e^{-kb (dt - s)} ds = (e^{-kb dt} − e^{-ka dt})/(ka − kb), stable at ka ≈ kb."""
    lo, hi = np.minimum(ka, kb), np.maximum(ka, kb)
    d = np.maximum((hi - lo) * dt, _TINY)
    return dt * np.exp(-lo * dt) * (-np.expm1(-d)) / d


def chemistry_step(c, dt, rates, species=SPECIES, loss=None, temperature=None,
                   pressure=P_STANDARD, neutralise=True):
    """Advance chemistry and first-order removal by ``dt`` seconds, exactly for frozen rates.

    Parameters
    ----------
    c : ndarray (S, ...), xarray.DataArray with a ``species`` dim, or mapping name → array
        Concentrations [µg/m³]; axis 0 / the ``species`` dim follows ``species``.
    dt : float  [s]
    rates : mapping
        Reaction rates [1/s] keyed as in :data:`REACTIONS` (missing keys are zero), e.g. from
        :func:`conversion_rates`. Arrays broadcast against each species field.
    species : sequence of str
        Names along axis 0 of ``c`` (a subset of :data:`SPECIES`, in any order).
    loss : mapping, optional
        ``{process: {species: rate [1/s]}}`` first-order removal (dry deposition, wet scavenging,
        decay), e.g. from :func:`removal_rates`.
    temperature, pressure : optional
        Passed to :func:`ammonium_neutralisation` ([K], [Pa]).
    neutralise : bool
        Apply the ammonium neutralisation after the linear step.

    Returns
    -------
    c_new : same type as ``c``
    budget : dict
        ``budget["removed"][process][species]`` and ``budget["RNO3"]`` (NOx mass to organic
        nitrate) [µg/m³ over the step]; convert with :func:`budget_moles`.

    Notes
    -----
    For a precursor A with reactions k_r and losses l_p, and its product B with losses l_B,
    A(dt) = A₀ e^{−κ dt}, κ = Σk_r + Σl_p, and
    B(dt) = B₀ e^{−l_B dt} + ν k_r A₀ (e^{−l_B dt} − e^{−κ dt})/(κ − l_B),
    with ν = M_B/M_A the molar conversion (one S or N atom each), the exact solution of the linear
    system. Each process removes l_p ∫C dt; the product's removal is closed by difference, so
    S and N moles balance to round-off. Concentrations stay ≥ 0 for any dt.
    """
    check_range(dt, "dt", 0, None, lo_inclusive=False, units="s")
    reject_unknown_fields(rates, REACTIONS, where="chemistry_step rates")
    amounts = _as_mapping(c, species)
    loss = loss or {}
    for proc in loss.values():
        reject_unknown_fields(proc, amounts, where="chemistry_step loss")
    zero = {name: 0.0 for name in amounts}
    l_tot = {name: sum(proc.get(name, 0.0) for proc in loss.values()) for name in amounts}
    k_out = dict(zero)
    for key, k in rates.items():
        pre, prod = REACTIONS[key]
        if pre not in amounts:
            continue
        if prod is not None and prod not in amounts:
            raise MissingFieldError(f"reaction {key} needs species {prod!r} in the state",
                                    field=prod, where="chemistry_step")
        k_out[pre] = k_out[pre] + k
    new = {}
    formed = dict(zero)  # product mass formed over the step
    chain = dict(zero)  # product mass formed and still present at dt
    budget = {"removed": {p: {} for p in loss}, "RNO3": 0.0}
    for name, c0 in amounts.items():
        kappa = k_out[name] + l_tot[name]
        integral = c0 * _decay_integral(kappa, dt)  # ∫ C dt
        new[name] = c0 * np.exp(-kappa * dt)
        for proc, rates_p in loss.items():
            if name in rates_p:
                budget["removed"][proc][name] = rates_p[name] * integral
        for key, k in rates.items():
            pre, prod = REACTIONS[key]
            if pre != name:
                continue
            if prod is None:  # untracked sink (organic nitrate)
                budget["RNO3"] = budget["RNO3"] + k * integral
                continue
            nu = MOLAR_MASS[prod] / MOLAR_MASS[name]
            formed[prod] = formed[prod] + nu * k * integral
            chain[prod] = chain[prod] + nu * k * c0 * _chain_integral(kappa, l_tot[prod], dt)
    for name in amounts:
        if isinstance(formed[name], float) and formed[name] == 0.0:
            continue
        new[name] = new[name] + chain[name]
        # close the product's removal by difference: C0 + formed − C(dt)
        lb = l_tot[name]
        gone = amounts[name] + formed[name] - new[name]
        for proc, rates_p in loss.items():
            if name in rates_p:
                budget["removed"][proc][name] = gone * rates_p[name] / np.maximum(lb, _TINY)
    if neutralise and all(s in new for s in ("SO4", "NO3", "NH3", "NH4")):
        parts = ammonium_neutralisation(new["SO4"], new["NO3"], new["NH3"], new["NH4"],
                                        temperature, pressure)
        new["NH3"], new["NH4"] = parts["NH3"], parts["NH4"]
    return _like(c, new, species), budget


def moles(c, element, species=SPECIES):
    """Amount of ``element`` (``"S"`` or ``"N"``) [µmol/m³] in concentrations [µg/m³]."""
    reject_unknown_fields([element], ELEMENT_CONTENT, where="moles element")
    d = _as_mapping(c, species)
    total = 0.0
    for name, count in ELEMENT_CONTENT[element].items():
        if name in d:
            total = total + count * d[name] / MOLAR_MASS[name]
    return total


def budget_moles(budget, element):
    """S or N [µmol/m³] that left the modelled species during a step, per process.

    Returns ``{process: amount}``; for N also ``"RNO3"`` (MESOPUFF II organic nitrates).
    """
    out = {proc: moles(per_species, element) for proc, per_species in budget["removed"].items()}
    if element == "N":
        out["RNO3"] = budget["RNO3"] / MOLAR_MASS["NOx"]
    return out


# -------------------------------------------------------------------------------- containers
def _as_mapping(c, species):
    """View ``c`` as {name: field}; ndarray/DataArray along axis 0 / dim ``species``."""
    if isinstance(c, xr.Dataset):
        return {k: c[k] for k in c.data_vars}
    if isinstance(c, Mapping):
        return dict(c)
    if isinstance(c, xr.DataArray):
        names = [str(s) for s in c["species"].values] if "species" in c.coords else list(species)
        return {name: c.isel(species=i) for i, name in enumerate(names)}
    arr = np.asarray(c) if not hasattr(c, "__array_function__") else c
    if arr.shape[0] != len(species):
        raise OutOfRangeError(f"state has {arr.shape[0]} species along axis 0, expected "
                              f"{len(species)} ({list(species)})", field="species",
                              where="chemistry")
    return {name: arr[i] for i, name in enumerate(species)}


def _like(c, new, species):
    """Pack ``new`` back into the container type of ``c``."""
    if isinstance(c, xr.Dataset):
        return c.assign(new)
    if isinstance(c, Mapping):
        return new
    if isinstance(c, xr.DataArray):
        names = [str(s) for s in c["species"].values] if "species" in c.coords else list(species)
        fields = [xr.DataArray(new[n]).drop_vars("species", errors="ignore") for n in names]
        out = xr.concat(fields, dim="species", coords="minimal", compat="override")
        if "species" in c.coords:
            out = out.assign_coords(species=c["species"].values)
        return out.transpose(*c.dims).assign_attrs(c.attrs)
    return np.stack([np.broadcast_to(new[n], c.shape[1:]) for n in species])
