"""Exports cannot leak connections or run without bounds: pool wait, statement timeout, budget, caps."""
from __future__ import annotations

import http.client
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from werkzeug.serving import make_server

from heshan_map import create_app, export
from heshan_map.errors import ExportTooLong
from heshan_map.streams import slots_for

from .conftest import TEST_URL
from .test_export import ogr_feature_count

FORMATS = ("geojson", "csv", "xlsx", "gpkg", "kml", "shp.zip")


def real_app(**config: Any) -> Flask:
    """Return the application over the committed test database with its own engine and pool."""
    return create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "SECRET_KEY": "test", **config})


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve an app with werkzeug's threaded server on a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["heshan_engine"].dispose()


def idle_in_transaction(engine: Engine) -> int:
    """Return how many other connections to the test database sit idle in a transaction."""
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).scalar_one()


def settled(check, seconds: float = 2.0) -> bool:
    """Return whether a check comes true within a short wait (closes happen just after the last byte)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def fetch(url: str) -> tuple[int, bytes]:
    """Return the status and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_hundreds_of_exports_leave_no_connection_behind(engine: Engine) -> None:
    app = real_app(POOL_TIMEOUT_S=1)
    pool = app.extensions["heshan_engine"].pool
    with serving(app) as base:
        for fmt in FORMATS:
            for _ in range(100):
                status, body = fetch(f"{base}/api/export.{fmt}?kind=park")
                assert status == 200, (fmt, body[:300])
        with ThreadPoolExecutor(max_workers=20) as executor:
            results = list(executor.map(lambda i: fetch(f"{base}/api/export.{FORMATS[i % 6]}"), range(20)))
        statuses = {status for status, _ in results}
        assert statuses <= {200, 429} and 200 in statuses, statuses
        assert all(b"too_many_exports" in body for status, body in results if status == 429)
        assert settled(lambda: idle_in_transaction(engine) == 0)
        assert settled(lambda: pool.checkedout() == 0)
        assert slots_for(app).running() == 0
        start = time.monotonic()
        assert fetch(f"{base}/api/features?limit=10")[0] == 200
        assert time.monotonic() - start < 1


def test_a_client_that_goes_away_mid_stream_frees_connection_and_slot(engine: Engine) -> None:
    app = real_app(EXPORTS_PER_CLIENT=1)
    with serving(app) as base:
        for fmt in ("geojson", "csv", "kml", "xlsx"):
            host, port = base.removeprefix("http://").split(":")
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", f"/api/export.{fmt}")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read(64)
            connection.close()
            assert settled(lambda: slots_for(app).running() == 0), fmt
            assert settled(lambda: idle_in_transaction(engine) == 0), fmt
            assert fetch(f"{base}/api/export.geojson?kind=park")[0] == 200
    # What werkzeug and gunicorn do when the client goes away: close the body after the first chunk.
    app = real_app(EXPORTS_PER_CLIENT=1)
    client = app.test_client()
    for fmt in FORMATS:
        response = client.get(f"/api/export.{fmt}", buffered=False)
        assert response.status_code == 200 and response.is_streamed
        assert next(iter(response.response))
        response.close()
        assert app.extensions["heshan_engine"].pool.checkedout() == 0, fmt
        assert slots_for(app).running() == 0
    assert idle_in_transaction(engine) == 0
    app.extensions["heshan_engine"].dispose()


def test_an_exhausted_pool_answers_503_with_retry_after_quickly(engine: Engine) -> None:
    app = real_app(POOL_TIMEOUT_S=1, RETRY_AFTER_S=7)
    held = [app.extensions["heshan_engine"].connect() for _ in range(10)]  # pool_size 5 + max_overflow 5
    try:
        client = app.test_client()
        for url in ("/api/features?limit=1", "/api/export.geojson", "/api/export.xlsx"):
            start = time.monotonic()
            response = client.get(url)
            assert time.monotonic() - start < 3, url
            assert response.status_code == 503, url
            assert response.headers["Retry-After"] == "7"
            assert response.get_json()["error"]["code"] == "busy"
        assert slots_for(app).running() == 0
    finally:
        for connection in held:
            connection.close()
    assert app.test_client().get("/api/features?limit=1").status_code == 200
    app.extensions["heshan_engine"].dispose()


