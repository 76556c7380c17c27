"""Spill metrics from sampled series against the exact slug solution."""

import mpmath as mp
import numpy as np
import xarray as xr

from ecodss.water.analytic import ade_slug
from ecodss.water.spill import plot_spill, slug_spill_single_reach, spill_metrics

M, A, U, E = 2.0e6, 60.0, 0.5, 15.0
X = np.array([3000.0, 10000.0, 25000.0])
KEYS = ["arrival_time", "peak_time", "peak_concentration", "time_above_threshold",
        "passage_end"]


def test_exact_slug_metrics_are_self_consistent():
    ex = slug_spill_single_reach(M, A, U, E, X, threshold=0.5, detection=0.05)
    for key, level in (("arrival_time", 0.05), ("passage_end", 0.05)):
        c = ade_slug(X, ex[key].values, M, A, U, E)
        np.testing.assert_allclose(c, level, rtol=1e-9)
    # peak: mpmath derivative of ln c vanishes at t_p
    for x, tp in zip(X, ex["peak_time"].values, strict=True):
        d = mp.diff(lambda t, x=x: -mp.log(t) / 2 - (x - U * t) ** 2 / (4 * E * t), tp)
        assert abs(d) < 1e-12
    np.testing.assert_allclose(ex["mass_passed"], M, rtol=1e-14)


def test_sampled_series_within_two_percent_and_mass_conserved():
    ex = slug_spill_single_reach(M, A, U, E, X, threshold=0.5, detection=0.05)
    t = np.arange(0.0, 1.2e5, 600.0)  # 10-minute samples
    c = ade_slug(X[:, None], t, M, A, U, E)
    got = spill_metrics(c, t, detection=0.05, threshold=0.5, flow=U * A)
    for key in KEYS:
        np.testing.assert_allclose(got[key].values, ex[key].values, rtol=0.02, err_msg=key)
    fine = np.linspace(0.0, 4.0e5, 400001)
    cf = ade_slug(X[:, None], fine, M, A, U, E)
    mass = spill_metrics(cf, fine, flow=U * A)["mass_passed"].values
    np.testing.assert_allclose(mass, M, rtol=1e-8)


def test_decaying_pollutant_mass_and_xarray_input():
    k = 2e-5
    ex = slug_spill_single_reach(M, A, U, E, X, decay=k, detection=0.05)
    t = np.linspace(0.0, 3.0e5, 300001)
    c = xr.DataArray(ade_slug(X[:, None], t, M, A, U, E, k), dims=("section", "time"),
                     coords={"section": ["a", "b", "c"], "time": t})
    got = spill_metrics(c, None, detection=0.05, flow=U * A)
    np.testing.assert_allclose(got["mass_passed"].values, ex["mass_passed"].values, rtol=1e-8)
    assert list(got["section"].values) == ["a", "b", "c"]


def test_never_reached_and_datetime_axis():
    t = np.datetime64("2026-05-01T00:00") + np.arange(100) * np.timedelta64(10, "m")
    c = np.zeros((2, 100))
    c[1, 40:60] = 1.0
    m = spill_metrics(c, t, detection=0.5)
    assert np.isnat(m["arrival_time"].values[0])
    assert m["time_above_threshold"].values[0] == 0.0
    assert m["arrival_time"].values[1] > t[39] and m["arrival_time"].values[1] <= t[40]


def test_plot_runs():
    import matplotlib

    matplotlib.use("Agg")
    t = np.arange(0.0, 1.2e5, 600.0)
    ax = plot_spill(ade_slug(X[:, None], t, M, A, U, E), t, threshold=0.5)
    assert len(ax.lines) >= 3
