"""Small synthetic hourly station data for the forecaster tests (seeded, seconds to fit)."""

import numpy as np
import pytest
import xarray as xr


def synthetic_station(n_days: int = 240, seed: int = 0) -> xr.Dataset:
    """Hourly PM2.5 driven by ventilation (wind) with day-to-day persistence, plus met.

    ``log(pm) = 1.6 + 0.6 log(pm of yesterday) - 0.4 wind + noise`` on daily values, a diurnal cycle
    on top; wind and humidity are AR(1) daily series (hourly noise added). Times are UTC.
    """
    rng = np.random.default_rng(seed)
    wind = np.empty(n_days)
    wind[0] = 0.0
    for d in range(1, n_days):  # generator of the test data, not library code
        wind[d] = 0.5 * wind[d - 1] + rng.normal()
    logpm = np.empty(n_days)
    logpm[0] = 4.0
    for d in range(1, n_days):
        logpm[d] = 1.6 + 0.6 * logpm[d - 1] - 0.4 * wind[d] + 0.15 * rng.normal()
    hours = np.arange(n_days * 24)
    diurnal = 0.2 * np.cos(2 * np.pi * (hours % 24 - 22) / 24)
    # local day of each UTC hour: local = UTC + 8 h; series starts at local midnight
    pm = np.exp(np.repeat(logpm, 24) + diurnal + 0.1 * rng.normal(size=hours.size))
    wind_h = np.repeat(wind, 24) + 0.3 * rng.normal(size=hours.size)
    rh = 60 + 10 * np.repeat(-wind, 24) + rng.normal(size=hours.size)
    time = np.datetime64("2020-01-01T00") - np.timedelta64(8, "h") + hours * np.timedelta64(1, "h")
    ds = xr.Dataset({"pm25": (("station", "time"), pm[None], {"units": "ug m-3"}),
                     "wind": (("station", "time"), wind_h[None], {"units": "m s-1"}),
                     "rh": (("station", "time"), rh[None], {"units": "%"})},
                    coords={"station": ["S1"], "time": time.astype("datetime64[ns]")})
    return ds


@pytest.fixture(scope="module")
def station_ds() -> xr.Dataset:
    return synthetic_station()


@pytest.fixture(scope="session")
def make_station():
    """Factory of synthetic stations: ``make_station(n_days, seed)``."""
    return synthetic_station


@pytest.fixture(scope="session")
def fast():
    """Small boosting settings for fast tests."""
    return {"max_iter": 40, "learning_rate": 0.15, "max_leaf_nodes": 7, "min_samples_leaf": 10,
            "max_bins": 32}
