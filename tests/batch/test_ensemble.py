"""Met ensemble generator: unbiased log-normal factors, AR(1) persistence, valid ranges."""

import numpy as np
import pandas as pd
import xarray as xr

from ecodss.batch.ensemble import ar1_normal, perturb_met


def _met(n=2000):
    t = pd.date_range("2026-01-10", periods=n, freq="h").values
    rng = np.random.default_rng(0)
    return xr.Dataset({
        "wind_speed": ("time", rng.uniform(1, 6, n), {"units": "m s-1"}),
        "wind_direction": ("time", rng.uniform(0, 360, n), {"units": "degree"}),
        "mixing_height": ("time", rng.uniform(200, 1500, n), {"units": "m"}),
        "stability_class": ("time", rng.integers(1, 7, n).astype(np.int8)),
    }, coords={"time": t})


def test_ar1_unit_variance_and_lag1_correlation():
    phi = np.exp(-1 / 6)
    e = ar1_normal(np.random.default_rng(1), 200, 500, phi)
    assert abs(e.var() - 1.0) < 0.05
    r1 = np.mean([np.corrcoef(s[:-1], s[1:])[0, 1] for s in e])
    assert abs(r1 - phi) < 0.02


def test_speed_and_mixing_height_factors_are_mean_preserving():
    met = _met()
    factors = np.stack([
        (perturb_met(met, s, min_wind_speed=1e-6)["wind_speed"] / met["wind_speed"]).values
        for s in range(40)])
    assert abs(factors.mean() - 1.0) < 0.03  # E[exp(sZ - s^2/2)] = 1
    assert abs(np.log(factors).std() - 0.3) < 0.03
    hf = np.stack([(perturb_met(met, s)["mixing_height"] / met["mixing_height"]).values
                   for s in range(40)])
    assert abs(hf.mean() - 1.0) < 0.03


def test_ranges_and_reproducibility():
    met = _met(300)
    a, b = perturb_met(met, 5), perturb_met(met, 5)
    xr.testing.assert_identical(a, b)
    assert a["wind_speed"].min() >= 0.5
    assert ((a["wind_direction"] >= 0) & (a["wind_direction"] < 360)).all()
    assert a["stability_class"].isin([1, 2, 3, 4, 5, 6]).all()
    assert a["stability_class"].dtype == met["stability_class"].dtype
    assert not a["wind_speed"].equals(perturb_met(met, 6)["wind_speed"])


def test_uv_rotation_matches_speed_direction_form():
    met = _met(200)
    rad = np.deg2rad(met["wind_direction"])
    uv = xr.Dataset({"u": -met["wind_speed"] * np.sin(rad), "v": -met["wind_speed"] * np.cos(rad)})
    p_sd, p_uv = perturb_met(met, 11), perturb_met(uv, 11)
    speed = np.hypot(p_uv["u"], p_uv["v"])
    direction = np.rad2deg(np.arctan2(-p_uv["u"], -p_uv["v"])) % 360
    np.testing.assert_allclose(speed, p_sd["wind_speed"], rtol=1e-10)
    diff = (direction - p_sd["wind_direction"] + 180) % 360 - 180
    np.testing.assert_allclose(diff, 0, atol=1e-8)


def test_ar1_equals_the_recursion():
    phi = 0.8
    e = ar1_normal(np.random.default_rng(2), 3, 60, phi)
    n = np.random.default_rng(2).standard_normal((3, 60))
    ref = np.empty_like(n)
    ref[:, 0] = n[:, 0]
    for t in range(1, 60):  # the textbook recursion, step by step
        ref[:, t] = phi * ref[:, t - 1] + np.sqrt(1 - phi ** 2) * n[:, t]
    np.testing.assert_allclose(e, ref, atol=1e-12)
