"""Station readers: the Beijing PRSA file (figures of its README) and the generic CSV/NetCDF."""

import numpy as np
import pandas as pd
import pytest

from ecodss.errors import (
    InvalidValueError,
    MissingFieldError,
    NegativeValueError,
    OutOfRangeError,
    UnknownFieldError,
)
from ecodss.io.netcdf import write_netcdf
from ecodss.io.stations import read_prsa, read_station_observations
from ecodss.timeutil import daily_mean

PRSA_HEADER = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"


@pytest.fixture(scope="module")
def prsa(request):
    shared = request.getfixturevalue("shared_dir")
    path = shared / "air" / "beijing_pm25" / "PRSA_data_2010.1.1-2014.12.31.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return read_prsa(path)


def test_prsa_layout_units_and_time_zone(prsa):
    assert dict(prsa.sizes) == {"station": 1, "time": 43824}
    # 2010-01-01 00:00 Beijing time (UTC+8) is 2009-12-31 16:00 UTC
    assert prsa["time"].values[0] == np.datetime64("2009-12-31T16:00")
    assert prsa["time"].values[-1] == np.datetime64("2014-12-31T15:00")
    assert prsa["pm25"].attrs["units"] == "ug m-3"
    assert prsa["pm25"].attrs["standard_name"].startswith("mass_concentration_of_pm2p5")
    assert prsa["air_temperature"].attrs["units"] == "K"
    assert float(prsa["air_temperature"][0, 0]) == pytest.approx(-11 + 273.15)  # TEMP = -11 °C
    assert float(prsa["air_pressure"][0, 0]) == pytest.approx(102100.0)  # 1021 hPa
    assert float(prsa["lat"][0]) == pytest.approx(39.95, abs=0.02)
    assert float(prsa["lon"][0]) == pytest.approx(116.47, abs=0.02)
    assert set(np.unique(prsa["wind_direction_class"])) == {1, 2, 3, 4}


def test_prsa_reproduces_readme_figures(prsa):
    # README: 2,067 missing hours; 1,722 days with >= 18 valid hours; of these 345 with a daily
    # mean > 150 ug/m3 and 90 > 250 ug/m3 (days are Beijing calendar days = CST days).
    assert int(prsa["pm25"].isnull().sum()) == 2067
    daily = daily_mean(prsa["pm25"], min_valid=18)
    assert daily.sizes["date"] == 1826
    assert int(daily.notnull().sum()) == 1722
    assert int((daily > 150).sum()) == 345 and int((daily > 250).sum()) == 90


def _prsa_file(tmp_path, rows):
    path = tmp_path / "prsa.csv"
    path.write_text(PRSA_HEADER + "\n".join(rows) + "\n")
    return path


GOOD = ["1,2014,1,1,0,50,-10,-2,1020,NW,1.5,0,0", "2,2014,1,1,1,,-10,-3,1021,cv,0.9,0,0"]


def test_prsa_small_file_and_validation(tmp_path):
    ds = read_prsa(_prsa_file(tmp_path, GOOD))
    assert np.isnan(ds["pm25"].values[0, 1]) and ds["wind_direction_class"].values[0, 1] == 4
    with pytest.raises(InvalidValueError, match=r"pm2\.5='abc'.*|line 3") as err:
        read_prsa(_prsa_file(tmp_path, [GOOD[0], GOOD[1].replace(",,", ",abc,")]))
    assert err.value.field == "pm2.5"
    with pytest.raises(NegativeValueError, match="line 2"):
        read_prsa(_prsa_file(tmp_path, [GOOD[0].replace(",50,", ",-5,"), GOOD[1]]))
    with pytest.raises(InvalidValueError, match="duplicate hour"):
        read_prsa(_prsa_file(tmp_path, [GOOD[0], GOOD[0]]))
    with pytest.raises(InvalidValueError, match="cbwd='SW'"):
        read_prsa(_prsa_file(tmp_path, [GOOD[0], GOOD[1].replace("cv", "SW")]))
    (tmp_path / "bad.csv").write_text("No,year,month,day,hour,pm2.5\n1,2014,1,1,0,5\n")
    with pytest.raises(MissingFieldError, match="DEWP"):
        read_prsa(tmp_path / "bad.csv")


