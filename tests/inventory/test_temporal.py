"""Temporal profiles: published TNO-MACC values, normalisation and exact annual conservation."""

import logging

import numpy as np
import pandas as pd
import pytest

from ecodss.errors import ConfigError, NegativeValueError
from ecodss.inventory import TemporalProfiles

REQUIRED_SECTORS = ("power", "iron_steel", "cement", "coking", "glass", "chemicals", "boilers",
                    "residential", "traffic", "agriculture", "dust", "other")
DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@pytest.fixture(scope="module")
def profiles():
    return TemporalProfiles.default()


def local_year(year):
    """Every hour of a local calendar year."""
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")


def test_default_sectors_present(profiles):
    assert set(REQUIRED_SECTORS) <= set(profiles.sectors)
    for s in REQUIRED_SECTORS:
        assert profiles.source_of(s), f"sector {s} has no citation"


def test_normalisation(profiles):
    assert np.allclose(profiles.hourly.mean(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.allclose(profiles.weekday.mean(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.allclose(profiles.monthly.to_numpy() @ DAYS / 365.0, 1.0, rtol=0, atol=1e-12)


def test_published_tno_ratios_kept(profiles):
    # Denier van der Gon et al. (2011) tables: normalisation must not distort the shapes.
    h, w, m = profiles.hourly, profiles.weekday, profiles.monthly
    assert h.loc["power", 9] / h.loc["power", 3] == pytest.approx(1.22 / 0.71, rel=1e-12)
    assert w.loc["traffic", 4] / w.loc["traffic", 6] == pytest.approx(1.14 / 0.79, rel=1e-12)
    assert m.loc["residential", 1] / m.loc["residential", 7] == pytest.approx(1.7 / 0.2, rel=1e-12)


def test_profile_shapes_are_physical(profiles):
    traffic = profiles.hourly.loc["traffic"]
    assert traffic.loc[6:10].idxmax() in (7, 8)  # morning rush hour
    assert traffic.loc[14:20].idxmax() in (16, 17)  # evening rush hour
    assert traffic.loc[2] < 0.1
    res_h = profiles.hourly.loc["residential"]
    assert res_h[8] > 1.4 and res_h[19] > 1.4 and res_h[3] < 0.4
    res_m = profiles.monthly.loc["residential"]
    assert res_m[[1, 2, 12]].min() > 1.5 * res_m[[6, 7, 8]].max()  # heating season
    assert (profiles.weekday.loc["traffic", [5, 6]] < 0.85).all()
    assert np.allclose(profiles.hourly.loc["other"], 1.0)


@pytest.mark.parametrize("year", [2023, 2024])  # non-leap and leap
def test_annual_mean_factor_is_one(profiles, year):
    f = profiles.factors(local_year(year))
    assert f.shape == (365 * 24 + 24 * (year == 2024), len(profiles.sectors))
    np.testing.assert_allclose(f.mean(axis=0), 1.0, rtol=0, atol=1e-12)


def test_each_month_keeps_its_share(profiles):
    # Monthly totals equal M_m * d_m / 365 of the annual total despite the weekday profile.
    raw = np.array([1.2, 1.15, 1.05, 1.0, 0.9, 0.85, 0.8, 0.875, 0.95, 1.0, 1.075, 1.15])
    expected = raw * DAYS / (raw @ DAYS)  # published power curve, normalised independently
    t = local_year(2023)
    f = profiles.factors(t, ["power"])[:, 0]
    got = pd.Series(f).groupby(t.month).sum().to_numpy() / f.sum()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_weekday_index_monday_zero(profiles):
    # 2023-01-02 is a Monday, 2023-01-08 a Sunday (same month: the monthly terms cancel).
    f = profiles.factors(pd.to_datetime(["2023-01-02 12:00", "2023-01-08 12:00"]), ["traffic"])
    assert f[0, 0] / f[1, 0] == pytest.approx(1.02 / 0.79, rel=1e-12)


def test_unknown_sector_falls_back_and_is_recorded(profiles, caplog):
    with caplog.at_level(logging.WARNING):
        idx, unknown = profiles.resolve(["Power", "industry", "spaceport"])
    assert unknown == ["spaceport"]
    assert "spaceport" in caplog.text
    assert [profiles.sectors[i] for i in idx] == ["power", "boilers", "other"]
    t = pd.date_range("2023-03-01", periods=30, freq="h")
    np.testing.assert_array_equal(profiles.factors(t, ["spaceport"]), 1.0)


def test_with_sector_adds_normalised_profile(profiles):
    p = profiles.with_sector("night_shift", hourly=[2.0] * 8 + [0.0] * 16)
    assert p.hourly.loc["night_shift", 0] == pytest.approx(3.0)
    assert "night_shift" not in profiles.sectors  # original unchanged


def test_bad_profiles_rejected():
    flat = {"monthly": [1] * 12, "weekday": [1] * 7, "hourly": [1] * 24}
    with pytest.raises(ConfigError, match="hourly"):
        TemporalProfiles({"other": flat, "x": {**flat, "hourly": [1] * 23}})
    with pytest.raises(NegativeValueError, match="weekday"):
        TemporalProfiles({"other": flat, "x": {**flat, "weekday": [1, 1, 1, 1, 1, 1, -1]}})
    with pytest.raises(ConfigError, match="other"):
        TemporalProfiles({"power": flat})
