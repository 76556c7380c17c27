"""Batch member of a water-load permit study: ``workflow: "ecodss.water.batch:permit_member"``.

Each member is one set of outfall load multipliers on the sample river, checked by the registered
model ``river_permit`` (:func:`ecodss.water.permit.river_permit`) with the settings of the
scenario's model configuration (``models/river_permit.yaml``: design flow factors, design
temperatures, elements per reach).

Member parameters: ``load_<outfall>`` — factor on the outfall's pollutant concentrations [1].
"""

from __future__ import annotations

import xarray as xr

from ..errors import ConfigError


def permit_member(ctx) -> xr.Dataset:
    """One load case of the permit study; ``ctx`` an :class:`ecodss.batch.members.MemberContext`.

    Returns the :func:`ecodss.water.permit.river_permit` dataset of the member's loads.
    """
    from .permit import river_permit

    unknown = [k for k in ctx.params if not k.startswith("load_")]
    if unknown:
        raise ConfigError(f"permit member: unknown parameter(s) {unknown}; it takes "
                          "load_<outfall> multipliers (the design conditions are model "
                          "parameters)")
    loads = {k.removeprefix("load_"): float(v) for k, v in ctx.params.items()}
    settings = dict(ctx.model_parameters or {})
    sample = getattr(ctx.inputs, "sample", None) if ctx.inputs is not None else None
    if sample is not None:
        settings["sample"] = sample
    return river_permit(loads, **settings)
