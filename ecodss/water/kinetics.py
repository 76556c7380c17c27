"""River water-quality kinetics in the QUAL2K formulation.

Plain vectorized functions (oxygen saturation, reaeration formulas, temperature correction, oxygen
inhibition, ammonium preference, sediment diagenesis) and kinetics objects the solvers call:
:class:`ConservativeTracer`, :class:`FirstOrderDecay` and :class:`Qual2KKinetics`.

Units follow QUAL2K: DO and CBOD [mgO2 L-1], nitrogen [µgN L-1], phosphorus [µgP L-1], detritus
and inorganic solids [mgD L-1], bottom algae [gD m-2]; rates [d-1]; temperature [°C].

References
----------
Chapra, S.C., Pelletier, G.J. and Tao, H. (2008). QUAL2K v2.11 Documentation and Users Manual,
Tufts University, Section 4 "Constituent model" (temperature effects, oxygen inhibition, each
constituent's reactions, reaeration, sediment diagenesis, bottom algae) — as coded in QUAL2Kw 5.1
(Pelletier; repository rmolina/qual2kw-ver5: ``src/m_derivs.f90`` ``derivs``,
``src/m_oxygen.f90``, ``src/m_tempadjust.f90``, ``src/m_sedcalcnew.f90``, ``src/m_rates.f90``).
APHA (1992). Standard Methods, 18th ed. (oxygen saturation, Benson–Krause form).
Di Toro, D.M. (2001). *Sediment Flux Modeling*, Wiley (two-layer diagenesis model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from ..errors import InvalidValueError
from .analytic import elementwise

# --------------------------------------------------------------------------- plain functions


@elementwise
def arrhenius(k20, theta, temperature):
    """Rate at temperature T: k(T) = k20 θ^(T − 20)  [same units as k20].

    Chapra et al. (2008) QUAL2K v2.11 documentation, Section 4 (temperature effects).
    """
    return np.asarray(k20) * np.asarray(theta) ** (np.asarray(temperature) - 20.0)


@elementwise
def oxygen_saturation(temperature, elevation=0.0):
    """Dissolved-oxygen saturation [mgO2 L-1] at temperature [°C] and elevation [m].

    ln Os = −139.34411 + 1.575701e5/Ta − 6.642308e7/Ta² + 1.2438e10/Ta³ − 8.621949e11/Ta⁴,
    Ta in K (APHA 1992; Benson and Krause), times the elevation correction (1 − 0.0001148 elev)
    used by QUAL2K (QUAL2Kw 5.1 ``oxygen_saturation``). 9.0924 mg/L at 20 °C, sea level.
    """
    ta = np.asarray(temperature, dtype=float) + 273.15
    ln_os = (-139.34411 + 1.575701e5 / ta - 6.642308e7 / ta ** 2 + 1.2438e10 / ta ** 3
             - 8.621949e11 / ta ** 4)
    return np.exp(ln_os) * (1.0 - 0.0001148 * np.asarray(elevation, dtype=float))


@elementwise
def oconnor_dobbins(velocity, depth):
    """O'Connor–Dobbins reaeration ka(20) = 3.93 U^0.5 / H^1.5 [d-1], U [m s-1], H [m].

    O'Connor, D.J. and Dobbins, W.E. (1958) Mechanism of reaeration in natural streams. Trans.
    ASCE 123, 641-684 (the surface-renewal form ka = (D_O2 U / H^3)^0.5 with D_O2 at 20 °C); SI
    coefficient as in Chapra et al. (2008) QUAL2K v2.11, Section 4 (reaeration), eq. number not
    verified.
    """
    return 3.93 * np.asarray(velocity) ** 0.5 / np.asarray(depth) ** 1.5


@elementwise
def churchill(velocity, depth):
    """Churchill et al. reaeration ka(20) = 5.026 U / H^1.67 [d-1], U [m s-1], H [m].

    Churchill, M.A., Elmore, H.L. and Buckingham, R.A. (1962) The prediction of stream
    reaeration rates. J. Sanit. Eng. Div. ASCE 88(SA4), 1-46 (fitted 5.03 U^0.969 H^-1.673; the
    rounded exponents are QUAL2K's: Chapra et al. 2008, Section 4, eq. number not verified).
    """
    return 5.026 * np.asarray(velocity) / np.asarray(depth) ** 1.67


@elementwise
def owens_gibbs(velocity, depth):
    """Owens–Gibbs reaeration ka(20) = 5.32 U^0.67 / H^1.85 [d-1], U [m s-1], H [m].

    Owens, M., Edwards, R.W. and Gibbs, J.W. (1964) Some reaeration studies in streams. Int. J.
    Air Water Pollut. 8, 469-486; as used by Chapra et al. (2008) QUAL2K v2.11, Section 4
    (eq. number not verified).
    """
    return 5.32 * np.asarray(velocity) ** 0.67 / np.asarray(depth) ** 1.85


@elementwise
def reaeration_internal(velocity, depth):
    """QUAL2K "Internal" selector (Covar 1976 diagram) of the three formulas above [d-1].

    H < 0.61 m → Owens–Gibbs; else H > 3.45 U^2.5 → O'Connor–Dobbins; else Churchill.
    Chapra et al. (2008) QUAL2K v2.11 documentation, Section 4 (reaeration); QUAL2Kw 5.1
    ``MakeHydraulics``.
    """
    u, h = np.asarray(velocity, dtype=float), np.asarray(depth, dtype=float)
    return np.where(h < 0.61, owens_gibbs(u, h),
                    np.where(h > 3.45 * u ** 2.5, oconnor_dobbins(u, h), churchill(u, h)))


REAERATION = {"O'Connor-Dobbins": oconnor_dobbins, "Churchill": churchill,
              "Owens-Gibbs": owens_gibbs, "Internal": reaeration_internal}


def reaeration_rate(method: str, velocity, depth, specified=None):
    """ka(20 °C) [d-1] by a named formula; a positive ``specified`` value overrides it.

    ``method`` is one of ``"O'Connor-Dobbins"``, ``"Churchill"``, ``"Owens-Gibbs"``,
    ``"Internal"`` (QUAL2Kw 5.1: a reach value ``kaaa > 0`` is used as given).
    """
    if method not in REAERATION:
        raise InvalidValueError(f"reaeration method {method!r} must be one of {sorted(REAERATION)}",
                                field="reaeration", where="kinetics")
    ka = REAERATION[method](velocity, depth)
    if specified is None:
        return ka
    spec = np.asarray(specified, dtype=float)
    return np.where(np.isfinite(spec) & (spec > 0), spec, ka)


def oxygen_inhibition(model: str, k, oxygen):
    """Attenuation factor of an oxygen-requiring process (0–1).

    ``"half-saturation"``: O/(K+O); ``"exponential"``: 1 − exp(−K O); ``"second-order"``:
    O²/(K+O²). Chapra et al. (2008) QUAL2K v2.11, Section 4 (oxygen inhibition); QUAL2Kw 5.1
    ``m_oxygen``. Negative oxygen is treated as zero.
    """
    o = np.maximum(np.asarray(oxygen, dtype=float), 0.0)
    m = model.lower().replace(" ", "-").replace("_", "-")
    if m == "half-saturation":
        return o / (k + o)
    if m == "exponential":
        return 1.0 - np.exp(-k * o)
    if m == "second-order":
        return o ** 2 / (k + o ** 2)
    raise InvalidValueError(f"oxygen model {model!r} must be half-saturation, exponential or "
                            "second-order", field="oxygen_model", where="kinetics")


def oxygen_enhancement(model: str, k, oxygen):
    """1 − inhibition: enhancement of denitrification at low oxygen (QUAL2K Section 4)."""
    return 1.0 - oxygen_inhibition(model, k, oxygen)


@elementwise
def ammonium_preference(nh4, no3, k_pref):
    """Fraction of inorganic-N uptake taken as ammonium (QUAL2K Section 4, phytoplankton N uptake).

    P = NH4·NO3 / ((k + NH4)(k + NO3)) + NH4·k / ((NH4 + NO3)(k + NO3)), k [µgN L-1].
    """
    a, n = np.asarray(nh4, dtype=float), np.asarray(no3, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = a * n / ((k_pref + a) * (k_pref + n)) + a * k_pref / ((a + n) * (k_pref + n))
    return np.where(a + n > 0, p, 0.0)


@elementwise
def ionized_ammonia_fraction(ph, temperature):
    """Fraction of total ammonia as NH4+ : F = [H+] / ([H+] + Ka), pKa = 0.09018 + 2729.92/T(K).

    Emerson et al. (1975), as used by QUAL2Kw 5.1 ``derivs`` (variable ``Fi``).
    """
    h = 10.0 ** (-np.asarray(ph, dtype=float))
    ka = 10.0 ** (-(0.09018 + 2729.92 / (np.asarray(temperature, dtype=float) + 273.15)))
    return h / (h + ka)


@elementwise
def light_half_saturation(light, saturation):
    """Half-saturation light limitation I/(K + I) (QUAL2K Section 4, bottom algae light)."""
    i = np.asarray(light, dtype=float)
    return np.where(saturation + i > 0, i / (saturation + i), 1.0)


def sediment_diagenesis(jc, jn, jp, oxygen, depth, temperature, nh3_w, no3_w, po4_w, ch4_w,
                        *, tol: float = 1e-10, max_iter: int = 500, sod_guess=None) -> dict:
    """Two-layer sediment diagenesis: SOD and nutrient fluxes from settled organic matter.

    Di Toro (2001) model in the form of Chapra et al. (2008) QUAL2K v2.11 documentation, Section 4
    ("sediment diagenesis"), with the constants and steady two-layer solution of QUAL2Kw 5.1
    ``SedCalcNumNew`` (``src/m_sedcalcnew.f90``): three reactivity classes (G1 0.65 (N, C, P)
    labile 0.035 d-1, G2 0.25/0.2 at 0.0018 d-1, G3 refractory), NH4 nitrification in the aerobic
    layer, NO3 denitrification in both layers, methane oxidation (CSOD) with saturation, PO4
    sorption enhanced in oxic layer. The SOD–surface-transfer fixed point s = SOD/O2 is iterated
    for all elements at once to ``tol``.

    Parameters
    ----------
    jc : carbon (as oxygen) deposition [gO2 m-2 d-1]
    jn, jp : N and P deposition [g m-2 d-1]
    oxygen : overlying DO [gO2 m-3]; depth [m]; temperature [°C]
    nh3_w, no3_w, po4_w : overlying NH4 (ionized), NO3, PO4 [g m-3]; ch4_w : methane as fast CBOD [gO2 m-3]
    sod_guess : optional (SOD, layer-1 NH4) start of the fixed-point iteration (speed only)

    Returns
    -------
    dict of arrays: ``sod`` [gO2 m-2 d-1], ``jnh4``, ``jno3``, ``jpo4`` [g m-2 d-1],
    ``jch4`` [gO2 m-2 d-1] (dissolved methane flux), ``csod`` [gO2 m-2 d-1].
    """
    kappa_nh3, theta_nh3, km_nh3, km_o2_nh3 = 0.131, 1.123, 0.728, 0.37
    kappa_no3_1, kappa_no3_2, theta_no3 = 0.1, 0.25, 1.08
    kappa_ch4, theta_ch4 = 0.7, 1.079
    dd, theta_dd, dp0, theta_dp = 0.001, 1.08, 0.00012, 1.117
    kd_nh3, m1, m2, w2, h2 = 1.0, 0.5, 0.5, 0.000005, 0.1
    dkd_po4_1, kd_po4_2, o2crit_po4 = 20.0, 20.0, 2.0
    tw = np.asarray(temperature, dtype=float)
    o2 = np.asarray(oxygen, dtype=float)
    jc, jn, jp = (np.asarray(v, dtype=float) for v in (jc, jn, jp))
    shape = np.broadcast(jc, jn, jp, o2, depth, tw, nh3_w, no3_w, po4_w, ch4_w).shape

    def diag_flux(j_in, fractions, k, theta):
        out = 0.0
        for f, kk, th in zip(fractions, k, theta, strict=True):
            kt = kk * th ** (tw - 20.0)
            pool = j_in * f / h2 / (kt + w2 / h2)
            out = out + kt * pool * h2
        return out

    jcd = diag_flux(jc, (0.65, 0.2, 0.15), (0.035, 0.0018, 0.0), (1.1, 1.15, 1.17))
    jnd = diag_flux(jn, (0.65, 0.25, 0.10), (0.035, 0.0018, 0.0), (1.1, 1.15, 1.17))
    jpd = diag_flux(jp, (0.65, 0.2, 0.15), (0.035, 0.0018, 0.0), (1.1, 1.15, 1.17))
    w12 = dp0 * theta_dp ** (tw - 20.0) / (h2 / 2.0)
    kl12 = dd * theta_dd ** (tw - 20.0) / (h2 / 2.0)
    ch4sat = 100.0 * (1.0 + np.asarray(depth) / 10.0) * 1.024 ** (20.0 - tw)
    fd1 = 1.0 / (1.0 + m1 * kd_nh3)
    fp1, fd2 = 1.0 - fd1, 1.0 / (1.0 + m2 * kd_nh3)
    fp2 = 1.0 - fd2
    active = (o2 >= 0.001) & (jcd + jnd > 0)
    o2s = np.where(active, o2, 1.0)
    sod_old = np.broadcast_to(jcd + 1.714 * jnd, shape).astype(float)
    nh3_1 = np.zeros(shape)
    if sod_guess is not None and np.shape(sod_guess[0]) == shape:
        sod_old = np.where(np.asarray(sod_guess[0]) > 0, sod_guess[0], sod_old)
        nh3_1 = np.asarray(sod_guess[1], dtype=float).copy()

    def lin2(a11, a12, a21, a22, b1, b2):
        det = a11 * a22 - a12 * a21
        return (a22 * b1 - a12 * b2) / det, (a11 * b2 - a21 * b1) / det

    history: list[np.ndarray] = []
    for _ in range(max_iter):
        s = np.maximum(sod_old, 1e-12) / o2s
        nh3_to_no3 = kappa_nh3 ** 2 * theta_nh3 ** (tw - 20.0) / s * km_nh3 / (km_nh3 + nh3_1) \
            * o2s / (2.0 * km_o2_nh3 + o2s)
        t1, t2 = lin2(-fd1 * kl12 - fp1 * w12 - fd1 * nh3_to_no3 - fd1 * s - w2, fd2 * kl12 + fp2 * w12,
                      fd1 * kl12 + fp1 * w12 + w2, -fd2 * kl12 - fp2 * w12 - w2, -s * nh3_w, -jnd)
        nh3_1 = fd1 * t1
        nsod = 2.0 * (32.0 / 14.0) * nh3_to_no3 * nh3_1
        den1 = kappa_no3_1 ** 2 * theta_no3 ** (tw - 20.0) / s
        den2 = kappa_no3_2 * theta_no3 ** (tw - 20.0)
        no3_1, no3_2 = lin2(-kl12 - den1 - s - w2, kl12, kl12 + w2, -kl12 - den2 - w2,
                            -s * no3_w - nh3_to_no3 * nh3_1, 0.0)
        jo2no3 = (2.0 * (16.0 / 12.0) * (10.0 / 8.0) * (12.0 / 14.0) * den1 * no3_1
                  + (32.0 / 12.0) * (10.0 / 8.0) * (12.0 / 14.0) * den2 * no3_2)
        jc_o2 = np.maximum(jcd - jo2no3, 0.0)
        csodmax = np.minimum(np.sqrt(2.0 * kl12 * ch4sat * jc_o2), jc_o2)
        ch4_to_co2 = kappa_ch4 ** 2 * theta_ch4 ** ((tw - 20.0) / 2.0) / s
        ch4_1 = (csodmax + s * ch4_w) / (ch4_to_co2 + s)
        csod = ch4_to_co2 * ch4_1
        sod = (sod_old + csod + nsod) / 2.0
        done = np.abs(sod - sod_old) <= tol * np.maximum(np.abs(sod), 1e-12)
        if np.all(done | ~active):
            break
        history.append(sod)
        if len(history) == 3:  # Aitken Δ² extrapolation of the (linearly converging) iteration
            x0, x1, x2 = history
            den = x2 - 2.0 * x1 + x0
            ok = np.abs(den) > 1e-14 * np.maximum(np.abs(x2), 1e-12)
            acc = np.where(ok, x2 - (x2 - x1) ** 2 / np.where(ok, den, 1.0), x2)
            sod = np.where((acc > 0) & np.isfinite(acc), acc, x2)
            history = []
        sod_old = sod
    # orthophosphate (uses the converged s)
    kd1 = np.where(o2 > o2crit_po4, kd_po4_2 * dkd_po4_1,
                   kd_po4_2 * dkd_po4_1 ** (np.maximum(o2, 0.0) / o2crit_po4))
    pfd1 = 1.0 / (1.0 + m1 * kd1)
    pfp1, pfd2 = 1.0 - pfd1, 1.0 / (1.0 + m2 * kd_po4_2)
    pfp2 = 1.0 - pfd2
    p1, _ = lin2(-pfd1 * kl12 - pfp1 * w12 - pfd1 * s - w2, pfd2 * kl12 + pfp2 * w12,
                 pfd1 * kl12 + pfp1 * w12 + w2, -pfd2 * kl12 - pfp2 * w12 - w2, -s * po4_w, -jpd)
    jch4_inactive = np.minimum(np.sqrt(2.0 * kl12 * ch4sat * np.maximum(jcd, 0)), jcd)
    return {
        "sod": np.where(active, sod, 0.0),
        "jnh4": np.where(active, s * (nh3_1 - nh3_w), jnd),
        "jno3": np.where(active, s * (no3_1 - no3_w), 0.0),
        "jpo4": np.where(active, s * (pfd1 * p1 - po4_w), jpd),
        "jch4": np.where(active, s * (ch4_1 - ch4_w), jch4_inactive),
        "csod": np.where(active, csod, 0.0),
        "nh3_pore": nh3_1,
    }


# --------------------------------------------------------------------------- simple kinetics


class ConservativeTracer:
    """A conservative, non-reacting substance (one species, default name ``tracer``)."""

    linear = True

    def __init__(self, species: str = "tracer", units: str = "g m-3"):
        self.species = (species,)
        self.units = {species: units}
        self.scale = np.ones(1)

    def rates(self, c, t, env):
        return np.zeros_like(c)

    def jacobian(self, c, t, env):
        return np.zeros((1, 1, *c.shape[1:]))


class FirstOrderDecay(ConservativeTracer):
    """First-order decay dc/dt = −k c with k [d-1] (scalar or per element)."""

    def __init__(self, rate, species: str = "c", units: str = "g m-3"):
        super().__init__(species, units)
        self.rate = np.asarray(rate, dtype=float)

    def _k(self, c):
        k = self.rate
        return k[:, None] if k.ndim == 1 else k

    def rates(self, c, t, env):
        return -self._k(c) * c

    def jacobian(self, c, t, env):
        return np.broadcast_to(-self._k(c), c.shape[1:])[None, None].copy()


# --------------------------------------------------------------------------- QUAL2K kinetics


@dataclass
class Qual2KRates:
    """QUAL2K kinetic parameters (names and defaults of the QUAL2K "Rates" sheet).

    Stoichiometry [per mgA chlorophyll]: ``mg_c``, ``mg_n``, ``mg_p``, ``mg_d``, ``mg_a``.
    Rates [d-1] at 20 °C with their θ; settling velocities [m d-1]. Oxygen-inhibition models:
    ``"exponential"``, ``"half-saturation"`` or ``"second-order"`` with their K [L mgO2-1].
    Bottom algae: ``kga_b`` [gD m-2 d-1] zero-order (or [d-1] first-order), respiration ``krea1_b``
    (basal) and ``krea2_b`` (photo-), excretion, death [d-1], external half-saturations
    ``ksn_b``/``ksp_b`` [µg L-1], light saturation ``isat_b`` [ly d-1], subsistence quotas
    [mgN gD-1, mgP gD-1], maximum uptake [mg gD-1 d-1], internal half-saturations (ratios to the
    subsistence quotas).
    """

    mg_c: float = 40.0
    mg_n: float = 7.2
    mg_p: float = 1.0
    mg_d: float = 100.0
    mg_a: float = 1.0
    theta_ka: float = 1.024
    roc: float = 2.69            # gO2 / gC
    ron: float = 4.57            # gO2 / gN (nitrification)
    vss: float = 0.0             # inorganic suspended solids settling [m d-1]
    khc: float = 0.0             # slow CBOD hydrolysis
    theta_khc: float = 1.047
    kdcs: float = 0.0            # slow CBOD oxidation
    theta_kdcs: float = 1.047
    kdc: float = 0.0             # fast CBOD oxidation
    theta_kdc: float = 1.047
    khn: float = 0.0             # organic N hydrolysis
    theta_khn: float = 1.07
    von: float = 0.0             # organic N settling [m d-1]
    kn: float = 0.0              # nitrification
    theta_kn: float = 1.07
    ki: float = 0.0              # denitrification
    theta_ki: float = 1.07
    vdi: float = 0.0             # sediment denitrification transfer [m d-1]
    theta_vdi: float = 1.07
    khp: float = 0.0             # organic P hydrolysis
    theta_khp: float = 1.07
    vop: float = 0.0             # organic P settling [m d-1]
    vip: float = 0.0             # inorganic P settling [m d-1]
    kspi: float = 1.0            # sediment P flux O2 attenuation [mgO2 L-1]
    kdt: float = 0.0             # detritus dissolution
    theta_kdt: float = 1.07
    vdt: float = 0.0             # detritus settling [m d-1]
    kpath: float = 0.0           # pathogen die-off
    theta_kpath: float = 1.07
    vpath: float = 0.0
    kgen: float = 0.0            # generic constituent decay
    theta_kgen: float = 1.07
    vgen: float = 0.0
    generic_is_cod: bool = False
    o2_model_cbod: str = "exponential"
    k_o2_cbod: float = 0.6
    o2_model_nitrification: str = "exponential"
    k_o2_nitrification: float = 0.6
    o2_model_denitrification: str = "exponential"
    k_o2_denitrification: float = 0.6
    o2_model_algae_resp: str = "exponential"
    k_o2_algae_resp: float = 0.6
    bottom_algae_growth: str = "zero-order"
    kga_b: float = 0.0
    theta_kga_b: float = 1.07
    krea1_b: float = 0.0
    krea2_b: float = 0.0
    theta_krea_b: float = 1.07
    kexa_b: float = 0.0
    theta_kexa_b: float = 1.07
    kdea_b: float = 0.0
    theta_kdea_b: float = 1.07
    abmax: float = 100.0         # first-order carrying capacity [gD m-2]
    ksn_b: float = 0.0
    ksp_b: float = 0.0
    isat_b: float = 0.0
    khnx_b: float = 25.0
    nin_min: float = 0.0
    nip_min: float = 0.0
    nin_upmax: float = 0.0
    nip_upmax: float = 0.0
    kqn_ratio: float = 1.0
    kqp_ratio: float = 1.0
    n_uptake_wc_fraction: float = 1.0
    p_uptake_wc_fraction: float = 1.0
    par_fraction: float = 0.47
    ke_background: float = 0.2   # light extinction [m-1]
    ke_iss: float = 0.052        # [L mgD-1 m-1]
    ke_detritus: float = 0.174   # [L mgD-1 m-1]

    @classmethod
    def from_dict(cls, values: dict) -> Qual2KRates:
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            from ..validation import reject_unknown_fields
            reject_unknown_fields(values, names, "Qual2KRates")
        return cls(**values)

    # derived stoichiometry (QUAL2Kw 5.1 ``Rates_``)
    @property
    def adc(self) -> float:  # gD / gC
        return self.mg_d / self.mg_c

    @property
    def ana(self) -> float:  # mgN / mgA
        return self.mg_n / self.mg_a

    @property
    def ada(self) -> float:  # gD / mgA
        return self.mg_d / 1000.0 / self.mg_a

    @property
    def rondn(self) -> float:  # gO2 per mgN denitrified (as CBOD consumed)
        return self.roc * 5.0 * 12.0107 / (4.0 * 14.0067) / 1000.0


QUAL2K_SPECIES = ("cond", "iss", "do", "cbod_slow", "cbod_fast", "org_n", "nh4", "no3", "org_p",
                  "inorg_p", "detritus", "pathogen", "generic")
ALGAE_SPECIES = ("bottom_algae", "algae_n", "algae_p")
QUAL2K_UNITS = {"cond": "umhos cm-1", "iss": "mgD L-1", "do": "mgO2 L-1", "cbod_slow": "mgO2 L-1",
                "cbod_fast": "mgO2 L-1", "org_n": "ugN L-1", "nh4": "ugN L-1", "no3": "ugN L-1",
                "org_p": "ugP L-1", "inorg_p": "ugP L-1", "detritus": "mgD L-1",
                "pathogen": "cfu (100 mL)-1", "generic": "1", "bottom_algae": "gD m-2",
                "algae_n": "mgN m-2", "algae_p": "mgP m-2"}
_SCALE = {"cond": 100.0, "iss": 1.0, "do": 1.0, "cbod_slow": 1.0, "cbod_fast": 1.0, "org_n": 100.0,
          "nh4": 100.0, "no3": 100.0, "org_p": 10.0, "inorg_p": 10.0, "detritus": 1.0,
          "pathogen": 1.0, "generic": 1.0, "bottom_algae": 1.0, "algae_n": 10.0, "algae_p": 1.0}

Field = np.ndarray | float | Callable[[float], np.ndarray]


def _at(value: Field, t: float):
    return value(t) if callable(value) else value


@dataclass
class Qual2KKinetics:
    """QUAL2K water-column kinetics (+ optional bottom algae and sediment diagenesis).

    Parameters
    ----------
    params : Qual2KRates
    temperature : water temperature [°C]: array broadcastable to (element, scenario) or a
        callable ``t [d] -> array`` (the heat balance is not simulated: temperature is given).
    ka20 : reaeration at 20 °C [d-1]: array (element,) of specified values (NaN/≤0 = formula),
        combined with ``reaeration`` (formula name) evaluated from the element hydraulics.
    solar : surface shortwave radiation after shading [ly d-1] (callable of t or array); only
        bottom algae and pathogen light use it.
    ph : pH for the ionized-ammonia fraction (given, not simulated).
    sod_specified : prescribed SOD [gO2 m-2 d-1] per element, added to diagenesis.
    bottom_algae, diagenesis : switch the bottom-algae states and sediment diagenesis on/off.

    Notes
    -----
    Follows QUAL2Kw 5.1 ``derivs`` term by term for the simulated states: detritus dissolution →
    slow CBOD; slow CBOD hydrolysis → fast CBOD; CBOD oxidation with oxygen inhibition;
    organic N hydrolysis → NH4 → NO3 (nitrification of the ionized fraction, 4.57 gO/gN, O2
    inhibited); denitrification (O2 enhanced, CBOD limited) and sediment denitrification;
    organic and inorganic P with settling; inorganic solids settling; reaeration ka θ^(T−20)
    (Os − O); SOD and nutrient fluxes from diagenesis of the settled detritus, organic N and P;
    bottom algae growth limited by light (half-saturation on bottom light), internal N and P
    quotas (Droop) and θ^(T−20), basal + photo-respiration (O2 inhibited), excretion and death to
    detritus/organic N/P, luxury uptake of NH4/NO3/PO4, photosynthetic O2 with the NO3 uptake
    factor 138/107. Not simulated: phytoplankton, pH/alkalinity/inorganic carbon (so no carbon
    limitation), hyporheic zone, NH3 gas exchange, heat balance.
    """

    params: Qual2KRates
    temperature: Field = 20.0
    ka20: np.ndarray | None = None
    reaeration: str = "Internal"
    solar: Field = 0.0
    ph: Field = 7.0
    sod_specified: Field = 0.0
    bottom_algae: bool = False
    diagenesis: bool = True
    initial_state: np.ndarray | None = None
    linear: bool = field(default=False, init=False)
    _sod_guess: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def species(self) -> tuple[str, ...]:
        return QUAL2K_SPECIES + (ALGAE_SPECIES if self.bottom_algae else ())

    @property
    def transported(self) -> tuple[bool, ...]:
        return (True,) * len(QUAL2K_SPECIES) + ((False,) * 3 if self.bottom_algae else ())

    @property
    def units(self) -> dict:
        return QUAL2K_UNITS

    @property
    def scale(self) -> np.ndarray:
        return np.array([_SCALE[s] for s in self.species])

    def initial(self, env):
        if self.initial_state is not None:
            return self.initial_state
        init = np.array([_SCALE[s] for s in self.species], float)[:, None, None] * np.ones(env.depth.shape)
        return init

    def ka(self, env, temperature):
        """ka at temperature [d-1] for every element."""
        spec = None if self.ka20 is None else np.asarray(self.ka20, float).reshape(-1, 1)
        k20 = reaeration_rate(self.reaeration, env.velocity, env.depth, spec)
        return arrhenius(k20, self.params.theta_ka, temperature)

    def rates_terms(self, c: np.ndarray, t: float, env) -> dict:
        """All process rates (dict of arrays) — used by :meth:`rates` and for diagnostics."""
        p = self.params
        temp = np.asarray(_at(self.temperature, t), dtype=float)
        if temp.ndim == 1:
            temp = temp[:, None]
        x = dict(zip(self.species, c, strict=True))
        o2 = x["do"]
        asd_v = env.sod_fraction * env.bottom_width / env.area       # [m-1]
        ast_v = env.width / env.area
        f_carb = oxygen_inhibition(p.o2_model_cbod, p.k_o2_cbod, o2)
        f_nitr = oxygen_inhibition(p.o2_model_nitrification, p.k_o2_nitrification, o2)
        f_den = oxygen_enhancement(p.o2_model_denitrification, p.k_o2_denitrification, o2)
        fi = ionized_ammonia_fraction(np.asarray(_at(self.ph, t), float), temp)
        cbodf = np.maximum(x["cbod_fast"], 0.0)
        det, orgn, orgp, inorgp = x["detritus"], x["org_n"], x["org_p"], x["inorg_p"]
        nh4, no3 = np.maximum(x["nh4"], 0.0), np.maximum(x["no3"], 0.0)

        r = {}
        r["detr_diss"] = arrhenius(p.kdt, p.theta_kdt, temp) * det
        r["detr_settl"] = p.vdt * asd_v * det
        r["orgn_hydr"] = arrhenius(p.khn, p.theta_khn, temp) * orgn
        r["orgn_settl"] = p.von * asd_v * orgn
        r["nitrif"] = f_nitr * arrhenius(p.kn, p.theta_kn, temp) * fi * nh4
        r["denitr"] = cbodf / (0.1 + cbodf) * f_den * arrhenius(p.ki, p.theta_ki, temp) * no3
        r["sed_denitr"] = arrhenius(p.vdi, p.theta_vdi, temp) * asd_v * no3
        r["orgp_hydr"] = arrhenius(p.khp, p.theta_khp, temp) * orgp
        r["orgp_settl"] = p.vop * asd_v * orgp
        r["inorgp_settl"] = p.vip * asd_v * inorgp
        r["cbods_hydr"] = arrhenius(p.khc, p.theta_khc, temp) * x["cbod_slow"]
        r["cbods_oxid"] = f_carb * arrhenius(p.kdcs, p.theta_kdcs, temp) * x["cbod_slow"]
        r["cbodf_oxid"] = f_carb * arrhenius(p.kdc, p.theta_kdc, temp) * x["cbod_fast"]
        r["iss_settl"] = p.vss * asd_v * x["iss"]
        r["gen_decay"] = arrhenius(p.kgen, p.theta_kgen, temp) * x["generic"]
        r["ka"] = self.ka(env, temp)
        r["os"] = oxygen_saturation(temp, env.elevation)
        r["reaer"] = r["ka"] * (r["os"] - o2)

        # sediment diagenesis (QUAL2Kw 5.1 derivs → SedCalcNumNew), fluxes per bottom area
        zero = np.zeros_like(o2)
        sed = {"sod": zero, "jnh4": zero, "jno3": zero, "jpo4": zero, "jch4": zero}
        if self.diagenesis:
            jc = p.vdt * det / p.adc * p.roc
            jn = p.von * orgn / 1000.0
            jp = (p.vop * orgp + p.vip * inorgp) / 1000.0
            sed = sediment_diagenesis(jc, jn, jp, o2, env.depth, temp, fi * nh4 / 1000.0,
                                      no3 / 1000.0, np.maximum(inorgp, 0) / 1000.0, cbodf,
                                      sod_guess=self._sod_guess)
            self._sod_guess = (sed["sod"], sed["nh3_pore"])
        sod_spec = np.asarray(_at(self.sod_specified, t), float)
        r["sod"] = sed["sod"] + (sod_spec[:, None] if sod_spec.ndim == 1 else sod_spec)
        r["jnh4"] = sed["jnh4"] * 1000.0                          # mgN m-2 d-1
        r["jno3"] = sed["jno3"] * 1000.0
        r["jpo4"] = sed["jpo4"] * 1000.0 * p.kspi / (p.kspi + np.maximum(o2, 0.0))
        r["jch4"] = sed["jch4"]

        # bottom algae (per unit bottom area, converted with Asb/V)
        for k in ("ba_photo", "ba_resp", "ba_exc", "ba_death", "ba_up_n", "ba_up_p"):
            r[k] = zero
        r["ninb"], r["nipb"], r["pref_nh4"] = zero, zero, zero
        r["asb_v"] = env.algae_fraction * env.bottom_width / env.area
        if self.bottom_algae:
            self._bottom_algae(x, r, temp, env, fi, nh4, no3, inorgp, o2, t)
        r["ast_v"], r["asd_v"], r["temp"] = ast_v, asd_v, temp
        return r

    def _bottom_algae(self, x, r, temp, env, fi, nh4, no3, inorgp, o2, t):
        p = self.params
        ab = np.maximum(x["bottom_algae"], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ninb = np.where(ab > 0, x["algae_n"] / ab, p.ana / p.ada)
            nipb = np.where(ab > 0, x["algae_p"] / ab, p.mg_p / p.ada)
        phi_n = 1.0 - np.clip(np.where(ninb > 0, p.nin_min / ninb, 1.0), 0.0, 1.0)
        phi_p = 1.0 - np.clip(np.where(nipb > 0, p.nip_min / nipb, 1.0), 0.0, 1.0)
        phint = np.minimum(phi_n, phi_p)
        ke = p.ke_background + p.ke_iss * np.maximum(x["iss"], 0) + p.ke_detritus * np.maximum(x["detritus"], 0)
        iat = p.par_fraction * np.asarray(_at(self.solar, t), float)
        if np.ndim(iat) == 1:
            iat = iat[:, None]
        phil = light_half_saturation(iat * np.exp(-ke * env.depth), p.isat_b)
        kga = arrhenius(p.kga_b, p.theta_kga_b, temp)
        growth = phil * phint * kga
        if p.bottom_algae_growth.lower().startswith("first"):
            growth = growth * ab * (1.0 - ab / p.abmax)
        f_resp = oxygen_inhibition(p.o2_model_algae_resp, p.k_o2_algae_resp, o2)
        resp = f_resp * (arrhenius(p.krea1_b, p.theta_krea_b, temp) * ab + p.krea2_b * growth)
        exc = arrhenius(p.kexa_b, p.theta_kexa_b, temp) * ab
        death = arrhenius(p.kdea_b, p.theta_kdea_b, temp) * ab
        kqn, kqp = p.kqn_ratio * p.nin_min, p.kqp_ratio * p.nip_min
        nlim = np.clip(kqn / (kqn + ninb - p.nin_min), 0.0, 1.0)
        plim = np.clip(kqp / (kqp + nipb - p.nip_min), 0.0, 1.0)
        n_av = fi * nh4 + no3
        up_n = np.where(p.ksn_b + n_av > 0, nlim * ab * p.nin_upmax * n_av / (p.ksn_b + n_av), 0.0)
        p_av = np.maximum(inorgp, 0.0)
        up_p = np.where(p.ksp_b + p_av > 0, plim * ab * p.nip_upmax * p_av / (p.ksp_b + p_av), 0.0)
        r.update(ba_photo=growth, ba_resp=resp, ba_exc=exc, ba_death=death, ba_up_n=up_n,
                 ba_up_p=up_p, ninb=ninb, nipb=nipb,
                 pref_nh4=ammonium_preference(fi * nh4, no3, p.khnx_b))

    def rates(self, c: np.ndarray, t: float, env) -> np.ndarray:
        """d c / dt from reactions for every species, shape (species, element, scenario)."""
        p = self.params
        r = self.rates_terms(c, t, env)
        asd_v, asb_v = r["asd_v"], r["asb_v"]
        ron = p.ron / 1000.0                       # gO2 per mgN
        roc_adc = p.roc / p.adc                    # gO2 per gD
        d = {}
        d["cond"] = np.zeros_like(c[0])
        d["iss"] = -r["iss_settl"]
        d["detritus"] = -r["detr_diss"] - r["detr_settl"] + r["ba_death"] * asb_v
        d["org_n"] = r["ninb"] * r["ba_death"] * asb_v - r["orgn_hydr"] - r["orgn_settl"]
        up_n = r["ba_up_n"] * asb_v * p.n_uptake_wc_fraction
        d["nh4"] = (r["orgn_hydr"] - r["nitrif"] - r["pref_nh4"] * up_n + r["jnh4"] * asd_v
                    + r["ninb"] * r["ba_exc"] * asb_v)
        d["no3"] = (r["nitrif"] - r["denitr"] - (1.0 - r["pref_nh4"]) * up_n + r["jno3"] * asd_v
                    - r["sed_denitr"])
        d["org_p"] = r["nipb"] * r["ba_death"] * asb_v - r["orgp_hydr"] - r["orgp_settl"]
        d["inorg_p"] = (r["orgp_hydr"] - r["ba_up_p"] * asb_v * p.p_uptake_wc_fraction
                        + r["jpo4"] * asd_v - r["inorgp_settl"] + r["nipb"] * r["ba_exc"] * asb_v)
        d["cbod_slow"] = roc_adc * r["detr_diss"] - r["cbods_hydr"] - r["cbods_oxid"]
        d["cbod_fast"] = r["cbods_hydr"] - r["cbodf_oxid"] + r["jch4"] * asd_v - p.rondn * r["denitr"]
        d["generic"] = -r["gen_decay"] - p.vgen * asd_v * c[self.species.index("generic")]
        cod = r["gen_decay"] if p.generic_is_cod else 0.0
        photo_o2 = roc_adc * r["ba_photo"] * asb_v * (r["pref_nh4"] + (1.0 - r["pref_nh4"]) * 138.0 / 107.0)
        d["do"] = (r["reaer"] - r["cbods_oxid"] - r["cbodf_oxid"] - ron * r["nitrif"]
                   - roc_adc * r["ba_resp"] * asb_v + photo_o2 - r["sod"] * asd_v - cod)
        path = c[self.species.index("pathogen")]
        d["pathogen"] = -arrhenius(p.kpath, p.theta_kpath, r["temp"]) * path - p.vpath * asd_v * path
        if self.bottom_algae:
            d["bottom_algae"] = r["ba_photo"] - r["ba_resp"] - r["ba_death"]
            d["algae_n"] = r["ba_up_n"] - r["ninb"] * (r["ba_death"] + r["ba_exc"])
            d["algae_p"] = r["ba_up_p"] - r["nipb"] * (r["ba_death"] + r["ba_exc"])
        return np.stack([np.broadcast_to(d[s], c.shape[1:]) for s in self.species])
