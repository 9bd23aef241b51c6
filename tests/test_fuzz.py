"""Fuzz the API from its own OpenAPI document: no input may cause a server error."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from heshan_map.auth import create_user


@pytest.fixture()
def api_schema(app, session):
    """Return the schema loaded from the app, with an editor token for the write operations."""
    app.config["FUZZ_TOKEN"] = create_user(session, "fuzz-editor", "editor")
    return schemathesis.from_wsgi("/api/openapi.json", app)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case, app) -> None:
    response = case.call_wsgi(headers={"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"})
    assert response.status_code < 500, (case.method, case.formatted_path, case.query, response.get_data(as_text=True)[:500])
    if response.status_code >= 400 and case.path.startswith(("/api", "/ogc")) and response.status_code != 304:
        assert "error" in response.get_json(), (case.method, case.formatted_path)
