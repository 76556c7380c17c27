"""The run store: an embedded SQLite catalog of batch runs, their members and the runners.

Tables: ``runs`` (one per scenario identity: hash, name, spec, output folder, products),
``members`` (parameters, status queued/running/done/failed/cancelled, runner, attempts, timings,
output path, SHA-256, bytes, error, software version) and ``runners`` (host, pid, heartbeat, when
it was cancelled).

Rules that keep it consistent:

* only the client (the runner process) writes the catalog; workers only write their member file
  under a temporary name;
* every change is a short ``BEGIN IMMEDIATE`` transaction (SQLite's write lock), so two runners
  on the same store never claim the same member: :meth:`RunStore.claim` selects and marks
  members ``running`` atomically;
* :meth:`RunStore.complete` renames the worker's temporary file to its final name and marks the
  member done with its checksum inside one transaction, after the worker has fsync'ed the file —
  a member is never done before its file is complete, and a crash between the rename and the
  commit only costs a rerun of that member;
* :meth:`RunStore.cancel` stops a runner (or every runner of a run): the runner is flagged so it
  claims nothing more, and the members it holds (with ``runner=None`` also the queued ones) become
  ``cancelled`` — a final status like ``failed``, so :meth:`RunStore.complete` refuses results
  still in flight; a later runner claims cancelled members again;
* a member ``running`` under a runner that is gone (its process is dead on this host, or no
  heartbeat for :data:`STALE_AFTER` seconds — :data:`RESUME_STALE_AFTER` with ``--resume``) is
  claimed again by the next runner.

Where the store may live: SQLite's WAL mode needs shared memory between the processes that open
the database, so keep the catalog on a local disk of the machine running the client (the login or
head node of a cluster) — never on NFS/Lustre opened from several nodes. Member outputs may (and on
a cluster must) be on the shared file system; only the client renames them.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

#: Seconds between heartbeats of a runner.
HEARTBEAT = 5.0
#: A runner silent this long [s] is taken as dead (its running members are claimable again).
STALE_AFTER = 600.0
#: The same with ``--resume`` (the operator says the previous runner is gone).
RESUME_STALE_AFTER = 3 * HEARTBEAT
STATUSES = ("queued", "running", "done", "failed", "cancelled")
#: Statuses a member ends a runner's pass with (``queued``/``running`` are not final).
FINAL_STATUSES = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, name TEXT NOT NULL, workflow TEXT, scenario_path TEXT,
    spec TEXT NOT NULL, n_members INTEGER NOT NULL, out_dir TEXT NOT NULL,
    created REAL NOT NULL, software_version TEXT, products TEXT, products_time REAL);
CREATE TABLE IF NOT EXISTS members (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, member INTEGER NOT NULL,
    label TEXT NOT NULL, params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    runner TEXT, attempts INTEGER NOT NULL DEFAULT 0, claimed REAL, finished REAL,
    seconds REAL, output TEXT, sha256 TEXT, bytes INTEGER, error TEXT, software_version TEXT,
    PRIMARY KEY (run_id, member));
CREATE INDEX IF NOT EXISTS members_status ON members (run_id, status);
CREATE TABLE IF NOT EXISTS runners (
    runner TEXT PRIMARY KEY, run_id TEXT, host TEXT, pid INTEGER, pid_start TEXT,
    scheduler TEXT, started REAL, heartbeat REAL, finished REAL, worker_pids TEXT,
    cancelled REAL);
"""


