"""``ecodss serve`` and ``ecodss keys create|list|revoke``.

Wire into the main parser with ``add_parser(subparsers)``; each subcommand's handler returns the
exit code (0 ok, 1 nothing done, 2 bad arguments).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _store_path(value: str | None) -> Path:
    from ..batch.store import default_store_path

    return Path(value) if value else default_store_path()


def _process_option(value: str) -> tuple[str, str]:
    name, sep, target = value.partition("=")
    if not sep or ":" not in target or not name:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=module:function")
    return name, target


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive integer")
    return n


def serve(args) -> int:
    """Run the HTTP service under uvicorn."""
    import uvicorn

    from ..errors import ConfigError
    from .app import create_app

    try:
        app = create_app(_store_path(args.store), work_dir=args.work_dir,
                         scheduler=args.scheduler, workers=args.workers,
                         max_body_bytes=args.max_body, rate_per_minute=args.rate_limit or None,
                         cors_origins=args.cors_origin or (), processes=dict(args.process or ()),
                         max_jobs=args.jobs)
    except ConfigError as exc:
        print(f"ecodss serve: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=args.access_log)
    return 0


def keys(args) -> int:
    """Create, list or revoke API keys in the store."""
    from .security import create_key
    from .store import ServiceStore

    store = ServiceStore(_store_path(args.store))
    try:
        if args.keys_command == "create":
            key_id, token = create_key(store, args.name, args.role, args.rate)
            if args.json:
                print(json.dumps({"key_id": key_id, "role": args.role, "token": token}))
            else:
                print(f"key {key_id} ({args.role}) for {args.name!r}; the token is shown once:")
                print(token)
            return 0
        if args.keys_command == "list":
            rows = store.keys()
            if args.json:
                print(json.dumps(rows))
            for r in rows if not args.json else ():
                state = "revoked" if r["revoked"] else "active"
                rate = f"{r['rate_per_minute']:g}/min" if r["rate_per_minute"] else "default"
                print(f"{r['key_id']}  {r['role']:<9} {state:<8} {rate:<10} {r['name']}")
            return 0
        if store.revoke_key(args.key_id):
            print(f"key {args.key_id} revoked")
            return 0
        print(f"no active key {args.key_id}", file=sys.stderr)
        return 1
    finally:
        store.close()


def add_parser(subparsers) -> None:
    """Add ``serve`` and ``keys`` to the ``ecodss`` command line."""
    s = subparsers.add_parser("serve", help="run the HTTP API and dashboard (FastAPI + uvicorn)")
    s.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--store", default=None,
                   help="run store (default $ECODSS_STORE or ./ecodss-runs.sqlite)")
    s.add_argument("--work-dir", default=None,
                   help="job outputs and uploads (default <store folder>/ecodss-service)")
    s.add_argument("--scheduler", default="threads",
                   help="where job members run: threads, processes, local or tcp://HOST:PORT")
    s.add_argument("--workers", type=int, default=None, help="workers of the scheduler")
    s.add_argument("--jobs", type=_positive_int, default=1,
                   help="jobs run at the same time; only 1 is supported for now")
    s.add_argument("--max-body", type=int, default=1 << 20,
                   help="largest request body in bytes (default 1 MiB)")
    s.add_argument("--rate-limit", type=float, default=600.0,
                   help="default requests per minute per key (0: no limit; default 600)")
    s.add_argument("--cors-origin", action="append",
                   help="allow this origin by CORS (repeatable; default none)")
    s.add_argument("--process", action="append", type=_process_option, metavar="NAME=MOD:FUNC",
                   help="publish a member workflow of your own as a process (repeatable)")
    s.add_argument("--log-level", default="info", help="uvicorn log level")
    s.add_argument("--no-access-log", dest="access_log", action="store_false",
                   help="no per-request log lines")
    s.set_defaults(func=serve)

    k = subparsers.add_parser("keys", help="manage API keys of the HTTP service")
    k.add_argument("--store", default=None,
                   help="run store (default $ECODSS_STORE or ./ecodss-runs.sqlite)")
    ksub = k.add_subparsers(dest="keys_command", required=True)
    c = ksub.add_parser("create", help="create a key and print its token (once)")
    c.add_argument("name", help="who or what uses the key")
    c.add_argument("--role", choices=("readonly", "operator"), default="readonly")
    c.add_argument("--rate", type=float, default=None, help="requests per minute for this key")
    c.add_argument("--json", action="store_true", help="print JSON")
    ls = ksub.add_parser("list", help="list keys (never their tokens)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    r = ksub.add_parser("revoke", help="revoke a key")
    r.add_argument("key_id")
    for p in (c, ls, r):
        p.set_defaults(func=keys)
