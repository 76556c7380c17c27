"""China AQI (HJ 633-2012 / 2026) against the published breakpoint tables."""

import importlib
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.emergency.aqi import aqi, category, city_aqi, daily_aqi, iaqi, standard_for_date
from ecodss.errors import (
    InvalidValueError,
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    UnitError,
    UnknownFieldError,
    ValidationError,
)

aqi_module = importlib.import_module("ecodss.emergency.aqi")
IAQI_LEVELS = [0, 50, 100, 150, 200, 300, 400, 500]

# HJ 633-2012 Table 1, transcribed from shared/reference/standards.md (CO mg/m3, others ug/m3).
# (pollutant, averaging) -> breakpoints for IAQI_LEVELS (shorter columns stop early).
TABLE_2012 = {
    ("SO2", "24h"): [0, 50, 150, 475, 800, 1600, 2100, 2620],
    ("SO2", "1h"): [0, 150, 500, 650, 800],
    ("NO2", "24h"): [0, 40, 80, 180, 280, 565, 750, 940],
    ("NO2", "1h"): [0, 100, 200, 700, 1200, 2340, 3090, 3840],
    ("PM10", "24h"): [0, 50, 150, 250, 350, 420, 500, 600],
    ("PM10", "1h"): [0, 50, 150, 250, 350, 420, 500, 600],
    ("CO", "24h"): [0, 2, 4, 14, 24, 36, 48, 60],
    ("CO", "1h"): [0, 5, 10, 35, 60, 90, 120, 150],
    ("O3", "1h"): [0, 160, 200, 300, 400, 800, 1000, 1200],
    ("O3", "8h"): [0, 100, 160, 215, 265, 800],
    ("PM2.5", "24h"): [0, 35, 75, 115, 150, 250, 350, 500],
    ("PM2.5", "1h"): [0, 35, 75, 115, 150, 250, 350, 500],
}
# HJ 633-2026: PM2.5 and PM10 change, other columns unchanged (standards.md).
TABLE_2026 = {**TABLE_2012,
              ("PM2.5", "24h"): [0, 35, 60, 115, 150, 250, 350, 500],
              ("PM2.5", "1h"): [0, 35, 60, 115, 150, 250, 350, 500],
              ("PM10", "24h"): [0, 50, 120, 250, 350, 420, 500, 600],
              ("PM10", "1h"): [0, 50, 120, 250, 350, 420, 500, 600]}
TABLES = {"HJ633-2012": TABLE_2012, "HJ633-2026": TABLE_2026}
COLUMNS = [(std, key) for std, table in TABLES.items() for key in table]


def dask_twin(obj):
    return obj.chunk({d: 1 for d in obj.dims})


# --- IAQI: the published breakpoints ---------------------------------------------------------
@pytest.mark.parametrize("std, key", COLUMNS, ids=[f"{s}-{p}-{a}" for s, (p, a) in COLUMNS])
def test_every_breakpoint_maps_to_its_iaqi(std, key):
    pollutant, averaging = key
    bp = np.asarray(TABLES[std][key], float)
    levels = np.asarray(IAQI_LEVELS[:bp.size], float)
    exact = iaqi(bp, pollutant, averaging, standard=std, rounding=None)
    np.testing.assert_array_equal(exact, levels)
    np.testing.assert_array_equal(iaqi(bp, pollutant, averaging, standard=std), levels)
    mid = (bp[1:] + bp[:-1]) / 2
    np.testing.assert_allclose(iaqi(mid, pollutant, averaging, standard=std, rounding=None),
                               (levels[1:] + levels[:-1]) / 2, rtol=1e-12)
    da = xr.DataArray(np.r_[bp, mid], dims="x")
    np.testing.assert_array_equal(
        iaqi(dask_twin(da), pollutant, averaging, standard=std, rounding=None).values,
        iaqi(da, pollutant, averaging, standard=std, rounding=None).values)


def test_co_worked_example_rounds_up():
    # CO 24-h 2.5 mg/m3: 50 + (100-50)/(4-2) * (2.5-2) = 62.5 -> 63
    assert iaqi(2.5, "CO", "24h", standard="HJ633-2012", rounding=None) == 62.5
    assert iaqi(2.5, "CO", "24h", standard="HJ633-2012") == 63.0
    assert iaqi(2500.0, "CO", "24h", standard="HJ633-2012", units="ug/m3", rounding=None) == 62.5


