"""Products of a finished batch: combined dataset, summary table, ensemble probabilities.

* ``combined.nc`` (or ``combined.zarr``): every member's dataset along a ``member`` dimension,
  the member parameters as ``member`` coordinates (numbers and strings);
* ``summary.csv``: one row per member — label, status, parameters, seconds, SHA-256 and the
  maximum of each daily variable over cities and days;
* ``ensemble.nc`` (met ensembles and any batch with ``alert_level``): the probability that the
  alert level is at least yellow/orange/red per city and day — the fraction of equally likely
  members (Galmarini et al. 2004, *Atmos. Environ.* 38:4607-4617) — and the ensemble mean and
  10th/50th/90th percentiles of daily PM2.5 and AQI.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..io.netcdf import atomic_write, atomic_write_text, write_netcdf

#: Alert levels whose exceedance probability is given (2018 scheme: yellow, orange, red).
ALERT_THRESHOLDS = (1, 2, 3)
QUANTILES = (0.1, 0.5, 0.9)


def combine_members(paths: list[str | Path], labels: list[str], params: list[dict]) -> xr.Dataset:
    """Member files concatenated along ``member`` with scalar parameters as coordinates."""
    parts = []
    for path in paths:
        with xr.open_dataset(path) as ds:
            parts.append(ds.load())
    out = xr.concat(parts, dim="member", join="outer", combine_attrs="drop_conflicts",
                    coords="minimal", compat="override")
    out = out.assign_coords(member=labels)
    names = sorted({k for p in params for k, v in p.items()
                    if isinstance(v, int | float | str | bool)})
    for name in names:
        values = [p.get(name) for p in params]
        if all(isinstance(v, bool) for v in values):
            arr = np.asarray(values, dtype=np.int8)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            arr = np.asarray(values, dtype=float)
        else:
            arr = np.asarray(["" if v is None else str(v) for v in values])
        out = out.assign_coords({f"param_{name}": ("member", arr)})
    for k in ("ecodss_member", "ecodss_parameters"):
        out.attrs.pop(k, None)
    return out


def alert_probabilities(combined: xr.Dataset) -> xr.Dataset:
    """P(alert level >= k) per city and day and ensemble statistics of PM2.5 and AQI."""
    level = combined["alert_level"]
    thresholds = xr.DataArray(list(ALERT_THRESHOLDS), dims="alert_threshold",
                              attrs={"long_name": "alert level (1 yellow, 2 orange, 3 red)",
                                     "units": "1"})
    prob = (level >= thresholds).mean("member").transpose("alert_threshold", ...)
    out = xr.Dataset({"alert_probability": prob.assign_attrs(
        units="1", long_name="probability that the alert level is at least alert_threshold")})
    out = out.assign_coords(alert_threshold=thresholds)
    q = xr.DataArray(list(QUANTILES), dims="quantile")
    for name in ("pm25_daily", "aqi"):
        if name in combined:
            da = combined[name]
            out[f"{name}_mean"] = da.mean("member").assign_attrs(
                units=da.attrs.get("units", "1"), long_name=f"ensemble mean of {name}")
            out[f"{name}_quantile"] = da.quantile(q, dim="member").assign_attrs(
                units=da.attrs.get("units", "1"), long_name=f"ensemble quantiles of {name}")
    out.attrs.update(n_members=int(combined.sizes["member"]),
                     references="Galmarini et al. (2004) Atmos. Environ. 38:4607-4617")
    return out


def summary_table(members: pd.DataFrame, combined: xr.Dataset | None) -> pd.DataFrame:
    """One row per member: label, status, parameters, timing, checksum, daily maxima."""
    params = pd.DataFrame([json.loads(p) for p in members["params"]])
    keep = [c for c in params if params[c].map(lambda v: not isinstance(v, dict | list)).all()]
    table = pd.concat([members[["label", "status", "seconds", "sha256"]].reset_index(drop=True),
                       params[keep]], axis=1)
    if combined is not None:
        for name, da in combined.data_vars.items():
            if "member" in da.dims and "date" in da.dims and da.dtype.kind in "fi":
                other = [d for d in da.dims if d != "member"]
                table[f"max_{name}"] = da.max(other).values
    return table


def write_products(store, run_id: str, scenario, out_dir: Path) -> dict[str, str]:
    """Write combined output, summary table and ensemble products; return their paths."""
    members = store.members(run_id)
    products: dict[str, str] = {}
    combined = None
    if scenario.outputs.combined:
        combined = combine_members(list(members["output"]), list(members["label"]),
                                   [json.loads(p) for p in members["params"]])
        combined.attrs.update(title=f"ecodss batch {scenario.name}", ecodss_run=run_id,
                              ecodss_workflow=scenario.workflow)
        if scenario.outputs.format == "zarr":
            target = out_dir / "combined.zarr"
            combined.to_zarr(target, mode="w")
        else:
            target = write_netcdf(combined, out_dir / "combined.nc",
                                  title=f"ecodss batch {scenario.name}")
        products["combined"] = str(target)
        if "alert_level" in combined and scenario.scenario is not None \
                and scenario.scenario.kind == "ensemble":
            probs = alert_probabilities(combined)
            products["ensemble"] = str(write_netcdf(
                probs, out_dir / "ensemble.nc", title=f"ecodss ensemble {scenario.name}"))
            products["ensemble_csv"] = str(atomic_write(
                out_dir / "alert_probability.csv",
                lambda tmp: probs["alert_probability"].to_dataframe().reset_index()
                .to_csv(tmp, index=False)))
    table = summary_table(members, combined)
    products["summary"] = str(atomic_write_text(out_dir / "summary.csv",
                                                table.to_csv(index=False)))
    return products