def test_exports_past_the_cap_get_429_with_retry_after(engine: Engine) -> None:
    app = real_app(EXPORTS_PER_CLIENT=1, EXPORTS_TOTAL=2, RETRY_AFTER_S=4)
    client = app.test_client()
    first = client.get("/api/export.geojson", buffered=False)
    assert first.status_code == 200
    refused = client.get("/api/export.csv")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "4"
    assert refused.get_json()["error"]["code"] == "too_many_exports"
    other = client.get("/api/export.kml", buffered=False, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200
    third = client.get("/api/export.kml", environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert third.status_code == 429
    first.close()
    other.close()
    assert client.get("/api/export.csv").status_code == 200
    assert slots_for(app).running() == 0
    app.extensions["heshan_engine"].dispose()


def test_every_connection_has_the_statement_timeout(engine: Engine) -> None:
    app = real_app(STATEMENT_TIMEOUT_MS=250)
    with app.extensions["heshan_engine"].connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "250ms"
    app.extensions["heshan_engine"].dispose()


def test_a_statement_past_the_timeout_answers_504(engine: Engine) -> None:
    app = real_app(STATEMENT_TIMEOUT_MS=300)
    client = app.test_client()
    with engine.connect() as locker:
        # Without a statement timeout the blocked query would wait; the lock goes after 3 s at the latest.
        locker.execute(text("SET idle_in_transaction_session_timeout = '3s'"))
        locker.execute(text("LOCK TABLE sites IN ACCESS EXCLUSIVE MODE"))
        for url in ("/api/export.geojson", "/api/export.csv", "/api/export.gpkg", "/api/features"):
            start = time.monotonic()
            response = client.get(url)
            assert response.status_code == 504, (url, response.data[:200])
            assert response.get_json()["error"]["code"] == "query_timeout"
            assert "0.3 s" in response.get_json()["error"]["message"]
            assert time.monotonic() - start < 2
        locker.rollback()
    assert slots_for(app).running() == 0
    assert app.extensions["heshan_engine"].pool.checkedout() == 0
    app.extensions["heshan_engine"].dispose()


def test_an_export_past_its_budget_stops_with_504(engine: Engine) -> None:
    app = real_app(EXPORT_BUDGET_S=0)
    client = app.test_client()
    for fmt in FORMATS:
        response = client.get(f"/api/export.{fmt}")
        assert response.status_code == 504, fmt
        assert response.get_json()["error"]["code"] == "export_too_long"
    assert slots_for(app).running() == 0
    assert app.extensions["heshan_engine"].pool.checkedout() == 0
    app.extensions["heshan_engine"].dispose()


def test_file_exports_are_sent_in_chunks_and_written_in_batches(client, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export.gis, "BATCH_ROWS", 10)
    monkeypatch.setattr(export.kml, "KML_CHUNK_PLACEMARKS", 10)
    expected = client.get("/api/features?limit=1").get_json()["numberMatched"]
    temp = Path(tempfile.gettempdir())
    leftovers = set(temp.glob("heshan-export-*"))
    for fmt in ("gpkg", "shp.zip", "xlsx", "kml"):
        response = client.get(f"/api/export.{fmt}", buffered=False)
        assert response.status_code == 200 and response.is_streamed, fmt
        chunks = list(response.response)
        path = tmp_path / f"x.{fmt}"
        path.write_bytes(b"".join(chunks))
        response.close()
        if path.stat().st_size > 64 * 1024:
            assert len(chunks) > 1, fmt
        if fmt == "kml":
            assert len(ET.parse(path).getroot().findall(".//{http://www.opengis.net/kml/2.2}Placemark")) == expected
        elif fmt == "xlsx":
            assert sum(1 for _ in load_workbook(path, read_only=True).active.iter_rows()) == expected + 1
        else:
            assert ogr_feature_count(f"/vsizip/{path}" if fmt == "shp.zip" else path) == expected
    assert set(temp.glob("heshan-export-*")) <= leftovers


def test_a_stream_past_its_budget_stops_before_the_end(engine: Engine) -> None:
    app = real_app(EXPORT_BUDGET_S=1)
    client = app.test_client()
    # The 64 seed sites fit in GeoJSON's first chunk; the closing bracket comes only within the budget.
    response = client.get("/api/export.geojson", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    assert next(chunks)
    time.sleep(1.1)
    with pytest.raises(ExportTooLong):
        list(chunks)
    response.close()
    assert slots_for(app).running() == 0
    assert app.extensions["heshan_engine"].pool.checkedout() == 0
    app.extensions["heshan_engine"].dispose()


def test_head_of_an_export_sends_headers_without_running_it(engine: Engine) -> None:
    app = real_app(EXPORT_BUDGET_S=0)  # a GET would answer 504: the export would run past its budget at once
    client = app.test_client()
    for fmt in FORMATS:
        response = client.head(f"/api/export.{fmt}?kind=project")
        assert response.status_code == 200, fmt
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.data == b""
    assert slots_for(app).running() == 0
    app.extensions["heshan_engine"].dispose()


def test_the_command_line_lifts_the_statement_timeout(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    from heshan_map.storage import site_writes
    app = real_app(STATEMENT_TIMEOUT_MS=250)
    with Session(app.extensions["heshan_engine"]) as session:
        assert session.execute(text("SHOW statement_timeout")).scalar_one() == "250ms"
        site_writes.lift_statement_timeout(session)
        session.execute(text("SELECT pg_sleep(0.4)"))
        assert session.execute(text("SHOW statement_timeout")).scalar_one() == "0"
    app.extensions["heshan_engine"].dispose()
