"""The bundled sample case (ecodss.samples): reproducible, consistent with its README and the
published figures it is scaled to, and physically within the documented ranges."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecodss import samples
from ecodss.errors import DataFileError, MissingFieldError
from ecodss.validation import check_nonnegative

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "data" / "samples"
POLLUTANTS = ["SO2", "NOx", "PM2.5", "PM10", "VOCs", "NH3", "CO"]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fresh")
    samples.generate(out)
    return out


@pytest.fixture(scope="module")
def case(fresh) -> samples.SampleCase:
    return samples.load_sample(fresh)


def _local_hour(times: pd.Series) -> np.ndarray:
    return ((times.dt.hour + 8) % 24).to_numpy()  # Beijing time, UTC+8


# --- reproducibility --------------------------------------------------------------------------

def test_generation_is_bit_for_bit_reproducible(fresh, tmp_path):
    samples.generate(tmp_path)
    for name in samples.FILES:
        assert (tmp_path / name).read_bytes() == (fresh / name).read_bytes(), name


def test_another_seed_changes_the_data_but_not_the_totals(fresh, tmp_path):
    samples.generate(tmp_path, seed=1)
    assert (tmp_path / "points.csv").read_bytes() != (fresh / "points.csv").read_bytes()
    assert (tmp_path / "sector_totals.csv").read_bytes() == (fresh / "sector_totals.csv").read_bytes()


def test_committed_files_equal_a_fresh_generation(fresh):
    if not (BUNDLED / "domain.yaml").is_file():
        pytest.skip("no source checkout: data/samples is absent")
    for name in samples.FILES:
        assert (BUNDLED / name).read_bytes() == (fresh / name).read_bytes(), (
            f"{name} differs: run python data/samples/make_samples.py")


def test_sample_data_stays_small(fresh):
    sizes = {f.name: f.stat().st_size for f in fresh.iterdir()}
    assert sizes["areas.csv"] < 1.5e6
    assert sum(sizes.values()) < 3e6


# --- magnitudes -------------------------------------------------------------------------------

def _readme_totals() -> pd.DataFrame:
    text = (BUNDLED / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- sector-totals:start -->(.*?)<!-- sector-totals:end -->", text, re.S)
    assert block, "README.md lost its sector-totals table"
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in block.group(1).strip().splitlines()[2:]]
    df = pd.DataFrame(rows, columns=["sector", "kind", *POLLUTANTS]).set_index("sector")
    return df[POLLUTANTS].apply(lambda c: c.str.replace(",", "").astype(float))


def test_files_sum_to_the_readme_sector_totals(case):
    if not (BUNDLED / "README.md").is_file():
        pytest.skip("no source checkout: data/samples/README.md is absent")
    stated = _readme_totals()
    sums = pd.concat([case.points, case.areas]).groupby("sector")[POLLUTANTS].sum()
    assert set(stated.index) == set(sums.index)
    # 4-significant-digit rows and whole-tonne targets: agree within 0.1 % (or 1 t)
    np.testing.assert_allclose(sums.loc[stated.index], stated, rtol=1e-3, atol=1.0)
    np.testing.assert_allclose(case.sector_totals.set_index("sector").loc[stated.index,
                                                                         POLLUTANTS],
                               stated, atol=0.5)


@pytest.mark.parametrize(("pollutant", "industrial_kt", "change"), [
    # Zheng H. et al. (2019) ACP 19:3447 abstract (BTH industry 2014);
    # Zheng B. et al. (2018) ACP 18:14095 abstract (China 2013-2017 change)
    ("SO2", 869.0, -0.59), ("NOx", 1164.0, -0.21), ("PM10", 910.0, -0.36),
    ("PM2.5", 622.0, -0.33), ("VOCs", 1390.0, 0.0)])
def test_point_sources_add_up_to_the_published_industrial_figures(case, pollutant, industrial_kt,
                                                                  change):
    expected_t = industrial_kt * 1000.0 * (1.0 + change) * 0.05  # 5 % of BTH in the domain
    assert case.points[pollutant].sum() == pytest.approx(expected_t, rel=2e-3)


def test_fugitive_dust_follows_the_langfang_share_and_ap42_ratio(case):
    pm25_no_dust = 622e3 / 0.56 * (1 - 0.33) * 0.05  # all-sector PM2.5, Zheng 2019 + 2018
    dust = case.areas[case.areas["sector"] == "dust"]
    share = dust["PM2.5"].sum() / (dust["PM2.5"].sum() + pm25_no_dust)
    assert share == pytest.approx(0.386, abs=1e-3)  # Zhao et al. 2017
    assert dust["PM10"].sum() / dust["PM2.5"].sum() == pytest.approx(0.62 / 0.15, rel=2e-3)


def test_nh3_and_co_follow_the_intac_ratios(case):
    total_pm25 = 622e3 / 0.56 * (1 - 0.33) * 0.05
    ratios = {"NH3": 9.2 / 8.4, "CO": 141.0 / 8.4}  # Wu et al. 2024, INTAC 2017
    totals = samples.domain_totals()
    for p, r in ratios.items():
        assert totals[p] == pytest.approx(total_pm25 * r, rel=1e-9)
    # the sample holds the domain total less the documented omitted remainder
    omitted = {"NH3": 0.06, "CO": 0.12}
    for p in ratios:
        held = pd.concat([case.points, case.areas])[p].sum()
        ind = samples.BTH_2014_INDUSTRIAL_SHARE[p]
        assert held == pytest.approx(totals[p] * (1 - (1 - ind) * omitted[p]), rel=2e-3)


# --- sanity of the tables ---------------------------------------------------------------------

def test_no_nan_and_no_negative_emissions(case):
    for name in ("points", "areas"):
        df = getattr(case, name)
        assert not df.isna().any().any(), name
        for p in POLLUTANTS:
            check_nonnegative(df[p], p, ids=list(df["id"]), kind=f"{name} source", units="t/yr")
        assert (df["PM10"] >= df["PM2.5"]).all()
    for name in ("met", "background", "stations", "sector_totals"):
        assert not getattr(case, name).isna().any().any(), name


def test_points_are_inside_the_domain_with_plausible_stacks(case):
    pts = case.points
    assert 250 <= len(pts) <= 350
    assert pts["id"].is_unique
    assert case.grid.contains(pts["x"], pts["y"]).all()
    assert set(pts["sector"]) == set(samples.POINT_SECTORS)
    assert set(pts["grade"]) <= {"A", "leading", "B", "C", "D"}
    assert pts.groupby("enterprise").size().max() > 1  # stacks share enterprises
    assert (pts.groupby("enterprise")["sector"].nunique() == 1).all()
    assert (pts.groupby("enterprise")["grade"].nunique() == 1).all()
    h = pts.groupby("sector")["stack_height"].agg(["min", "max"])
    assert 120 <= h.loc["power", "min"] and h.loc["power", "max"] <= 240
    assert 20 <= h.loc["boilers", "min"] and h.loc["boilers", "max"] <= 45  # GB 13271-2014
    sinter = pts[pts["name"].str.contains("sinter")]
    assert sinter["stack_height"].between(60, 120).all()
    power = pts[pts["sector"] == "power"]
    assert power["exit_temperature"].between(320, 360).all()
    assert power["stack_diameter"].between(5, 8).all()
    assert power["exit_velocity"].between(15, 25).all()
    assert pts["exit_temperature"].between(290, 600).all()
    # the worst graded enterprises are a minority, the A/leading ones too
    share = pts.drop_duplicates("enterprise")["grade"].value_counts(normalize=True)
    assert 0.05 < share.get("A", 0) + share.get("leading", 0) < 0.4
    assert share.get("D", 0) < 0.35


def test_area_sources_lie_on_the_grid_and_follow_their_proxies(case):
    a, grid = case.areas, case.grid
    assert a["id"].is_unique
    assert not a.duplicated(["sector", "x", "y"]).any()
    assert set(a["sector"]) == set(samples.AREA_SECTORS)
    assert (a["width"] == 1000).all() and (a["height"] == 1000).all()
    iy, ix = grid.cell_index(a["x"], a["y"])
    assert (iy >= 0).all()
    np.testing.assert_array_equal(grid.x[ix], a["x"])
    np.testing.assert_array_equal(grid.y[iy], a["y"])
    r = np.hypot(a["x"] - samples.CENTRE_XY[0], a["y"] - samples.CENTRE_XY[1]) / 1000.0
    core, rural = r < 4, r > 20

    def mean(sector, where, p):
        sel = (a["sector"] == sector) & where
        return a.loc[sel, p].sum() / 1.0 / max(sel.sum(), 1)

    assert not ((a["sector"] == "agriculture") & core).any()  # no farming in the urban core
    assert mean("traffic", core, "NOx") > 3 * mean("traffic", rural, "NOx")
    ring = (r > 12) & (r < 20)  # village coal heating outranks the district-heated core
    assert mean("residential", ring, "SO2") > 2 * mean("residential", core, "SO2")


def test_stations_are_inside_the_domain_and_georeferenced(case):
    st = case.stations
    assert 4 <= len(st) <= 8 and st["id"].is_unique
    assert (st["city"] == "Shijiazhuang").all()
    assert case.grid.contains(st["x"], st["y"]).all()
    lon, lat = case.grid.transform_to_lonlat(st["x"], st["y"])
    np.testing.assert_allclose(lon, st["lon"], atol=2e-5)
    np.testing.assert_allclose(lat, st["lat"], atol=2e-5)


def test_domain_centres_the_city_on_whole_kilometres(case):
    d, g = case.domain, case.grid
    assert (g.nx, g.ny, g.dx, g.dy, g.crs) == (60, 60, 1000.0, 1000.0, "EPSG:32650")
    assert g.x0 % 1000 == 0 and g.y0 % 1000 == 0
    x, y = g.transform_from_lonlat(d["centre"]["lon"], d["centre"]["lat"])
    assert abs(x - (g.x0 + 30000)) <= 500 and abs(y - (g.y0 + 30000)) <= 500
    assert d["utc_offset_hours"] == 8 and d["anemometer_height"] == 10.0
    assert d["urban"] is True and d["seed"] == samples.SEED
    assert pd.Timestamp(d["time"]["end"]) - pd.Timestamp(d["time"]["start"]) == pd.Timedelta("120h")


# --- met and background -----------------------------------------------------------------------

def test_met_is_hourly_and_within_the_stated_ranges(case):
    m = case.met
    assert len(m) == 120
    assert m["time"].iloc[0] == pd.Timestamp("2026-01-10T00:00Z")
    assert (m["time"].diff().dropna() == pd.Timedelta("1h")).all()
    assert m["wind_speed"].between(0.5, 3.0).all()
    assert m["wind_direction"].between(0, 360, inclusive="left").all()
    assert (m["air_temperature"] - 273.15).between(-8.0, 5.0).all()
    assert m["stability_class"].between(1, 6).all()
    assert m["mixing_height"].between(100, 800).all()
    assert m["cloud_cover"].between(0, 10).all() and m["relative_humidity"].between(0, 100).all()
    # mostly S/SW flow (from 135-270 deg) before the front
    before = m["time"] < pd.Timestamp("2026-01-14T04:00Z")
    assert m.loc[before, "wind_direction"].between(135, 270).mean() > 0.8


def test_stability_and_mixing_follow_day_and_night(case):
    m = case.met
    lst = _local_hour(m["time"])
    # Shijiazhuang, mid-January: sunrise ~07:40, sunset ~17:30 Beijing time
    night, midday = (lst >= 20) | (lst <= 5), (lst >= 11) & (lst <= 14)
    assert m.loc[night, "stability_class"].isin([5, 6]).all()  # E/F
    assert m.loc[midday, "stability_class"].isin([2, 3, 4]).all()  # B-D
    assert m.loc[night, "mixing_height"].between(100, 300).all()
    assert m.loc[midday, "mixing_height"].between(400, 800).all()


def test_background_is_a_haze_episode_that_reaches_heavy_pollution(case):
    b = case.background
    pm = b["PM2.5"].to_numpy()
    assert 60 <= pm[:6].mean() <= 100  # starts near 80
    assert 250 <= pm.max() <= 320
    assert pm[-6:].mean() < 75  # cleared: AQI <= 100 (HJ 633-2012, 24-h PM2.5 75 ug/m3)
    daily = b.groupby((b["time"] + pd.Timedelta(hours=8)).dt.date)["PM2.5"].mean()
    assert (daily > 150).sum() >= 3  # 24-h PM2.5 > 150 ug/m3 <=> IAQI > 200 (HJ 633-2012)
    haze = b["PM2.5"] > 150
    assert (b.loc[haze, "PM2.5"] / b.loc[haze, "PM10"]).between(0.6, 0.8).all()
    assert b["CO"].between(0.3, 5.0).all() and b["O3"].between(0, 120).all()
    assert b["SO2"].between(3, 80).all() and b["NO2"].between(10, 150).all()


def test_stability_classes_follow_turner_from_the_sample_met():
    # the met file's classes are Turner's (ecodss.met) for its own wind, cloud and sun
    from ecodss.met.solar import is_daytime
    from ecodss.met.stability import turner_class

    case = samples.load_sample()
    m = case.met
    t = pd.DatetimeIndex(m["time"]).tz_localize(None)
    lon, lat = case.domain["centre"]["lon"], case.domain["centre"]["lat"]
    alt = samples.solar_altitude(t, lon, lat)
    night = ~np.asarray(is_daytime(t.values, lon, lat, margin_hours=1))
    cls = turner_class(m["wind_speed"].to_numpy(), alt, m["cloud_cover"].to_numpy(),
                       np.where(m["cloud_cover"] > 5, 3000.0, np.inf), night, merge_g=True)
    np.testing.assert_array_equal(np.asarray(cls), m["stability_class"].to_numpy())


# --- locating and loading ---------------------------------------------------------------------

def test_sample_dir_prefers_the_bundled_copy():
    if not (BUNDLED / "domain.yaml").is_file():
        pytest.skip("no source checkout: data/samples is absent")
    assert samples.sample_dir(generate_missing=False) == BUNDLED


def test_sample_dir_generates_into_the_cache_on_first_use(monkeypatch, tmp_path, fresh):
    monkeypatch.setattr(samples, "bundled_dir", lambda: tmp_path / "no-checkout")
    monkeypatch.setenv("ECODSS_CACHE", str(tmp_path / "cache"))
    assert not samples.sample_dir(generate_missing=False).exists()
    folder = samples.sample_dir()
    assert folder == tmp_path / "cache" / "samples"
    for name in samples.FILES:
        assert (folder / name).read_bytes() == (fresh / name).read_bytes()
    stamp = (folder / "points.csv").stat().st_mtime_ns
    assert samples.sample_dir() == folder  # second call reuses the cache
    assert (folder / "points.csv").stat().st_mtime_ns == stamp


def test_load_sample_types(case):
    assert str(case.met["time"].dt.tz) == "UTC"
    assert case.points["id"].map(type).eq(str).all()
    assert case.grid.shape == (60, 60)
    assert case.domain["emission_units"] == "t/yr"


def test_load_sample_reports_missing_files_and_columns(fresh, tmp_path):
    for name in samples.FILES:
        (tmp_path / name).write_bytes((fresh / name).read_bytes())
    (tmp_path / "met.csv").unlink()
    with pytest.raises(DataFileError, match="met.csv"):
        samples.load_sample(tmp_path)
    met = pd.read_csv(fresh / "met.csv").drop(columns="mixing_height")
    met.to_csv(tmp_path / "met.csv", index=False)
    with pytest.raises(MissingFieldError, match="mixing_height") as err:
        samples.load_sample(tmp_path)
    assert err.value.field == "mixing_height"
