"""Fixtures shared by the air-model tests."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr


def _varied_met(n=24, seed=3):
    """Hourly met with random winds, all stability classes and mixing lids."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-01-10", periods=n, freq="h")
    return xr.Dataset({
        "wind_speed": ("time", rng.uniform(0.5, 6, n)),
        "wind_direction": ("time", rng.uniform(0, 360, n)),
        "air_temperature": ("time", rng.uniform(265, 280, n)),
        "stability_class": ("time", rng.integers(1, 7, n)),
        "mixing_height": ("time", rng.uniform(150, 1200, n)),
    }, coords={"time": t})


@pytest.fixture
def varied_met():
    """Factory ``varied_met(n=24, seed=3)`` of random but valid hourly met."""
    return _varied_met