def default_store_path() -> Path:
    """``$ECODSS_STORE`` or ``./ecodss-runs.sqlite``."""
    return Path(os.environ.get("ECODSS_STORE", "ecodss-runs.sqlite"))


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def _process_start(pid: int) -> str | None:
    """Start time of a process (Linux ``/proc/<pid>/stat`` field 22) to detect PID reuse."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[19]


def _migrate(db) -> None:
    """Bring a store made by an earlier version to the current schema (inside a transaction).

    Adds ``runners.cancelled`` and rebuilds ``members`` whose status CHECK lacks ``cancelled``
    (SQLite cannot alter a CHECK constraint: new table, copy, drop, rename).
    """
    columns = {r["name"] for r in db.execute("PRAGMA table_info(runners)")}
    if "cancelled" not in columns:
        db.execute("ALTER TABLE runners ADD COLUMN cancelled REAL")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'members'"
                     ).fetchone()["sql"]
    if "'cancelled'" in sql:
        return
    create = next(s for s in _SCHEMA.split(";") if "TABLE IF NOT EXISTS members" in s)
    db.execute(create.replace("IF NOT EXISTS members", "members_new"))
    db.execute("INSERT INTO members_new SELECT * FROM members")
    db.execute("DROP TABLE members")
    db.execute("ALTER TABLE members_new RENAME TO members")
    db.execute("CREATE INDEX IF NOT EXISTS members_status ON members (run_id, status)")


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _process_start(pid)
    return start is None or now is None or now == start


def connect(path: Path, *, foreign_keys: bool = False) -> sqlite3.Connection:
    """A catalog connection: autocommit (explicit transactions), WAL journal, 60 s busy timeout,
    full fsync on commit; shareable across the client's threads (callers serialise writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout = 60000")
    # Switching a new file to WAL needs an exclusive lock and SQLite reports "database is
    # locked" at once, without the busy handler, when another process is opening it too
    deadline = time.monotonic() + 60.0
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    db.execute("PRAGMA synchronous = FULL")
    if foreign_keys:
        db.execute("PRAGMA foreign_keys = ON")
    return db


def create_schema(db: sqlite3.Connection, schema: str) -> None:
    """Run the ``;``-separated ``CREATE ... IF NOT EXISTS`` statements of ``schema``."""
    for stmt in filter(str.strip, schema.split(";")):
        db.execute(stmt)


