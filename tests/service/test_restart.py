"""Restart: a server killed mid-job loses no job; finished results are unchanged."""

from __future__ import annotations

import time


def test_kill_and_restart_loses_no_job(new_server, wait_job, forecast):
    srv = new_server()
    srv.start()
    slow = {"kind": "product", "factors": {"x": list(range(8)), "sleep": [0.6]}}
    with srv.client() as c:
        done_id = c.post("/processes/rollback/execution",
                         json={"inputs": {"forecast": forecast()}}).json()["jobID"]
        wait_job(c, done_id)
        before = c.get(f"/jobs/{done_id}/results").json()
        mid_id = c.post("/processes/slow/execution",
                        json={"inputs": {"scenario": slow}}).json()["jobID"]
        queued_id = c.post("/processes/slow/execution", json={"inputs": {
            "name": "queued", "scenario": {"kind": "list", "members": [{"x": 1, "sleep": 0.1}]}}}
                           ).json()["jobID"]
        deadline = time.monotonic() + 30
        while c.get(f"/jobs/{mid_id}").json()["progress"] <= 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get(f"/jobs/{mid_id}").json()["status"] == "running"
    srv.kill()  # SIGKILL in the middle of the slow job

    srv.start()
    with srv.client() as c:
        ids = {j["jobID"] for j in c.get("/jobs").json()["jobs"]}
        assert {done_id, mid_id, queued_id} <= ids  # no job id lost
        interrupted = c.get(f"/jobs/{mid_id}").json()
        assert interrupted["status"] == "failed"
        assert "interrupted" in interrupted["reason"]
        assert wait_job(c, queued_id)["status"] == "successful"  # queued jobs run after restart
        assert c.get(f"/jobs/{done_id}").json()["status"] == "successful"
        assert c.get(f"/jobs/{done_id}/results").json() == before
        # resubmitting the interrupted inputs completes them (finished members are reused)
        again = c.post("/processes/slow/execution", json={"inputs": {"scenario": slow}}).json()
        job = wait_job(c, again["jobID"])
        assert job["status"] == "successful" and job["runID"] == interrupted["runID"]
        doc = c.get(f"/jobs/{again['jobID']}/results").json()
        aqi = sorted(r["aqi"][0] for r in doc["results"]["cities"])
        assert aqi == [100.0 + x for x in range(8)]
