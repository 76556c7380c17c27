"""``ecodss verify``: verify a forecast file against station observations and write a report.

Observation file: the Beijing PRSA CSV (recognised by its header), a long-format station CSV or
a NetCDF station dataset (:func:`ecodss.io.stations.read_station_observations`).

Forecast file (CSV): a ``time`` (or ``date``) column, one column per point forecast (any name)
and optional quantile columns ``q<level>`` (``q0.1``, ``q0.5``, ``q0.9``) of the first point
forecast. Times are in the observations' convention: UTC for hourly values, the China Standard
Time date for ``--daily``. A NetCDF forecast holds the variable (optionally with a ``quantile``
dimension) on ``time``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, MissingFieldError

_QUANTILE = re.compile(r"^q(0?\.\d+)$")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``verify`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("verify", help="verify forecasts against station observations",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--obs", required=True, help="observations (PRSA CSV, station CSV, NetCDF)")
    p.add_argument("--forecast", required=True, help="forecast CSV or NetCDF")
    p.add_argument("--variable", default="pm25", help="variable to verify (default pm25)")
    p.add_argument("--station", default=None, help="station id (default: the only station)")
    p.add_argument("--daily", action="store_true",
                   help="verify China-Standard-Time daily means of hourly observations")
    p.add_argument("--events", default=None,
                   help="comma-separated event thresholds (default for pm25: 75,150,250)")
    p.add_argument("--reference", default=None,
                   help="forecast column to use as reference, or 'persistence' (lead 1 step)")
    p.add_argument("--out", default="ecodss-verify", help="output folder")
    p.set_defaults(func=run_verify)
    return p


def _is_prsa(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open() as fh:
        header = fh.readline().lower()
    return "pm2.5" in header and "cbwd" in header


def load_observations(path, variable: str, station: str | None, daily: bool) -> pd.Series:
    """One station's observed series (daily CST means with ``daily``) as a pandas Series."""
    from ..io.stations import read_prsa, read_station_observations
    from ..timeutil import daily_mean

    path = Path(path)
    ds = read_prsa(path) if _is_prsa(path) else read_station_observations(path)
    if variable not in ds:
        raise MissingFieldError(f"variable {variable!r} not in {sorted(ds.data_vars)}",
                                field=variable, where=path.name)
    da = ds[variable]
    if station is None:
        if da.sizes["station"] != 1:
            raise MissingFieldError(f"{da.sizes['station']} stations; choose one with --station",
                                    field="station", where=path.name)
        da = da.isel(station=0)
    else:
        da = da.sel(station=station)
    if daily:
        da = daily_mean(da).rename(date="time")
    return da.to_series().rename(variable)


def load_forecast(path, variable: str):
    """(point forecasts {name: Series}, quantile DataFrame or None) from a forecast file."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if path.suffix.lower() in (".nc", ".nc4"):
        with xr.open_dataset(path) as ds:
            da = ds[variable].load()
        if "quantile" in da.dims:
            q = da.transpose("time", "quantile").to_pandas()
            return {variable: q[0.5] if 0.5 in q.columns else q.iloc[:, len(q.columns) // 2]}, q
        return {variable: da.to_series()}, None
    df = pd.read_csv(path)
    time_col = "time" if "time" in df else "date" if "date" in df else None
    if time_col is None:
        raise MissingFieldError("forecast CSV needs a 'time' or 'date' column", field="time",
                                where=path.name)
    df = df.set_index(pd.to_datetime(df.pop(time_col)))
    qcols = {c: float(m.group(1)) for c in df.columns if (m := _QUANTILE.match(str(c)))}
    quantiles = df[list(qcols)].rename(columns=qcols) if qcols else None
    points = {c: df[c].astype(float) for c in df.columns if c not in qcols}
    if not points:
        raise MissingFieldError("forecast CSV has no point-forecast column", field=variable,
                                where=path.name)
    return points, quantiles


def run_verify(args) -> int:
    """Handler of ``ecodss verify``: load, verify, write the report, print a summary."""
    from ..evaluate import persistence
    from .report import verification_report

    obs = load_observations(args.obs, args.variable, args.station, args.daily)
    points, quantiles = load_forecast(args.forecast, args.variable)
    if args.reference == "persistence":
        step = obs.index.to_series().diff().mode().iloc[0]  # the regular time step
        points["persistence"] = persistence(obs.asfreq(step), 1).reindex(obs.index)
    events = ([float(x) for x in args.events.split(",")] if args.events else None)
    result = verification_report(obs, points, quantiles=quantiles, events=events,
                                 reference=args.reference, out_dir=args.out,
                                 variable=args.variable)
    cont = result["scores"]["continuous"]
    cols = [c for c in ("n", "bias", "rmse", "mae", "r", "nmb", "nme", "mse_skill")
            if c in cont]
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(cont[cols].to_string())
        if "categorical" in result["scores"]:
            cat = result["scores"]["categorical"]
            print(cat[["forecast", "threshold", "pod", "far", "csi", "hss"]].to_string(
                index=False))
    print(f"report written to {Path(args.out)}: "
          + ", ".join(sorted(p.name for p in [*result["tables"].values(),
                                              *result["figures"].values()])))
    return 0 if np.isfinite(cont["rmse"]).all() else 1


__all__ = ["add_parser", "run_verify", "load_observations", "load_forecast"]
