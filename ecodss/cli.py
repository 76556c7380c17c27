"""Command line: ``ecodss demo``, ``ecodss run SCENARIO``, ``ecodss models`` and the
subcommands of the packages listed in :data:`SUBCOMMAND_MODULES` (``ecodss verify`` ...)."""

from __future__ import annotations

import argparse
import importlib
import sys

#: Modules with an ``add_parser(subparsers)`` that registers their own subcommands.
SUBCOMMAND_MODULES = ("ecodss.batch.cli", "ecodss.evaluate.cli", "ecodss.water.cli",
                      "ecodss.service.cli")

#: The scenario ``ecodss demo`` runs for each ``--case``.
DEMO_SCENARIOS = {"regional": "north_china_plain_2026-01.yaml",
                  "city": "shijiazhuang_haze_2026-01.yaml"}


def _run_scenario(path, out=None, sample=None) -> int:
    from tqdm import tqdm

    from .config import load_scenario
    from .workflows import forecast
    from .workflows.city_forecast import CityForecast

    sc = load_scenario(path)
    out = out or sc.output
    bar = tqdm(desc=f"ecodss {sc.name}", unit="step", file=sys.stderr)

    def progress(name):
        bar.set_postfix_str(str(name))
        bar.update(1)

    result = forecast(sc.model, sample=sample or sc.inputs.get("sample"), out_dir=out,
                      progress=progress)
    bar.close()
    print(report(result, out) if isinstance(result, CityForecast)
          else regional_report(result, out))
    return 0


def _demo(args) -> int:
    from .config import REPO_ROOT

    return _run_scenario(REPO_ROOT / "scenarios" / DEMO_SCENARIOS[args.case], out=args.out,
                         sample=args.sample)


def regional_report(result, out_dir) -> str:
    """A short plain-text report of a regional forecast: alert level and peak AQI per city."""
    d = result.decision
    lines = [f"ecodss demo — {d['region']}: regional PM2.5/AQI forecast ({d['standard']}; AQI "
             f"from {', '.join(d['pollutants_in_aqi'])})", "",
             f"{'city':<14} {'alert':<8} peak AQI   daily AQI ({d['dates'][0]} … {d['dates'][-1]})"]
    for city, rec in d["cities"].items():
        vals = [a for a in rec["aqi"] if a is not None]
        daily = " ".join("  –" if a is None else f"{a:3d}" for a in rec["aqi"])
        lines.append(f"{city:<14} {rec.get('alert', '-'):<8} {max(vals) if vals else '-':>8}   "
                     f"{daily}")
    lines += ["", f"outputs in {out_dir}: regional_forecast.nc, decision.json, pm25_<date>.png",
              "timings [s]: " + ", ".join(f"{k} {v}" for k, v in result.timings.items())]
    return "\n".join(lines)


def report(result, out_dir) -> str:
    """A short plain-text report of a city forecast."""
    d = result.decision
    lines = [f"ecodss demo — {d['city']} PM2.5/AQI forecast ({d['standard']})", "",
             "date        AQI  category                 primary"]
    for day in d["daily"]:
        aqi = "  –" if day["aqi"] is None else f"{day['aqi']:>4d}"
        lines.append(f"{day['date']}  {aqi}  {day['category']:<24} {day['primary_pollutant']}")
    alert = d["alert"]
    lines += ["", f"alert level: {alert['level_name']} ({alert['level_name_zh']})"]
    shares = alert["reduction_share"]
    if shares:
        lines.append("required reductions: " + ", ".join(
            f"{k} {100 * v:.0f} %" for k, v in shares.items()))
    lines += ["", f"outputs in {out_dir}: forecast.nc, decision.json, pm25_<date>.png",
              "timings [s]: " + ", ".join(f"{k} {v}" for k, v in result.timings.items())]
    return "\n".join(lines)


def _models(args) -> int:
    from .registry import list_models

    for m in list_models():
        print(f"{m.name:<20} {m.domain:<8} {m.summary}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ecodss", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the forecast on the bundled sample data")
    demo.add_argument("--out", default="ecodss-demo", help="output folder (default ./ecodss-demo)")
    demo.add_argument("--case", choices=sorted(DEMO_SCENARIOS), default="regional",
                      help="regional (Eulerian, 2+26 cities; default) or city (plume)")
    demo.add_argument("--sample", default=None, help="sample folder (default: bundled)")
    demo.set_defaults(func=_demo)
    models = sub.add_parser("models", help="list the registered models")
    models.set_defaults(func=_models)
    for module in SUBCOMMAND_MODULES:  # each adds its own subcommands (lazy heavy imports)
        importlib.import_module(module).add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
