"""Bounded local load test of the HTTP service: POST /aqi with concurrent clients (issue #9).

Starts ``python -m ecodss.service serve`` on a free 127.0.0.1 port with a fresh store and a key,
then sends ``--requests`` POST /aqi calls (one daily record of six pollutants each) from
``--clients`` concurrent httpx clients; prints throughput and latency percentiles and fails
(exit 1) on any error. Every call is also written to the audit log, so this measures the real
path: auth, rate limit (disabled here), validation, HJ 633 computation, audit insert.

    python benchmarks/api_load.py [--requests 2000] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, token: str, n: int, clients: int) -> tuple[list[float], list[str]]:
    latencies, errors = [], []
    rng = np.random.default_rng(20260110)
    bodies = [{"standard": "HJ633-2012", "records": [{
        "id": f"r{i}", "PM2.5": float(c[0]), "PM10": float(c[1]), "SO2": float(c[2]),
        "NO2": float(c[3]), "CO": float(c[4]), "O3": float(c[5])}]}
        for i, c in enumerate(rng.uniform([5, 10, 2, 5, 0.2, 10], [400, 600, 150, 200, 8, 300],
                                          size=(n, 6)))]
    queue: asyncio.Queue = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def worker():
        async with httpx.AsyncClient(base_url=url, timeout=60.0,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await client.post("/aqi", json=body)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args(argv)
    from ecodss.service.security import create_key
    from ecodss.service.store import ServiceStore

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store.sqlite"
        db = ServiceStore(store)
        _, token = create_key(db, "load test", "readonly")
        db.close()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecodss.service", "serve", "--store", str(store), "--port",
             str(port), "--rate-limit", "0", "--log-level", "warning", "--no-access-log"],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            asyncio.run(_load(url, token, 50, 10))  # warm-up (imports, first calls)
            start = time.perf_counter()
            latencies, errors = asyncio.run(_load(url, token, args.requests, args.clients))
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(30)
    ms = np.asarray(latencies) * 1e3
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(f"POST /aqi: {args.requests} requests, {args.clients} concurrent clients, "
          f"{os.cpu_count()} CPUs")
    print(f"  wall {wall:.2f} s, throughput {args.requests / wall:.0f} req/s")
    print(f"  latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms")
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