@pytest.mark.parametrize("averaging", ["24h", "1h"])
def test_2026_particle_columns(averaging):
    assert iaqi(60.0, "PM2.5", averaging, standard="HJ633-2026") == 100.0
    assert iaqi(120.0, "PM10", averaging, standard="HJ633-2026") == 100.0
    # the same concentrations under 2012: 50 + 50/40*25 = 81.25, 50 + 50/100*70 = 85
    assert iaqi(60.0, "PM2.5", averaging, standard="HJ633-2012", rounding=None) == 81.25
    assert iaqi(120.0, "PM10", averaging, standard="HJ633-2012", rounding=None) == 85.0


def test_above_top_caps_at_500():
    for pol, avg, top in [("PM2.5", "24h", 500), ("PM10", "1h", 600), ("NO2", "1h", 3840),
                          ("CO", "24h", 60), ("O3", "1h", 1200), ("SO2", "24h", 2620)]:
        for std in TABLES:
            assert iaqi(np.array([top * 1.5]), pol, avg, standard=std)[0] == 500.0


@pytest.mark.parametrize("std, so2, o3", [("HJ633-2012", np.nan, np.nan),
                                          ("HJ633-2026", 200.0, 300.0)])
def test_over_800_notes(std, so2, o3):
    got_so2 = iaqi(np.array([800.0, 801.0, 5000.0]), "SO2", "1h", standard=std)
    got_o3 = iaqi(np.array([800.0, 801.0, 5000.0]), "O3", "8h", standard=std)
    np.testing.assert_array_equal(got_so2, [200.0, so2, so2])
    np.testing.assert_array_equal(got_o3, [300.0, o3, o3])


def test_nan_is_missing_and_bad_values_raise():
    out = iaqi(np.array([np.nan, 35.0]), "PM2.5", "24h", standard="HJ633-2012")
    assert np.isnan(out[0]) and out[1] == 50.0
    with pytest.raises(NegativeValueError, match="PM2.5") as info:
        iaqi(np.array([10.0, -1.0]), "PM2.5", "24h", standard="HJ633-2012")
    assert info.value.field == "PM2.5 24h"
    with pytest.raises(NonFiniteValueError, match="SO2"):
        iaqi(np.array([np.inf]), "SO2", "24h", standard="HJ633-2012")
    lazy = iaqi(xr.DataArray([1.0, -5.0], dims="x").chunk({"x": 1}), "NO2", "24h",
                standard="HJ633-2012")
    with pytest.raises(NegativeValueError, match="NO2"):
        lazy.compute()


def test_argument_errors_name_the_field():
    with pytest.raises(UnknownFieldError, match="SO2") as info:
        iaqi(10.0, "S02", "24h")
    assert info.value.field == "S02"
    with pytest.raises(UnknownFieldError) as info:
        iaqi(10.0, "SO2", "2h")
    assert info.value.field == "averaging"
    with pytest.raises(UnknownFieldError, match="O3 has no 24h"):
        iaqi(10.0, "O3", "24h", standard="HJ633-2012")
    with pytest.raises(UnknownFieldError, match="standard"):
        iaqi(10.0, "SO2", "24h", standard="HJ633-1996")
    with pytest.raises(InvalidValueError, match="rounding"):
        iaqi(10.0, "SO2", "24h", rounding="floor")
    with pytest.raises(UnitError, match="ppb_to_ugm3"):
        iaqi(10.0, "SO2", "24h", units="ppb")
    with pytest.raises(UnitError, match="contradicts"):
        iaqi(xr.DataArray([1.0], dims="x", attrs={"units": "mg/m3"}), "CO", "24h", units="ug/m3")
    # the alias and the units attribute are honoured
    assert iaqi(xr.DataArray([2500.0], dims="x", attrs={"units": "µg/m³"}), "CO", "24h",
                standard="HJ633-2012").values[0] == 63.0
    assert iaqi(75.0, "PM2_5", "24h", standard="HJ633-2012") == 100.0


# --- table selection by date -----------------------------------------------------------------
def test_standard_by_date():
    assert standard_for_date("2026-02-28") == "HJ633-2012"
    assert standard_for_date("2026-03-01") == "HJ633-2026"
    assert standard_for_date("2013-06-01") == "HJ633-2012"  # earliest table for earlier dates
    dates = pd.date_range("2026-02-27", periods=4, freq="D")
    da = xr.DataArray(np.full(4, 60.0), dims="date", coords={"date": dates})
    expected = [82.0, 82.0, 100.0, 100.0]
    np.testing.assert_array_equal(iaqi(da, "PM2.5", "24h").values, expected)
    np.testing.assert_array_equal(iaqi(dask_twin(da), "PM2.5", "24h").values, expected)
    # UTC times: 2026-02-28T16:00 UTC is already 2026-03-01 in China Standard Time
    t = np.array(["2026-02-28T15:00", "2026-02-28T16:00"], "datetime64[s]")
    hourly = xr.DataArray([60.0, 60.0], dims="time", coords={"time": t})
    np.testing.assert_array_equal(iaqi(hourly, "PM2.5", "1h").values, [82.0, 100.0])
    assert iaqi(hourly, "PM2.5", "1h").attrs["standard"] == "HJ633-2012,HJ633-2026"


