"""The model registry: lookup, listing, registration and the error for unknown names."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ecodss import Inventory, Receptors
from ecodss.errors import ConfigError, EcodssError, ModelNotFoundError
from ecodss.registry import _REGISTRY, ModelInfo, get_model, list_models, register_model

TEMP_NAME = "_test_temporary_model"


@pytest.fixture
def temporary_name():
    yield TEMP_NAME
    _REGISTRY.pop(TEMP_NAME, None)


def test_gaussian_plume_is_registered_and_callable():
    model = get_model("gaussian_plume")
    assert isinstance(model, ModelInfo)
    assert model.name == "gaussian_plume" and model.domain == "air"
    assert model.summary  # first docstring line, shown by the CLI and the server

    # A passive 10 m release into a 5 m/s westerly with σy = 0.08x, σz = 0.06x: the ground-level
    # centreline concentration is Q/(π u σy σz)·exp(-H²/2σz²) (Turner 1970, Workbook of
    # Atmospheric Dispersion Estimates, Eq. 3.2 with y = z = 0).
    inv = Inventory.from_points(pd.DataFrame(dict(
        id=["S"], x=[0.0], y=[0.0], stack_height=[10.0], stack_diameter=[1.0],
        exit_velocity=[5.0], exit_temperature=[300.0], SO2=[1.0])))
    met = xr.Dataset({"wind_speed": ("time", [5.0]), "wind_direction": ("time", [270.0]),
                      "air_temperature": ("time", [293.0]), "stability_class": ("time", [4]),
                      "mixing_height": ("time", [5000.0])},
                     coords={"time": pd.date_range("2024-01-01", periods=1, freq="h")})
    x = np.array([1000.0, 2000.0])
    ds = model(inv, met, Receptors(x=x, y=[0.0, 0.0]), pollutant="SO2", temporal=False,
               plume_rise=False, downwash=False, sigmas=lambda d, cls: (0.08 * d, 0.06 * d),
               backend="numpy")
    sy, sz = 0.08 * x, 0.06 * x
    expected = 1e6 / (np.pi * 5.0 * sy * sz) * np.exp(-(10.0**2) / (2 * sz**2))  # µg/m³
    np.testing.assert_allclose(ds["concentration"].values[0], expected, rtol=1e-6)


def test_unknown_model_lists_the_registered_ones():
    with pytest.raises(ModelNotFoundError) as err:
        get_model("gausian_plume")
    message = str(err.value)
    assert "gausian_plume" in message and "gaussian_plume" in message
    assert not message.startswith('"')  # not KeyError's repr of the message
    for cls in (KeyError, ConfigError, EcodssError, ValueError):
        assert isinstance(err.value, cls)


def test_list_models_is_sorted_model_infos():
    models = list_models()
    names = [m.name for m in models]
    assert names == sorted(names) and "gaussian_plume" in names
    assert all(isinstance(m, ModelInfo) for m in models)
    assert all(get_model(n) is m for n, m in zip(names, models, strict=True))


def test_register_model(temporary_name):
    @register_model(temporary_name, domain="water")
    def double(value):
        """Twice the value.

        More text that is not part of the summary.
        """
        return 2 * value

    assert double(3) == 6  # the decorator returns the function unchanged
    info = get_model(temporary_name)
    assert info.func is double and info.domain == "water"
    assert info.summary == "Twice the value."
    assert info(21) == 42
    names = [m.name for m in list_models()]
    assert temporary_name in names and names == sorted(names)


def test_register_model_explicit_summary_and_no_docstring(temporary_name):
    register_model(temporary_name, domain="air")(lambda: None)
    assert get_model(temporary_name).summary == ""
    register_model(temporary_name, domain="air", summary="Replaced")(lambda: 1)
    assert get_model(temporary_name).summary == "Replaced" and get_model(temporary_name)() == 1


def test_registry_is_clean_after_the_temporary_models():
    assert TEMP_NAME not in [m.name for m in list_models()]
