"""Gaussian-plume kernels: dispersion coefficients, Briggs plume rise, vertical (reflection) terms.

Pure numpy functions, one formula each, following the ISC3 regulatory implementation:

* EPA (1995) *User's Guide for the Industrial Source Complex (ISC3) Dispersion Models*, Vol. II,
  *Description of Model Algorithms*, EPA-454/B-95-003b (“ISC3-II” below): Eqs. 1-1 (plume),
  1-5/1-6 (wind profile), 1-7…1-31 (plume rise), 1-32…1-37 (σ), 1-45…1-50 (vertical term),
  Table 1-1/1-2 (σ coefficients).
* The ISC3 source code (`SIGMAS.FOR`, `PRISE.FOR`, `CALC2.FOR`), as summarised with the details that
  matter for bit-level parity in ``shared/reference/air_formulas.md`` §2.2–2.4.

Stability classes are integers 1–6 (A–F). Distances are metres unless a name says ``_km``.
"""

from __future__ import annotations

import numpy as np

#: Gravitational acceleration used by ISC3 (m s-2).
G_ISC = 9.80616
#: Square root of 2π.
SQRT_2PI = np.sqrt(2.0 * np.pi)

# --- Rural Pasquill–Gifford σy: θ = 0.017453293 (c − d ln x_km), σy = 465.11628 x_km tan θ
# (ISC3-II Eqs. 1-32/1-33, Table 1-1). Index = class (0 unused).
_PG_Y_C = np.array([np.nan, 24.1670, 18.3330, 12.5000, 8.3330, 6.2500, 4.1667])
_PG_Y_D = np.array([np.nan, 2.5334, 1.8096, 1.0857, 0.72382, 0.54287, 0.36191])

# --- Rural Pasquill–Gifford σz = a x_km^b (ISC3-II Eq. 1-34, Table 1-2): upper bracket edges [km]
# and (a, b) per bracket. The last bracket is open-ended.
_PG_Z = {
    1: ([0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 3.11],
        [(122.800, 0.94470), (158.080, 1.05420), (170.220, 1.09320), (179.520, 1.12620),
         (217.410, 1.26440), (258.890, 1.40940), (346.750, 1.72830), (453.850, 2.11660),
         (np.nan, np.nan)]),  # A beyond 3.11 km: σz = 5000 m
    2: ([0.20, 0.40], [(90.673, 0.93198), (98.483, 0.98332), (109.300, 1.09710)]),
    3: ([], [(61.141, 0.91465)]),
    4: ([0.30, 1.0, 3.0, 10.0, 30.0],
        [(34.459, 0.86974), (32.093, 0.81066), (32.093, 0.64403), (33.504, 0.60486),
         (36.650, 0.56589), (44.053, 0.51179)]),
    5: ([0.10, 0.30, 1.0, 2.0, 4.0, 10.0, 20.0, 40.0],
        [(24.260, 0.83660), (23.331, 0.81956), (21.628, 0.75660), (21.628, 0.63077),
         (22.534, 0.57154), (24.703, 0.50527), (26.970, 0.46713), (35.420, 0.37615),
         (47.618, 0.29592)]),
    6: ([0.20, 0.70, 1.0, 2.0, 3.0, 7.0, 15.0, 30.0, 60.0],
        [(15.209, 0.81558), (14.457, 0.78407), (13.953, 0.68465), (13.953, 0.63227),
         (14.823, 0.54503), (16.187, 0.46490), (17.836, 0.41507), (22.651, 0.32681),
         (27.074, 0.27436), (34.219, 0.21716)]),
}
SIGMA_Z_MAX = 5000.0  # m, ISC3-II §1.1.5.1

