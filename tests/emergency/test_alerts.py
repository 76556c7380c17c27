"""Heavy-pollution alert levels (2018 unified scheme) from daily AQI forecasts."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.emergency.alerts import REDUCTION_POLLUTANTS, alert_level, load_rules
from ecodss.emergency.aqi import aqi
from ecodss.errors import ConfigError, InvalidValueError, NonFiniteValueError, OutOfRangeError

# (forecast daily AQI, expected level with the default rules) — the standards.md table
CASES = [
    ([150, 180, 200, 200], 0),        # AQI exactly 200 is not "> 200"
    ([200, 250], 0),                  # one day > 200
    ([201, 201], 1),                  # two days > 200: yellow
    ([120, 250, 260, 150], 1),
    ([250, 250, 250], 1),             # three days, none > 300: yellow (orange needs a day > 300)
    ([250, 250, 300], 1),             # 300 is not "> 300"
    ([250, 250, 301], 2),             # three days with one > 300: orange
    ([310, 310, 250], 2),             # two days > 300 but only three > 200: orange
    ([250, 250, 250, 250, 250], 1),   # long but never > 300: yellow
    ([250, 310, 250, 310], 2),        # four days, the two > 300 not consecutive: orange
    ([250, 310, 320, 250], 3),        # four days > 200 with two consecutive > 300: red
    ([310, 320, 250], 2),             # red needs four days > 200
    ([500], 3),                       # reaching 500 on a single day: red
    ([499], 0),
    ([100, 500, 100], 3),
]


@pytest.mark.parametrize("forecast, expected", CASES)
def test_levels_and_boundaries(forecast, expected):
    decision = alert_level(forecast)
    assert decision.level == expected
    assert decision.level_name == ["none", "yellow", "orange", "red"][expected]
    shares = decision.dataset["reduction_share"].values
    np.testing.assert_array_equal(shares, np.full(4, [0.0, 0.10, 0.20, 0.30][expected]))
    # the dask twin gives the same numbers
    lazy = alert_level(xr.DataArray(np.asarray(forecast, float), dims="date").chunk({"date": 1}))
    assert int(lazy.dataset["level"].compute()) == expected


def test_xinzhou_drops_the_orange_300_clause():
    forecast = xr.DataArray([[250, 250, 250]] * 3, dims=("city", "date"),
                            coords={"city": ["Xinzhou", "Shijiazhuang", "Taiyuan"]})
    decision = alert_level(forecast)
    assert decision.level.tolist() == [2, 1, 1]  # per-city override from the rules file
    assert decision.dataset["orange_requires_300"].values.tolist() == [False, True, True]
    assert alert_level(forecast, orange_requires_300={"Taiyuan": False}).level.tolist() == [2, 1, 2]
    assert alert_level(forecast, orange_requires_300=True).level.tolist() == [1, 1, 1]
    assert alert_level([250, 250, 250], orange_requires_300=False).level == 2
    with pytest.raises(InvalidValueError):
        alert_level([250, 250, 250], orange_requires_300="no")


def test_gap_shorter_than_the_lifting_rule_joins_episodes():
    # one day <= 200 does not meet the 36-h lifting condition: one episode with 2 heavy days
    assert alert_level([250, 180, 250]).level == 1
    assert alert_level([250, 250, 150, 310, 250]).level == 2
    # two clear days lift the alert: two separate one-day episodes
    assert alert_level([250, 180, 180, 250]).level == 0
    rules = load_rules().model_dump()
    assert alert_level([250, 180, 250], rules={**rules, "merge_episodes": False}).level == 0
    lift_3_days = {**rules, "lift": {"max_aqi": 200, "min_hours": 60}}
    assert alert_level([250, 180, 180, 250], rules=lift_3_days).level == 1


def test_trigger_days_and_alert_period():
    decision = alert_level([120, 250, 250, 150, 150, 250, 310, 180, 250, 100], start="2026-12-01")
    ds = decision.dataset
    # first episode (days 2-3) is yellow; the second (days 6-9, one clear day inside) is orange
    assert ds["day_level"].values.tolist() == [0, 1, 1, 0, 0, 2, 2, 2, 2, 0]
    assert ds["alert_period"].values.tolist() == [False] * 5 + [True] * 4 + [False]
    summary = decision.to_dict()
    json.dumps(summary)  # JSON-serialisable
    assert summary["level"] == 2 and summary["level_name"] == "orange"
    assert summary["level_name_zh"] == "橙色" and summary["response"] == "II"
    assert summary["alert_periods"] == [{"start": "2026-12-06", "end": "2026-12-09"}]
    assert summary["trigger_days"] == ["2026-12-06", "2026-12-07", "2026-12-09"]
    assert summary["reduction_share"] == {"SO2": 0.2, "NOx": 0.2, "PM": 0.2, "VOCs": 0.2}
    assert summary["lift_rule"].startswith("daily AQI <= 200")


def test_cities_vectorized_with_dask_twin():
    rng = np.random.default_rng(11)
    forecasts = rng.choice([150, 220, 280, 320, 400, 500], size=(40, 7), p=[.3, .2, .2, .15, .1, .05])
    cities = [f"c{i}" for i in range(40)]
    dates = pd.date_range("2026-12-01", periods=7, freq="D")
    da = xr.DataArray(forecasts.astype(float), dims=("city", "date"),
                      coords={"city": cities, "date": dates})
    eager = alert_level(da)
    lazy = alert_level(da.chunk({"city": 7}))
    assert lazy.dataset["level"].chunks is not None
    xr.testing.assert_identical(eager.dataset, lazy.dataset.compute())
    one_by_one = [alert_level(row).level for row in forecasts]
    assert eager.level.tolist() == one_by_one
    summary = eager.to_dict()
    json.dumps(summary)
    assert [c["city"] for c in summary["cities"]] == cities
    assert [c["level"] for c in summary["cities"]] == one_by_one
    # DataFrame input (rows = days, columns = cities) agrees
    frame = pd.DataFrame(forecasts.T, index=dates, columns=cities)
    assert alert_level(frame).level.tolist() == one_by_one


def test_chains_from_aqi_output():
    dates = pd.date_range("2026-12-01", periods=4, freq="D")
    pm25 = xr.DataArray([100.0, 160.0, 260.0, 270.0], dims="date", coords={"date": dates})
    daily = aqi(xr.Dataset({"PM2.5": pm25}))  # December 2026: the HJ633-2026 table
    # 100 -> 100 + 50/55*40 = 136.4; 160 -> 200 + 10 (PM2.5 150/250 <-> AQI 200/300 in both)
    assert daily["aqi"].values.tolist() == [137.0, 210.0, 310.0, 320.0]
    decision = alert_level(daily)
    assert decision.level == 2
    assert decision.to_dict()["alert_periods"] == [{"start": "2026-12-02", "end": "2026-12-04"}]


def test_rules_file_matches_the_scheme():
    rules = load_rules("2018")
    assert [lv.name for lv in rules.levels] == ["yellow", "orange", "red"]
    assert [lv.min_heavy_days for lv in rules.levels] == [2, 3, 4]
    assert [lv.min_severe_run for lv in rules.levels] == [0, 1, 2]
    for lv, share in zip(rules.levels, [0.10, 0.20, 0.30], strict=True):
        assert lv.reduction == {p: share for p in REDUCTION_POLLUTANTS}
    assert rules.city_overrides["Xinzhou"].orange_requires_300 is False
    assert rules.lift.days == 2


def test_bad_input_raises():
    with pytest.raises(NonFiniteValueError):
        alert_level([250, np.nan, 250])
    with pytest.raises(OutOfRangeError):
        alert_level([250, 600])
    with pytest.raises(OutOfRangeError):
        alert_level([-1, 250])
    lazy = alert_level(xr.DataArray([250.0, np.nan], dims="date").chunk({"date": 1}))
    with pytest.raises(NonFiniteValueError):
        lazy.dataset["level"].compute()
    gap = pd.Series([250.0, 250.0], index=pd.to_datetime(["2026-12-01", "2026-12-03"]))
    with pytest.raises(InvalidValueError, match="consecutive"):
        alert_level(gap)
    with pytest.raises(InvalidValueError):
        alert_level(np.ones((2, 3)))
    with pytest.raises(InvalidValueError, match="no days"):
        alert_level([])
    with pytest.raises(ConfigError):
        alert_level([250, 250], rules="2013")
    with pytest.raises(ConfigError):
        load_rules({"name": "x"})
