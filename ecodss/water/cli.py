"""Command line of the water package: ``ecodss water steady|spill|classify|warn``.

* ``steady``   — steady water quality on the sample river (default) or a QUAL2Kw ``.q2k`` file:
  CF NetCDF of the element profiles, a profile plot with the GB 3838 class bands, section table;
* ``spill``    — instantaneous spill at ``REACH:KM`` (km from the top of the reach) or at an outfall
  of the sample river: arrival, peak, time above a threshold and passage end at every downstream
  section and intake (table, NetCDF, plot);
* ``classify`` — GB 3838-2002 classes (single-factor method) of a section series (CSV or NetCDF);
* ``warn``     — 1–3 day forecasts of a monitoring section of the sample series and the
  class-exceedance warning levels (small, quick model settings by default).

Exit codes: 0 ok, 2 bad input or arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, EcodssError, InvalidValueError

EXIT_OK, EXIT_INPUT = 0, 2


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``water`` and its subcommands on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("water", help="river water quality: steady, spill, classify, warn",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="water_command", required=True)

    st = sub.add_parser("steady", help="steady profile -> NetCDF + plot with GB 3838 bands")
    src = st.add_mutually_exclusive_group()
    src.add_argument("--sample", nargs="?", const="", default=None, metavar="DIR",
                     help="the sample river (default; DIR: another folder in its format)")
    src.add_argument("--q2k", default=None, metavar="FILE", help="a QUAL2Kw 5.1 .q2k input file")
    st.add_argument("--elements", type=int, default=None,
                    help="elements per reach (default 10 for the sample, 1 for .q2k)")
    st.add_argument("--temperature", type=float, default=None,
                    help="water temperature [degC] (default: inflow temperatures mixed by flow)")
    st.add_argument("--flow-factor", type=float, default=None,
                    help="factor on the headwater flows, e.g. 0.5 for a design low flow (sample)")
    st.add_argument("--out", default="ecodss-water", help="output folder")
    st.set_defaults(func=steady_command)

    sp = sub.add_parser("spill", help="sudden spill -> arrival/peak/duration downstream")
    sp.add_argument("--mass", type=float, required=True, help="released mass [kg]")
    sp.add_argument("--at", required=True, metavar="REACH:KM|SOURCE",
                    help="release point: reach and km from its top (M3:2.5), or a source id")
    sp.add_argument("--decay", type=float, default=0.0, help="first-order decay [d-1]")
    sp.add_argument("--threshold", type=float, default=None,
                    help="concentration of concern [mg/L] for the time above it")
    sp.add_argument("--element-length", type=float, default=200.0,
                    help="element length [m] (small: less numerical dispersion; default 200)")
    sp.add_argument("--dt", type=float, default=300.0, help="time step [s] (default 300)")
    sp.add_argument("--hours", type=float, default=None, help="simulated hours (default: auto)")
    sp.add_argument("--sample", default=None, metavar="DIR", help="sample river folder")
    sp.add_argument("--out", default="ecodss-water", help="output folder")
    sp.set_defaults(func=spill_command)

    cl = sub.add_parser("classify", help="GB 3838 classes of a section series")
    cl.add_argument("file", help="CSV (date/time, optional section, item columns) or NetCDF")
    cl.add_argument("--water-body", choices=("river", "lake"), default="river")
    cl.add_argument("--out", default=None, help="CSV with the class of every row")
    cl.set_defaults(func=classify_command)

    wa = sub.add_parser("warn", help="section forecast + GB 3838 class-exceedance warning")
    wa.add_argument("--monitoring", default=None, help="monitoring CSV (default: the sample's)")
    wa.add_argument("--section", default="OUT", help="section to forecast (default OUT)")
    wa.add_argument("--upstream", default="UP", help="upstream section used as predictor "
                                                     "('' for none)")
    wa.add_argument("--items", default="DO,NH3_N,CODMn,TP", help="comma-separated items")
    wa.add_argument("--target-class", type=int, default=None,
                    help="target class 1-5 (default: sections.csv of the sample)")
    wa.add_argument("--days", type=int, default=7, help="days of forecasts at the series end")
    wa.add_argument("--train-days", type=int, default=365, help="training days before them")
    wa.add_argument("--max-iter", type=int, default=30, help="boosting iterations (quick: 30)")
    wa.add_argument("--p-warn", type=float, default=0.5, help="probability that triggers a level")
    wa.add_argument("--out", default="ecodss-water", help="output folder")
    wa.set_defaults(func=warn_command)
    return p


def _guarded(func):
    """Run a handler; input errors become one stderr line and exit code 2."""

    @functools.wraps(func)
    def run(args) -> int:
        try:
            return func(args)
        except (EcodssError, OSError) as exc:
            msg = " ".join(str(exc).split())
            print(f"ecodss water {args.water_command}: error: {type(exc).__name__}: {msg}",
                  file=sys.stderr)
            return EXIT_INPUT

    return run


def _write(ds, path: Path, title: str) -> Path:
    from ..io.netcdf import write_netcdf

    ds = ds.copy()
    for name in ds.data_vars:
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    return write_netcdf(ds, path, title=title)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from ..io.netcdf import atomic_write

    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."),
                                                          dpi=120))
    finally:
        plt.close(fig)


def _save_csv(table: pd.DataFrame, path: Path) -> Path:
    from ..io.netcdf import atomic_write_text

    return atomic_write_text(path, table.to_csv(index=False))


# ------------------------------------------------------------------------------- steady
@_guarded
def steady_command(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .plot import plot_profile

    out = Path(args.out)
    if args.q2k is not None:
        ds, title, table, sections = _steady_q2k(args)
    else:
        ds, title, table, sections = _steady_sample(args)
    nc = _write(ds, out / "water_steady.nc", title)
    png = _save(plot_profile(ds, ("DO", "NH3_N", "CODMn"), title=title, sections=sections),
                out / "water_steady_profile.png")
    i = int(np.argmin(ds["DO"].values))
    print(title)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"minimum DO {float(ds['DO'].values[i]):.2f} mg/L in reach "
          f"{ds['reach'].values[i]} (element {i})")
    print(f"outputs: {nc}, {png}")
    return EXIT_OK


def _steady_sample(args):
    from .gb3838 import class_name
    from .sample_network import load_sample_river

    river = load_sample_river(args.sample or None, n_elements=args.elements or 10)
    ds = river.solve(headwater_flow_factor=args.flow_factor, temperature=args.temperature)
    sec = river.section_values(ds)
    table = pd.DataFrame({
        "section": sec["section"].values, "kind": sec["section_kind"].values,
        "x_km": sec["x_km"].values, "DO": sec["DO"].values, "NH3_N": sec["NH3_N"].values,
        "CODMn": sec["CODMn"].values, "TP": sec["TP"].values,
        "class": class_name(sec["water_class"].values),
        "target": class_name(sec["target_class"].values),
        "meets_target": sec["compliant"].values.astype(bool)})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _save_csv(table, out / "water_sections.csv")
    return ds, f"{river.info.get('name', 'sample river')}: steady state", table, river.sections


def _steady_q2k(args):
    from .q2k import read_q2k
    from .sample_network import add_gb3838_items, mixed_temperature
    from .steady import solve_steady

    path = Path(args.q2k)
    if not path.is_file():
        raise DataFileError(f"{path}: no such .q2k file")
    case = read_q2k(path)
    n = args.elements or 1
    net = case.network(n)
    if args.temperature is not None:
        temp = np.full(net.n_elements, float(args.temperature))
    else:
        temp = mixed_temperature(net, _q2k_inflow_temperature(case))[:, 0]
    kin = case.kinetics(temp, n_elements=n, bottom_algae=False, ph=7.5)
    ds = add_gb3838_items(solve_steady(net, kin, case.boundary()))
    ds["temperature"] = ("element", temp, {"units": "degC", "long_name": "water temperature"})
    last = np.r_[ds["reach"].values[1:] != ds["reach"].values[:-1], True]
    table = pd.DataFrame({"reach": ds["reach"].values[last],
                          "x_km": ds["distance_to_outlet"].values[last] / 1000.0,
                          "DO": ds["DO"].values[last], "NH3_N": ds["NH3_N"].values[last],
                          "NO3_N": ds["no3"].values[last] / 1000.0,
                          "temperature": temp[last]})
    title = f"{case.info.get('river', path.stem)}: steady state (bottom algae off)"
    return ds, title, table, None


def _q2k_inflow_temperature(case) -> pd.Series:
    """Daily-mean inflow temperatures [°C] of a .q2k case by source name."""
    temps = {case.reaches["reach"].iloc[0]: float(case.headwater["temperature"].mean())}
    for _, p in case.point_sources.iterrows():
        temps[p["name"]] = float(p["temperature_mean"])
    for _, d in case.diffuse_sources.iterrows():
        temps[d["name"]] = float(d["temperature"])
    return pd.Series(temps)


# ------------------------------------------------------------------------------- spill
def parse_release(at: str, river) -> tuple[str, float]:
    """(reach, metres from its top) of ``REACH:KM`` or of a source/section id of the sample."""
    if ":" in at:
        reach, _, km = at.partition(":")
        try:
            return reach.strip(), float(km) * 1000.0
        except ValueError:
            raise InvalidValueError(f"--at {at!r}: KM must be a number", field="at") from None
    src = river.network.sources.set_index("name")
    if at in src.index and src.loc[at, "kind"] != "headwater":
        row = src.loc[at]
        return str(row["reach"]), float(row["x"])
    sec = river.sections.set_index("id")
    if at in sec.index:
        return str(sec.loc[at, "reach"]), float(sec.loc[at, "x"])
    names = [n for n in src.index if src.loc[n, "kind"] != "headwater"] + list(sec.index)
    raise InvalidValueError(f"--at {at!r} is neither REACH:KM nor one of {names}", field="at")


@_guarded
def spill_command(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .network_spill import simulate_spill
    from .sample_network import load_sample_river
    from .spill import plot_spill

    river = load_sample_river(args.sample, element_length=args.element_length)
    reach, x = parse_release(args.at, river)
    conc, metrics = simulate_spill(
        river.network, args.mass, reach, x, river.sections, decay=args.decay,
        duration=None if args.hours is None else args.hours * 3600.0, dt=args.dt,
        threshold=args.threshold)
    out = Path(args.out)
    ds = metrics.assign(concentration=conc)
    nc = _write(ds, out / "water_spill.nc", f"spill of {args.mass:g} kg at {args.at}")
    hours = {k: metrics[k].values / 3600.0 for k in
             ("arrival_time", "peak_time", "passage_end", "time_above_threshold")}
    table = pd.DataFrame({"section": metrics["section"].values,
                          "km_below": metrics["distance"].values / 1000.0,
                          "arrival_h": hours["arrival_time"],
                          "peak_mg_L": metrics["peak_concentration"].values,
                          "peak_h": hours["peak_time"], "end_h": hours["passage_end"],
                          "above_threshold_h": hours["time_above_threshold"],
                          "mass_passed_kg": metrics["mass_passed"].values / 1000.0,
                          "withdrawn_kg": metrics["mass_withdrawn"].values / 1000.0})
    _save_csv(table, out / "water_spill_metrics.csv")
    fig_ax = plot_spill(conc.values, conc["time"].values, metrics,
                        threshold=args.threshold, labels=list(conc["section"].values))
    fig_ax.set_title(f"spill of {args.mass:g} kg at {args.at}", fontsize=10)
    png = _save(fig_ax.figure, out / "water_spill.png")
    a = metrics.attrs
    print(f"spill of {args.mass:g} kg at {reach}:{x / 1000:g} km"
          + (f", decay {args.decay:g} d-1" if args.decay else ", conservative"))
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"mass budget [kg]: released {a['mass_released'] / 1000:.3f} = out "
          f"{a['mass_out'] / 1000:.3f} + withdrawn {a['mass_withdrawn_total'] / 1000:.3f} + "
          f"still in the river {a['mass_remaining'] / 1000:.3f}"
          + (" + decayed" if args.decay else ""))
    print(f"outputs: {nc}, {png}")
    return EXIT_OK


# ------------------------------------------------------------------------------- classify
def read_series(path) -> pd.DataFrame:
    """A section series as a table: ``section`` (default ``-``), a time column, item columns."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        with xr.open_dataset(path) as ds:
            df = ds.to_dataframe().reset_index()
    else:
        try:
            df = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise DataFileError(f"{path}: not a readable CSV ({exc})") from None
    if "section" not in df:
        df.insert(0, "section", "-")
    return df