# --- Urban Briggs (McElroy–Pooler) σ (ISC3-II Table 1-3; Briggs 1973), x in m:
#     σy = ay x (1 + 0.0004 x)^-1/2 ; σz = az x (1 + bz x)^pz
_URB_Y = np.array([np.nan, 0.32, 0.32, 0.22, 0.16, 0.11, 0.11])
_URB_Z_A = np.array([np.nan, 0.24, 0.24, 0.20, 0.14, 0.08, 0.08])
_URB_Z_B = np.array([np.nan, 0.001, 0.001, 0.0, 0.0003, 0.0015, 0.0015])
_URB_Z_P = np.array([np.nan, 0.5, 0.5, 0.0, -0.5, -0.5, -0.5])

#: Potential-temperature gradients [K/m] for stable plume rise, classes E and F (ISC3-II §1.1.4.3).
DTHETA_DZ = {5: 0.020, 6: 0.035}


def _class_index(cls) -> np.ndarray:
    cls = np.asarray(cls)
    if cls.size and (np.any(cls < 1) | np.any(cls > 6)):
        raise ValueError("stability class must be in 1..6 (A..F)")
    return cls.astype(np.intp)


def sigma_y_rural(x, cls):
    """Rural Pasquill–Gifford lateral dispersion σy [m] at downwind distance ``x`` [m].

    σy = 465.11628 · x_km · tan(0.017453293 · (c − d ln x_km)) (ISC3-II Eqs. 1-32/1-33, Table 1-1;
    Turner 1970 curves as fitted in ISC3 ``SIGMAS.FOR``). ``cls`` (1–6) broadcasts against ``x``.
    """
    k = _class_index(cls)
    x_km = np.asarray(x, float) * 1e-3
    theta = 0.017453293 * (_PG_Y_C[k] - _PG_Y_D[k] * np.log(x_km))
    return 465.11628 * x_km * np.tan(theta)


def _sigma_z_rural_one(x_km, k: int):
    edges, coef = _PG_Z[k]
    a = np.array([c[0] for c in coef])
    b = np.array([c[1] for c in coef])
    i = np.searchsorted(np.asarray(edges), x_km, side="left")  # x on an edge uses the lower bracket
    sz = a[i] * np.exp(b[i] * np.log(x_km))
    if k == 1:
        sz = np.where(x_km > 3.11, SIGMA_Z_MAX, sz)
    return np.minimum(sz, SIGMA_Z_MAX)


def sigma_z_rural(x, cls):
    """Rural Pasquill–Gifford vertical dispersion σz = a · x_km^b [m], capped at 5000 m.

    Coefficients per distance bracket from ISC3-II Table 1-2 (Eq. 1-34); class A beyond 3.11 km is
    5000 m. ``cls`` may be a scalar or an array broadcasting against ``x``.
    """
    x_km = np.asarray(x, float) * 1e-3
    k = np.asarray(cls)
    if k.ndim == 0:
        _class_index(k)
        return _sigma_z_rural_one(x_km, int(k))
    x_km, k = np.broadcast_arrays(x_km, _class_index(k))
    out = np.empty(x_km.shape)
    for kk in np.unique(k):  # at most six stability classes, not a loop over data
        sel = k == kk
        out[sel] = _sigma_z_rural_one(x_km[sel], int(kk))
    return out


def sigma_y_urban(x, cls):
    """Urban Briggs σy = a x (1 + 0.0004 x)^(-1/2) [m] (ISC3-II Table 1-3; Briggs 1973), x in m."""
    k = _class_index(cls)
    x = np.asarray(x, float)
    return _URB_Y[k] * x / np.sqrt(1.0 + 0.0004 * x)


def sigma_z_urban(x, cls):
    """Urban Briggs σz [m] (ISC3-II Table 1-3): A–B 0.24x(1+0.001x)^½, C 0.20x,
    D 0.14x(1+0.0003x)^-½, E–F 0.08x(1+0.0015x)^-½; capped at 5000 m like ISC3."""
    k = _class_index(cls)
    x = np.asarray(x, float)
    return np.minimum(_URB_Z_A[k] * x * (1.0 + _URB_Z_B[k] * x) ** _URB_Z_P[k], SIGMA_Z_MAX)


