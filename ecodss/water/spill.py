"""Sudden-spill emergency metrics at river sections, from any concentration series.

Given concentrations ``c(section, time)`` (a solver's output, a monitoring record, or the analytic
slug solution) this computes, per section, the quantities an emergency response asks for:

* arrival time — first time ``c`` reaches the detection threshold,
* peak concentration and its time,
* time above a threshold (e.g. the GB 3838 class III limit or a drinking-water standard),
* passage end — last time ``c`` is at or above the detection threshold,
* mass passed ``∫ Q c dt``.

Crossings are located by log-linear interpolation between samples (linear where a sample is 0), and the peak by a parabola through
the largest sample and its neighbours, so the metrics converge with the sampling interval (second
order) instead of snapping to samples. Everything is vectorized over sections (and any other
leading dims). ``slug_spill_single_reach`` gives the same metrics in closed form for a slug in a
uniform reach (Chapra 1997 Lecture 9; Fischer et al. 1979 §2.2), as the check of numerical
solvers and as a quick screening tool.

References
----------
Chapra, S. C. (1997) Surface Water-Quality Modeling. McGraw-Hill. Lecture 9 (eq. 9.40).
Fischer, H. B., List, E. J., Koh, R. C. Y., Imberger, J. and Brooks, N. H. (1979) Mixing in
Inland and Coastal Waters. Academic Press, §2.2.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError
from ..validation import check_nonnegative, check_range
from .analytic import ade_slug

METRICS = ("arrival_time", "peak_concentration", "peak_time", "time_above_threshold",
           "passage_end", "mass_passed")


def _times_to_seconds(time):
    t = np.asarray(time)
    if np.issubdtype(t.dtype, np.datetime64):
        t0 = t[0]
        return (t - t0) / np.timedelta64(1, "s"), t0
    return t.astype(float), None


def _cross_frac(c0, c1, level):
    """Where, as a fraction of the interval, the interpolant from ``c0`` to ``c1`` equals
    ``level`` (log-linear when both samples are positive — exact for exponential fronts and
    tails — linear otherwise)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = (c0 > 0) & (c1 > 0) & (level > 0) & (c0 != c1)
        lin = (level - c0) / np.where(c1 != c0, c1 - c0, 1.0)
        lg = (np.log(np.where(pos, level, 1.0)) - np.log(np.where(pos, c0, 1.0))) / np.where(
            pos, np.log(np.where(pos, c1, 2.0)) - np.log(np.where(pos, c0, 1.0)), 1.0)
    return np.clip(np.where(pos, lg, np.where(c1 != c0, lin, 0.0)), 0.0, 1.0)


def _first_up_crossing(t, c, thr):
    """Time of the first sample interval where ``c`` reaches ``thr`` (linear interpolation);
    NaN where it never does. ``c`` is ``(..., time)``."""
    above = c >= thr
    any_above = above.any(axis=-1)
    i = np.argmax(above, axis=-1)  # first index at/above
    im1 = np.maximum(i - 1, 0)
    c1 = np.take_along_axis(c, i[..., None], -1)[..., 0]
    c0 = np.take_along_axis(c, im1[..., None], -1)[..., 0]
    frac = _cross_frac(c0, c1, thr[..., 0])
    crossing = np.where(i > 0, t[im1] + frac * (t[i] - t[im1]), t[i])
    return np.where(any_above, crossing, np.nan)


def _time_above(t, c, thr):
    """Length of time the linear interpolant of ``c`` is >= ``thr``."""
    c0, c1 = c[..., :-1], c[..., 1:]
    dt = np.diff(t)
    a0, a1 = c0 >= thr, c1 >= thr
    cross = _cross_frac(c0, c1, np.broadcast_to(thr, c0.shape))
    part = np.where(a0 & ~a1, cross, np.where(~a0 & a1, 1.0 - cross, 0.0))
    frac = np.where(a0 & a1, 1.0, part)
    return np.sum(frac * dt, axis=-1)


