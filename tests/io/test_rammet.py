"""ISC RAMMET ASCII reader on EPA's TEST-ST met file (PREPIT.ASC) and on malformed files."""

import re
from pathlib import Path

import numpy as np
import pytest

from ecodss.errors import DataFileError
from ecodss.io.rammet import read_rammet
from ecodss.met.dataset import validate_met

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CASE = SHARED / "air" / "iscst3_testst"
PREPIT = CASE / "PREPIT.ASC"

needs_prepit = pytest.mark.skipif(not PREPIT.exists(), reason=f"EPA PREPIT.ASC not at {PREPIT}")


@pytest.fixture(scope="module")
def met():
    return read_rammet(PREPIT)


@needs_prepit
def test_first_record(met):
    # 64 1 1 1 251.0000   3.0866 268.1 5  517.2  455.0
    first = met.isel(time=0)
    assert first["time"].values == np.datetime64("1964-01-01T00:00")  # hour ending 01 -> 00:00
    assert float(first.flow_vector) == 251.0
    assert float(first.wind_direction) == 71.0
    assert float(first.wind_speed) == pytest.approx(3.0866, abs=1e-12)
    assert float(first.air_temperature) == pytest.approx(268.1, abs=1e-12)
    assert int(first.stability_class) == 5
    assert float(first.mixing_height_rural) == pytest.approx(517.2, abs=1e-12)
    assert float(first.mixing_height_urban) == pytest.approx(455.0, abs=1e-12)
    assert met.attrs["surface_station"] == 94823


@needs_prepit
def test_hours_and_days(met):
    # The file holds 20 days (480 h); TEST-ST.INP runs DAYRANGE 1-10, i.e. the first 240 hours.
    assert met.sizes["time"] == 480
    step = np.diff(met["time"].values)
    assert (step == np.timedelta64(1, "h")).all()
    first_ten_days = met.sel(time=slice("1964-01-01", "1964-01-10"))
    assert first_ten_days.sizes["time"] == 240
    assert first_ten_days["time"].values[-1] == np.datetime64("1964-01-10T23:00")
    assert int(met.hour_ending[23]) == 24