def sigmas(x, cls, urban: bool = False):
    """(σy, σz) [m] for rural Pasquill–Gifford or urban Briggs curves."""
    if urban:
        return sigma_y_urban(x, cls), sigma_z_urban(x, cls)
    return sigma_y_rural(x, cls), sigma_z_rural(x, cls)


# ----------------------------------------------------------------------------------- plume rise
def buoyancy_flux(exit_velocity, diameter, stack_temperature, air_temperature):
    """Briggs buoyancy flux F_b = g v_s d² (T_s − T_a) / (4 T_s) [m⁴ s⁻³] (ISC3-II Eq. 1-7).

    As in ISC3, T_s is raised to T_a when the exhaust is colder than the air (F_b = 0).
    """
    ts = np.maximum(stack_temperature, air_temperature)
    return G_ISC * exit_velocity * diameter**2 * (ts - air_temperature) / (4.0 * ts)


def momentum_flux(exit_velocity, diameter, stack_temperature, air_temperature):
    """Briggs momentum flux F_m = v_s² d² T_a / (4 T_s) [m⁴ s⁻²] (ISC3-II Eq. 1-8)."""
    ts = np.maximum(stack_temperature, air_temperature)
    return exit_velocity**2 * diameter**2 * air_temperature / (4.0 * ts)


def stack_tip_downwash(stack_height, diameter, exit_velocity, wind_speed):
    """Stack height corrected for stack-tip downwash h_s' [m] (Briggs 1974; ISC3-II Eq. 1-5).

    h_s' = h_s + 2 d (v_s/u_s − 1.5) when v_s < 1.5 u_s, else h_s; never below 0.
    """
    hs = np.where(exit_velocity < 1.5 * wind_speed,
                  stack_height + 2.0 * diameter * (exit_velocity / wind_speed - 1.5), stack_height)
    return np.maximum(hs, 0.0)


def stability_parameter(air_temperature, cls):
    """Stable stability parameter s = g (∂θ/∂z) / T_a [s⁻²] (ISC3-II Eq. 1-18); 0 for A–D."""
    cls = np.asarray(cls)
    dthdz = np.where(cls == 5, DTHETA_DZ[5], np.where(cls == 6, DTHETA_DZ[6], 0.0))
    return G_ISC * dthdz / air_temperature


def final_plume_rise(fb, fm, wind_speed, exit_velocity, diameter, stack_temperature,
                     air_temperature, cls):
    """Briggs final plume rise Δh [m] and distance to final rise x_f [m], as in ISC3 ``PRISE``.

    Unstable/neutral (A–D, ISC3-II Eqs. 1-9…1-15): crossover ΔT_c = 0.00575 T_s (v_s²/d)^⅓
    (F_b ≥ 55) or 0.0297 T_s (v_s/d²)^⅓; buoyant rise 38.71 F_b^⅗/u (F_b ≥ 55) or 21.425 F_b^¾/u;
    momentum rise 3 d v_s/u. Stable (E–F, Eqs. 1-16…1-22): ΔT_c = 0.019582 T_a v_s √s; buoyant
    min(2.6 (F_b/(u s))^⅓, 4 F_b^¼ s^-⅜); momentum min(1.5 (F_m/(u √s))^⅓, 3 d v_s/u).
    Distance to final rise (``DISTF``, Eqs. 1-23…1-27): x_f = max(x_fb, x_fm) with
    x_fb = 119 F_b^0.4 (F_b ≥ 55) or 49 F_b^⅝ and x_fm = 4 d (v_s + 3u)²/(v_s u) (A–D);
    x_fb = 2.0715 u/√s and x_fm = ½π u/√s (E–F).

    Returns
    -------
    dh, x_f, x_fb, x_fm : arrays [m]
    """
    u, vs, d = wind_speed, exit_velocity, diameter
    ts = np.maximum(stack_temperature, air_temperature)
    dT = ts - air_temperature
    stable = np.asarray(cls) >= 5
    s = stability_parameter(air_temperature, cls)
    s_safe = np.where(stable, s, 1.0)
    big = fb >= 55.0
    with np.errstate(divide="ignore", invalid="ignore"):
        # unstable / neutral
        dtc_un = np.where(big, 0.00575 * ts * (vs * vs / d) ** (1 / 3),
                          0.0297 * ts * (vs / (d * d)) ** (1 / 3))
        dh_b_un = np.where(big, 38.71 * fb**0.6, 21.425 * fb**0.75) / u
        dh_m = 3.0 * d * vs / u
        dh_un = np.where(dT >= dtc_un, dh_b_un, dh_m)
        xfb_un = np.where(big, 119.0 * fb**0.4, 49.0 * fb**0.625)
        xfm_un = 4.0 * d * (vs + 3.0 * u) ** 2 / (vs * u)
        # stable
        dtc_st = 0.019582 * air_temperature * vs * np.sqrt(s_safe)
        dh_b_st = np.minimum(2.6 * (fb / (u * s_safe)) ** (1 / 3),
                             4.0 * fb**0.25 * s_safe ** (-0.375))
        dh_m_st = np.minimum(1.5 * (fm / (u * np.sqrt(s_safe))) ** (1 / 3), dh_m)
        dh_st = np.where(dT >= dtc_st, dh_b_st, dh_m_st)
        xfb_st = 2.0715 * u / np.sqrt(s_safe)
        xfm_st = 0.5 * np.pi * u / np.sqrt(s_safe)
    dh = np.where(stable, dh_st, dh_un)
    xfb = np.where(stable, xfb_st, xfb_un)
    xfm = np.where(stable, xfm_st, np.where(vs > 0, xfm_un, 0.0))
    dh = np.where(np.isfinite(dh), dh, 0.0)
    return dh, np.maximum(xfb, xfm), xfb, xfm


