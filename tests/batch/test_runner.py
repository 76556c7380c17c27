"""Runner acceptance: rerun skips, SIGKILL + --resume, two concurrent runners, local cluster,
cancel (event and store), two batches in one process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import ecodss.batch.runner
from ecodss.batch import run
from ecodss.batch.store import RunStore, sha256_file

N = 8
REPO = Path(__file__).resolve().parents[2]


def write_scenario(path, text):
    path.write_text(textwrap.dedent(text))
    return path


def _scenario(tmp_path, workflow, pause=0.0, n=N, name="cheap", trace=None, seed0=0):
    extra = f", trace: '{trace}'" if trace else ""
    members = ", ".join(f"{{seed: {seed0 + i}, cut: {i / (2 * n)}, pause: {pause}{extra}}}"
                        for i in range(n))
    return write_scenario(tmp_path / f"{name}.yaml", f"""\
        name: {name}
        workflow: "{workflow}"
        scenario:
          kind: list
          members: [{members}]
        outputs:
          path: {tmp_path / "out"}
        """)


def _runner(path, store, *extra):
    return subprocess.Popen([sys.executable, "-m", "ecodss.batch.cli", "run", str(path),
                             "--store", str(store), "--no-progress", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())


def _members(store):
    with RunStore(store) as s:
        runs = s.runs()
        return s.members(runs["run_id"].iloc[0])


def _wait_for(predicate, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _done(store):
    try:
        with sqlite3.connect(store) as db:
            return db.execute("SELECT COUNT(*) FROM members WHERE status='done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _one_box(seed, cut):
    """The cheap member's formula C = 30 + E (1 - cut) 1e6 / (U h L) on its seeded series."""
    rng = np.random.default_rng(seed)
    u, h = rng.uniform(1.0, 5.0, 48), rng.uniform(200.0, 1200.0, 48)
    return 30.0 + 1000.0 * (1 - cut) * 1e6 / (u * h * 60e3)