def _peak(t, c):
    """Peak value and time, refined by the parabola through the top sample and its neighbours
    (uniform or not)."""
    n = c.shape[-1]
    i = np.argmax(c, axis=-1)
    ic = np.clip(i, 1, n - 2)
    ym, y0, yp = (np.take_along_axis(c, (ic + k)[..., None], -1)[..., 0] for k in (-1, 0, 1))
    tm, t0, tp = t[ic - 1], t[ic], t[ic + 1]
    # Lagrange parabola through (tm, ym), (t0, y0), (tp, yp): vertex
    d1 = (y0 - ym) / (t0 - tm)
    d2 = (yp - y0) / (tp - t0)
    curv = (d2 - d1) / (tp - tm)  # second divided difference = a
    interior = (i == ic) & (curv < 0)
    t_star = np.where(interior, 0.5 * (tm + t0) - d1 / (2 * np.where(curv < 0, curv, -1.0)), t[i])
    t_star = np.clip(t_star, tm, tp)
    y_star = ym + d1 * (t_star - tm) + curv * (t_star - tm) * (t_star - t0)
    y_top = np.take_along_axis(c, i[..., None], -1)[..., 0]
    return np.where(interior, np.maximum(y_star, y_top), y_top), np.where(interior, t_star, t[i])


def spill_metrics(concentration, time, *, detection=None, threshold=None, flow=None,
                  time_dim: str = "time"):
    """Arrival, peak, duration above a threshold, passage end and mass passed at each section.

    Parameters
    ----------
    concentration : array_like ``(..., time)`` or xarray.DataArray with a ``time_dim``  [mg/L]
        Concentrations at sections (any leading dims, e.g. ``section`` or ``scenario,
        section``). Must be finite and >= 0.
    time : array_like (time,)  [s] or datetime64
        Sample times, strictly increasing (ignored for a DataArray: its coordinate is used).
    detection : float, optional  [mg/L]
        Detection threshold defining arrival and passage end (default: 1 % of each section's
        peak).
    threshold : float or array_like, optional  [mg/L]
        Concentration of concern (e.g. a GB 3838 / GB 5749 limit) for ``time_above_threshold``
        (default: the detection threshold).
    flow : array_like, optional  [m3/s]
        Flow at each section, broadcastable to ``concentration`` (per section, or per section and
        time); gives ``mass_passed`` [g] = ``∫ Q c dt`` (trapezoidal rule).

    Returns
    -------
    xarray.Dataset
        The :data:`METRICS` over the leading dims. Times are seconds since the first sample, or
        datetime64 for datetime input; durations in seconds. NaN where the threshold is never
        reached.
    """
    import xarray as xr

    if isinstance(concentration, xr.DataArray):
        if time_dim not in concentration.dims:
            raise InvalidValueError(f"concentration has no {time_dim!r} dim", field=time_dim)
        da = concentration.transpose(..., time_dim)
        time = da[time_dim].values
        lead_dims = da.dims[:-1]
        coords = {k: v for k, v in da.coords.items() if time_dim not in v.dims}
        c = np.asarray(da.values, float)
        if isinstance(flow, xr.DataArray):
            flow = flow.broadcast_like(da).transpose(*da.dims).values
    else:
        c = np.asarray(concentration, float)
        lead_dims = tuple(f"dim_{k}" for k in range(c.ndim - 1))
        lead_dims = ("section",) + lead_dims[1:] if lead_dims else ()
        coords = {}
    check_nonnegative(c, "concentration", units="mg/L")
    t, t0 = _times_to_seconds(time)
    if t.ndim != 1 or t.size != c.shape[-1] or t.size < 3:
        raise InvalidValueError(f"time has {t.size} values, concentration {c.shape[-1]}; need "
                                ">= 3 matching samples", field="time")
    if np.any(np.diff(t) <= 0):
        raise InvalidValueError("time must be strictly increasing", field="time")
    peak_c, peak_t = _peak(t, c)
    det = 0.01 * c.max(axis=-1) if detection is None else np.asarray(detection, float)
    check_nonnegative(det, "detection", units="mg/L")
    thr = det if threshold is None else np.asarray(threshold, float)
    check_nonnegative(thr, "threshold", units="mg/L")
    det_b = np.broadcast_to(det, c.shape[:-1])[..., None]
    arrival = _first_up_crossing(t, c, det_b)
    end = t[-1] - _first_up_crossing(t[-1] - t[::-1], c[..., ::-1], det_b)
    above = _time_above(t, c, np.broadcast_to(thr, c.shape[:-1])[..., None])
    out = {"arrival_time": arrival, "peak_concentration": peak_c, "peak_time": peak_t,
           "time_above_threshold": above, "passage_end": end}
    if flow is not None:
        q = np.broadcast_to(np.asarray(flow, float), c.shape) if np.ndim(flow) == c.ndim else \
            np.broadcast_to(np.asarray(flow, float)[..., None], c.shape)
        check_nonnegative(q, "flow", units="m3/s")
        out["mass_passed"] = np.trapezoid(q * c, t, axis=-1)
    else:
        out["mass_passed"] = np.full(c.shape[:-1], np.nan)
    ds = xr.Dataset({k: (lead_dims, np.asarray(v)) for k, v in out.items()}, coords=coords)
    time_units = "s since first sample" if t0 is None else "datetime"
    for k in ("arrival_time", "peak_time", "passage_end"):
        if t0 is not None:
            ds[k] = t0 + (ds[k] * 1e9).astype("timedelta64[ns]").where(ds[k].notnull())
        ds[k].attrs["units"] = "s" if t0 is None else ""
        ds[k].attrs["long_name"] = k.replace("_", " ") + f" ({time_units})"
    ds["time_above_threshold"].attrs.update(units="s", long_name="time above threshold")
    ds["peak_concentration"].attrs.update(units="mg/L", long_name="peak concentration")
    ds["mass_passed"].attrs.update(units="g", long_name="mass passed (integral of Q c dt)")
    ds.attrs.update(detection_threshold=str(np.unique(det).tolist()[:5]),
                    threshold=str(np.unique(thr).tolist()[:5]),
                    references="ecodss.water.spill (linear-interpolated crossings)")
    return ds