def gradual_plume_rise(x, fb, fm, wind_speed, exit_velocity, s, x_fb, x_fm, dh_final):
    """Gradual (transitional) plume rise Δh(x) [m] for buoyancy-induced dispersion.

    Buoyant: 1.60 F_b^⅓ min(x, x_fb)^⅔ / u (ISC3-II Eq. 1-28). Momentum (Eqs. 1-29/1-30):
    [3 F_m x_p / (β_j² u²)]^⅓ (A–D) or [3 F_m sin(√s x_p/u) / (β_j² u √s)]^⅓ (E–F),
    β_j = ⅓ + u/v_s, x_p = min(x, x_fm), limited to 3 d v_s/u through ``dh_final``'s momentum cap.
    Result: min(max(Δh_b, Δh_m), Δh_final). ``s`` is 0 for A–D.
    """
    u = wind_speed
    dh_b = 1.60 * np.cbrt(fb) * np.minimum(x, x_fb) ** (2.0 / 3.0) / u
    with np.errstate(divide="ignore", invalid="ignore"):
        beta_j = 1.0 / 3.0 + u / exit_velocity
        xp = np.minimum(x, x_fm)
        sq = np.sqrt(s)
        dh_m_st = np.cbrt(3.0 * fm * np.sin(sq * xp / u) / (beta_j**2 * u * sq))
        dh_m_un = np.cbrt(3.0 * fm * xp / (beta_j**2 * u**2))
    dh_m = np.where(s > 0, dh_m_st, dh_m_un)
    dh_m = np.where(np.isfinite(dh_m), dh_m, 0.0)
    return np.minimum(np.maximum(dh_b, dh_m), dh_final)


def bid_sigma(sigma, plume_rise):
    """Buoyancy-induced dispersion: σ_e = √(σ² + (Δh/3.5)²) (Pasquill 1976; ISC3-II Eqs. 1-38/1-39)."""
    return np.sqrt(sigma * sigma + (plume_rise / 3.5) ** 2)


#: σz/z_i above which the lid's image series is summed in its Fourier (Poisson) form.
IMAGE_FOURIER_SWITCH = 0.2


