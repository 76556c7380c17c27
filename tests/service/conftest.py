"""A real ecodss server (uvicorn subprocess on 127.0.0.1, free port) for the service tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running ``python -m ecodss.service serve`` and the keys made for it."""

    store: Path
    port: int
    args: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")])}
        cmd = [sys.executable, "-m", "ecodss.service", "serve", "--store", str(self.store),
               "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
               "--no-access-log", *self.args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not answer /health in time")

    def kill(self) -> None:
        """SIGKILL the server (no shutdown handlers run)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def client(self, key: str | None = "operator", **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kw)


def make_server(tmp: Path, *extra_args: str) -> Server:
    """A server (not started) with keys operator, readonly and throttled (6 per minute)."""
    from ecodss.service.security import create_key
    from ecodss.service.store import ServiceStore

    store = tmp / "store.sqlite"
    db = ServiceStore(store)
    keys = {"operator": create_key(db, "test operator", "operator")[1],
            "readonly": create_key(db, "test reader", "readonly")[1],
            "throttled": create_key(db, "test throttled", "readonly", rate_per_minute=6)[1]}
    db.close()
    args = ["--rate-limit", "100000", "--max-body", "65536", "--workers", "2",
            "--process", "slow=slow_process:member", *extra_args]
    return Server(store, free_port(), args, tmp / "server.log", keys=keys)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("service"))
    srv.start()
    yield srv
    srv.stop()


def wait_for(client: httpx.Client, job_id: str, states=("successful", "failed", "dismissed"),
             timeout: float = 60.0) -> dict:
    """Poll ``/jobs/{id}`` until its status is one of ``states``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def forecast_records(cities=("Beijing", "Shijiazhuang", "Baoding"), days=4, base=150.0):
    """A small daily PM2.5/PM10 forecast for the rollback process."""
    return [{"city": c, "date": f"2026-01-{11 + d:02d}", "PM2.5": base + 40 * d + 10 * i,
             "PM10": base + 60 + 50 * d} for i, c in enumerate(cities) for d in range(days)]


@pytest.fixture(scope="session")
def wait_job():
    return wait_for


@pytest.fixture(scope="session")
def forecast():
    return forecast_records


@pytest.fixture
def new_server(tmp_path):
    """Factory of extra servers (own store), stopped at the end of the test."""
    made = []

    def factory(*args):
        srv = make_server(tmp_path, *args)
        made.append(srv)
        return srv

    yield factory
    for srv in made:
        srv.stop()