# --------------------------------------------------------------------------- analytic slug
def _slug_log_c(t, x, mass, area, u, E, k):
    return (np.log(mass / area) - 0.5 * np.log(4 * np.pi * E * t)
            - (x - u * t) ** 2 / (4 * E * t) - k * t)


def _bisect(f, lo, hi, n=200):
    """Vectorized bisection of an increasing-then-sign-changing ``f`` on [lo, hi]."""
    flo = f(lo)
    for _ in range(n):  # fixed iteration count, all elements at once
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        left = np.sign(fm) == np.sign(flo)
        lo, flo = np.where(left, mid, lo), np.where(left, fm, flo)
        hi = np.where(left, hi, mid)
    return 0.5 * (lo + hi)


def slug_spill_single_reach(mass, area, velocity, dispersion, x, *, decay=0.0,
                            threshold=None, detection=None):
    """Exact spill metrics for a slug release in a uniform, infinitely long reach.

    Concentration (Chapra 1997 eq. 9.40 with decay)::

        c(x, t) = M / (A sqrt(4 pi E t)) exp(-(x - U t)^2 / (4 E t) - k t)

    Peak time at ``x``: ``d ln c / dt = 0`` gives
    ``(U^2 + 4kE) t^2 + 2 E t - x^2 = 0``, ``t_p = (sqrt(E^2 + W^2 x^2) - E) / W^2``,
    ``W^2 = U^2 + 4kE``. Threshold crossings are found by bisection of ``ln c - ln c_thr`` on
    either side of ``t_p`` (``ln c`` is unimodal in ``t``). Mass passed (advective flux,
    ``∫ U A c dt``): ``M (U/W) exp((U - W) x / (2E))`` (Laplace transform of the Green's function
    at ``s = k``), ``M`` for a conservative substance.

    Parameters
    ----------
    mass : float  [g]
    area, velocity, dispersion : float  [m2], [m/s], [m2/s]
    x : array_like  [m]  (> 0)
        Distances of the sections below the release.
    decay : float  [1/s]
    threshold, detection : float, optional  [mg/L]
        Concentration of concern and detection threshold (default detection: 1 % of the peak
        at each section; default threshold: the detection threshold).

    Returns
    -------
    xarray.Dataset
        ``(x)``: the :data:`METRICS` [s, mg/L, g], NaN/0 where the peak stays below.
    """
    import xarray as xr

    x = np.atleast_1d(np.asarray(x, float))
    check_range(x, "x", 0.0, None, lo_inclusive=False, units="m")
    check_nonnegative(mass, "mass", units="g")
    u, E, k = float(velocity), float(dispersion), float(decay)
    check_range(E, "dispersion", 0.0, None, lo_inclusive=False, units="m2/s")
    check_range(u, "velocity", 0.0, None, lo_inclusive=False, units="m/s")
    w2 = u * u + 4 * k * E
    t_p = (np.sqrt(E * E + w2 * x * x) - E) / w2
    c_p = ade_slug(x, t_p, mass, area, u, E, k)
    det = 0.01 * c_p if detection is None else np.broadcast_to(float(detection), x.shape)
    thr = det if threshold is None else np.broadcast_to(float(threshold), x.shape)

    def crossings(level):
        ok = c_p > level
        lvl = np.where(ok, level, 0.5 * c_p)
        f = lambda t: _slug_log_c(t, x, mass, area, u, E, k) - np.log(lvl)  # noqa: E731
        t_lo = _bisect(f, np.full_like(x, 1e-12 * t_p.min()) + 1e-9 * t_p, t_p)
        # beyond the peak ln c falls at least like -(U t)^2/(4 E t): bracket with a doubling
        hi = t_p * 2.0
        for _ in range(60):  # widen until below the level everywhere
            hi = np.where(f(hi) > 0, hi * 2.0, hi)
        t_hi = _bisect(f, t_p, hi)
        return np.where(ok, t_lo, np.nan), np.where(ok, t_hi, np.nan)

    arrival, end = crossings(det)
    up, down = crossings(thr)
    w = np.sqrt(w2)
    mass_passed = mass * (u / w) * np.exp(-2.0 * k * x / (u + w))
    data = {"arrival_time": arrival, "peak_concentration": c_p, "peak_time": t_p,
            "time_above_threshold": np.where(np.isnan(up), 0.0, down - up),
            "passage_end": end, "mass_passed": np.broadcast_to(mass_passed, x.shape)}
    ds = xr.Dataset({k_: ("x", np.asarray(v, float)) for k_, v in data.items()},
                    coords={"x": ("x", x, {"units": "m"})})
    for k_ in ("arrival_time", "peak_time", "passage_end", "time_above_threshold"):
        ds[k_].attrs["units"] = "s"
    ds["peak_concentration"].attrs["units"] = "mg/L"
    ds["mass_passed"].attrs["units"] = "g"
    ds.attrs["references"] = "Chapra (1997) eq. 9.40; Fischer et al. (1979) §2.2"
    return ds


