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
    lines += [""] + _plan_lines(d.get("emergency_plan"), max_actions=9)
    lines += ["", f"outputs in {out_dir}: regional_forecast.nc, decision.json, pm25_<date>.png"
              + _map_note(d), "timings [s]: " + ", ".join(f"{k} {v}" for k, v in
                                                          result.timings.items())]
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
    lines += [""] + _plan_lines(d.get("emergency_plan"), max_actions=12)
    lines += ["", f"outputs in {out_dir}: forecast.nc, decision.json, pm25_<date>.png"
              + _map_note(d), "timings [s]: " + ", ".join(f"{k} {v}" for k, v in
                                                          result.timings.items())]
    return "\n".join(lines)


def _map_note(decision) -> str:
    plan = decision.get("emergency_plan") or {}
    return f", {plan['map']}" if plan.get("map") else ""


def _plan_lines(plan, max_actions: int = 12) -> list[str]:
    """Report lines of the ``emergency_plan`` entry of decision.json (both demo cases)."""
    if not plan:
        return []
    if not plan["actions"] and plan["status"] == "no alert, no plan":
        return ["emergency plan: no alert, no plan"]
    cities = plan["cities"]
    on_alert = [c for c in cities if c["level"] > 0]
    head = (f"emergency plan ({len(on_alert)} cit{'y' if len(on_alert) == 1 else 'ies'} on "
            f"alert): {plan['status']}, cost {plan['cost_cny'] / 1e6:,.1f} M CNY over the alert "
            "days")
    lines = [head]
    if not plan["meets_level"]:
        inf = plan.get("infeasibility") or {}
        binding = inf.get("binding", [])
        short = {}
        for r in plan["reductions"]:  # count the unmet shares per pollutant group
            if r["required_share"] > 0 and not r["met"]:
                short[r["group"]] = short.get(r["group"], 0) + 1
        lines += [f"  NO PLAN MEETS THE ALERT LEVEL: {len(binding)} binding constraint(s) ("
                  + ", ".join(f"{g} share in {n} cit{'y' if n == 1 else 'ies'}"
                              for g, n in short.items()) + "), e.g.",
                  *[f"    - {b}" for b in binding[:3]],
                  "  the table below is the cheapest best-effort plan"]
    acts = sorted(plan["actions"], key=lambda a: -a["cost"])
    lines += [f"  {'city':<13} {'enterprise / sector':<24} {'measure':<15} {'level':>5} "
              f"{'cut PM10 t':>10} {'cut NOx t':>9} {'cost MCNY':>9}"]
    for a in acts[:max_actions]:  # the costliest actions
        target = a["target"] if a["kind"] == "sector" else f"{a['target']} ({a['sector']})"
        lines.append(f"  {a['city']:<13} {target[:24]:<24} {a['measure']:<15} {a['level']:5.2f} "
                     f"{a.get('cut_PM10', 0):10.1f} {a.get('cut_NOx', 0):9.1f} "
                     f"{a['cost'] / 1e6:9.2f}")
    if len(acts) > max_actions:
        rest = sum(a["cost"] for a in acts[max_actions:])
        lines.append(f"  … {len(acts) - max_actions} more actions, {rest / 1e6:,.1f} M CNY")
    red = {(r["city"], r["group"]): r for r in plan["reductions"]}
    groups = ("SO2", "NOx", "PM", "VOCs")

    def pair(a, b):
        return "–" if a is None else f"{a:.0f}->{'?' if b is None else f'{b:.0f}'}"

    per_day = len(on_alert) == 1
    lines += ["  reductions achieved/required [%] of each city's emissions over its alert days "
              "(* = not met)" + ("" if per_day else "; peak-day PM2.5 [ug/m3] and AQI without "
                                 "-> with the plan"),
              f"  {'city':<13} " + " ".join(f"{g:>11}" for g in groups)
              + ("" if per_day else f" {'PM2.5':>9} {'AQI':>9}")]
    for c in on_alert:  # one line per city on alert
        cells = []
        for g in groups:
            r = red.get((c["city"], g))
            cells.append("" if r is None else f"{100 * r['achieved_share']:.1f}/"
                         f"{100 * r['required_share']:.0f}{' ' if r['met'] else '*'}")
        line = f"  {c['city']:<13} " + " ".join(f"{x:>11}" for x in cells)
        if not per_day:
            pm = [-1.0 if v is None else v for v in c["pm25"]]
            i = max(range(len(pm)), key=pm.__getitem__)
            line += (f" {pair(c['pm25'][i], c['pm25_with_plan'][i]):>9} "
                     f"{pair(c['aqi'][i], c['aqi_with_plan'][i]):>9}")
        lines.append(line)
    if per_day:
        c = on_alert[0]
        lines.append("  date         PM2.5 [ug/m3]   AQI   without -> with the plan")
        for i, d in enumerate(c["dates"]):  # a handful of forecast days
            if c["aqi"][i] is not None:
                lines.append(f"  {d}  {pair(c['pm25'][i], c['pm25_with_plan'][i]):>13}  "
                             f"{pair(c['aqi'][i], c['aqi_with_plan'][i]):>9}")
    if plan.get("with_plan_basis"):
        lines.append(f"  with-plan forecast: {plan['with_plan_basis']}")
    return lines


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
