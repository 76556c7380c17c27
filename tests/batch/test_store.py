"""Run store: atomic claims, done only with a complete file, orphaned members reclaimed."""

import json
import sqlite3
import threading

import pytest

from ecodss.batch.schema import Scenario
from ecodss.batch.store import RunStore, sha256_file


@pytest.fixture
def store(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite")
    sc = Scenario(name="t", workflow="box_model",
                  scenario={"kind": "list", "members": [{"cut_power": i / 40} for i in range(40)]})
    s.ensure_run("r1", sc, [{"i": i} for i in range(40)], [f"m{i:03d}" for i in range(40)],
                 tmp_path)
    yield s
    s.close()


def test_concurrent_claims_are_disjoint(store):
    claimed = {}

    def worker(k):
        with RunStore(store.path) as mine:
            runner = mine.register_runner("r1", "threads")
            got = []
            while batch := mine.claim("r1", runner, 3):
                got += [m["member"] for m in batch]
            claimed[k] = got

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = sum(claimed.values(), [])
    assert sorted(everything) == list(range(40))  # each member claimed exactly once
    assert store.counts("r1")["running"] == 40


def test_complete_renames_and_records_checksum(store, tmp_path):
    runner = store.register_runner("r1", "threads")
    (m,) = store.claim("r1", runner, 1)
    tmp, final = tmp_path / ".m000.part", tmp_path / "m000.nc"
    tmp.write_bytes(b"complete file")
    assert store.complete("r1", m["member"], runner, tmp, final, 0.1)
    row = store.members("r1").iloc[0]
    assert row["status"] == "done" and not tmp.exists()
    assert row["sha256"] == sha256_file(final) and row["bytes"] == len(b"complete file")
    assert store.verify("r1") == []
    final.write_bytes(b"tampered")
    assert "checksum" in store.verify("r1")[0]


def test_stolen_member_is_not_completed_twice(store, tmp_path):
    a = store.register_runner("r1", "threads")
    (m,) = store.claim("r1", a, 1)
    store.finish_runner(a)  # a is gone: its member is queued again
    b = store.register_runner("r1", "threads")
    assert store.claim("r1", b, 1)[0]["member"] == m["member"]
    tmp = tmp_path / ".late.part"
    tmp.write_bytes(b"late")
    assert not store.complete("r1", m["member"], a, tmp, tmp_path / "m000.nc", 1.0)
    assert not tmp.exists() and not (tmp_path / "m000.nc").exists()


def test_members_of_a_dead_runner_are_reclaimed(store):
    a = store.register_runner("r1", "threads")
    store.claim("r1", a, 5)
    with store.transaction() as db:  # pretend the runner's process died
        db.execute("UPDATE runners SET pid = 2147483646 WHERE runner = ?", (a,))
    b = store.register_runner("r1", "threads")
    got = store.claim("r1", b, 40)
    assert len(got) == 40 and store.members("r1")["attempts"].max() == 2


def test_failed_members_retried_by_the_next_runner_only(store):
    a = store.register_runner("r1", "threads")
    (m,) = store.claim("r1", a, 1)
    store.fail("r1", m["member"], a, "boom", 0.1)
    assert all(x["member"] != m["member"] for x in store.claim("r1", a, 40))
    store.finish_runner(a)
    b = store.register_runner("r1", "threads")
    assert [x["member"] for x in store.claim("r1", b, 40)] == list(range(40))
    assert json.loads(store.members("r1").iloc[0]["params"]) == {"i": 0}


def test_cancel_a_runner(store, tmp_path):
    a = store.register_runner("r1", "threads")
    held = [m["member"] for m in store.claim("r1", a, 3)]
    assert store.cancel("r1", a, reason="stop") == 3
    assert store.is_cancelled(a) and store.claim("r1", a, 40) == []  # a claims nothing more
    tmp = tmp_path / ".late.part"
    tmp.write_bytes(b"late")
    assert not store.complete("r1", held[0], a, tmp, tmp_path / "m000.nc", 1.0)  # refused
    assert not tmp.exists() and not (tmp_path / "m000.nc").exists()
    store.fail("r1", held[1], a, "late failure", 1.0)  # no effect either: it stays cancelled
    m = store.members("r1")
    assert list(m.loc[held, "status"]) == ["cancelled"] * 3
    assert set(m.loc[held, "error"]) == {"stop"}
    assert store.counts("r1") == {"queued": 37, "running": 0, "done": 0, "failed": 0,
                                  "cancelled": 3}
    b = store.register_runner("r1", "threads")
    assert not store.is_cancelled(b)
    assert sorted(x["member"] for x in store.claim("r1", b, 40)) == list(range(40))
    assert store.members("r1").loc[held, "attempts"].tolist() == [2, 2, 2]


def test_cancel_a_whole_run(store):
    a, b = (store.register_runner("r1", "threads") for _ in range(2))
    store.claim("r1", a, 5)
    store.claim("r1", b, 5)
    assert store.cancel("r1") == 40  # every member not final, held or queued
    assert store.is_cancelled(a) and store.is_cancelled(b)
    assert store.claim("r1", a, 40) == [] and store.claim("r1", b, 40) == []
    assert store.counts("r1")["cancelled"] == 40
    assert int(store.runs()["cancelled"].iloc[0]) == 40
    c = store.register_runner("r1", "threads")  # a later runner takes them up again
    assert len(store.claim("r1", c, 40)) == 40


def test_store_of_an_earlier_version_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the schema before the 'cancelled' status
        db.executescript("""
            CREATE TABLE runs (run_id TEXT PRIMARY KEY, name TEXT NOT NULL, workflow TEXT,
                scenario_path TEXT, spec TEXT NOT NULL, n_members INTEGER NOT NULL,
                out_dir TEXT NOT NULL, created REAL NOT NULL, software_version TEXT,
                products TEXT, products_time REAL);
            CREATE TABLE members (
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                member INTEGER NOT NULL, label TEXT NOT NULL, params TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
                runner TEXT, attempts INTEGER NOT NULL DEFAULT 0, claimed REAL, finished REAL,
                seconds REAL, output TEXT, sha256 TEXT, bytes INTEGER, error TEXT,
                software_version TEXT, PRIMARY KEY (run_id, member));
            CREATE INDEX members_status ON members (run_id, status);
            CREATE TABLE runners (runner TEXT PRIMARY KEY, run_id TEXT, host TEXT, pid INTEGER,
                pid_start TEXT, scheduler TEXT, started REAL, heartbeat REAL, finished REAL,
                worker_pids TEXT);
            INSERT INTO runs VALUES ('old', 'o', 'box_model', NULL, '{}', 2, '/x', 1.0, '0',
                                     NULL, NULL);
            INSERT INTO members (run_id, member, label, params, status, attempts, sha256)
                VALUES ('old', 0, 'm0', '{}', 'done', 1, 'abc'), ('old', 1, 'm1', '{}',
                                                                  'queued', 0, NULL);
        """)
    with RunStore(path) as s:
        m = s.members("old")
        assert list(m["status"]) == ["done", "queued"] and m["sha256"].iloc[0] == "abc"
        runner = s.register_runner("old", "threads")
        assert [x["member"] for x in s.claim("old", runner, 2)] == [1]
        assert s.cancel("old", runner) == 1
        assert s.counts("old") == {"queued": 0, "running": 0, "done": 1, "failed": 0,
                                   "cancelled": 1}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'members_status'"
                          ).fetchone()[0] == 1