def test_standard_without_dates_uses_today(monkeypatch):
    monkeypatch.setattr(aqi_module, "_today_cst", lambda: np.datetime64("2025-06-01"))
    assert iaqi(60.0, "PM2.5", "24h") == 82.0
    monkeypatch.setattr(aqi_module, "_today_cst", lambda: np.datetime64("2026-06-01"))
    assert iaqi(60.0, "PM2.5", "24h") == 100.0


# --- AQI, primary pollutant, categories --------------------------------------------------------
def daily_frame(**columns):
    return xr.Dataset({k: ("site", np.asarray(v, float)) for k, v in columns.items()})


def test_aqi_is_max_and_primary_pollutant_rules():
    ds = daily_frame(
        SO2=[20, 20, 20, 20], NO2=[20, 20, 20, 20], CO=[0.5, 0.5, 0.5, 0.5],
        O3=[50, 50, 50, 160],
        PM10=[50, 52, 150, 50],  # IAQI 50, 51, 100, 50
        **{"PM2.5": [35, 20, 75, 20]},  # IAQI 50, 29, 100, 29
    )
    for data in (ds, dask_twin(ds)):
        out = aqi(data, standard="HJ633-2012")
        np.testing.assert_array_equal(out["aqi"].values, [50, 51, 100, 100])
        # AQI 50: no primary pollutant; ties listed in report order; O3 daily = 8-h column
        assert out["primary_pollutant"].values.tolist() == ["", "PM10", "PM10,PM2.5", "O3"]
        assert out["iaqi"].sel(pollutant="O3").values.tolist() == [25, 25, 25, 100]


