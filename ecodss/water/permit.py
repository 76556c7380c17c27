"""Water-load permit check on the sample river: the registered model ``river_permit``.

One set of outfall load multipliers is checked under every design condition at once — the
product of the design headwater flow factors and design water temperatures, stacked on the steady
solver's scenario dimension (:mod:`ecodss.water.sample_network`). At each monitoring section and
intake the worst case over the conditions is reported: minimum DO, maximum NH3-N, CODMn and TP,
the GB 3838-2002 class (single-factor method) and whether the section meets its target class;
plus the river-wide DO minimum (the sag) and NH3-N maximum. Checking a permit against the worst
of several design hydrological conditions follows the Chinese technical guideline for
surface-water impact assessment (HJ 2.3-2018: design flow conditions such as the driest-month
flow at 90 % assurance); the conditions themselves are model parameters
(``models/river_permit.yaml``), the loads the batch members' parameters
(:func:`ecodss.water.batch.permit_member`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import xarray as xr

from ..errors import ConfigError
from ..registry import register_model

_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _river_cached(folder: str | None, n_elements: int, ph: float):
    from .sample_network import load_sample_river

    return load_sample_river(folder, n_elements=n_elements, ph=ph)


def _river(folder, n_elements, ph):
    with _LOCK:   # one build per process even with threaded batch members
        return _river_cached(folder, n_elements, ph)


def _as_list(value, name: str) -> list[float]:
    vals = [value] if np.ndim(value) == 0 else list(value)
    try:
        out = [float(v) for v in vals]
    except (TypeError, ValueError):
        raise ConfigError(f"parameter {name!r} = {value!r} must be a number or a list of numbers") \
            from None
    if not out:
        raise ConfigError(f"parameter {name!r} is empty")
    return out


@register_model("river_permit", domain="water")
def river_permit(load_multipliers: Mapping | None = None, *, design_flow_factors=(1.0,),
                 design_temperatures=None, n_elements: int = 10, sample: str | None = None,
                 ph: float = 7.5) -> xr.Dataset:
    """Steady sample-river check of outfall loads against the GB 3838 section targets.

    Parameters
    ----------
    load_multipliers : mapping outfall id -> float, optional  [1]
        Factor on every pollutant concentration (all but DO) of the outfall's effluent.
    design_flow_factors : float or sequence  [1]
        Factors on the headwater flows (design hydrological conditions).
    design_temperatures : float or sequence, optional  [degC]
        Water temperatures (default: inflow temperatures mixed by flow).
    n_elements : int
        Elements per reach.
    sample : str, optional
        Sample river folder (default: the bundled one).
    ph : float
        pH for the ionized-ammonia fraction.

    Returns
    -------
    xarray.Dataset
        On ``section``: ``DO_min``, ``NH3_N_max``, ``CODMn_max``, ``TP_max`` [mg/L],
        ``water_class`` and ``target_class`` [1], ``compliant`` (1 = meets the target under every
        condition); on (``section``, ``condition``): ``DO``, ``NH3_N``; scalars ``river_DO_min``,
        ``river_NH3_N_max`` [mg/L], ``permit_ok`` (1 = every section compliant) and the design
        conditions as ``condition`` coordinates.
    """
    river = _river(sample, int(n_elements), float(ph))
    flows = _as_list(design_flow_factors, "design_flow_factors")
    temps = [None] if design_temperatures is None else _as_list(design_temperatures,
                                                                 "design_temperatures")
    cond = list(itertools.product(flows, temps))
    n = len(cond)
    f_arr = np.array([c[0] for c in cond])
    t_arr = None if temps == [None] else np.array([c[1] for c in cond])
    loads = {k: np.full(n, float(v)) for k, v in (load_multipliers or {}).items()}
    ds = river.solve(load_multipliers=loads, headwater_flow_factor=f_arr, temperature=t_arr)
    sec = river.section_values(ds)
    t_vals = np.full(n, np.nan) if t_arr is None else t_arr
    coords = {"design_flow_factor": ("condition", f_arr, {"units": "1"}),
              "design_temperature": ("condition", t_vals, {
                  "units": "degC", "long_name": "design water temperature (NaN: mixed inflows)"})}
    sec = sec.rename(scenario="condition").assign_coords(coords)
    out = xr.Dataset(coords={"section": sec["section"].values,
                             "section_kind": ("section", sec["section_kind"].values),
                             "x_km": sec["x_km"]})
    out["DO_min"] = sec["DO"].min("condition").assign_attrs(
        units="mg/L", long_name="minimum DO over the design conditions")
    for item in ("NH3_N", "CODMn", "TP"):
        out[f"{item}_max"] = sec[item].max("condition").assign_attrs(
            units="mg/L", long_name=f"maximum {item} over the design conditions")
    out["DO"] = sec["DO"].assign_attrs(units="mg/L")
    out["NH3_N"] = sec["NH3_N"].assign_attrs(units="mg/L")
    out["water_class"] = sec["water_class"].max("condition").astype(np.int8).assign_attrs(
        units="1", long_name="worst GB 3838 class over the design conditions",
        flag_meanings="no_data I II III IV V worse_than_V")
    out["target_class"] = sec["target_class"]
    out["compliant"] = (out["water_class"] <= out["target_class"]).astype(np.int8).assign_attrs(
        units="1", long_name="1 when the section meets its target under every condition")
    out["river_DO_min"] = xr.DataArray(float(ds["DO"].min()), attrs={
        "units": "mg/L", "long_name": "minimum DO anywhere on the network (DO sag)"})
    out["river_NH3_N_max"] = xr.DataArray(float(ds["NH3_N"].max()), attrs={
        "units": "mg/L", "long_name": "maximum NH3-N anywhere on the network"})
    out["permit_ok"] = xr.DataArray(np.int8(bool(out["compliant"].all())), attrs={
        "units": "1", "long_name": "1 when every section meets its target class"})
    out = out.assign_coords({k: sec[k] for k in ("design_flow_factor", "design_temperature")})
    out.attrs.update(source="ecodss.water.permit.river_permit (steady QUAL2K-form network)",
                     references="GB 3838-2002 Table 1; HJ 2.3-2018 (design conditions)")
    return out
