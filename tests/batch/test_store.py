"""Run store: atomic claims, done only with a complete file, orphaned members reclaimed."""

import json
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