@_guarded
def classify_command(args) -> int:
    from .gb3838 import ALIASES, LIMITS, class_name, classify_dataset

    df = read_series(args.file)
    items = [c for c in df.columns if c in LIMITS or c in ALIASES or c.lower() in ALIASES]
    if not items:
        raise InvalidValueError(f"{args.file}: no GB 3838 item among columns {list(df.columns)}",
                                field="items")
    classes = classify_dataset({k: df[k].to_numpy(float) for k in items},
                               water_body=args.water_body)
    rows = df.assign(water_class=classes["water_class"].values,
                     class_name=class_name(classes["water_class"].values),
                     limiting_item=classes["limiting_item"].values)
    if args.out:
        _save_csv(rows, Path(args.out))
    # period mean, single-factor (MEE 地表水环境质量评价办法(试行), 2011: mean concentrations
    # of the assessment period, class = worst item)
    means = df.groupby("section", sort=False)[items].mean()
    mean_cls = classify_dataset({k: means[k].to_numpy(float) for k in items},
                                water_body=args.water_body)
    counts = (rows.groupby("section", sort=False)["class_name"].value_counts(normalize=True)
              .unstack(fill_value=0.0) * 100.0)
    order = [c for c in ("I", "II", "III", "IV", "V", "worse than V", "no data") if c in counts]
    summary = counts[order].round(1)
    summary.insert(0, "n", rows.groupby("section", sort=False).size())
    summary["class_of_mean"] = class_name(mean_cls["water_class"].values)
    summary["limiting_item"] = mean_cls["limiting_item"].values
    print(f"GB 3838-2002 single-factor classes ({args.water_body}; items {', '.join(items)}); "
          "% of rows per class:")
    print(summary.to_string())
    if args.out:
        print(f"outputs: {args.out}")
    return EXIT_OK


