"""Model configurations and scenario files: the bundled ones load; bad ones are refused clearly."""

from pathlib import Path

import pytest

from ecodss import ConfigError
from ecodss.config import load_model_config, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.yaml")))
def test_bundled_model_configs_load(path):
    info, params = load_model_config(path)
    assert info.name in {"gaussian_plume", "eulerian", "river_permit"} and params


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")))
def test_bundled_scenarios_load(path):
    sc = load_scenario(path)
    assert Path(sc.model).is_file()
    load_model_config(sc.model)


def test_unknown_parameter_and_model_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: gaussian_plume\nparameters:\n  urbn: true\n")
    with pytest.raises(ConfigError, match="urbn"):
        load_model_config(bad)
    bad.write_text("model: gaussian_plum\n")
    with pytest.raises(ConfigError, match="gaussian_plum"):
        load_model_config(bad)
    bad.write_text("model: gaussian_plume\nparamters: {}\n")
    with pytest.raises(ConfigError, match="paramters"):
        load_model_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_model_config(tmp_path / "missing.yaml")
