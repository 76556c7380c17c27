"""Gaussian puff model: puffs released every sub-step, advected by time- and space-varying winds.

Each point source releases one puff per ``release_step`` carrying the mass emitted in that step.
Puffs move with the wind interpolated to their position (bilinear in space, linear in time between
hour centres; Heun/RK2 step), grow with travel distance along the Pasquill–Gifford or Briggs curves
(virtual-distance method when the stability changes) or with travel time (K-theory σ² = 2Kt), are
reflected at the ground and the mixing lid (image sum of :func:`ecodss.air.plume.vertical_term`),
decay first-order, and leave the run when they exit the domain or exceed ``max_age`` (mass
accounted in the budget variables). Concentrations are sampled at receptors, vectorized over
(puff sample × receptor) blocks.

References
----------
* Scire, J.S., Strimaitis, D.G., Yamartino, R.J. (2000) *A User's Guide for the CALPUFF Dispersion
  Model (Version 5)*, Earth Tech: Eq. 2-1 (circular Gaussian puff), §2.1.1 (integrated puff
  sampling function: the puff sampled along its path during a step), §2.2.1 (growth along the
  PG/Briggs curves via virtual distances), §2.2.2 (buoyancy-induced dispersion).
* Petersen, W.B., Catalano, J.A., Chico, T., Yuen, T.S. (1984) *INPUFF — A Single Source Gaussian
  Puff Dispersion Algorithm*, EPA-600/8-84-027 (puffs growing on PG curves with virtual distances).
* EPA (1995) ISC3 User's Guide Vol. II, EPA-454/B-95-003b: wind profile (Eq. 1-6), plume rise
  and downwash (Eqs. 1-5…1-31), vertical term (Eqs. 1-49/1-50), decay (Eq. 1-51).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import erf

from ..errors import InvalidValueError, MetError, MissingFieldError, UnknownFieldError
from ..met.dataset import validate_met
from ..met.profile import wind_profile_exponent
from ..registry import register_model
from ..validation import check_finite, check_nonnegative, check_range
from . import plume
from ._plume_common import (
    BLOCK_ELEMENTS,
    URBAN_SO2_HALF_LIFE,
    dask_evaluate,
    hourly_emission_rates,
    read_met,
    reshape_to_receptors,
    to_dataset,
)
from .receptors import Receptors

HOUR = 3600.0
#: Puff–receptor pairs farther than this many σy from the puff's path are skipped (e^-37 ≈ 1e-16).
CUTOFF_SIGMAS = 8.6
#: Distances [m] on which the σ curves are tabulated for the virtual-distance inversion.
_TABLE_X = np.geomspace(1.0, 1.0e6, 4001)


# ----------------------------------------------------------------------------------- kernels
def puff_concentration(x, y, z, mass, sigma_y, sigma_z, he, zi=None):
    """Concentration of circular Gaussian puffs [g m-3 per g of ``mass`` unit].

    C = M / ((2π)^{3/2} σy² σz) · exp(−r²/(2σy²)) · V(z) (Scire et al. 2000, CALPUFF Eq. 2-1),
    with r the horizontal distance [m] from the puff centre and V the ground/lid image sum of
    :func:`ecodss.air.plume.vertical_term` (``zi`` None or inf: ground reflection only).
    All arguments broadcast; x, y are receptor offsets from the puff centre [m].
    """
    r2 = np.asarray(x, float) ** 2 + np.asarray(y, float) ** 2
    v = plume.vertical_term(z, he, sigma_z, None if zi is None else zi)
    return mass * np.exp(-0.5 * r2 / sigma_y**2) * v / (
        2.0 * np.pi * sigma_y**2 * plume.SQRT_2PI * sigma_z)


def path_average_gaussian(wx, wy, dx, dy, sigma):
    """Mean over τ ∈ [0, 1] of exp(−|w − τ d|²/(2σ²)) [1]: a 2-D Gaussian moving along d.

    With L = |d|, p = w·d/L (along-path) and q² = |w|² − p² (across):
    exp(−q²/(2σ²)) σ √(π/2)/L [erf((L−p)/(√2σ)) + erf(p/(√2σ))] — the integrated puff sampling
    function of CALPUFF (Scire et al. 2000, §2.1.1). Rows with L < 1e-3 σ use the midpoint value.
    ``wx, wy`` (P, R) receptor offsets from the path start; ``dx, dy, sigma`` (P, 1).
    """
    length = np.hypot(dx, dy)
    moving = (length >= 1e-3 * sigma).ravel()
    out = np.empty(np.broadcast_shapes(wx.shape, dx.shape))
    m, s = np.flatnonzero(moving), np.flatnonzero(~moving)
    if m.size:
        rows = slice(None) if m.size == moving.size else m
        wxm, wym = wx[rows], wy[rows]
        lm, sm = np.broadcast_to(length[rows], wxm.shape), np.broadcast_to(sigma[rows], wxm.shape)
        p = (wxm * dx[rows] + wym * dy[rows]) / lm
        q2 = np.maximum(wxm**2 + wym**2 - p * p, 0.0)
        reach = CUTOFF_SIGMAS * sm
        # only pairs within the cutoff of the path: the rest are < 1e-16 of the peak
        near = np.flatnonzero((q2 < reach * reach) & (p > -reach) & (p < lm + reach))
        res = np.zeros(wxm.shape)
        pn, ln, sn = p.flat[near], lm.flat[near], sm.flat[near]
        c = 1.0 / (np.sqrt(2.0) * sn)
        res.flat[near] = np.exp(-0.5 * q2.flat[near] / sn**2) * (
            sn * np.sqrt(0.5 * np.pi) / ln) * (erf((ln - pn) * c) + erf(pn * c))
        out[rows] = res
    if s.size:
        r2 = (wx[s] - 0.5 * dx[s]) ** 2 + (wy[s] - 0.5 * dy[s]) ** 2
        out[s] = np.exp(-0.5 * r2 / sigma[s] ** 2)
    return out


class SigmaCurves:
    """σy(x), σz(x) curves per stability class with their inverses (virtual distances).

    ``fn(x [m], cls) -> (σy, σz)`` [m]; below 1 m σ is scaled linearly to 0 at x = 0. The
    inverse (the virtual distance giving a puff's current σ under a new class; Scire et al. 2000
    §2.2.1, Petersen et al. 1984) interpolates a log–log table of the curve on 1 m…1000 km.
    """

    def __init__(self, fn):
        self.fn = fn
        self._log_s = np.full((7, 2, _TABLE_X.size), np.nan)
        for k in range(1, 7):  # six stability classes
            sy, sz = fn(_TABLE_X, np.full(_TABLE_X.size, k))
            for i, s in enumerate((sy, sz)):
                self._log_s[k, i] = np.log(np.maximum.accumulate(np.asarray(s, float)))

    def sigma(self, x, cls, component: int):
        """σ [m] of ``component`` (0 = y, 1 = z) at travel (virtual) distance x [m]."""
        x = np.asarray(x, float)
        xs = np.maximum(x, 1.0)
        s = np.asarray(self.fn(xs, cls)[component], float)
        return np.where(x < 1.0, s * x, s)

    def distance(self, sigma, cls, component: int):
        """Virtual distance [m] at which class ``cls`` gives ``sigma`` (0 for σ = 0)."""
        sigma = np.asarray(sigma, float)
        out = np.zeros(sigma.shape)
        log_x = np.log(_TABLE_X)
        for k in np.unique(cls):  # at most six classes
            sel = np.flatnonzero(cls == k)
            tab = self._log_s[int(k), component]
            s1 = np.exp(tab[0])
            sg = sigma[sel]
            big = np.interp(np.log(np.maximum(sg, s1)), tab, log_x)
            out[sel] = np.where(sg < s1, sg / s1, np.exp(big))
        return out


def virtual_distance(sigma, cls, *, component: str = "y", urban: bool = False):
    """Virtual distance [m] giving ``sigma`` [m] on the rural PG (or urban Briggs) curve of
    class ``cls`` (1–6): the inverse of :func:`ecodss.air.plume.sigmas` (Scire et al. 2000 §2.2.1).
    """
    if component not in ("y", "z"):
        raise UnknownFieldError(f"component={component!r} must be 'y' or 'z'", field="component")
    curves = SigmaCurves(lambda x, c: plume.sigmas(x, c, urban))
    sigma, cls = np.broadcast_arrays(np.asarray(sigma, float), np.asarray(cls, np.intp))
    out = curves.distance(sigma.ravel(), cls.ravel(), 0 if component == "y" else 1)
    return out.reshape(sigma.shape)


# ----------------------------------------------------------------------------------- met
@dataclass
class _MetField:
    """Hourly met on (time, y, x) (size-1 spatial axes for a single station)."""

    times: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    u: np.ndarray  # (T, ny, nx) m/s at anemometer height
    v: np.ndarray
    cls: np.ndarray  # int 1..6
    zi: np.ndarray  # m
    ta: np.ndarray  # K

    def _axis(self, axis, p):
        n = axis.size
        if n == 1:
            zero = np.zeros(p.shape, np.intp)
            return zero, zero, np.zeros(p.shape)
        i = np.clip(np.searchsorted(axis, p) - 1, 0, n - 2)
        f = np.clip((p - axis[i]) / (axis[i + 1] - axis[i]), 0.0, 1.0)
        return i, i + 1, f

    def _bilinear(self, field, k, px, py):
        i0, i1, fx = self._axis(self.xs, px)
        j0, j1, fy = self._axis(self.ys, py)
        return ((1 - fy) * ((1 - fx) * field[k, j0, i0] + fx * field[k, j0, i1])
                + fy * ((1 - fx) * field[k, j1, i0] + fx * field[k, j1, i1]))

    def nearest(self, name, k, px, py):
        """Value of ``name`` in hour(s) ``k`` at the cell nearest to (px, py)."""
        i0, i1, fx = self._axis(self.xs, px)
        j0, j1, fy = self._axis(self.ys, py)
        return getattr(self, name)[k, np.where(fy < 0.5, j0, j1), np.where(fx < 0.5, i0, i1)]

    def wind(self, t, px, py):
        """(u, v) [m/s] at time t [s from the first hour's start]: bilinear in space, linear in
        time between hour centres (held constant before the first and after the last)."""
        T = self.times.size
        tau = (t - 0.5 * HOUR) / HOUR
        k0 = int(np.clip(np.floor(tau), 0, max(T - 2, 0)))
        w = float(np.clip(tau - k0, 0.0, 1.0)) if T > 1 else 0.0
        k1 = min(k0 + 1, T - 1)
        u = (1 - w) * self._bilinear(self.u, k0, px, py) + w * self._bilinear(self.u, k1, px, py)
        v = (1 - w) * self._bilinear(self.v, k0, px, py) + w * self._bilinear(self.v, k1, px, py)
        return u, v

    def extent(self):
        return self.xs.min(), self.ys.min(), self.xs.max(), self.ys.max()


def _station_field(met, urban, mixing_height):
    times, ws, wd, ta, cls, zi = read_met(met, urban, mixing_height)
    rad = np.deg2rad(wd)
    shape = (times.size, 1, 1)
    return _MetField(times, np.zeros(1), np.zeros(1), (-ws * np.sin(rad)).reshape(shape),
                     (-ws * np.cos(rad)).reshape(shape), cls.reshape(shape), zi.reshape(shape),
                     ta.reshape(shape))


def _gridded_field(met, mixing_height, plume_rise):
    names = ["u", "v", "stability_class", mixing_height or "mixing_height"]
    if plume_rise:
        names.append("air_temperature")
    for name in names:
        if name not in met:
            raise MissingFieldError(f"gridded met lacks {name!r}", field=name, where="met")
    validate_met(met, required=(), allow_class7=True)
    for d in ("y", "x"):
        if d not in met["u"].dims or d not in met.coords:
            raise MissingFieldError(f"gridded met u/v need a {d!r} dimension with coordinates",
                                    field=d, where="met")
    xs, ys = (np.asarray(met[d].values, float) for d in ("x", "y"))
    for d, a in (("x", xs), ("y", ys)):
        check_finite(a, d, kind="met coordinate", units="m")
        if a.size > 1 and (np.diff(a) <= 0).any():
            raise MetError(f"met coordinate {d} must be strictly increasing", field=d, where="met")
    full = (met.sizes["time"], ys.size, xs.size)

    def grab(name, dtype=float, default=None):
        if name not in met:
            return np.full(full, default, dtype)
        da = met[name]
        order = [d for d in ("time", "y", "x") if d in da.dims]
        arr = np.asarray(da.transpose(*order).values, dtype)
        shape = tuple(full[i] if d in da.dims else 1 for i, d in enumerate(("time", "y", "x")))
        return np.broadcast_to(arr.reshape(shape), full)

    u, v = grab("u"), grab("v")
    check_finite(u, "u", kind="met u element", units="m/s")
    check_finite(v, "v", kind="met v element", units="m/s")
    cls = np.minimum(grab("stability_class", np.intp), 6)
    return _MetField(np.asarray(met["time"].values), xs, ys, u, v, cls,
                     grab(mixing_height or "mixing_height"), grab("air_temperature", float, 293.15))


def _check_hourly(times):
    if times.size > 1:
        step = np.diff(times).astype("timedelta64[s]").astype(float)
        if not np.all(step == HOUR):
            raise MetError("met times must be consecutive hours", field="time", where="met")


# ----------------------------------------------------------------------------------- sigmas
@dataclass
class _Growth:
    curves: SigmaCurves | None
    kh: float = 0.0
    kz: float = 0.0


def _growth(sigmas, urban, diffusivity):
    if sigmas == "k-theory":
        if diffusivity is None:
            raise MissingFieldError("sigmas='k-theory' needs diffusivity=(K_h, K_z) [m2/s]",
                                    field="diffusivity")
        kh, kz = (float(k) for k in diffusivity)
        check_range([kh, kz], "diffusivity", 0.0, None, lo_inclusive=False, units="m2/s")
        return _Growth(None, kh, kz)
    if sigmas is None:
        sigmas = "briggs" if urban else "pg"
    if sigmas == "pg":
        return _Growth(SigmaCurves(lambda x, c: plume.sigmas(x, c, False)))
    if sigmas == "briggs":
        return _Growth(SigmaCurves(lambda x, c: plume.sigmas(x, c, True)))
    if callable(sigmas):
        return _Growth(SigmaCurves(sigmas))
    raise UnknownFieldError(f"sigmas={sigmas!r} must be None, 'pg', 'briggs', 'k-theory' or a "
                            "callable (x, cls) -> (sigma_y, sigma_z)", field="sigmas")


# ----------------------------------------------------------------------------------- sources
@dataclass
class _Sources:
    x: np.ndarray  # (S,)
    y: np.ndarray
    hs: np.ndarray  # stack height
    q: np.ndarray  # (T, S) g/s
    he: np.ndarray  # (T, S) effective height
    bid: dict | None  # (T, S) arrays for buoyancy-induced dispersion


def _profile_factor(height, cls, z_anem, urban):
    """ISC3 power-law factor (max(h, z_ref)/z_ref)^p (ISC3-II Eq. 1-6)."""
    return (np.maximum(height, z_anem) / z_anem) ** wind_profile_exponent(cls, urban=urban)


def _sources(inventory, field, pollutant, q, z_anem, urban, plume_rise, downwash):
    pts = inventory.points
    sx, sy = pts["x"].to_numpy(float), pts["y"].to_numpy(float)
    hs = pts["stack_height"].to_numpy(float)
    T = field.times.size
    k = np.repeat(np.arange(T), sx.size).reshape(T, -1)
    px, py = np.broadcast_to(sx, k.shape), np.broadcast_to(sy, k.shape)
    u, v = (field._bilinear(getattr(field, n), k, px, py) for n in ("u", "v"))
    cls = field.nearest("cls", k, px, py)
    ta = field.nearest("ta", k, px, py)
    us = np.maximum(np.hypot(u, v) * _profile_factor(hs, cls, z_anem, urban), 1.0)
    d = pts["stack_diameter"].to_numpy(float)
    vs = pts["exit_velocity"].to_numpy(float)
    ts = pts["exit_temperature"].to_numpy(float)
    he = plume.stack_tip_downwash(hs, d, vs, us) if downwash else np.broadcast_to(hs, us.shape)
    bid = None
    if plume_rise:
        fb = plume.buoyancy_flux(vs, d, ts, ta)
        fm = plume.momentum_flux(vs, d, ts, ta)
        dhf, _, xfb, xfm = plume.final_plume_rise(fb, fm, us, vs, d, ts, ta, cls)
        he = he + dhf
        bid = {"fb": fb, "fm": fm, "us": us, "vs": np.broadcast_to(vs, us.shape),
               "s": plume.stability_parameter(ta, cls), "xfb": xfb, "xfm": xfm, "dhf": dhf}
    return _Sources(sx, sy, hs, q, np.asarray(he, float), bid)


# ----------------------------------------------------------------------------------- simulation
_STATE = ("x", "y", "mass", "age", "s", "xvy", "xvz", "sy", "sz", "cls", "he", "hs", "src", "hour")


@dataclass
class PuffTrack:
    """Puff samples in time order: each is a puff moving along a straight path during one
    sampling interval; ``hour`` is the output hour it contributes to, ``mass`` is already weighted
    by its share of that hour [g]. Plus the mass budget at the end of every hour [g]."""

    hour: np.ndarray
    x: np.ndarray
    y: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    sy: np.ndarray
    sz: np.ndarray
    he: np.ndarray
    zi: np.ndarray
    mass: np.ndarray
    budget: dict


def _bid_sigma(sig, travel, hour, src, sources):
    """σ with buoyancy-induced dispersion, gradual rise at the travel distance (ISC3-II Eq. 1-28…
    1-30, 1-38/1-39; CALPUFF §2.2.2)."""
    b = sources.bid
    if b is None:
        return sig
    g = {n: a[hour, src] for n, a in b.items()}
    dh = plume.gradual_plume_rise(np.maximum(travel, 1.0), g["fb"], g["fm"], g["us"], g["vs"],
                                  g["s"], g["xfb"], g["xfm"], g["dhf"])
    return plume.bid_sigma(sig, dh)


def _sigma_at(growth, st, cls, ds, dt, frac, idx):
    """(σy, σz) [m] of puffs ``idx`` after the fraction ``frac`` of this step: along the curves
    from their virtual distances, or σ² = 2 K t (age-based K-theory)."""
    if growth.curves is not None:
        return (growth.curves.sigma(st["xvy"][idx] + frac * ds[idx], cls[idx], 0),
                growth.curves.sigma(st["xvz"][idx] + frac * ds[idx], cls[idx], 1))
    age = st["age"][idx] + frac * dt
    return np.sqrt(2.0 * growth.kh * age), np.sqrt(2.0 * growth.kz * age)


def simulate(field: _MetField, sources: _Sources, growth: _Growth, *, release_step: float,
             sampling: str, urban: bool, z_anem: float, decay_rate: float, max_age: float,
             domain, min_wind_speed: float, resolution: float, max_subsamples: int) -> PuffTrack:
    """Release, advect, grow, sample and drop puffs over all hours (time loop, vectorized over
    puffs). Returns the samples the concentration kernel evaluates at receptors."""
    T = field.times.size
    n_sub = int(round(HOUR / release_step))
    dt = float(release_step)
    st = {n: np.zeros(0, np.intp if n in ("cls", "src", "hour") else float) for n in _STATE}
    samples = []
    tot = dict.fromkeys(("emitted", "exited", "expired", "decayed"), 0.0)
    budget = {n: np.zeros(T) for n in ("emitted", "in_domain", "exited", "expired", "decayed")}
    xmin, ymin, xmax, ymax = domain
    for j in range(T * n_sub):  # time stepping (sequential by nature)
        k, t = j // n_sub, j * dt
        new = np.flatnonzero(sources.q[k] > 0)
        if new.size:
            born = {"x": sources.x[new], "y": sources.y[new], "mass": sources.q[k, new] * dt,
                    "he": sources.he[k, new], "hs": sources.hs[new], "src": new,
                    "hour": np.full(new.size, k),
                    "cls": field.nearest("cls", k, sources.x[new], sources.y[new])}
            tot["emitted"] += born["mass"].sum()
            st = {n: np.concatenate([st[n], born.get(n, np.zeros(new.size, st[n].dtype))])
                  for n in _STATE}
        if st["x"].size == 0:
            _close_hour(budget, tot, st, k, j, n_sub)
            continue
        x, y = st["x"], st["y"]
        cls = field.nearest("cls", k, x, y)
        zi = np.where(cls <= 4, field.nearest("zi", k, x, y), np.inf)  # lid in A–D (ISC3)
        pf = _profile_factor(st["hs"], cls, z_anem, urban)
        u1, v1 = field.wind(t, x, y)
        u1, v1 = u1 * pf, v1 * pf
        u2, v2 = field.wind(t + dt, x + u1 * dt, y + v1 * dt)
        u2, v2 = u2 * pf, v2 * pf
        dxp, dyp = 0.5 * (u1 + u2) * dt, 0.5 * (v1 + v2) * dt
        ds = np.maximum(0.5 * (np.hypot(u1, v1) + np.hypot(u2, v2)), min_wind_speed) * dt

        if growth.curves is not None:
            changed = np.flatnonzero(cls != st["cls"])
            if changed.size:  # virtual distances under the new class (CALPUFF §2.2.1)
                st["xvy"][changed] = growth.curves.distance(st["sy"][changed], cls[changed], 0)
                st["xvz"][changed] = growth.curves.distance(st["sz"][changed], cls[changed], 1)

        everyone = np.arange(x.size)
        sy_end, sz_end = _sigma_at(growth, st, cls, ds, dt, 1.0, everyone)
        if sampling == "mean":
            m = np.clip(np.ceil(ds / (resolution * np.maximum(
                _bid_sigma(sy_end, st["s"] + ds, st["hour"], st["src"], sources), 1e-9))),
                1, max_subsamples).astype(np.intp)
            idx = np.repeat(everyone, m)
            local = np.arange(idx.size) - np.repeat(np.cumsum(m) - m, m)
            f0, fm_ = local / m[idx], (local + 0.5) / m[idx]
            sy_m, sz_m = _sigma_at(growth, st, cls, ds, dt, fm_, idx)
            travel = st["s"][idx] + fm_ * ds[idx]
            sy_m = _bid_sigma(sy_m, travel, st["hour"][idx], st["src"][idx], sources)
            sz_m = _bid_sigma(sz_m, travel, st["hour"][idx], st["src"][idx], sources)
            samples.append((np.full(idx.size, k), x[idx] + f0 * dxp[idx],
                            y[idx] + f0 * dyp[idx], dxp[idx] / m[idx], dyp[idx] / m[idx], sy_m,
                            sz_m, st["he"][idx], zi[idx],
                            st["mass"][idx] * np.exp(-decay_rate * fm_ * dt) / (n_sub * m[idx])))
        # advance the state to the end of the step
        st["x"], st["y"] = x + dxp, y + dyp
        st["age"] = st["age"] + dt
        st["s"] = st["s"] + ds
        st["xvy"], st["xvz"] = st["xvy"] + ds, st["xvz"] + ds
        st["sy"], st["sz"] = sy_end, sz_end
        st["cls"] = cls
        lost = st["mass"] * (1.0 - np.exp(-decay_rate * dt))
        tot["decayed"] += lost.sum()
        st["mass"] = st["mass"] - lost
        if sampling == "snapshot" and (j + 1) % n_sub == 0:
            n = st["x"].size
            ends = _bid_sigma(np.stack([sy_end, sz_end]), st["s"], st["hour"], st["src"], sources)
            samples.append((np.full(n, k), st["x"], st["y"], np.zeros(n), np.zeros(n), ends[0],
                            ends[1], st["he"], zi, st["mass"]))
        out = ~((st["x"] >= xmin) & (st["x"] <= xmax) & (st["y"] >= ymin) & (st["y"] <= ymax))
        old = ~out & (st["age"] >= max_age)
        tot["exited"] += st["mass"][out].sum()
        tot["expired"] += st["mass"][old].sum()
        keep = ~(out | old)
        st = {n: a[keep] for n, a in st.items()}
        _close_hour(budget, tot, st, k, j, n_sub)
    cols = [np.concatenate(c) if samples else np.zeros(0) for c in zip(*samples, strict=True)] \
        if samples else [np.zeros(0)] * 10
    cols[0] = cols[0].astype(np.intp)
    return PuffTrack(*cols, budget=budget)


def _close_hour(budget, tot, st, k, j, n_sub):
    if (j + 1) % n_sub == 0:
        for n, v in tot.items():
            budget[n][k] = v
        budget["in_domain"][k] = st["mass"].sum()


# ----------------------------------------------------------------------------------- sampling
def track_concentration(track: PuffTrack, t_sl: slice, rx, ry, rz):
    """Hourly concentration [µg/m³] (hours of ``t_sl``, receptors) from the puff samples.

    Receptors are processed in blocks; for each block only samples whose path comes within
    :data:`CUTOFF_SIGMAS` σy of the block's bounding box are evaluated, in (sample × receptor)
    sub-blocks of at most :data:`BLOCK_ELEMENTS` pairs, and summed per hour.
    """
    t0 = t_sl.start or 0
    T = t_sl.stop - t0
    R = rx.size
    out = np.zeros((T, R))
    lo, hi = np.searchsorted(track.hour, [t0, t0 + T])
    if hi == lo or R == 0:
        return out
    sl = slice(lo, hi)
    hour, px, py, dx, dy = (a[sl] for a in (track.hour, track.x, track.y, track.dx, track.dy))
    sy, sz, he, zi, mass = (a[sl] for a in (track.sy, track.sz, track.he, track.zi, track.mass))
    reach = CUTOFF_SIGMAS * sy
    bx0, bx1 = np.minimum(px, px + dx) - reach, np.maximum(px, px + dx) + reach
    by0, by1 = np.minimum(py, py + dy) - reach, np.maximum(py, py + dy) + reach
    r_step = min(R, 2048)
    p_step = max(1, BLOCK_ELEMENTS // r_step)
    order = _tile_order(rx, ry, r_step)  # compact receptor blocks prune far puffs best
    for r0 in range(0, R, r_step):  # receptor blocks (bounded memory)
        rs = order[r0:r0 + r_step]
        X, Y, Z = rx[rs], ry[rs], rz[rs]
        near = np.flatnonzero((bx1 >= X.min()) & (bx0 <= X.max()) & (by1 >= Y.min())
                              & (by0 <= Y.max()) & (mass > 0))
        for p0 in range(0, near.size, p_step):  # sample blocks
            p = near[p0:p0 + p_step]
            col = (slice(None), None)
            h = path_average_gaussian(X[None, :] - px[p][col], Y[None, :] - py[p][col],
                                      dx[p][col], dy[p][col], sy[p][col])
            if np.all(Z == Z[0]):
                v = plume.vertical_term(Z[0], he[p], sz[p], zi[p])[col]
            else:
                v = plume.vertical_term(Z[None, :], he[p][col], sz[p][col], zi[p][col])
            c = (mass[p] * 1e6 / (2.0 * np.pi * sy[p] ** 2 * plume.SQRT_2PI * sz[p]))[col] * h * v
            starts = np.flatnonzero(np.r_[True, hour[p][1:] != hour[p][:-1]])
            out[np.ix_(hour[p][starts] - t0, rs)] += np.add.reduceat(c, starts, axis=0)
    return out


def _tile_order(rx, ry, block):
    """Receptor order grouping them into about square tiles of ~``block`` receptors."""
    n = int(np.ceil(np.sqrt(rx.size / block)))
    if n <= 1:
        return np.arange(rx.size)
    tx = np.minimum((n * (rx - rx.min()) / max(np.ptp(rx), 1e-9)).astype(np.intp), n - 1)
    ty = np.minimum((n * (ry - ry.min()) / max(np.ptp(ry), 1e-9)).astype(np.intp), n - 1)
    return np.argsort(ty * n + tx, kind="stable")


# ----------------------------------------------------------------------------------- model
def _rates(inventory, times, pollutant, temporal, emission_rates):
    if emission_rates is None:
        return hourly_emission_rates(inventory, times, pollutant, "point", temporal)
    for d in ("time", "source"):
        if d not in emission_rates.dims:
            raise MissingFieldError(f"emission_rates lack dimension {d!r}", field=d,
                                    where="emission_rates")
    ids = inventory.points["id"].astype(str).to_numpy()
    have = np.asarray(emission_rates["source"].values).astype(str)
    missing = np.setdiff1d(ids, have)
    if missing.size:
        raise MissingFieldError(f"emission_rates have no source {missing[0]!r}",
                                field=str(missing[0]), where="emission_rates")
    if not np.array_equal(np.asarray(emission_rates["time"].values), times):
        raise MissingFieldError("emission_rates must share the met's hourly time axis",
                                field="time", where="emission_rates")
    q = np.asarray(emission_rates.transpose("time", "source").values, float)
    q = q[:, pd.Index(have).get_indexer(ids)]
    check_nonnegative(q, "emission_rates", kind="emission_rates element", units="g/s")
    return q


def _default_domain(receptors, sources, field):
    if field.xs.size > 1 or field.ys.size > 1:
        x0, y0, x1, y1 = field.extent()
        hx = 0.5 * (field.xs[1] - field.xs[0]) if field.xs.size > 1 else 0.0
        hy = 0.5 * (field.ys[1] - field.ys[0]) if field.ys.size > 1 else 0.0
        return x0 - hx, y0 - hy, x1 + hx, y1 + hy
    xs = np.r_[receptors.x, sources.x]
    ys = np.r_[receptors.y, sources.y]
    pad = max(5000.0, 0.5 * max(np.ptp(xs), np.ptp(ys)))
    return xs.min() - pad, ys.min() - pad, xs.max() + pad, ys.max() + pad


@register_model("gaussian_puff", domain="air")
def gaussian_puff(inventory, met, receptors, *, pollutant: str, release_step: float = 300.0,
                  sampling: str = "mean", urban: bool = False, sigmas=None, diffusivity=None,
                  plume_rise: bool = True, downwash: bool = True, anemometer_height: float = 10.0,
                  temporal: bool = True, emission_rates: xr.DataArray | None = None,
                  half_life: float | None = None, mixing_height: str | None = None,
                  max_age: float = 24 * HOUR, domain=None, min_wind_speed: float = 0.5,
                  sampling_resolution: float = 0.5, max_subsamples: int = 64,
                  chunks: dict | None = None) -> xr.Dataset:
    """Hourly Gaussian-puff concentrations of ``pollutant`` [µg/m³] from point sources.

    Parameters
    ----------
    inventory : ecodss.Inventory
        Point sources (stacks; rates in g/s). Area sources are not released (a warning says so).
    met : xr.Dataset or pandas.DataFrame
        Either station met as for :func:`ecodss.air.gaussian_plume` (uniform in space), or gridded
        met with ``u``, ``v`` [m/s] on (time, y, x) (coordinates ``x``, ``y`` [m], same CRS as the
        sources), ``stability_class`` and the mixing height (scalar, (time,) or (time, y, x)),
        ``air_temperature`` [K] when ``plume_rise``. Consecutive hours; winds at
        ``anemometer_height``. Puffs move with the ISC3 power-law wind at their stack height.
    receptors : Receptors
        Discrete, polar or gridded receptors (gridded output is (time, y, x)).
    pollutant : str
    release_step : float  [s]
        One puff per source per step (must divide 3600); also the advection step.
    sampling : {"mean", "snapshot"}
        ``mean``: hourly mean — every step, each puff is sampled along its path (CALPUFF integrated
        sampling, sub-divided so a sub-path is ≤ ``sampling_resolution`` σy, at most
        ``max_subsamples`` pieces). ``snapshot``: instantaneous field at the end of each hour
        (labelled with the hour's start, like the Eulerian model).
    urban : bool
        Urban Briggs σ by default, urban wind exponents, SO2 4-h half-life.
    sigmas : {None, "pg", "briggs", "k-theory"} or callable
        Rural Pasquill–Gifford / urban Briggs curves in travel distance (default per ``urban``),
        ``k-theory`` σ² = 2 K t with ``diffusivity=(K_h, K_z)`` [m²/s], or
        ``callable(x [m], cls) -> (σy, σz)`` (same signature as the plume model's).
    plume_rise, downwash : bool
        Briggs final rise for the effective height and stack-tip downwash (ISC3 defaults), with
        buoyancy-induced dispersion from the gradual rise at the travel distance.
    temporal, emission_rates :
        Inventory temporal profiles, or an explicit (time, source) [g/s] DataArray.
    half_life : float, optional  [s]
        First-order decay.
    max_age : float  [s]
        Puffs older than this are dropped (``mass_expired``).
    domain : (xmin, ymin, xmax, ymax), optional  [m]
        Puffs leaving it are dropped (``mass_exited``). Default: the gridded met's extent, or the
        receptors' and sources' bounding box padded by max(5 km, half its size).
    min_wind_speed : float  [m/s]
        Floor of the speed that grows σ along the curves (puffs keep spreading in calms).
    chunks : dict, optional
        ``{"time": .., "receptor": ..}`` or ``{"time": .., "y": .., "x": ..}``: dask-backed result
        (the puff trajectories are computed once, eagerly; sampling runs per chunk).

    Returns
    -------
    xr.Dataset
        ``concentration`` (time, receptor | y, x) [ug m-3] and the mass budget (time) [g] at the
        end of each hour: ``mass_emitted``, ``mass_in_domain``, ``mass_exited``,
        ``mass_expired``, ``mass_decayed`` (emitted = in_domain + exited + expired + decayed).

    References
    ----------
    Scire et al. (2000) CALPUFF User's Guide, Eq. 2-1, §2.1.1, §2.2.1; Petersen et al. (1984)
    INPUFF, EPA-600/8-84-027; EPA (1995) ISC3 User's Guide Vol. II, EPA-454/B-95-003b.
    """
    if not isinstance(receptors, Receptors):
        raise TypeError("receptors must be an ecodss.Receptors")
    check_range(release_step, "release_step", 1.0, HOUR, units="s")
    if abs(HOUR / release_step - round(HOUR / release_step)) > 1e-9:
        raise InvalidValueError(f"release_step={release_step} s must divide 3600 s",
                                field="release_step")
    if sampling not in ("mean", "snapshot"):
        raise UnknownFieldError(f"sampling={sampling!r} must be 'mean' or 'snapshot'",
                                field="sampling")
    check_range(anemometer_height, "anemometer_height", 0.5, 200.0, units="m")
    check_range(max_age, "max_age", 0.0, None, lo_inclusive=False, units="s")
    check_range(min_wind_speed, "min_wind_speed", 0.0, None, lo_inclusive=False, units="m/s")
    check_range(sampling_resolution, "sampling_resolution", 0.0, None, lo_inclusive=False)
    check_range(max_subsamples, "max_subsamples", 1, None)
    growth = _growth(sigmas, urban, diffusivity)
    if pollutant not in inventory.pollutants:
        raise MissingFieldError(f"pollutant {pollutant!r} is not in the inventory "
                                f"(has {list(inventory.pollutants)})", field=pollutant,
                                where="inventory")
    if inventory.points is None or not len(inventory.points):
        raise MissingFieldError("the puff model needs point sources", field="points",
                                where="inventory")
    if inventory.areas is not None and len(inventory.areas) and \
            (inventory.areas[pollutant].to_numpy(float) > 0).any():
        warnings.warn("gaussian_puff releases point sources only; the inventory's area "
                      f"sources of {pollutant} are left out", stacklevel=2)
    if isinstance(met, xr.Dataset) and "u" in met and "v" in met:
        field = _gridded_field(met, mixing_height, plume_rise)
    else:
        field = _station_field(met, urban, mixing_height)
    _check_hourly(field.times)
    q = _rates(inventory, field.times, pollutant, temporal, emission_rates)
    sources = _sources(inventory, field, pollutant, q, anemometer_height, urban, plume_rise,
                       downwash)
    if domain is None:
        domain = _default_domain(receptors, sources, field)
    check_finite(domain, "domain", units="m")
    if not (domain[0] < domain[2] and domain[1] < domain[3]):
        raise InvalidValueError(f"domain={tuple(domain)} must be (xmin, ymin, xmax, ymax)",
                                field="domain")
    if half_life is None and urban and pollutant == "SO2":
        half_life = URBAN_SO2_HALF_LIFE
    decay_rate = 0.0 if half_life is None else 0.693 / float(half_life)
    track = simulate(field, sources, growth, release_step=float(release_step), sampling=sampling,
                     urban=urban, z_anem=float(anemometer_height), decay_rate=decay_rate,
                     max_age=float(max_age), domain=tuple(float(d) for d in domain),
                     min_wind_speed=float(min_wind_speed),
                     resolution=float(sampling_resolution), max_subsamples=int(max_subsamples))

    def compute(t_sl, r_idx, parallel=False):
        return track_concentration(track, t_sl, receptors.x[r_idx], receptors.y[r_idx],
                                   receptors.z[r_idx])

    T = field.times.size
    if chunks:
        data = dask_evaluate(compute, T, 0, receptors, chunks, False)
    else:
        data = reshape_to_receptors(compute(slice(0, T), np.arange(len(receptors))), receptors)
    ds = to_dataset(data, field.times, receptors, {}, pollutant, urban, np.zeros(T, bool))
    ds = ds.drop_vars("calm")
    ds["concentration"].attrs.update({
        "long_name": f"{'hourly mean' if sampling == 'mean' else 'end-of-hour'} {pollutant} "
                     "concentration from the Gaussian puff model",
        "cell_methods": "time: mean" if sampling == "mean" else "time: point"})
    for name, values in track.budget.items():
        ds[f"mass_{name}"] = ("time", values, {
            "units": "g", "long_name": f"puff mass {name.replace('_', ' ')} (end of hour)"})
    ds.attrs.update({"model": "ecodss gaussian_puff",
                     "dispersion": _describe(sigmas, urban),
                     "release_step_s": float(release_step), "sampling": sampling,
                     "references": "Scire et al. (2000) CALPUFF User's Guide; "
                                   "EPA-600/8-84-027 (INPUFF); EPA-454/B-95-003b (ISC3)"})
    return ds


def _describe(sigmas, urban):
    if sigmas == "k-theory":
        return "K-theory sigma^2 = 2 K t"
    if callable(sigmas):
        return "user sigma curves"
    return {"pg": "rural Pasquill-Gifford", "briggs": "urban Briggs"}.get(
        sigmas or ("briggs" if urban else "pg"))


__all__ = ["gaussian_puff", "puff_concentration", "path_average_gaussian", "virtual_distance",
           "SigmaCurves", "PuffTrack", "simulate", "track_concentration"]