def test_categories_and_colours_at_boundaries():
    values = np.array([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500, np.nan])
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0]
    np.testing.assert_array_equal(category(values), expected)
    np.testing.assert_array_equal(category(xr.DataArray(values, dims="x").chunk({"x": 4})).values,
                                  expected)
    # through aqi(): PM2.5 concentrations at the 2012 breakpoints give AQI 0, 50, 100, 150, ...
    pm = np.array([35, 35.5, 75, 75.5, 115, 115.5, 150, 150.5, 250, 250.5, 500])
    out = aqi(daily_frame(**{"PM2.5": pm}), standard="HJ633-2012")
    np.testing.assert_array_equal(out["aqi"].values,
                                  [50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500])
    np.testing.assert_array_equal(out["category"].values, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    assert out["colour"].values.tolist()[::2] == ["#00E400", "#FFFF00", "#FF7E00", "#FF0000",
                                                   "#99004C", "#7E0023"]
    assert out["category_name_zh"].values.tolist()[::2] == ["优", "良", "轻度污染", "中度污染",
                                                             "重度污染", "严重污染"]
    assert out["category_name"].values[-1] == "Severely polluted"


def test_aqi_missing_everything_is_nan():
    out = aqi(daily_frame(**{"PM2.5": [np.nan, 10.0]}), standard="HJ633-2012")
    assert np.isnan(out["aqi"].values[0]) and out["category"].values[0] == 0
    assert out["primary_pollutant"].values[0] == "" and out["colour"].values[0] == ""


def test_so2_over_800_uses_24h_mean_in_realtime_report():
    # 1-h SO2 900 (no 1-h IAQI under 2012) -> SO2 IAQI from SO2_24h = 500: 150 + 50/325*25
    ds = daily_frame(SO2=[900.0, 100.0], SO2_24h=[500.0, 500.0])
    out = aqi(ds, averaging="1h", standard="HJ633-2012", rounding=None)
    # the second site stays on the 1-h column: 50/150 * 100
    np.testing.assert_allclose(out["iaqi"].sel(pollutant="SO2").values,
                               [150 + 50 / 325 * 25, 100 / 3], rtol=1e-12)
    assert "SO2_24h" not in out["pollutant"].values


def test_o3_over_800_uses_1h_in_daily_report():
    # daily O3 8-h 900 -> O3 IAQI from the daily max 1-h 850: 300 + 100/200*50 = 325
    ds = daily_frame(O3_8h=[900.0], O3_1h=[850.0])
    out = aqi(ds, standard="HJ633-2012")
    assert out["iaqi"].sel(pollutant="O3").values.tolist() == [325.0]
    assert out["aqi"].values.tolist() == [325.0]
    # 2026 [unverified]: O3 8-h > 800 -> 300 directly
    out = aqi(ds, standard="HJ633-2026")
    assert out["aqi"].values.tolist() == [300.0]


def test_over_800_without_fallback_warns():
    with pytest.warns(RuntimeWarning, match="SO2_24h"):
        out = aqi(daily_frame(SO2=[900.0], NO2=[50.0]), averaging="1h", standard="HJ633-2012")
    assert np.isnan(out["iaqi"].sel(pollutant="SO2").values[0])
    assert out["aqi"].values[0] == 25.0
    with pytest.warns(RuntimeWarning, match="O3_1h"):
        aqi(daily_frame(O3_8h=[900.0]), averaging="1h", standard="HJ633-2012")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aqi(daily_frame(SO2=[700.0]), averaging="1h", standard="HJ633-2012")
        aqi(daily_frame(O3=[300.0], O3_8h=[900.0]), averaging="1h", standard="HJ633-2012")
        aqi(daily_frame(SO2=[900.0]), averaging="1h", standard="HJ633-2026")  # 200 [unverified]


def test_realtime_o3_takes_the_larger_of_1h_and_8h():
    out = aqi(daily_frame(O3=[200.0], O3_8h=[215.0]), averaging="1h", standard="HJ633-2012")
    assert out["iaqi"].sel(pollutant="O3").values.tolist() == [150.0]  # 1-h 100, 8-h 150


def test_aqi_field_errors():
    with pytest.raises(UnknownFieldError, match="'SO2'"):
        aqi(daily_frame(S02=[1.0]))
    with pytest.raises(MissingFieldError):
        aqi(daily_frame(O3_1h=[100.0]))  # only a fallback variable
    with pytest.raises(ValidationError, match="same input"):
        aqi(daily_frame(O3=[1.0], O3_8h=[1.0]))
    with pytest.raises(ValidationError, match="PM2.5 is given twice") as info:
        aqi(daily_frame(PM2_5=[1.0], **{"PM2.5": [1.0]}))
    assert info.value.field == "PM2.5"
    with pytest.raises(NegativeValueError, match="CO"):
        aqi(daily_frame(CO=[-0.1]), standard="HJ633-2012")
    with pytest.raises(UnknownFieldError):
        aqi(daily_frame(CO=[0.1]), averaging="8h")


def test_aqi_dataframe_and_dask_twins_agree():
    rng = np.random.default_rng(7)
    data = {p: rng.uniform(0, 300, 40) for p in ("SO2", "NO2", "PM10", "PM2.5", "O3")}
    data["CO"] = rng.uniform(0, 8, 40)
    data["PM2.5"][::9] = np.nan
    ds = xr.Dataset({k: (("t",), v) for k, v in data.items()})
    eager = aqi(ds, standard="HJ633-2026")
    lazy = aqi(ds.chunk({"t": 7}), standard="HJ633-2026")
    assert lazy["aqi"].chunks is not None
    xr.testing.assert_identical(eager, lazy.compute())
    frame = aqi(pd.DataFrame(data), standard="HJ633-2026")
    np.testing.assert_array_equal(frame["aqi"].to_numpy(), eager["aqi"].values)
    np.testing.assert_array_equal(frame["iaqi_PM2.5"].to_numpy(),
                                  eager["iaqi"].sel(pollutant="PM2.5").values)
    assert frame["primary_pollutant"].tolist() == eager["primary_pollutant"].values.tolist()
    # independent check of the AQI: max over IAQIs computed by np.interp on the transcribed table
    col = {"SO2": ("SO2", "24h"), "NO2": ("NO2", "24h"), "PM10": ("PM10", "24h"),
           "PM2.5": ("PM2.5", "24h"), "CO": ("CO", "24h"), "O3": ("O3", "8h")}
    ref = np.vstack([np.ceil(np.interp(data[p], TABLE_2026[col[p]],
                                       IAQI_LEVELS[:len(TABLE_2026[col[p]])])) for p in col])
    np.testing.assert_array_equal(eager["aqi"].values, np.nanmax(ref, axis=0))


# --- city and daily conveniences ---------------------------------------------------------------
def test_city_aqi_averages_concentrations_not_station_aqis():
    # station A: PM10 400 (IAQI 200 + 100*50/70 -> 272), PM2.5 10; station B: PM10 10,
    # PM2.5 200 (IAQI 250). The mean of station AQIs would be 261; the city means are PM10 205
    # (IAQI 127.5 -> 128) and PM2.5 105 (IAQI 137.5 -> 138), so the city AQI is 138.
    ds = xr.Dataset({"PM10": ("station", [400.0, 10.0]), "PM2.5": ("station", [10.0, 200.0])})
    stations = aqi(ds, standard="HJ633-2012")
    assert stations["aqi"].values.tolist() == [272.0, 250.0]
    for data in (ds, dask_twin(ds)):
        city = city_aqi(data, standard="HJ633-2012")
        assert float(city["aqi"]) == 138.0
        assert float(city["conc_PM10"]) == 205.0 and city["conc_PM10"].attrs["units"] == "ug/m3"
        assert str(city["primary_pollutant"].values) == "PM2.5"


def test_city_aqi_by_city_coordinate():
    ds = xr.Dataset({"PM2.5": ("station", [75.0, 75.0, 35.0, np.nan])},
                    coords={"city": ("station", ["A", "A", "B", "B"])})
    for data in (ds, ds.chunk({"station": 2})):
        out = city_aqi(data, city="city", standard="HJ633-2012")
        assert out["aqi"].sel(city="A") == 100.0 and out["aqi"].sel(city="B") == 50.0
    with pytest.raises(MissingFieldError):
        city_aqi(ds, city="province")
    with pytest.raises(MissingFieldError):
        city_aqi(ds, station_dim="site")


def test_daily_aqi_from_hourly():
    t = np.datetime64("2026-12-01T16:00", "s") + np.arange(48) * np.timedelta64(1, "h")
    pm = np.full(48, 75.0)
    pm[:5] = np.nan  # day 1 has 19 valid hours -> no daily mean
    o3 = np.tile(np.r_[np.full(16, 100.0), np.full(8, 215.0)], 2)  # max 8-h = 215 (IAQI 150)
    ds = xr.Dataset({"PM2.5": ("time", pm), "O3": ("time", o3), "CO": ("time", np.full(48, 2.5))},
                    coords={"time": t})
    for data in (ds, ds.chunk({"time": 10})):
        out = daily_aqi(data).compute()
        assert out["date"].values.astype("datetime64[D]").tolist() == \
            np.array(["2026-12-02", "2026-12-03"], "datetime64[D]").tolist()
        assert out.attrs["standard"] == "HJ633-2026"
        assert np.isnan(out["iaqi"].sel(pollutant="PM2.5").values[0])
        # 2026 table: PM2.5 75 -> 100 + 50/55*15 = 113.6 -> 114; O3 8-h 215 -> 150; CO 2.5 -> 63
        assert out["iaqi"].sel(pollutant="PM2.5").values[1] == 114.0
        assert out["iaqi"].sel(pollutant="O3").values.tolist() == [150.0, 150.0]
        assert out["aqi"].values.tolist() == [150.0, 150.0]
        assert out["primary_pollutant"].values.tolist() == ["O3", "O3"]
        assert out["conc_O3_8h"].values.tolist() == [215.0, 215.0]


# --- the table in shared/reference/standards.md ------------------------------------------------
def test_tables_match_standards_md(shared_dir):
    path = shared_dir / "reference" / "standards.md"
    if not path.is_file():
        pytest.skip(f"reference file {path} not available")
    text = path.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"^\| (0|50|100|150|200|300|400|500) \|",
                                                           line)]
    assert len(rows) >= 8
    columns = [("SO2", "24h"), ("SO2", "1h"), ("NO2", "24h"), ("NO2", "1h"), ("PM10", "24h"),
               ("CO", "24h"), ("CO", "1h"), ("O3", "1h"), ("O3", "8h"), ("PM2.5", "24h")]
    for row in rows[:8]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        level = int(cells[0])
        for key, cell in zip(columns, cells[1:], strict=True):
            bp = TABLE_2012[key]
            k = IAQI_LEVELS.index(level)
            if cell.startswith("⁽"):
                assert k >= len(bp), key  # column ends (notes 2/3)
            else:
                assert float(cell) == bp[k], (key, level)
                assert iaqi(float(cell), key[0], key[1], standard="HJ633-2012",
                            rounding=None) == level
