"""Every endpoint of the service against a real uvicorn server (httpx over TCP)."""

from __future__ import annotations

import io
import json
import sqlite3
import time

import httpx
import numpy as np
import pytest
import xarray as xr

#: HJ 633-2012 Table 1 worked values (24-h): PM2.5 180 ug/m3 lies on 150-250 -> IAQI 200-300,
#: so IAQI = 200 + 30 = 230; PM10 250 -> 150 exactly; CO 1.2 mg/m3 on 0-2 -> 0-50: 30;
#: NO2 60 on 40-80 -> 50-100: 75.
RECORD = {"id": "site-1", "PM2.5": 180, "PM10": 250, "SO2": 20, "NO2": 60, "CO": 1.2, "O3": 50}


def test_health_needs_no_key(server):
    r = httpx.get(f"{server.url}/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_models_come_from_the_registry(server):
    from ecodss.registry import list_models

    with server.client("readonly") as c:
        names = [m["name"] for m in c.get("/models").json()["models"]]
        assert names == [m.name for m in list_models()]
        doc = c.get("/models/gaussian_plume").json()
        params = doc["inputs"]["properties"]["parameters"]["properties"]
        assert params["urban"]["type"] == "boolean" and params["urban"]["default"] is False
        assert "pollutant" in doc["inputs"]["x-required-parameters"]
        assert set(doc["inputs"]["properties"]["data"]["properties"]) == \
            {"inventory", "met", "receptors"}
        r = c.get("/models/no_such_model")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_aqi_matches_hj633_table(server):
    with server.client("readonly") as c:
        r = c.post("/aqi", json={"standard": "HJ633-2012", "records": [RECORD, {"PM2.5": 20}]})
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["iaqi"]["PM2.5"] == 230 and first["iaqi"]["PM10"] == 150
    assert first["iaqi"]["CO"] == 30 and first["iaqi"]["NO2"] == 75
    assert first["aqi"] == 230 and first["primary_pollutant"] == ["PM2.5"]
    assert first["category"] == 5 and first["category_name"] == "Heavily polluted"
    # PM2.5 20 on 0-35 -> 0-50: ceil(20 * 50 / 35) = 29; AQI <= 50 has no primary pollutant
    assert second["aqi"] == 29 and second["primary_pollutant"] == []


def test_alert_level_2018_scheme(server):
    body = {"start": "2026-01-11", "cities": [
        {"city": "A", "daily_aqi": [220, 310, 320, 250]},   # 4 days > 200, 2 consecutive > 300
        {"city": "B", "daily_aqi": [100, 120, 220, 230]},   # 2 days > 200
        {"city": "C", "daily_aqi": [80, 90, 100, 110]}]}
    with server.client("readonly") as c:
        out = c.post("/alert-level", json=body).json()
    levels = {e["city"]: (e["level_name"], e["reduction_share"]["PM"]) for e in out["cities"]}
    assert levels == {"A": ("red", 0.3), "B": ("yellow", 0.1), "C": ("none", 0.0)}


@pytest.mark.parametrize(("body", "field"), [
    ({"records": [{"PM2.5": -1}]}, "body.records.0.PM2.5"),
    ({"records": [{"S02": 3, "NO2": 4}]}, "body.records.0.S02"),
    ({"records": []}, "body.records"),
    ({"averaging": "2h", "records": [{"NO2": 1}]}, "body.averaging"),
])
def test_aqi_validation_names_the_field(server, body, field):
    with server.client("readonly") as c:
        r = c.post("/aqi", json=body)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]]
    assert problem["status"] == 422 and "Traceback" not in r.text