# ------------------------------------------------------------------------------- warn
@_guarded
def warn_command(args) -> int:
    from .. import samples_river
    from .gb3838 import class_name
    from .warning import (
        LEVEL_NAMES,
        SectionForecaster,
        class_probabilities,
        warning_level,
    )

    ds = samples_river.load_monitoring(args.monitoring)
    items = [s.strip() for s in args.items.split(",") if s.strip()]
    missing = [i for i in items if i not in ds]
    if missing:
        raise InvalidValueError(f"items {missing} not in the monitoring series "
                                f"{sorted(ds.data_vars)}", field="items")
    if args.section not in ds["section"].values:
        raise InvalidValueError(f"section {args.section!r} not in {list(ds['section'].values)}",
                                field="section")
    target = args.target_class
    if target is None:
        sections = pd.read_csv(samples_river.river_sample_dir() / "sections.csv")
        match = sections.loc[sections["id"] == args.section, "target_class"]
        if match.empty:
            raise InvalidValueError(f"no target class for section {args.section!r}; give "
                                    "--target-class", field="target_class")
        target = int(match.iloc[0])
    if args.days < 1 or args.train_days < 30:
        raise InvalidValueError("need --days >= 1 and --train-days >= 30", field="days")
    last = ds["time"].values[-1].astype("datetime64[D]")
    start = last - np.timedelta64(args.days - 1, "D")
    first = start - np.timedelta64(args.train_days, "D")
    data = ds.sel(time=slice(first, None))
    fc = SectionForecaster(items=items, upstream=args.upstream or None,
                           quantiles=(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
                           forecaster_kwargs=dict(gbm_params=dict(max_iter=args.max_iter),
                                                  calibrate=False), n_threads=1)
    fc.fit(data, args.section, until=str(start))
    forecast = fc.predict(data, start=str(start))
    probs = class_probabilities(forecast)
    levels = warning_level(probs, target, p_warn=args.p_warn)
    out = Path(args.out)
    result = forecast.merge(probs).merge(levels)
    result.attrs.update(section=args.section, target_class=target, p_warn=args.p_warn)
    nc = _write(result, out / "water_warning.nc", f"warning at section {args.section}")
    table = pd.DataFrame({"date": np.datetime_as_string(
        np.repeat(forecast["time"].values, forecast.sizes["lead"]), unit="D"),
        "lead_d": np.tile(forecast["lead"].values, forecast.sizes["time"])})
    observed = data.sel(section=args.section).reindex(time=forecast["time"])
    for item in items:
        table[f"{item}_obs"] = np.repeat(observed[item].values, forecast.sizes["lead"])
        table[f"{item}_median"] = forecast[item].sel(quantile=0.5).values.ravel()
        table[f"P_{item}_worse"] = probs[f"p_worse_{item}"].sel(gb_class=target).values.ravel()
    table["level"] = np.asarray(LEVEL_NAMES, dtype=object)[levels["level"].values.ravel()]
    _save_csv(table, out / "water_warning.csv")
    print(f"section {args.section}: target class {class_name(target)}; forecasts "
          f"{np.datetime_as_string(start)} … {np.datetime_as_string(last)} "
          f"(trained on {args.train_days} days; P = probability worse than the target)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"outputs: {nc}, {out / 'water_warning.csv'}")
    return EXIT_OK


def main(argv=None) -> int:
    """Stand-alone entry (``python -m ecodss.water.cli ...``)."""
    parser = argparse.ArgumentParser(prog="ecodss")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