def _in_thread(**kwargs):
    """``run(**kwargs)`` in a thread; returns the thread and a dict that receives the result."""
    out = {}

    def target():
        try:
            out["result"] = run(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def _joined(thread, out, timeout=60.0):
    thread.join(timeout)
    assert not thread.is_alive(), "run() did not return"
    if "error" in out:
        raise out["error"]
    return out["result"]


def test_batch_rerun_skips_done_members(tmp_path, cheap_workflow):
    path = _scenario(tmp_path, cheap_workflow)
    first = run(path, store=tmp_path / "s.sqlite", progress=False)
    assert first.ok and first.ran == N
    combined = xr.open_dataset(first.products["combined"])
    assert combined.sizes["member"] == N and list(combined["param_seed"].values) == list(range(N))
    # the one-box formula, member 3: C = 30 + E (1 - cut) 1e6 / (U h L)
    rng = np.random.default_rng(3)
    u, h = rng.uniform(1.0, 5.0, 48), rng.uniform(200.0, 1200.0, 48)
    expected = 30.0 + 1000.0 * (1 - 3 / 16) * 1e6 / (u * h * 60e3)
    np.testing.assert_allclose(combined["pm25"].sel(member="m003"), expected, rtol=1e-12)
    again = run(path, store=tmp_path / "s.sqlite", progress=False)
    assert again.ran == 0 and again.ok and again.run_id == first.run_id


def test_failed_member_reported_and_retried(tmp_path, cheap_workflow):
    path = write_scenario(tmp_path / "f.yaml", f"""\
        name: f
        workflow: "{cheap_workflow}"
        scenario: {{kind: list, members: [{{seed: 1}}, {{seed: 2, explode: true}}]}}
        outputs: {{path: {tmp_path / "out"}}}
        """)
    from ecodss.batch.cli import main

    assert main(["run", str(path), "--store", str(tmp_path / "s.sqlite"), "--no-progress"]) == 1
    m = _members(tmp_path / "s.sqlite")
    assert list(m["status"]) == ["done", "failed"]
    assert "member asked to fail" in m["error"].iloc[1]
    assert main(["run", str(path), "--store", str(tmp_path / "s.sqlite"), "--no-progress"]) == 1
    assert list(_members(tmp_path / "s.sqlite")["attempts"]) == [1, 2]


def test_sigkill_then_resume_finishes_exactly_the_missing(tmp_path, cheap_workflow):
    path = _scenario(tmp_path, cheap_workflow, pause=0.4)
    store = tmp_path / "killed.sqlite"
    proc = _runner(path, store, "--scheduler", "threads", "--workers", "2")
    assert _wait_for(lambda: _done(store) >= 2), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = _members(store)
    done_before = set(before.loc[before["status"] == "done", "label"])
    assert 2 <= len(done_before) < N
    for _, m in before.iterrows():  # nothing marked done without its complete file
        final = tmp_path / "out" / f"run-{m['run_id'][:12]}" / "members" / f"{m['label']}.nc"
        if m["status"] == "done":
            assert sha256_file(m["output"]) == m["sha256"]
            xr.open_dataset(m["output"]).close()
        else:
            assert not final.exists()
    resumed = _runner(path, store, "--resume")
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err.decode()
    after = _members(store)
    assert (after["status"] == "done").all()
    redone = set(after.loc[after["attempts"] > 1, "label"])
    never = set(after["label"]) - done_before
    assert set(after.loc[after["label"].isin(done_before), "attempts"]) == {1}  # kept
    assert redone <= never  # only interrupted members ran twice
    clean = run(_scenario(tmp_path, cheap_workflow, pause=0.4),
                store=tmp_path / "clean.sqlite", out=str(tmp_path / "clean"), progress=False)
    killed = json.loads(sqlite3.connect(store).execute(
        "SELECT products FROM runs").fetchone()[0])["combined"]
    with xr.open_dataset(killed) as a, xr.open_dataset(clean.products["combined"]) as b:
        xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


def test_two_concurrent_runners_share_a_store(tmp_path, cheap_workflow):
    path = _scenario(tmp_path, cheap_workflow, pause=0.1, n=10)
    store = tmp_path / "shared.sqlite"
    code = ("import sys; from ecodss.batch import run; "
            "r = run(sys.argv[1], store=sys.argv[2], claim_batch=2, progress=False, "
            "scheduler='threads', workers=2); print(r.ran); sys.exit(0 if r.ok else 1)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(store)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode()[-500:] for o in outs]
    ran = [int(o[0].split()[-1]) for o in outs]
    assert sum(ran) == 10  # no member ran twice
    m = _members(store)
    assert len(m) == 10 and (m["status"] == "done").all() and (m["attempts"] == 1).all()
    with RunStore(store) as s:
        assert s.verify(m["run_id"].iloc[0]) == []
    for f in m["output"]:
        xr.open_dataset(f).close()


def test_local_cluster_matches_threaded_scheduler(tmp_path, cheap_workflow):
    path = _scenario(tmp_path, cheap_workflow, n=4)
    threaded = run(path, store=tmp_path / "a.sqlite", out=str(tmp_path / "a"),
                   scheduler="threads", progress=False)
    cluster = run(path, store=tmp_path / "b.sqlite", out=str(tmp_path / "b"),
                  scheduler="local", workers=2, progress=False)
    assert threaded.ok and cluster.ok
    assert list(threaded.summary["sha256"]) == list(cluster.summary["sha256"])  # same bytes
    with xr.open_dataset(threaded.products["combined"]) as a, \
            xr.open_dataset(cluster.products["combined"]) as b:
        xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and SIGKILL")
def test_local_cluster_workers_die_with_the_runner(tmp_path, cheap_workflow):
    path = _scenario(tmp_path, cheap_workflow, pause=5.0, n=4)
    store = tmp_path / "lc.sqlite"
    proc = _runner(path, store, "--scheduler", "local", "--workers", "2")

    def worker_pids():
        try:
            with sqlite3.connect(store) as db:
                row = db.execute("SELECT worker_pids FROM runners").fetchone()
        except sqlite3.OperationalError:
            return None
        return json.loads(row[0]) if row and row[0] else None

    assert _wait_for(lambda: worker_pids(), timeout=40), proc.communicate(timeout=5)
    pids = worker_pids()
    assert len(pids) == 2 and proc.pid not in pids
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    def all_gone():
        return not any(os.path.exists(f"/proc/{p}") and
                       "zombie" not in open(f"/proc/{p}/status").read().lower() for p in pids)

    assert _wait_for(all_gone, timeout=15)


def _check_cancelled(result, trace, store, workers=2):
    """Every member done or cancelled; skipped members never started; no stray files."""
    m = result.summary
    done = set(m.loc[m["status"] == "done", "label"])
    assert 2 <= len(done) < N
    assert result.counts == {"queued": 0, "running": 0, "done": len(done), "failed": 0,
                             "cancelled": N - len(done)}
    assert not result.ok and result.products == {}
    started = {f.name for f in trace.iterdir()}
    assert done <= started and len(started) <= len(done) + workers  # the rest were skipped
    members_dir = result.out_dir / "members"
    assert sorted(f.name for f in members_dir.iterdir()) == sorted(f"{x}.nc" for x in done)
    assert (m.loc[m["status"] == "cancelled", "error"] == "cancelled").all()
    with RunStore(store) as s:
        assert s.verify(result.run_id) == []
    return done


def _cancel_after_two(tmp_path, cheap_workflow, *, pause, scheduler, timeout=30.0):
    """Run N traced members (claim_batch=N), set the cancel event once two are done."""
    trace = tmp_path / "trace"
    trace.mkdir()
    path = _scenario(tmp_path, cheap_workflow, pause=pause, trace=trace)
    store = tmp_path / "c.sqlite"
    cancel = threading.Event()
    thread, out = _in_thread(spec=path, store=store, progress=False, scheduler=scheduler,
                             workers=2, claim_batch=N, cancel=cancel)
    assert _wait_for(lambda: _done(store) >= 2, timeout=timeout)
    cancel.set()
    return path, store, trace, _joined(thread, out)


def test_cancel_event_stops_the_runner(tmp_path, cheap_workflow):
    path, store, trace, result = _cancel_after_two(tmp_path, cheap_workflow, pause=0.4,
                                                   scheduler="threads")  # one wave of N members
    done = _check_cancelled(result, trace, store)
    assert result.ran == len(done)
    again = run(path, store=store, progress=False)  # a rerun finishes exactly the cancelled ones
    assert again.ok and again.ran == N - len(done)
    m = again.summary
    assert list(m.loc[m["label"].isin(done), "attempts"].unique()) == [1]
    assert list(m.loc[~m["label"].isin(done), "attempts"].unique()) == [2]


def test_store_cancel_stops_a_runner_of_another_connection(tmp_path, cheap_workflow,
                                                           monkeypatch):
    monkeypatch.setattr(ecodss.batch.runner, "HEARTBEAT", 0.05)  # the runner looks often
    trace = tmp_path / "trace"
    trace.mkdir()
    path = _scenario(tmp_path, cheap_workflow, pause=0.4, trace=trace)
    store = tmp_path / "c.sqlite"
    thread, out = _in_thread(spec=path, store=store, progress=False, scheduler="threads",
                             workers=2, claim_batch=N)
    assert _wait_for(lambda: _done(store) >= 2)
    with RunStore(store) as s:
        run_id = s.runs()["run_id"].iloc[0]
        assert s.cancel(run_id) == N - _done(store)  # every member not done yet
    result = _joined(thread, out)
    _check_cancelled(result, trace, store)


def test_two_batches_in_one_process_keep_their_members_apart(tmp_path, cheap_workflow):
    """Same member labels, same store, one process: each runner records only its own tasks."""
    n = 6
    paths = [_scenario(tmp_path, cheap_workflow, pause=0.05, n=n, name=name, seed0=seed0)
             for name, seed0 in (("first", 0), ("second", 100))]
    store = tmp_path / "both.sqlite"
    runs = [_in_thread(spec=p, store=store, progress=False, scheduler="threads", workers=2,
                       claim_batch=2) for p in paths]
    results = [_joined(*r) for r in runs]
    assert results[0].run_id != results[1].run_id
    for result, seed0 in zip(results, (0, 100), strict=True):
        assert result.ok and result.ran == n and "combined" in result.products
        m = result.summary
        assert (m["status"] == "done").all() and (m["attempts"] == 1).all()
        with RunStore(store) as s:
            assert s.verify(result.run_id) == []
        for i, row in m.iterrows():
            with xr.open_dataset(row["output"]) as ds:
                assert ds.attrs["ecodss_run"] == result.run_id
                assert ds.attrs["ecodss_member"] == row["label"]
                np.testing.assert_allclose(ds["pm25"], _one_box(seed0 + i, i / (2 * n)),
                                           rtol=1e-12)


def test_cancel_event_on_a_local_cluster(tmp_path, cheap_workflow):
    _, store, trace, result = _cancel_after_two(tmp_path, cheap_workflow, pause=0.6,
                                                scheduler="local", timeout=60)  # all submitted
    _check_cancelled(result, trace, store)  # pending futures were cancelled, never started