def test_alert_validation_out_of_range(server):
    with server.client("readonly") as c:
        r = c.post("/alert-level", json={"start": "2026-01-11",
                                         "cities": [{"city": "A", "daily_aqi": [100, 501]}]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.cities.0.daily_aqi.1"


def test_auth_failures(server):
    with server.client(None) as c:
        r = c.get("/models")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        r = c.get("/models", headers={"Authorization": "Bearer ecd_000000000000_forged"})
        assert r.status_code == 401
    with server.client("readonly") as c:
        r = c.post("/processes/slow/execution", json={"inputs": {}})
        assert r.status_code == 403 and "operator" in r.json()["detail"]
        assert c.delete("/jobs/whatever").status_code == 403
        assert c.get("/audit").status_code == 403


def test_body_size_limit(server):
    big = {"records": [RECORD] * 1000}  # ~90 kB > 64 kB limit
    with server.client("readonly") as c:
        r = c.post("/aqi", json=big)
        assert r.status_code == 413 and r.json()["title"] == "Request body too large"

        def chunks():  # no Content-Length: the limit applies to the streamed bytes
            data = json.dumps(big).encode()
            for i in range(0, len(data), 8192):
                yield data[i:i + 8192]

        r = c.post("/aqi", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_rate_limit_per_key(server):
    # 6 per minute -> a bucket of 1 request (10 s of the rate): the second call is refused
    with server.client("throttled") as c:
        assert c.get("/processes").status_code == 200
        r = c.get("/processes")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    with server.client("readonly") as c:  # other keys are not affected
        assert c.get("/processes").status_code == 200


def test_processes_describe_inputs(server):
    with server.client("readonly") as c:
        ids = [p["id"] for p in c.get("/processes").json()["processes"]]
        assert {"rollback", "box_model", "station_plume", "regional_forecast", "slow"} <= set(ids)
        doc = c.get("/processes/rollback").json()
        assert doc["inputs"]["forecast"]["schema"]["type"] == "array"
        assert c.get("/processes/nope").status_code == 404


def test_no_client_paths(server):
    with server.client() as c:
        for inputs in ({"parameters": {}, "sample": "/etc/passwd"},
                       {"outputs": {"path": "/tmp/x"}}, {"store": "/tmp/s.sqlite"},
                       {"workflow": "os:system"}):
            r = c.post("/processes/box_model/execution", json={"inputs": inputs})
            assert r.status_code == 422, inputs
        r = c.post("/processes/box_model/execution",
                   json={"inputs": {"scenario": {"kind": "list", "members": [{"cut_x": 2}]}}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.inputs.scenario"


def test_rollback_job_and_results(server, wait_job, forecast):
    records = forecast()
    body = {"inputs": {"name": "api-test", "forecast": records, "background": {"PM2.5": 40.0},
                       "scenario": {"kind": "list", "members": [{"level": k}
                                                                for k in range(4)]}}}
    with server.client() as c:
        r = c.post("/processes/rollback/execution", json=body)
        assert r.status_code == 201
        job_id = r.json()["jobID"]
        assert r.headers["location"] == f"/jobs/{job_id}"
        job = wait_job(c, job_id)
        assert job["status"] == "successful" and job["progress"] == 1.0
        assert any("members done" in m["message"] for m in job["messages"])
        assert job_id in [j["jobID"] for j in c.get("/jobs").json()["jobs"]]

        doc = c.get(f"/jobs/{job_id}/results").json()
        assert set(doc) == {"meta", "results"} and doc["meta"]["jobID"] == job_id
        rows = {(r["city"], r["member"]): r for r in doc["results"]["cities"]}
        given = [r["PM2.5"] for r in records if r["city"] == "Baoding"]
        # rollback C' = B + (1 - r)(C - B), red level r = 30 % of PM (2018 scheme)
        expected = [40 + 0.7 * (v - 40) for v in given]
        np.testing.assert_allclose(rows[("Baoding", "m003")]["pm25_daily"], expected, rtol=1e-12)
        np.testing.assert_allclose(rows[("Baoding", "m000")]["pm25_daily"], given, rtol=1e-12)
        assert doc["results"]["alert_probability"][0]["yellow"] is not None

        geo = c.get(f"/jobs/{job_id}/results", headers={"Accept": "application/geo+json"})
        assert geo.headers["content-type"] == "application/geo+json"
        feats = {f["properties"]["city"]: f for f in geo.json()["features"]}
        assert feats["Beijing"]["geometry"]["coordinates"] == [116.4, 39.9]  # WGS84 lon, lat

        nc = c.get(f"/jobs/{job_id}/results", headers={"Accept": "application/x-netcdf"})
        assert nc.headers["content-type"] == "application/x-netcdf"
        ds = xr.open_dataset(io.BytesIO(nc.content), engine="h5netcdf") if _has_h5() else \
            _open_bytes(nc.content, tmp=server.store.parent)
        assert ds.sizes["member"] == 4 and ds["aqi"].attrs["units"] == "1"

        png = c.get(f"/jobs/{job_id}/results", headers={"Accept": "image/png, */*;q=0.1"})
        assert png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert c.get(f"/jobs/{job_id}/results?f=png&member=m003").status_code == 200
        assert c.get(f"/jobs/{job_id}/results?f=geojson").json()["type"] == "FeatureCollection"
        assert c.get(f"/jobs/{job_id}/results", headers={"Accept": "text/csv"}).status_code == 406

        latest = c.get("/cities/SJZ/latest").json()
        assert latest["city"] == "Shijiazhuang" and latest["job"]["jobID"] == job_id
        assert latest["decision"]["level_name"] in ("none", "yellow", "orange", "red")
        assert "Baoding" in [x["city"] for x in c.get("/cities").json()["cities"]]
        assert c.get("/cities/Atlantis/latest").status_code == 404

        audit = c.get("/audit", params={"action": "job.finish"}).json()["audit"]
        entry = next(a for a in audit if a["target"] == job_id)
        assert entry["outcome"] == "successful" and entry["input_hash"] == job["inputHash"]
        assert len(entry["input_hash"]) == 64


def _has_h5() -> bool:
    try:
        import h5netcdf  # noqa: F401
    except ImportError:
        return False
    return True


def _open_bytes(content: bytes, tmp):
    path = tmp / "result.nc"
    path.write_bytes(content)
    with xr.open_dataset(path) as ds:
        return ds.load()


def _run_counts(server, run_id):
    from ecodss.batch.store import RunStore

    with RunStore(server.store) as rs:
        return rs.counts(run_id)


def _runner_of(server, run_id):
    with sqlite3.connect(server.store) as db:
        rows = db.execute("SELECT finished, cancelled FROM runners WHERE run_id = ?",
                          (run_id,)).fetchall()
    return [{"finished": f, "cancelled": c} for f, c in rows]


def test_cancel_running_and_queued_jobs(server, wait_job):
    slow = {"inputs": {"scenario": {"kind": "product",
                                    "factors": {"x": list(range(12)), "sleep": [0.5]}}}}
    with server.client() as c:
        running = c.post("/processes/slow/execution", json=slow).json()["jobID"]
        queued = c.post("/processes/slow/execution",
                        json={"inputs": {"name": "second", **slow["inputs"]}}).json()["jobID"]
        run_id = wait_job(c, running, states=("running",))["runID"]
        deadline = time.monotonic() + 30  # until the runner holds members
        while _run_counts(server, run_id)["running"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = c.delete(f"/jobs/{queued}")
        assert r.status_code == 200 and r.json()["status"] == "dismissed"
        r = c.delete(f"/jobs/{running}")
        assert r.status_code == 200 and r.json()["status"] == "dismissed"
        job = wait_job(c, running)
        assert job["status"] == "dismissed" and "dismissed by key" in job["reason"]
        assert c.delete(f"/jobs/{running}").status_code == 409
        assert c.get(f"/jobs/{running}/results").status_code == 404
        assert c.get(f"/jobs/{queued}").json()["started"] is None  # never ran
        assert c.delete("/jobs/unknown").status_code == 404
    # the batch runner was stopped through its cancel event: the members it held end cancelled
    # (not failed), those never claimed stay queued for a later job, no products
    deadline = time.monotonic() + 30
    while not all(r["finished"] for r in _runner_of(server, run_id)) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    (runner,) = _runner_of(server, run_id)
    assert runner["finished"] is not None and runner["cancelled"] is not None
    counts = _run_counts(server, run_id)
    assert counts["running"] == 0 and counts["failed"] == 0
    assert counts["cancelled"] >= 1 and counts["done"] < 12
    assert counts["done"] + counts["cancelled"] + counts["queued"] == 12
