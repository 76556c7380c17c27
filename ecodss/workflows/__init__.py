"""Workflows: the decision chains built from models (forecast → AQI → alert level → decision).

:func:`forecast` runs a named model configuration (``models/<name>.yaml``): an ``eulerian``
configuration runs the regional chain, a ``gaussian_plume`` one the city chain.
"""

from __future__ import annotations

from pathlib import Path

#: Which workflow a registered model drives.
WORKFLOW_OF_MODEL = {"eulerian": "regional_forecast", "gaussian_plume": "city_forecast"}


def model_config_path(model: str) -> Path:
    """``models/<model>.yaml`` of the source checkout, or ``model`` itself when it is a path."""
    from ..config import REPO_ROOT

    path = Path(model)
    return path if path.suffix in (".yaml", ".yml") else REPO_ROOT / "models" / f"{model}.yaml"


def forecast(model: str = "regional_eulerian", *, sample=None, out_dir=None, progress=None,
             hours: int | None = None, **overrides):
    """Run the forecast chain of a named model configuration; returns the workflow's result.

    ``overrides`` replace configuration parameters; ``sample`` is a sample object or folder
    (default: the bundled sample of the chosen workflow); ``hours`` shortens a regional run.
    """
    from ..config import check_parameters, load_model_config
    from ..errors import ConfigError

    info, params = load_model_config(model_config_path(model))
    check_parameters(info, overrides, where="forecast overrides")
    params.update(overrides)
    workflow = WORKFLOW_OF_MODEL.get(info.name)
    if workflow == "regional_forecast":
        from .regional_forecast import run_regional_forecast

        return run_regional_forecast(sample, model_parameters=params, out_dir=out_dir,
                                     hours=hours, progress=progress)
    if workflow == "city_forecast":
        from ..samples import load_sample
        from .city_forecast import run_city_forecast

        case = sample if hasattr(sample, "domain") and hasattr(sample, "points") \
            else load_sample(sample)
        return run_city_forecast(case, model_parameters=params, out_dir=out_dir,
                                 progress=progress)
    raise ConfigError(f"no forecast workflow for model {info.name!r}; "
                      f"available: {sorted(WORKFLOW_OF_MODEL)}")
