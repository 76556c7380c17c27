"""Command line: ``ecodss demo``, ``ecodss models``."""

from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from tqdm import tqdm

    from .samples import load_sample
    from .workflows.city_forecast import STEPS, run_city_forecast

    bar = tqdm(total=len(STEPS), desc="ecodss demo", unit="step", file=sys.stderr)

    def progress(name):
        bar.set_postfix_str(name)
        bar.update(1)

    case = load_sample(args.sample)
    result = run_city_forecast(case, out_dir=args.out, progress=progress)
    bar.close()
    print(report(result, args.out))
    return 0


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
    demo = sub.add_parser("demo", help="run the city forecast on the bundled sample data")
    demo.add_argument("--out", default="ecodss-demo", help="output folder (default ./ecodss-demo)")
    demo.add_argument("--sample", default=None, help="sample folder (default: bundled)")
    demo.set_defaults(func=_demo)
    models = sub.add_parser("models", help="list the registered models")
    models.set_defaults(func=_models)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
