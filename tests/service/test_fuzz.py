"""Property-based fuzzing of the OpenAPI schema (schemathesis): no request gives a 5xx.

The number of examples per operation is bounded so the suite stays fast. The heavy processes'
execution endpoints are left out (valid random inputs would start minutes of model runs); the
cheap ``rollback`` process is fuzzed with an operator key.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, settings  # noqa: E402

MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(
    path_regex=r"^/processes/(box_model|station_plume|regional_forecast|slow)/execution$")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, server):
    response = case.call(headers={"Authorization": f"Bearer {server.keys['operator']}"},
                         timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        media = response.headers.get("content-type", [""])
        media = media[0] if isinstance(media, list) else media
        assert media.startswith("application/problem+json"), (response.status_code, media)
        assert "Traceback" not in response.text