LONG = """station_id,lon,lat,time,PM2.5,no2,temperature
A,116.40,39.90,2014-01-01 08:00,80,40,270.0
A,116.40,39.90,2014-01-01 09:00,,42,271.0
B,117.20,39.10,2014-01-01T01:00+00:00,120,55,268.5
"""


def test_generic_csv_reader(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text(LONG)
    ds = read_station_observations(path, utc_offset_hours=8)
    assert ds["station"].values.tolist() == ["A", "B"]
    # naive local times (UTC+8) and the explicit +00:00 stamp agree on 00:00/01:00 UTC
    np.testing.assert_array_equal(ds["time"].values, np.array(["2014-01-01T00:00",
                                                               "2014-01-01T01:00"], "M8[ns]"))
    assert set(ds.data_vars) == {"pm25", "no2", "air_temperature"}
    assert ds["pm25"].sel(station="A").values.tolist()[0] == 80.0
    assert np.isnan(ds["pm25"].sel(station="A").values[1])  # empty cell
    assert np.isnan(ds["pm25"].sel(station="B").values[0])  # no row
    assert ds["pm25"].attrs["units"] == "ug m-3" and ds["lat"].attrs["units"] == "degrees_north"
    assert float(ds["lon"].sel(station="B")) == 117.2


@pytest.mark.parametrize(("edit", "error", "match"), [
    (lambda t: t.replace("lat,", "latitude,"), MissingFieldError, "lat"),
    (lambda t: t.replace(",40,", ",n/a,"), InvalidValueError, "no2='n/a'"),
    (lambda t: t.replace(",120,", ",-3,"), NegativeValueError, "station 'B'"),
    (lambda t: t + "A,116.40,39.90,2014-01-01 08:00,81,40,270.0\n", InvalidValueError,
     "duplicate station/time"),
    (lambda t: t.replace("no2", "n02"), UnknownFieldError, "n02"),
    (lambda t: t.replace("A,116.40,39.90,2014-01-01 09", "A,116.50,39.90,2014-01-01 09"),
     InvalidValueError, "lon/lat differ"),
    (lambda t: t.replace("39.10", "139.10"), OutOfRangeError, "lat"),
    (lambda t: t.replace("2014-01-01 09:00", "yesterday"), InvalidValueError, "yesterday"),
])
def test_generic_csv_errors_name_the_field(tmp_path, edit, error, match):
    path = tmp_path / "obs.csv"
    path.write_text(edit(LONG))
    with pytest.raises(error, match=match):
        read_station_observations(path, utc_offset_hours=8)


def test_netcdf_round_trip_and_units_required(tmp_path):
    src = tmp_path / "obs.csv"
    src.write_text(LONG)
    ds = read_station_observations(src, utc_offset_hours=8)
    write_netcdf(ds, tmp_path / "obs.nc")
    back = read_station_observations(tmp_path / "obs.nc")
    np.testing.assert_array_equal(back["pm25"].values, ds["pm25"].values)
    assert back["pm25"].attrs["standard_name"] == ds["pm25"].attrs["standard_name"]
    nounits = ds.copy()
    nounits["pm25"].attrs = {}
    nounits.to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(MissingFieldError, match="pm25"):
        read_station_observations(tmp_path / "bad.nc")


def test_frame_based_times_are_sorted(tmp_path):
    rows = pd.DataFrame({"station_id": ["A", "A"], "lon": [1.0, 1.0], "lat": [2.0, 2.0],
                         "time": ["2014-01-02", "2014-01-01"], "pm10": [10.0, 20.0]})
    rows.to_csv(tmp_path / "o.csv", index=False)
    ds = read_station_observations(tmp_path / "o.csv")
    assert ds["pm10"].values.tolist() == [[20.0, 10.0]]
