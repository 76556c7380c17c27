"""The error hierarchy and the boundary-validation helpers: specific classes, named fields/records."""

import numpy as np
import pytest
import xarray as xr

from ecodss import errors
from ecodss.errors import (
    ConfigError,
    DataFileError,
    EcodssError,
    InvalidValueError,
    MissingFieldError,
    ModelNotFoundError,
    NegativeValueError,
    NonFiniteValueError,
    OutOfRangeError,
    UnknownFieldError,
    ValidationError,
)
from ecodss.validation import (
    check_finite,
    check_nonnegative,
    check_range,
    reject_unknown_fields,
    require_fields,
)

VALIDATION_ERRORS = [errors.MissingFieldError, errors.UnknownFieldError, errors.InvalidValueError,
                     errors.NonFiniteValueError, errors.NegativeValueError,
                     errors.OutOfRangeError, errors.UnitError, errors.InventoryError,
                     errors.MetError, errors.GridError]
IDS = ["plant-1", "plant-2", "plant-3", "plant-4"]


@pytest.mark.parametrize("cls", VALIDATION_ERRORS)
def test_validation_errors_are_value_errors(cls):
    err = cls("x=-1 must be >= 0", field="x", where="source 'a'")
    assert isinstance(err, ValueError) and isinstance(err, EcodssError)
    assert issubclass(cls, ValueError) and issubclass(cls, ValidationError)
    assert str(err) == "source 'a': x=-1 must be >= 0"
    assert (err.field, err.where) == ("x", "source 'a'")


def test_message_without_where_has_no_prefix():
    assert str(MissingFieldError("missing SO2", field="SO2")) == "missing SO2"


def test_specific_value_errors_are_invalid_value_errors():
    for cls in (NonFiniteValueError, NegativeValueError, OutOfRangeError):
        assert issubclass(cls, InvalidValueError)


def test_other_families():
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, EcodssError)
    assert not issubclass(ConfigError, ValidationError)
    assert issubclass(ModelNotFoundError, KeyError) and issubclass(ModelNotFoundError, ConfigError)
    assert issubclass(DataFileError, OSError) and issubclass(DataFileError, EcodssError)
    assert str(ModelNotFoundError("no model 'x'")) == "no model 'x'"


def test_require_fields_names_the_first_missing_one():
    require_fields(["id", "x", "y", "SO2"], ["id", "x", "y"], where="inventory")  # no error
    with pytest.raises(MissingFieldError) as err:
        require_fields(["id", "x"], ["id", "x", "y", "stack_height"], where="inventory 'demo'")
    assert err.value.field == "y" and err.value.where == "inventory 'demo'"
    msg = str(err.value)
    assert msg.startswith("inventory 'demo': ") and "'y'" in msg and "'stack_height'" in msg


def test_reject_unknown_fields_suggests_the_close_name():
    allowed = ["id", "x", "y", "SO2", "NOx", "PM2.5"]
    reject_unknown_fields(["id", "SO2"], allowed, where="inventory")  # no error
    with pytest.raises(UnknownFieldError) as err:
        reject_unknown_fields(["id", "S02"], allowed, where="inventory 'demo'")
    assert err.value.field == "S02"
    assert "did you mean 'SO2'?" in str(err.value)
    with pytest.raises(UnknownFieldError) as err:
        reject_unknown_fields(["colour"], allowed, where="inventory")
    assert "did you mean" not in str(err.value) and "colour" in str(err.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_names_record_and_field(bad):
    values = np.array([1.0, 2.0, bad, np.nan])
    with pytest.raises(NonFiniteValueError) as err:
        check_finite(values, "stack_height", ids=IDS, kind="source", units="m")
    assert err.value.field == "stack_height" and err.value.where == "source 'plant-3'"
    assert str(err.value).startswith("source 'plant-3': stack_height=")
    with pytest.raises(NonFiniteValueError, match=r"^record #2: stack_height="):
        check_finite(values, "stack_height")


def test_check_nonnegative():
    check_nonnegative(np.array([0.0, 3.0]), "SO2")  # zero is allowed
    with pytest.raises(NegativeValueError) as err:
        check_nonnegative([1.0, 2.0, 3.0, -4.5], "SO2", ids=IDS, kind="source", units="g/s")
    assert str(err.value) == "source 'plant-4': SO2=-4.5 g/s must be >= 0"
    with pytest.raises(NonFiniteValueError):  # NaN is not silently "not negative"
        check_nonnegative([1.0, np.nan], "SO2")


def test_check_range_bounds():
    check_range([0.0, 90.0, 360.0], "wind_direction", 0.0, 360.0)  # inclusive by default
    with pytest.raises(OutOfRangeError) as err:
        check_range([10.0, 361.0], "wind_direction", 0.0, 360.0, units="deg")
    assert err.value.field == "wind_direction" and err.value.where == "record #1"
    assert "361.0" in str(err.value) and "[0.0, 360.0]" in str(err.value)
    with pytest.raises(OutOfRangeError, match=r"#0.*\(0\.0, 360\.0\)"):
        check_range([0.0], "wind_direction", 0.0, 360.0, lo_inclusive=False, hi_inclusive=False)
    check_range([1e9], "height", lo=0.0)  # an absent bound is no bound
    with pytest.raises(OutOfRangeError, match=r"\(-inf, 5"):
        check_range([6.0], "class", hi=5)
    with pytest.raises(NonFiniteValueError):
        check_range([np.nan], "class", 1, 6)


def test_first_offending_record_of_a_2d_array():
    values = np.zeros((3, 4))
    values[1, 2] = -1.0
    values[2, 0] = -5.0
    with pytest.raises(NegativeValueError) as err:
        check_nonnegative(values, "emission")
    assert err.value.where == "record #6"  # flat (row-major) index of [1, 2]


def test_helpers_accept_xarray():
    da = xr.DataArray([0.5, -0.1], dims="station").chunk(1)
    with pytest.raises(NegativeValueError, match="station 'B'"):
        check_nonnegative(da, "PM2.5", ids=["A", "B"], kind="station")
