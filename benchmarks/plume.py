"""Gaussian-plume throughput: source-receptor-hours per second (SRH/s).

Case (issue #2): 100 stacks × 200×200 receptors × 24 h, float64, ISC3 rural physics with varied
stability, rise, BID and mixing lids. Runs ecodss single-threaded and on all cores (dask threads),
and a straightforward per-source numpy loop (the same formulas evaluated densely for every hour and
receptor, one source at a time) as the baseline, all in the same process.

    python benchmarks/plume.py [--sources 100] [--n 200] [--hours 24]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import xarray as xr


def make_case(n_sources: int, n: int, hours: int, seed: int = 42):
    from ecodss import Inventory, Receptors

    rng = np.random.default_rng(seed)
    inv = Inventory.from_points(pd.DataFrame(dict(
        id=[f"S{i:03d}" for i in range(n_sources)], x=rng.uniform(-20e3, 20e3, n_sources),
        y=rng.uniform(-20e3, 20e3, n_sources), stack_height=rng.uniform(30, 200, n_sources),
        stack_diameter=rng.uniform(1, 6, n_sources), exit_velocity=rng.uniform(5, 20, n_sources),
        exit_temperature=rng.uniform(320, 450, n_sources), SO2=rng.uniform(1, 50, n_sources))))
    t = pd.date_range("2026-01-10", periods=hours, freq="h")
    met = xr.Dataset({
        "wind_speed": ("time", rng.uniform(1.0, 8.0, hours)),
        "wind_direction": ("time", rng.uniform(0, 360, hours)),
        "air_temperature": ("time", rng.uniform(265, 285, hours)),
        "stability_class": ("time", np.resize([4, 4, 5, 6, 3, 2, 4, 4], hours)),
        "mixing_height": ("time", rng.uniform(300, 1500, hours)),
    }, coords={"time": t})
    axis = np.linspace(-25e3, 25e3, n)
    return inv, met, Receptors.grid(axis, axis)


def per_source_loop(inv, met, rec, anemometer_height=10.0):
    """Baseline: loop over sources; dense numpy over (hour, receptor) for each."""
    from ecodss.air import plume
    from ecodss.met.profile import wind_profile_exponent

    pts = inv.points
    ws = met["wind_speed"].values
    phi = np.deg2rad((met["wind_direction"].values + 180.0) % 360.0)[:, None]
    ta = met["air_temperature"].values[:, None]
    cls = met["stability_class"].values[:, None]
    zi = met["mixing_height"].values[:, None]
    out = np.zeros((ws.size, len(rec)))
    for _, s in pts.iterrows():  # the straightforward loop this benchmark compares against
        us = np.maximum(np.maximum(ws, 1.0)[:, None] * (s.stack_height / anemometer_height)
                        ** wind_profile_exponent(cls), 1.0)
        fb = plume.buoyancy_flux(s.exit_velocity, s.stack_diameter, s.exit_temperature, ta)
        fm = plume.momentum_flux(s.exit_velocity, s.stack_diameter, s.exit_temperature, ta)
        dh, xf, xfb, xfm = plume.final_plume_rise(fb, fm, us, s.exit_velocity,
                                                  s.stack_diameter, s.exit_temperature, ta, cls)
        he = plume.stack_tip_downwash(s.stack_height, s.stack_diameter, s.exit_velocity, us) + dh
        dx, dy = rec.x[None, :] - s.x, rec.y[None, :] - s.y
        x = np.sin(phi) * dx + np.cos(phi) * dy
        y = np.cos(phi) * dx - np.sin(phi) * dy
        ok = (x >= 1.0) & (np.abs(y) <= 1.191754 * x)
        xs = np.where(ok, x, 1.0)
        sy = plume.sigma_y_rural(xs, cls)
        sz = plume.sigma_z_rural(xs, np.broadcast_to(cls, xs.shape))
        sstab = plume.stability_parameter(ta, cls)
        dhx = np.where(xs < xf, plume.gradual_plume_rise(xs, fb, fm, us, s.exit_velocity, sstab,
                                                         xfb, xfm, dh), dh)
        sy, sz = plume.bid_sigma(sy, dhx), plume.bid_sigma(sz, dhx)
        v = plume.vertical_term(0.0, he, sz, np.where(cls <= 4, zi, np.inf))
        c = s.SO2 * 1e6 * v * np.exp(-0.5 * (y / sy) ** 2) / (2 * np.pi * us * sy * sz)
        out += np.where(ok, c, 0.0)
    return out


def timed(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main():
    import dask

    from ecodss.air import gaussian_plume

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (noisy shared VMs)")
    a = ap.parse_args()
    inv, met, rec = make_case(a.sources, a.n, a.hours)
    srh = a.sources * len(rec) * a.hours
    cores = os.cpu_count() or 1
    kw = dict(pollutant="SO2", temporal=False)
    for chunks in (None, {"time": 1}):  # warm-up: imports, numba compilation of both variants
        gaussian_plume(inv, met.isel(time=slice(0, 1)), rec, chunks=chunks, **kw)

    import numba

    numba.set_num_threads(1)  # one thread for the compiled kernel
    t1, eager = timed(lambda: gaussian_plume(inv, met, rec, **kw)["concentration"].values,
                      a.repeat)
    numba.set_num_threads(cores)  # eager: the compiled kernel's own threads over jobs
    tn, par = timed(lambda: gaussian_plume(inv, met, rec, **kw)["concentration"].values,
                    a.repeat)
    with dask.config.set(scheduler="threads", num_workers=cores):
        td, dsk = timed(lambda: gaussian_plume(
            inv, met, rec, chunks={"time": max(1, a.hours // cores), "y": a.n, "x": a.n}, **kw
        )["concentration"].values, a.repeat)
    tnp, _ = timed(lambda: gaussian_plume(inv, met, rec, backend="numpy", **kw))
    tb, base = timed(lambda: per_source_loop(inv, met, rec))
    agree = np.max(np.abs(base.reshape(eager.shape) - eager)) / eager.max()
    print(f"case: {a.sources} sources x {a.n}x{a.n} receptors x {a.hours} h = {srh:.3g} SRH")
    print(f"ecodss, 1 thread     : {t1:7.2f} s  {srh / t1:.3g} SRH/s")
    print(f"ecodss, {cores} threads    : {tn:7.2f} s  {srh / tn:.3g} SRH/s "
          f"(x{t1 / tn:.2f} over 1 thread; numba threads)")
    print(f"ecodss, dask {cores} thr.  : {td:7.2f} s  {srh / td:.3g} SRH/s (time chunks)")
    print(f"ecodss, numpy kernel : {tnp:7.2f} s  {srh / tnp:.3g} SRH/s (backend='numpy')")
    print(f"per-source numpy loop: {tb:7.2f} s  {srh / tb:.3g} SRH/s")
    print(f"ratio ecodss(1 thread)/baseline = {tb / t1:.2f}x; all cores/baseline = {tb / tn:.2f}x")
    print(f"target 5e7 SRH/s per core: {'met' if srh / t1 >= 5e7 else 'not met'}; "
          f"max |ecodss - baseline| / peak = {agree:.1e}; threaded == eager: "
          f"{np.allclose(par, eager, rtol=1e-12, atol=0) and np.allclose(dsk, eager, rtol=1e-12)}")


if __name__ == "__main__":
    main()
