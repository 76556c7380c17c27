"""The dashboard page in headless Chromium against the running server: each city's alert level."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str | None:
    return next((p for b in BROWSERS if (p := shutil.which(b))), None)


def test_dashboard_shows_alert_levels(server, wait_job, forecast, tmp_path_factory):
    browser = find_browser()
    if browser is None:
        pytest.skip("no headless Chromium found (Debian: apt-get install -y chromium)")
    cities = ("Beijing", "Tianjin", "Langfang")
    with server.client() as c:
        job = c.post("/processes/rollback/execution",
                     json={"inputs": {"name": "dashboard", "forecast": forecast(cities)}}).json()
        assert wait_job(c, job["jobID"])["status"] == "successful"
        expected = {x["city"]: x["decision"]["level_name"]
                    for x in c.get("/cities").json()["cities"] if x["city"] in cities}
    out = tmp_path_factory.mktemp("dashboard")
    url = f"{server.url}/#key={server.keys['readonly']}"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--user-data-dir={out / 'profile'}", "--virtual-time-budget=15000",
              "--window-size=1200,1000"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120).stdout
    shot = out / "dashboard.png"
    subprocess.run([*common, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    print(f"dashboard screenshot: {shot}")
    for city, level in expected.items():
        row = re.search(rf'<tr data-city="{city}">(.*?)</tr>', dom, re.S)
        assert row is not None, f"{city} missing from the dashboard"
        assert f'data-level="{level}"' in row.group(1)
    assert 'id="map"' in dom and "blob:" in dom  # the PNG map was fetched with the key
    assert Path(shot).is_file() and Path(shot).read_bytes()[:4] == b"\x89PNG"