@needs_prepit
def test_calm_hours_match_iscst3(met):
    # ISCST3 reads the whole file and reports "A Total of 6 Calm Hours Identified".
    out = (CASE / "TEST-ST.OUT").read_text(errors="replace")
    isc_calms = int(re.search(r"A Total of\s+(\d+) Calm Hours", out).group(1))
    calm = met.wind_speed == 0.0
    assert int(calm.sum()) == met.attrs["calm_hours"] == isc_calms == 6
    # Records "64 1 713", "64 111 5", "64 11113", "64 11821".."64 11823" (hour-ending stamps).
    expected = np.array(["1964-01-07T12", "1964-01-11T04", "1964-01-11T12", "1964-01-18T20",
                         "1964-01-18T21", "1964-01-18T22"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(met["time"].values[calm.values], expected)


@needs_prepit
def test_first_day_matches_iscst3_echo(met):
    # ISCST3 prints the first 24 hours it read (TEST-ST.OUT): YR MN DY HR FLOW SPEED TEMP STAB
    # RURAL URBAN ... (speed rounded to 0.01 m/s).
    out = (CASE / "TEST-ST.OUT").read_text(errors="replace")
    rows = re.findall(r"^64 01 01 (\d\d)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d)\s+([\d.]+)\s+"
                      r"([\d.]+)", out, flags=re.M)[:24]
    isc = np.array(rows, dtype=float)
    assert isc.shape == (24, 7)
    day1 = met.isel(time=slice(0, 24))
    np.testing.assert_array_equal(day1.hour_ending.values, isc[:, 0])
    np.testing.assert_allclose(day1.flow_vector.values, isc[:, 1], atol=0.05)
    np.testing.assert_allclose(day1.wind_speed.values, isc[:, 2], atol=0.005 + 1e-9)
    np.testing.assert_allclose(day1.air_temperature.values, isc[:, 3], atol=0.05)
    np.testing.assert_array_equal(day1.stability_class.values, isc[:, 4])
    np.testing.assert_allclose(day1.mixing_height_rural.values, isc[:, 5], atol=0.05)
    np.testing.assert_allclose(day1.mixing_height_urban.values, isc[:, 6], atol=0.05)


@needs_prepit
def test_class7_merged_by_default_kept_on_request(met):
    raw = read_rammet(PREPIT, merge_class7=False)
    sevens = raw.stability_class == 7
    assert int(sevens.sum()) > 0  # RAMMET wrote some G hours into this file
    assert (met.stability_class.values[sevens.values] == 6).all()
    assert met.stability_class.max() == 6
    validate_met(raw, allow_class7=True)


@needs_prepit
def test_result_is_a_valid_met_dataset(met):
    validate_met(met, required=("wind_speed", "wind_direction", "air_temperature",
                                "stability_class", "mixing_height_rural", "mixing_height_urban"))
    np.testing.assert_allclose((met.flow_vector - met.wind_direction) % 360.0, 180.0)
    assert met.wind_direction.attrs["standard_name"] == "wind_from_direction"


@needs_prepit
def test_utc_offset_shifts_time(met):
    eastern = read_rammet(PREPIT, utc_offset_hours=-5)
    assert eastern["time"].values[0] == np.datetime64("1964-01-01T05:00")
    np.testing.assert_array_equal(eastern.wind_speed.values, met.wind_speed.values)


HEADER = " 94823     64  94823     64\n"
GOOD = "64 1 1 1 251.0000   3.0866 268.1 5  517.2  455.0\n"


def _write(tmp_path, body):
    path = tmp_path / "met.asc"
    path.write_text(HEADER + body)
    return path


@pytest.mark.parametrize("bad, match", [
    ("64 1 1 2 268.0000   x.1444 268.7 4  505.9  505.9\n", "line 3.*wind_speed"),
    ("64 1 1 2 268.0000   5.1444 268.7 4  505.9\n", "line 3.*characters"),
    ("64 1 1 2 268.0000   5.1444 268.7 9  505.9  505.9\n", "line 3.*stability_class"),
    ("64 1 1 2 268.0000  -5.1444 268.7 4  505.9  505.9\n", "line 3.*wind_speed"),
    ("6413 1 2 268.0000   5.1444 268.7 4  505.9  505.9\n", "line 3.*month"),
    ("64 230 2 268.0000   5.1444 268.7 4  505.9  505.9\n", "line 3.*invalid date"),
    ("64 1 1 1 268.0000   5.1444 268.7 4  505.9  505.9\n", "line 3.*time order"),
    ("64 1 1 2 268.0000   5.1444 268.74.  505.9  505.9\n", "line 3.*stability_class"),
])
def test_malformed_record_names_the_line(tmp_path, bad, match):
    with pytest.raises(DataFileError, match=match):
        read_rammet(_write(tmp_path, GOOD + bad))


def test_bad_header_and_empty_file(tmp_path):
    path = tmp_path / "x.asc"
    path.write_text("hello world\n" + GOOD)
    with pytest.raises(DataFileError, match="line 1"):
        read_rammet(path)
    path.write_text(HEADER)
    with pytest.raises(DataFileError, match="no hourly records"):
        read_rammet(path)
    with pytest.raises(DataFileError, match="cannot read"):
        read_rammet(tmp_path / "missing.asc")


def test_fields_that_run_together_are_cut_by_column(tmp_path):
    # Hour 10 and day 1 touch ("110"); a 3-digit flow vector fills its F9.4 field.
    ds = read_rammet(_write(tmp_path, GOOD + "64 1 110 231.0000   6.6877 272.6 4  415.3  415.3\n"))
    assert ds["time"].values[-1] == np.datetime64("1964-01-01T09:00")
    assert float(ds.wind_direction[-1]) == 51.0
