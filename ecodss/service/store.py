"""The service's tables in the run store: API keys, jobs and their messages, the audit log.

They live in the same SQLite file as the batch catalog (:mod:`ecodss.batch.store`), next to its
``runs``/``members`` tables, so one file holds every job, the batch members it ran and who asked
for it. Only the server process writes these tables (the ``ecodss keys`` command writes keys);
every change is a short ``BEGIN IMMEDIATE`` transaction. Job states follow OGC API – Processes
(``accepted``, ``running``, ``successful``, ``failed``, ``dismissed``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from ..batch.store import connect, create_schema, immediate_transaction

#: OGC API – Processes job states (Part 1, ``statusCode``).
JOB_STATES = ("accepted", "running", "successful", "failed", "dismissed")
#: States after which a job never changes again.
FINAL_STATES = ("successful", "failed", "dismissed")
ROLES = ("readonly", "operator")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_keys (
    key_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('readonly', 'operator')),
    digest TEXT NOT NULL, rate_per_minute REAL, created REAL NOT NULL, revoked REAL);
CREATE TABLE IF NOT EXISTS service_jobs (
    job_id TEXT PRIMARY KEY, process TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('accepted', 'running', 'successful', 'failed', 'dismissed')),
    owner TEXT, created REAL NOT NULL, started REAL, finished REAL, updated REAL NOT NULL,
    progress REAL NOT NULL DEFAULT 0, inputs TEXT NOT NULL, input_hash TEXT NOT NULL,
    scenario TEXT NOT NULL, run_id TEXT, result TEXT, reason TEXT);
CREATE INDEX IF NOT EXISTS service_jobs_status ON service_jobs (status, created);
CREATE TABLE IF NOT EXISTS service_job_messages (
    job_id TEXT NOT NULL, time REAL NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS service_job_messages_job ON service_job_messages (job_id, time);
CREATE TABLE IF NOT EXISTS service_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, actor TEXT, role TEXT,
    action TEXT NOT NULL, target TEXT, input_hash TEXT, outcome TEXT NOT NULL, detail TEXT);
"""


def input_hash(payload) -> str:
    """SHA-256 of a JSON payload with sorted keys (the audit log's input fingerprint)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ServiceStore:
    """Keys, jobs and audit tables in the run store at ``path`` (created on first use).

    One connection shared by the server's threads behind a lock (SQLite serialises writers
    anyway); WAL journal, so the batch runner's own connections read and write alongside.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = connect(self.path)
        with self.transaction() as db:
            create_schema(db, _SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT`` under the connection lock (rollback on error)."""
        with self._lock, immediate_transaction(self._db) as db:
            yield db

    def _query(self, sql: str, args=()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    # ------------------------------------------------------------------ API keys
    def add_key(self, key_id: str, name: str, role: str, digest: str,
                rate_per_minute: float | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO service_keys (key_id, name, role, digest, rate_per_minute, "
                       "created) VALUES (?,?,?,?,?,?)",
                       (key_id, name, role, digest, rate_per_minute, time.time()))

    def key(self, key_id: str) -> dict | None:
        rows = self._query("SELECT * FROM service_keys WHERE key_id = ?", (key_id,))
        return rows[0] if rows else None

    def keys(self) -> list[dict]:
        return self._query("SELECT key_id, name, role, rate_per_minute, created, revoked "
                           "FROM service_keys ORDER BY created")

    def revoke_key(self, key_id: str) -> bool:
        with self.transaction() as db:
            cur = db.execute("UPDATE service_keys SET revoked = ? WHERE key_id = ? AND "
                             "revoked IS NULL", (time.time(), key_id))
        return cur.rowcount == 1

    # ------------------------------------------------------------------ jobs
    def create_job(self, process: str, owner: str | None, inputs: dict, scenario: dict) -> dict:
        job_id = uuid.uuid4().hex
        now = time.time()
        with self.transaction() as db:
            db.execute("INSERT INTO service_jobs (job_id, process, status, owner, created, "
                       "updated, inputs, input_hash, scenario) VALUES (?,?,?,?,?,?,?,?,?)",
                       (job_id, process, "accepted", owner, now, now,
                        json.dumps(inputs, sort_keys=True, default=str), input_hash(inputs),
                        json.dumps(scenario, sort_keys=True, default=str)))
            db.execute("INSERT INTO service_job_messages VALUES (?,?,?)",
                       (job_id, now, f"accepted: process {process!r}"))
        return self.job(job_id)

    def job(self, job_id: str) -> dict | None:
        rows = self._query("SELECT * FROM service_jobs WHERE job_id = ?", (job_id,))
        return rows[0] if rows else None

    def jobs(self, *, status: str | None = None, process: str | None = None,
             limit: int = 100, offset: int = 0) -> list[dict]:
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if process is not None:
            where.append("process = ?")
            args.append(process)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self._query(f"SELECT * FROM service_jobs {clause} ORDER BY created DESC, job_id "
                           "LIMIT ? OFFSET ?", (*args, limit, offset))

    def job_counts(self) -> dict[str, int]:
        """Number of jobs in each state (every state of :data:`JOB_STATES`, zero included)."""
        counts = dict.fromkeys(JOB_STATES, 0)
        for row in self._query("SELECT status, COUNT(*) AS n FROM service_jobs GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def update_job(self, job_id: str, *, only_if: tuple[str, ...] | None = None,
                   message: str | None = None, **fields) -> bool:
        """Set job ``fields`` (and log ``message``); with ``only_if`` only from those states."""
        now = time.time()
        fields["updated"] = now
        sets = ", ".join(f"{k} = ?" for k in fields)
        args = [json.dumps(v, default=str) if isinstance(v, dict | list) else v
                for v in fields.values()]
        sql = f"UPDATE service_jobs SET {sets} WHERE job_id = ?"
        args.append(job_id)
        if only_if:
            sql += f" AND status IN ({','.join('?' * len(only_if))})"
            args += list(only_if)
        with self.transaction() as db:
            changed = db.execute(sql, args).rowcount == 1
            if changed and message:
                db.execute("INSERT INTO service_job_messages VALUES (?,?,?)",
                           (job_id, now, message))
        return changed

    def add_message(self, job_id: str, message: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO service_job_messages VALUES (?,?,?)",
                       (job_id, time.time(), message))

    def messages(self, job_id: str) -> list[dict]:
        return self._query("SELECT time, message FROM service_job_messages WHERE job_id = ? "
                           "ORDER BY time, rowid", (job_id,))

    # ------------------------------------------------------------------ audit log
    def audit(self, action: str, outcome: str, *, actor: str | None = None,
              role: str | None = None, target: str | None = None,
              input_hash: str | None = None, detail=None) -> None:
        """Append one audit record (who, when, what, input hash, result)."""
        with self.transaction() as db:
            db.execute("INSERT INTO service_audit (time, actor, role, action, target, input_hash, "
                       "outcome, detail) VALUES (?,?,?,?,?,?,?,?)",
                       (time.time(), actor, role, action, target, input_hash, outcome,
                        None if detail is None else json.dumps(detail, default=str)))

    def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[dict]:
        if action is None:
            return self._query("SELECT * FROM service_audit ORDER BY id DESC LIMIT ?", (limit,))
        return self._query("SELECT * FROM service_audit WHERE action = ? ORDER BY id DESC "
                           "LIMIT ?", (action, limit))
