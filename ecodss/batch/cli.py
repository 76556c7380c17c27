"""Command line of the batch runner: ``ecodss run``, ``ecodss runs list|show|clean``, ``ecodss cycle``.

Exit codes (scripts and schedulers can rely on them):

* 0 — every member done and the products written;
* 1 — the batch finished but some members failed (``ecodss runs show RUN`` lists the errors);
* 2 — bad scenario file or arguments (one line on stderr: ``file:line: field '...': ...``);
* 3 — the batch is incomplete (interrupted or cancelled, or members still held by another
  runner);
* 130 — interrupted by SIGINT/SIGTERM (members it held go back to the queue).
"""

from __future__ import annotations

import signal
import sys

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_run_arguments(parser) -> None:
    """The batch options of ``ecodss run`` (added to the lead's ``run`` parser)."""
    parser.add_argument("--scheduler", default=None,
                        help="threads|processes|synchronous|local|tcp://HOST:PORT|slurm|pbs "
                             "(default: the scenario's dask.scheduler)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers (local cluster / schedulers) or jobs (slurm/pbs)")
    parser.add_argument("--resume", action="store_true",
                        help="take over members left running by a crashed or killed runner")
    parser.add_argument("--quick", action="store_true",
                        help="run the scenario's quick: version (fewer members)")
    parser.add_argument("--store", default=None,
                        help="run store (default: scenario's store, $ECODSS_STORE or "
                             "./ecodss-runs.sqlite)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_run_parser(subparsers):
    """``ecodss run SCENARIO [--out] [--scheduler] [--workers] [--resume] [--quick] [--store]``."""
    p = subparsers.add_parser("run", help="run a scenario file (a single forecast or a batch)")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--out", default=None, help="output folder (default: the scenario's)")
    add_run_arguments(p)
    p.set_defaults(func=run_command)
    return p


def add_runs_parser(subparsers):
    """``ecodss runs list|show RUN|clean [RUN ...]``."""
    p = subparsers.add_parser("runs", help="list, inspect or clean batch runs in the run store")
    p.add_argument("--store", default=None, help="run store (default $ECODSS_STORE or "
                                                 "./ecodss-runs.sqlite)")
    sub = p.add_subparsers(dest="runs_command", required=True)
    sub.add_parser("list", help="runs and member counts").set_defaults(func=runs_list)
    show = sub.add_parser("show", help="one run: members, status, errors, checksums")
    show.add_argument("run_id", help="run id (a unique prefix is enough)")
    show.add_argument("--verify", action="store_true", help="check outputs against checksums")
    show.set_defaults(func=runs_show)
    clean = sub.add_parser("clean", help="delete runs (catalog entries and their output folders)"
                                         " and leftover temporary member files")
    clean.add_argument("run_ids", nargs="*", help="runs to delete (default: none, only temp "
                                                  "files)")
    clean.add_argument("--keep-outputs", action="store_true", help="keep the output folders")
    clean.set_defaults(func=runs_clean)
    return p


def add_cycle_parser(subparsers):
    """``ecodss cycle --date YYYY-MM-DD [--scenario FILE] [--members N] [--plan MOD:FUNC]``."""
    p = subparsers.add_parser("cycle", help="the daily operational chain as one idempotent batch")
    p.add_argument("--date", required=True, help="forecast date YYYY-MM-DD")
    p.add_argument("--scenario", default=None, help="region's ensemble scenario file (default: "
                                                    "scenarios/met_ensemble_alerts.yaml)")
    p.add_argument("--members", type=int, default=None, help="ensemble members")
    p.add_argument("--plan", default=None, help="plan step 'package.module:function'")
    p.add_argument("--out", default=None, help="output folder")
    add_run_arguments(p)
    p.set_defaults(func=cycle_command)
    return p


def add_parser(subparsers) -> None:
    """Add ``run``, ``runs`` and ``cycle`` to ``subparsers``."""
    add_run_parser(subparsers)
    add_runs_parser(subparsers)
    add_cycle_parser(subparsers)


def _guarded(func):
    """Run ``func()``; map configuration errors to exit 2 (one line) and signals to 130."""
    from ..errors import ConfigError

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        return func()
    except ConfigError as exc:
        print(f"ecodss: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("ecodss: interrupted; rerun the same command to finish the batch", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, old)


def _batch_options(args) -> dict:
    return {"scheduler": args.scheduler, "workers": args.workers, "resume": args.resume,
            "quick": args.quick, "store": args.store, "progress": not args.no_progress}


def _exit_code(counts: dict) -> int:
    if counts["queued"] + counts["running"] + counts.get("cancelled", 0):
        return EXIT_INCOMPLETE  # cancelled members are claimed again by the next run
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def run_command(args) -> int:
    """Handler of ``ecodss run``: a batch scenario through :func:`ecodss.batch.run`, a single
    forecast scenario (no ``scenario:`` section) through the forecast workflow."""
    from .schema import load_scenario_file

    def go():
        sc = load_scenario_file(args.scenario)
        if not sc.is_batch and sc.workflow in ("city_forecast", "regional_forecast") \
                and not (args.scheduler or args.resume or args.quick):
            from ..cli import _run_scenario

            return _run_scenario(args.scenario, out=args.out)
        from .runner import run

        result = run(sc, out=args.out, **_batch_options(args))
        print(report(result))
        return _exit_code(result.counts)

    return _guarded(go)


def report(result) -> str:
    """A few lines: run id, counts, where the products are, the first errors."""
    c = result.counts
    lines = [f"ecodss batch {result.name}  run {result.run_id[:12]}  "
             f"done {c['done']}/{sum(c.values())}, failed {c['failed']}, "
             f"pending {c['queued'] + c['running']}  ({result.ran} run now, "
             f"{result.seconds:.1f} s)",
             f"outputs: {result.out_dir}"]
    lines += [f"  {k}: {v}" for k, v in result.products.items()]
    failed = result.summary[result.summary["status"] == "failed"] if len(result.summary) else []
    for _, m in list(failed.iterrows())[:5] if len(failed) else []:
        lines.append(f"  {m['label']} failed: {str(m['error']).splitlines()[0]}")
    return "\n".join(lines)


def _store(args):
    from .store import RunStore, default_store_path

    return RunStore(args.store or default_store_path())


def runs_list(args) -> int:
    import datetime as dt

    with _store(args) as store:
        table = store.runs()
    if table.empty:
        print("no runs")
        return EXIT_OK
    print(f"{'run':<12}  {'name':<40} {'created':<19} {'done':>5} {'fail':>5} {'pend':>5}")
    for _, r in table.iterrows():
        created = dt.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M:%S")
        pending = int(r["running"] or 0) + int(r["queued"] or 0)
        print(f"{r['run_id'][:12]}  {r['name'][:40]:<40} {created} {int(r['done'] or 0):>5} "
              f"{int(r['failed'] or 0):>5} {pending:>5}")
    return EXIT_OK


def runs_show(args) -> int:
    import json

    with _store(args) as store:
        run = store.run(args.run_id)
        if run is None:
            print(f"ecodss: error: no single run matches {args.run_id!r}", file=sys.stderr)
            return EXIT_CONFIG
        members = store.members(run["run_id"])
        problems = store.verify(run["run_id"]) if args.verify else []
    print(f"run {run['run_id']}\nname {run['name']}  workflow {run['workflow']}  "
          f"ecodss {run['software_version']}\noutputs {run['out_dir']}\ncounts {run['counts']}")
    if run["products"]:
        for k, v in json.loads(run["products"]).items():
            print(f"  {k}: {v}")
    for _, m in members.iterrows():
        secs = "" if m["seconds"] is None or m["seconds"] != m["seconds"] else \
            f"{m['seconds']:.2f} s"
        extra = (m["sha256"] or "")[:12] if m["status"] == "done" else \
            str(m["error"] or "").splitlines()[0] if m["error"] else ""
        print(f"  {m['label']:<6} {m['status']:<8} {secs:>9}  {m['params']}  {extra}")
    if args.verify:
        print("verify: " + ("all done outputs match their checksums" if not problems
                            else "; ".join(problems)))
        return EXIT_FAILED if problems else EXIT_OK
    return EXIT_OK


def runs_clean(args) -> int:
    import shutil
    from pathlib import Path

    with _store(args) as store:
        table = store.runs()
        removed = 0
        for out_dir in table["out_dir"] if not table.empty else []:
            for tmp in Path(out_dir).glob("members/.*.part"):
                tmp.unlink(missing_ok=True)
                removed += 1
        for run_id in args.run_ids:
            run = store.run(run_id)
            if run is None:
                print(f"ecodss: error: no single run matches {run_id!r}", file=sys.stderr)
                return EXIT_CONFIG
            store.delete_run(run["run_id"])
            if not args.keep_outputs:
                shutil.rmtree(run["out_dir"], ignore_errors=True)
            print(f"deleted run {run['run_id'][:12]} ({run['name']})")
    print(f"removed {removed} temporary member file(s)")
    return EXIT_OK


def cycle_command(args) -> int:
    """Handler of ``ecodss cycle``."""
    from .cycle import run_cycle

    def go():
        opts = _batch_options(args)
        decision = run_cycle(args.date, args.scenario, members=args.members, plan=args.plan,
                             out=args.out, **opts)
        print(f"ecodss cycle {args.date}: run {decision['run_id'][:12]}, steps "
              + ", ".join(f"{k}={v.split(':')[0]}" for k, v in decision["steps"].items()))
        for city, rec in decision.get("cities", {}).items():
            print(f"  {city}: " + "  ".join(
                f"{d} P(orange+)={po:.2f} P(red)={pr:.2f}"
                for d, po, pr in zip(rec["dates"], rec["p_orange"], rec["p_red"], strict=True)))
        return _exit_code(decision["members"])

    return _guarded(go)


def main(argv=None) -> int:
    """Stand-alone entry (``python -m ecodss.batch.cli``) until ``ecodss`` wires these in."""
    import argparse

    parser = argparse.ArgumentParser(prog="ecodss-batch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