def vertical_term(z, he, sz, zi=None, max_images: int = 8, rtol: float = 1e-12):
    """Vertical term V of the Gaussian plume [dimensionless] (ISC3-II Eqs. 1-49/1-50).

    Without a lid (``zi`` None, or stable hours): ground reflection
    V = exp(−½((z−h_e)/σz)²) + exp(−½((z+h_e)/σz)²). With a mixing lid ``zi``: the image sum over
    n = ±1…±N of both terms with h_e → h_e ± 2 n z_i; when σz/z_i ≥ 1.6 the well-mixed limit
    V = √(2π) σz / z_i; zero when h_e > z_i (plume above the lid, ISC3-II §1.1.6.1).

    The infinite image sum is evaluated to relative accuracy ``rtol``: directly (truncated per
    element) while σz/z_i < 0.2, else through its exact Poisson-summation dual
    V = (√(2π) σz/z_i) [1 + 2 Σ_m exp(−½ (π m σz/z_i)²) cos(π m z/z_i) cos(π m h_e/z_i)]
    (the Fourier series of the reflected Gaussian between two walls; e.g. Carslaw & Jaeger 1959,
    *Conduction of Heat in Solids*, §2.6), which needs only a few terms there.
    """
    z, he, sz = np.broadcast_arrays(*(np.asarray(a, float) for a in (z, he, sz)))
    a = -0.5 / (sz * sz)
    v = np.array(np.exp(a * (z - he) ** 2) + np.exp(a * (z + he) ** 2))
    if zi is None:
        return v
    zi = np.broadcast_to(np.asarray(zi, float), v.shape)
    ratio = sz / zi
    mixed = ratio >= 1.6
    reach = np.sqrt(-2.0 * np.log(rtol))
    images = ~mixed & (ratio < IMAGE_FOURIER_SWITCH)
    # direct images: image n (nearest distance 2n z_i − h_e − z) matters while
    # exp(a((2n z_i − h_e − z)² − (z − h_e)²)) ≥ rtol, i.e. 2n z_i < h_e + z + √((z−h_e)² + reach² σz²)
    d = he + z + np.sqrt((z - he) ** 2 + (reach * sz) ** 2)
    n_needed = np.where(images, np.ceil(d / (2.0 * zi)) - 1, 0).astype(np.intp).ravel()
    act = np.flatnonzero(n_needed > 0)
    for n in range(1, max_images + 1):  # image order (a handful), on the elements that need it
        act = act[n_needed[act] >= n]
        if act.size == 0:
            break
        zz, hh, aa, two_nzi = z.flat[act], he.flat[act], a.flat[act], 2.0 * n * zi.flat[act]
        v.flat[act] += (np.exp(aa * (zz - hh - two_nzi) ** 2) + np.exp(aa * (zz + hh - two_nzi) ** 2)
                        + np.exp(aa * (zz - hh + two_nzi) ** 2)
                        + np.exp(aa * (zz + hh + two_nzi) ** 2))
    four = np.flatnonzero((~mixed & ~images).ravel())
    if four.size:
        r = ratio.flat[four]
        m_needed = np.ceil(reach / (np.pi * r)).astype(np.intp)
        cz, ch = np.pi * z.flat[four] / zi.flat[four], np.pi * he.flat[four] / zi.flat[four]
        total = np.ones(four.size)
        for m in range(1, int(m_needed.max()) + 1):  # Fourier order, ≤ 12 for σz/z_i ≥ 0.2
            term = np.exp(-0.5 * (np.pi * m * r) ** 2) * np.cos(m * cz) * np.cos(m * ch)
            total += 2.0 * np.where(m <= m_needed, term, 0.0)
        v.flat[four] = SQRT_2PI * r * total
    v = np.where(mixed, SQRT_2PI * ratio, v)
    return np.where(he > zi, 0.0, v)


def decay_term(x, wind_speed, half_life):
    """First-order decay D = exp(−ψ x / u), ψ = ln 2 / T½ (ISC3-II Eq. 1-51; ψ = 0.693/T½)."""
    if half_life is None or not np.isfinite(half_life) or half_life <= 0:
        return 1.0
    return np.exp(-0.693 / half_life * x / wind_speed)
