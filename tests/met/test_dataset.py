"""Met dataset boundary checks and the DataFrame builder."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss.errors import (
    InvalidValueError,
    MetError,
    MissingFieldError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnitError,
    UnknownFieldError,
)
from ecodss.met.dataset import MET_VARIABLES, met_from_dataframe, validate_met


def _frame(n=4):
    return pd.DataFrame({
        "time": pd.date_range("2024-01-01", periods=n, freq="h"),
        "wind_speed": np.linspace(1.0, 4.0, n),
        "wind_direction": np.linspace(0.0, 360.0, n),
        "air_temperature": np.full(n, 275.0),
        "stability_class": [4, 5, 6, 3][:n],
        "mixing_height": np.full(n, 500.0),
    })


def _met(**overrides):
    ds = met_from_dataframe(_frame())
    for name, values in overrides.items():
        ds[name] = ds[name].copy(data=np.asarray(values, dtype=ds[name].dtype))
    return ds


def test_builder_sets_cf_attributes_and_types():
    ds = _met()
    assert ds["wind_direction"].attrs["standard_name"] == "wind_from_direction"
    assert ds["mixing_height"].attrs["standard_name"] == "atmosphere_boundary_layer_thickness"
    assert all("units" in ds[v].attrs for v in ds.data_vars)
    assert ds["stability_class"].dtype == np.int8
    assert np.issubdtype(ds["time"].dtype, np.datetime64)
    assert validate_met(ds) is ds


def test_timezone_aware_times_become_utc():
    df = _frame()
    df["time"] = df["time"].dt.tz_localize("Asia/Shanghai")
    ds = met_from_dataframe(df)
    assert ds["time"].values[0] == np.datetime64("2023-12-31T16:00")


def test_datetime_index_is_accepted():
    ds = met_from_dataframe(_frame().set_index("time"), time=None)
    assert ds.sizes["time"] == 4


def test_unknown_column_suggests_the_name():
    df = _frame().rename(columns={"wind_speed": "wind_sped"})
    with pytest.raises(UnknownFieldError, match="wind_speed"):
        met_from_dataframe(df)


def test_missing_required_variable():
    with pytest.raises(MissingFieldError, match="air_temperature") as err:
        met_from_dataframe(_frame().drop(columns="air_temperature"))
    assert err.value.field == "air_temperature"


def test_celsius_temperature_is_a_unit_error():
    with pytest.raises(UnitError, match="air_temperature") as err:
        validate_met(_met(air_temperature=[15.0, 16.0, 17.0, 18.0]))
    assert err.value.field == "air_temperature"


def test_celsius_units_attribute_is_a_unit_error():
    ds = _met()
    ds["air_temperature"].attrs["units"] = "degC"
    with pytest.raises(UnitError, match="degC"):
        validate_met(ds)


def test_implausible_kelvin_is_out_of_range():
    with pytest.raises(OutOfRangeError, match="air_temperature"):
        validate_met(_met(air_temperature=[275.0, 500.0, 275.0, 275.0]))


@pytest.mark.parametrize("name, values, error, where", [
    ("wind_speed", [1.0, -0.5, 1.0, 1.0], NegativeValueError, "2024-01-01T01:00"),
    ("wind_speed", [1.0, 1.0, np.nan, 1.0], NonFiniteValueError, "2024-01-01T02:00"),
    ("wind_direction", [0.0, 361.0, 5.0, 5.0], OutOfRangeError, "2024-01-01T01:00"),
    ("stability_class", [4, 7, 4, 4], OutOfRangeError, "2024-01-01T01:00"),
    ("stability_class", [4, 0, 4, 4], OutOfRangeError, "2024-01-01T01:00"),
    ("mixing_height", [500.0, 500.0, 500.0, 0.0], OutOfRangeError, "2024-01-01T03:00"),
])
def test_bad_values_name_field_and_time(name, values, error, where):
    with pytest.raises(error, match=name) as err:
        validate_met(_met(**{name: values}))
    assert err.value.field == name
    assert where in str(err.value)


def test_class7_allowed_on_request_and_noninteger_class_rejected():
    ds = _met(stability_class=[4, 7, 4, 4])
    validate_met(ds, allow_class7=True)
    ds = met_from_dataframe(_frame())
    ds["stability_class"] = ds["stability_class"].astype(float).copy(data=[4.0, 4.5, 4.0, 4.0])
    with pytest.raises(InvalidValueError, match="stability_class"):
        validate_met(ds)


def test_wrong_units_attribute():
    ds = _met()
    ds["wind_speed"].attrs["units"] = "knots"
    with pytest.raises(UnitError, match="wind_speed"):
        validate_met(ds)
    ds["wind_speed"].attrs["units"] = "m/s"  # an accepted spelling
    validate_met(ds)


def test_flow_convention_label_on_wind_direction_is_rejected():
    ds = _met()
    ds["wind_direction"].attrs["standard_name"] = "wind_to_direction"
    with pytest.raises(MetError, match="FROM"):
        validate_met(ds)


def test_time_must_increase():
    ds = _met().isel(time=[0, 2, 1, 3])
    with pytest.raises(MetError, match="strictly increasing"):
        validate_met(ds)


def test_cloud_cover_in_tenths_is_a_unit_error():
    ds = _met()
    ds["cloud_cover"] = ("time", [0.0, 3.0, 10.0, 5.0], MET_VARIABLES["cloud_cover"])
    with pytest.raises(UnitError, match="cloud_cover"):
        validate_met(ds)


def test_dask_backed_dataset_is_checked():
    ds = _met(wind_speed=[1.0, -1.0, 1.0, 1.0]).chunk({"time": 2})
    with pytest.raises(NegativeValueError):
        validate_met(ds)


def test_not_a_dataset():
    with pytest.raises(MetError):
        validate_met(xr.DataArray([1.0]))


def test_declared_units_are_converted():
    df = _frame()
    df["air_temperature"] = [1.85, 0.0, -10.0, 20.0]
    df["cloud_cover"] = [0, 3, 10, 7]
    df["relative_humidity"] = [40.0, 50.0, 60.0, 100.0]
    ds = met_from_dataframe(df, units={"air_temperature": "degC", "cloud_cover": "tenths"})
    np.testing.assert_allclose(ds["air_temperature"].values, [275.0, 273.15, 263.15, 293.15])
    np.testing.assert_allclose(ds["cloud_cover"].values, [0.0, 0.3, 1.0, 0.7])
    with pytest.raises(UnitError, match="cloud_cover"):
        met_from_dataframe(df.drop(columns="air_temperature").assign(air_temperature=275.0))
    with pytest.raises(UnitError, match="furlong"):
        met_from_dataframe(df, units={"wind_speed": "furlong", "air_temperature": "degC",
                                      "cloud_cover": "tenths"})