@contextmanager
def immediate_transaction(db: sqlite3.Connection):
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error: the write lock is taken at
    the start, so a transaction never fails half-way on a lock upgrade."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class RunStore:
    """The SQLite run catalog at ``path`` (created on first use; WAL mode, 60 s busy timeout)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        self._db = connect(self.path, foreign_keys=True)
        with self.transaction() as db:
            create_schema(db, _SCHEMA)
            _migrate(db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def transaction(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on error): one writer at a time."""
        return immediate_transaction(self._db)

    # ------------------------------------------------------------------ runs and runners
    def ensure_run(self, run_id: str, scenario, params: list[dict], labels: list[str],
                   out_dir: str | os.PathLike, scenario_path: str | None = None) -> bool:
        """Create the run and its queued members unless they exist; True when created now."""
        from .. import __version__

        now = time.time()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO runs (run_id, name, workflow, scenario_path, spec, "
                "n_members, out_dir, created, software_version) VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, scenario.name, scenario.workflow, scenario_path,
                 scenario.model_dump_json(), len(params), str(out_dir), now, __version__))
            created = cur.rowcount == 1
            db.executemany(
                "INSERT OR IGNORE INTO members (run_id, member, label, params, status) "
                "VALUES (?,?,?,?,'queued')",
                [(run_id, i, lab, json.dumps(p, sort_keys=True, default=str))
                 for i, (p, lab) in enumerate(zip(params, labels, strict=True))])
        return created

    def register_runner(self, run_id: str, scheduler: str) -> str:
        """A new runner id (host:pid:random) recorded with its heartbeat."""
        pid = os.getpid()
        runner = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"
        now = time.time()
        with self.transaction() as db:
            db.execute("INSERT INTO runners (runner, run_id, host, pid, pid_start, scheduler, "
                       "started, heartbeat) VALUES (?,?,?,?,?,?,?,?)",
                       (runner, run_id, socket.gethostname(), pid, _process_start(pid),
                        scheduler, now, now))
        return runner

    def heartbeat(self, runner: str, worker_pids: list[int] | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runners SET heartbeat = ? WHERE runner = ?", (time.time(), runner))
            if worker_pids is not None:
                db.execute("UPDATE runners SET worker_pids = ? WHERE runner = ?",
                           (json.dumps(sorted(worker_pids)), runner))

    def cancel(self, run_id: str, runner: str | None = None, reason: str = "cancelled") -> int:
        """Stop ``runner`` (default: every unfinished runner of ``run_id``); returns members cancelled.

        The runner is flagged: :meth:`claim` gives it nothing more and :func:`ecodss.batch.run`
        stops at its next check (claim or heartbeat). The members it holds become ``cancelled``
        with ``reason`` as their error, so their results still in flight are refused by
        :meth:`complete`; without ``runner``, queued members are cancelled too. A later runner
        claims cancelled members again (rerunning the scenario finishes the batch).
        """
        now = time.time()
        with self.transaction() as db:
            if runner is None:
                db.execute("UPDATE runners SET cancelled = ? WHERE run_id = ? AND finished IS NULL "
                           "AND cancelled IS NULL", (now, run_id))
                cur = db.execute(
                    "UPDATE members SET status = 'cancelled', finished = ?, error = ? "
                    "WHERE run_id = ? AND status IN ('queued', 'running')", (now, reason, run_id))
            else:
                db.execute("UPDATE runners SET cancelled = ? WHERE runner = ? "
                           "AND cancelled IS NULL", (now, runner))
                cur = db.execute(
                    "UPDATE members SET status = 'cancelled', finished = ?, error = ? "
                    "WHERE run_id = ? AND runner = ? AND status = 'running'",
                    (now, reason, run_id, runner))
        return cur.rowcount

    def is_cancelled(self, runner: str) -> bool:
        """True when :meth:`cancel` has stopped ``runner``."""
        row = self._db.execute("SELECT cancelled FROM runners WHERE runner = ?",
                               (runner,)).fetchone()
        return row is not None and row["cancelled"] is not None

    def finish_runner(self, runner: str) -> None:
        """Mark the runner finished and put any member it still holds back in the queue."""
        with self.transaction() as db:
            db.execute("UPDATE members SET status = 'queued', runner = NULL "
                       "WHERE runner = ? AND status = 'running'", (runner,))
            db.execute("UPDATE runners SET finished = ? WHERE runner = ?", (time.time(), runner))

    def _dead_runners(self, db, *, stale_after: float) -> set[str]:
        host, now = socket.gethostname(), time.time()
        dead = set()
        for r in db.execute("SELECT * FROM runners WHERE runner IN (SELECT DISTINCT runner FROM "
                            "members WHERE status = 'running')"):
            if r["finished"] is not None:
                dead.add(r["runner"])
            elif r["host"] == host:
                if not _pid_alive(r["pid"], r["pid_start"]):
                    dead.add(r["runner"])
            elif now - r["heartbeat"] > stale_after:
                dead.add(r["runner"])
        return dead

    # ------------------------------------------------------------------ members
    def claim(self, run_id: str, runner: str, limit: int, *, resume: bool = False) -> list[dict]:
        """Atomically mark up to ``limit`` claimable members ``running`` for ``runner``.

        Claimable: queued; failed or cancelled under an earlier runner (a rerun retries them once
        per runner); running under a dead runner (crash, SIGKILL). A cancelled runner gets none.
        """
        stale = RESUME_STALE_AFTER if resume else STALE_AFTER
        with self.transaction() as db:
            flag = db.execute("SELECT cancelled FROM runners WHERE runner = ?",
                              (runner,)).fetchone()
            if flag is not None and flag["cancelled"] is not None:
                return []
            dead = self._dead_runners(db, stale_after=stale)
            marks = ",".join("?" * len(dead)) or "NULL"
            rows = db.execute(
                "SELECT member, label, params FROM members WHERE run_id = ? AND ("
                "status = 'queued' OR "
                "(status IN ('failed', 'cancelled') AND COALESCE(runner, '') != ?) OR "
                f"(status = 'running' AND runner IN ({marks}))) ORDER BY member LIMIT ?",
                (run_id, runner, *dead, limit)).fetchall()
            now = time.time()
            db.executemany(
                "UPDATE members SET status = 'running', runner = ?, attempts = attempts + 1, "
                "claimed = ?, error = NULL WHERE run_id = ? AND member = ?",
                [(runner, now, run_id, r["member"]) for r in rows])
        return [{"member": r["member"], "label": r["label"], "params": json.loads(r["params"])}
                for r in rows]

    def complete(self, run_id: str, member: int, runner: str, tmp: str | os.PathLike,
                 final: str | os.PathLike, seconds: float) -> bool:
        """Rename ``tmp`` to ``final`` and mark the member done with the file's SHA-256.

        Returns False (and removes ``tmp``) when the member is no longer this runner's.
        """
        from .. import __version__

        digest, size = sha256_file(tmp), os.path.getsize(tmp)
        with self.transaction() as db:
            row = db.execute("SELECT status, runner FROM members WHERE run_id = ? AND member = ?",
                             (run_id, member)).fetchone()
            if row is None or row["status"] != "running" or row["runner"] != runner:
                os.remove(tmp)
                return False
            os.replace(tmp, final)
            db.execute("UPDATE members SET status = 'done', finished = ?, seconds = ?, "
                       "output = ?, sha256 = ?, bytes = ?, error = NULL, software_version = ? "
                       "WHERE run_id = ? AND member = ?",
                       (time.time(), seconds, str(final), digest, size, __version__, run_id,
                        member))
        return True

    def fail(self, run_id: str, member: int, runner: str, error: str, seconds: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE members SET status = 'failed', finished = ?, seconds = ?, "
                       "error = ? WHERE run_id = ? AND member = ? AND runner = ? "
                       "AND status = 'running'",
                       (time.time(), seconds, error, run_id, member, runner))

    def counts(self, run_id: str) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self._db.execute("SELECT status, COUNT(*) AS n FROM members WHERE run_id = ? "
                                  "GROUP BY status", (run_id,)):
            out[r["status"]] = r["n"]
        return out

    def members(self, run_id: str) -> pd.DataFrame:
        rows = self._db.execute("SELECT * FROM members WHERE run_id = ? ORDER BY member",
                                (run_id,)).fetchall()
        return pd.DataFrame([dict(r) for r in rows])

    def run(self, run_id: str) -> dict | None:
        """The run record (``run_id`` may be a unique prefix)."""
        rows = self._db.execute("SELECT * FROM runs WHERE run_id LIKE ?",
                                (run_id + "%",)).fetchall()
        if len(rows) != 1:
            return None
        out = dict(rows[0])
        out["counts"] = self.counts(out["run_id"])
        return out

    def runs(self) -> pd.DataFrame:
        rows = self._db.execute(
            "SELECT r.run_id, r.name, r.workflow, r.n_members, r.created, r.out_dir, "
            "SUM(m.status = 'done') AS done, SUM(m.status = 'failed') AS failed, "
            "SUM(m.status = 'running') AS running, SUM(m.status = 'queued') AS queued, "
            "SUM(m.status = 'cancelled') AS cancelled "
            "FROM runs r LEFT JOIN members m USING (run_id) GROUP BY r.run_id "
            "ORDER BY r.created").fetchall()
        return pd.DataFrame([dict(r) for r in rows])

    def set_products(self, run_id: str, products: dict[str, str]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET products = ?, products_time = ? WHERE run_id = ?",
                       (json.dumps(products), time.time(), run_id))

    def delete_run(self, run_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM members WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runners WHERE run_id = ?", (run_id,))

    def verify(self, run_id: str) -> list[str]:
        """Problems of done members: missing output, wrong size or checksum (empty = sound)."""
        problems = []
        for _, m in self.members(run_id).iterrows():
            if m["status"] != "done":
                continue
            path = Path(m["output"])
            if not path.is_file():
                problems.append(f"{m['label']}: output {path} missing")
            elif sha256_file(path) != m["sha256"]:
                problems.append(f"{m['label']}: checksum of {path} differs from the catalog")
        return problems