def plot_spill(concentration, time, metrics=None, *, threshold=None, ax=None, labels=None,
               time_units="h"):
    """Breakthrough curves at sections with arrival, peak and passage end marked.

    Parameters
    ----------
    concentration : array_like ``(section, time)`` or DataArray  [mg/L]
    time : array_like [s] (ignored for a DataArray with a ``time`` coordinate in seconds)
    metrics : xarray.Dataset, optional
        Output of :func:`spill_metrics` (computed when omitted).
    threshold : float, optional  [mg/L]
        Drawn as a horizontal line.
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
    time_units : {"s", "h", "d"}

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if hasattr(concentration, "dims"):
        time = concentration["time"].values
        labels = labels or [str(v) for v in concentration[concentration.dims[0]].values]
    c = np.atleast_2d(np.asarray(concentration, float))
    t = np.asarray(time, float)
    if metrics is None:
        metrics = spill_metrics(c, t, threshold=threshold)
    scale = {"s": 1.0, "h": 3600.0, "d": 86400.0}[time_units]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for j in range(c.shape[0]):  # one line per section (a handful)
        line, = ax.plot(t / scale, c[j], label=labels[j] if labels else f"section {j}")
        col = line.get_color()
        m = {k: float(np.asarray(metrics[k]).ravel()[j]) for k in METRICS}
        ax.plot(m["peak_time"] / scale, m["peak_concentration"], "v", color=col)
        for key in ("arrival_time", "passage_end"):
            if np.isfinite(m[key]):
                ax.axvline(m[key] / scale, color=col, ls=":", lw=0.8)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=0.8, label=f"threshold {threshold:g} mg/L")
    ax.set_xlabel(f"time since release [{time_units}]")
    ax.set_ylabel("concentration [mg/L]")
    ax.legend(fontsize="small")
    return ax
