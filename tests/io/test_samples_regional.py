"""Tests of the regional sample: reproducibility, cache, met validity, totals, episode, cities."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import samples_regional as reg
from ecodss.met.gridded import divergence, read_gridded_met


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECODSS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield reg.load_regional_sample()


def test_generation_is_reproducible(sample):
    again = reg.make_met(reg.SEED)
    for name in ("u", "v", "mixing_height", "precipitation", "stability_class"):
        np.testing.assert_array_equal(again[name].values, sample.met[name].values)
    xr.testing.assert_equal(reg.make_emissions(reg.SEED)["SO2"], sample.emissions["SO2"])
    assert not np.array_equal(reg.make_met(reg.SEED + 1, stability=False)["u"].values,
                              again["u"].values)


def test_committed_tables_equal_fresh_generation(tmp_path):
    if not (reg.bundled_dir() / "domain.yaml").is_file():
        pytest.skip("no source checkout with data/samples/regional")
    fresh = reg.generate(tmp_path, large=False)
    for name, path in fresh.items():
        assert path.read_bytes() == (reg.bundled_dir() / name).read_bytes(), name


def test_cache_reused_and_regenerated_on_version_change(sample, monkeypatch):
    folder = sample.path
    monkeypatch.setenv("ECODSS_CACHE", str(folder.parent))
    stamp = (folder / "met.nc").stat().st_mtime_ns
    assert reg.regional_dir() == folder
    assert (folder / "met.nc").stat().st_mtime_ns == stamp  # reused, not regenerated
    monkeypatch.setattr(reg, "GENERATOR_VERSION", reg.GENERATOR_VERSION + 1)
    reg.regional_dir()
    assert (folder / "met.nc").stat().st_mtime_ns != stamp


def test_met_passes_reader_validation(sample):
    with xr.open_dataset(sample.path / "met.nc") as raw:
        ds = read_gridded_met(raw, sample.grid, required=("u", "v", "mixing_height",
                                                          "stability_class"))
    assert ds.sizes == {"time": reg.N_HOURS, "y": 100, "x": 100}
    assert set(np.unique(ds["stability_class"].values)) <= set(range(1, 7))


def test_emission_totals_match_readme_targets(sample):
    targets = pd.read_csv(reg.bundled_dir() / "sector_totals.csv").set_index("sector") \
        if (reg.bundled_dir() / "sector_totals.csv").is_file() else reg.regional_targets()
    for p in reg.POLLUTANTS:
        sums = sample.emissions[p].sum(("y", "x")).to_series()
        np.testing.assert_allclose(sums.loc[list(reg.SECTORS)].values,
                                   targets.loc[list(reg.SECTORS), p].values, rtol=1e-9)
    assert (sample.emissions["PM2.5"].values >= 0).all()
    assert (sample.emissions["PM10"].sum() >= sample.emissions["PM2.5"].sum()).item()


def test_winds_nearly_non_divergent(sample):
    u, v = sample.met["u"].values, sample.met["v"].values
    div = divergence(u, v, reg.GRID["dx"], reg.GRID["dy"])
    shear = np.gradient(u, reg.GRID["dx"], axis=-1)
    ratio = np.sqrt((div**2).mean()) / np.sqrt((shear**2).mean())
    assert ratio < 0.05, f"rms divergence is {ratio:.3f} of the rms du/dx"


def test_episode_stagnation_then_cold_front(sample):
    m = sample.met
    speed = np.hypot(m["u"], m["v"]).mean(("y", "x")).values
    mix = m["mixing_height"].mean(("y", "x")).values
    rh = m["relative_humidity"].mean(("y", "x")).values
    stag = slice(48, 160)  # days 3–7
    assert speed[stag].mean() < 1.5 and mix[stag].mean() < 350 and mix[stag].max() < 700
    assert rh[stag].mean() > 75
    assert m["v"].mean(("y", "x")).values[stag].mean() > 0.5  # southerly
    post = slice(184, 210)
    assert speed[post].mean() > 4.0 and m["v"].mean(("y", "x")).values[post].mean() < -3.0
    assert mix[post].mean() > 2 * mix[stag].mean() and rh[post].mean() < 45
    assert m["precipitation"].values[:160].max() == 0.0 and m["precipitation"].max() > 0.0
    # the night stagnation layer is stable (E/F) over most of the domain
    night = m["stability_class"].sel(time=m.time.dt.hour == 18).isel(time=slice(2, 6))
    assert (night >= 5).mean() > 0.8
    # inflow builds during the stagnation and is flushed by the front
    pm = sample.inflow()["PM2.5"]
    assert pm[150:165].mean() > 3 * pm[:24].mean() and pm[200:].mean() < 30


def test_cities_inside_domain(sample):
    c = sample.cities
    assert len(c) == 28 and c["id"].is_unique
    assert sample.grid.contains(c["x"], c["y"]).all()
    lon, lat = sample.grid.transform_to_lonlat(c["x"].to_numpy(float), c["y"].to_numpy(float))
    np.testing.assert_allclose(lon, c["lon"], atol=1e-4)
    np.testing.assert_allclose(lat, c["lat"], atol=1e-4)
    assert set(c["province"]) == {"Beijing", "Tianjin", "Hebei", "Shanxi", "Shandong", "Henan"}
