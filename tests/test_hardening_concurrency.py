"""Identical writes at the same moment against the live, threaded server: one copy, no 500."""
from __future__ import annotations

import csv
import io
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from heshan_map.auth import create_user
from heshan_map.storage.site_writes import SITE_WRITE_LOCK_KEY

from .test_hardening_streams import real_app

EDITOR = "concurrency-editor"
HEADER = ["项目名称", "经度", "纬度", "状态"]
CODED_HEADER = HEADER + ["项目代码"]
CENTRES = [(112.9612, 22.7703), (112.8127, 22.6418), (112.6521, 22.6107)]
ROWS = 200


@pytest.fixture()
def prefix() -> str:
    """Return a name prefix no other test uses."""
    return f"并发测试-{uuid.uuid4().hex[:8]}-"


@pytest.fixture()
def editor(engine: Engine, prefix: str) -> Iterator[str]:
    """Create a committed editor; remove it and the sites and uploads the test wrote afterwards."""
    with Session(engine) as session:
        token = create_user(session, EDITOR, "editor")
        session.commit()  # create_user leaves the transaction to its caller
    yield token
    with Session(engine) as session:
        session.execute(text("DELETE FROM sites WHERE name LIKE :p OR code LIKE :p"), {"p": prefix + "%"})
        for table in ("stage_events", "site_edits"):
            session.execute(text(f"DELETE FROM {table} WHERE upload_id IN"
                                 " (SELECT id FROM uploads WHERE user_name = :name)"), {"name": EDITOR})
        session.execute(text("DELETE FROM uploads WHERE user_name = :name"), {"name": EDITOR})
        session.execute(text("DELETE FROM users WHERE name = :name"), {"name": EDITOR})
        session.commit()


def upload_csv(prefix: str, coded: bool) -> bytes:
    """Return a project CSV of ROWS sites inside Heshan, with or without a code column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CODED_HEADER if coded else HEADER)
    for index in range(ROWS):
        lon, lat = CENTRES[index % len(CENTRES)]
        row = [f"{prefix}{index}", f"{lon + (index % 10) * 0.0005:.5f}", f"{lat + (index // 10) * 0.0002:.5f}",
               "已签约"]
        writer.writerow(row + [f"{prefix}C{index}"] if coded else row)
    return buffer.getvalue().encode("utf-8")


def at_once(count: int, send: Callable[[], requests.Response]) -> list[requests.Response]:
    """Send count requests from threads released together; return their responses."""
    barrier = threading.Barrier(count)
    responses: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        responses[index] = send()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def count_sites(engine: Engine, prefix: str) -> int:
    """Return how many committed sites carry the prefix in their name."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sites WHERE name LIKE :p"),
                                  {"p": prefix + "%"}).scalar_one()


@pytest.mark.parametrize("coded", [False, True], ids=["uncoded", "coded"])
def test_two_identical_uploads_at_once_write_one_copy(live_server: str, engine: Engine, editor: str,
                                                      prefix: str, coded: bool) -> None:
    data = upload_csv(prefix, coded)

    def send() -> requests.Response:
        return requests.post(f"{live_server}/api/uploads", headers={"Authorization": f"Bearer {editor}"},
                             files={"file": ("same.csv", data, "text/csv")}, data={"kind": "project"},
                             timeout=120)

    responses = at_once(2, send)
    assert sorted(r.status_code for r in responses) == [200, 200], [r.text[:300] for r in responses]
    assert sorted(r.json()["created"] for r in responses) == [0, ROWS]
    assert count_sites(engine, prefix) == ROWS


def test_two_identical_feature_posts_at_once_one_created_one_conflict(live_server: str, engine: Engine,
                                                                      editor: str, prefix: str) -> None:
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(CENTRES[0])},
            "properties": {"kind": "project", "name": prefix + "同名项目", "stage": "signed"}}

    def send() -> requests.Response:
        return requests.post(f"{live_server}/api/features", json=body, timeout=60,
                             headers={"Authorization": f"Bearer {editor}"})

    for _ in range(3):  # a few rounds, so a lucky ordering cannot hide the race
        responses = at_once(2, send)
        assert sorted(r.status_code for r in responses) in ([201, 409], [409, 409]), \
            [r.text[:300] for r in responses]
    assert count_sites(engine, prefix) == 1


def test_every_connection_bounds_lock_waits_and_idle_transactions(engine: Engine) -> None:
    app = real_app(WRITE_LOCK_TIMEOUT_MS=1500, IDLE_IN_TRANSACTION_TIMEOUT_MS=4000)
    with app.extensions["heshan_engine"].connect() as connection:
        assert connection.execute(text("SHOW lock_timeout")).scalar_one() == "1500ms"
        assert connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "4s"
    app.extensions["heshan_engine"].dispose()


def test_a_write_waiting_past_the_lock_timeout_answers_503(engine: Engine, editor: str, prefix: str) -> None:
    app = real_app(WRITE_LOCK_TIMEOUT_MS=300)
    client = app.test_client()
    body = {"type": "Feature", "properties": {"kind": "project", "name": f"{prefix}等锁", "stage": "signed"},
            "geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]}}
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SITE_WRITE_LOCK_KEY})
        started = time.monotonic()
        response = client.post("/api/features", json=body, headers={"Authorization": f"Bearer {editor}"})
        assert time.monotonic() - started < 3
        holder.rollback()
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "write_in_progress"
    assert int(response.headers["Retry-After"]) > 0
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sites WHERE name LIKE :p"),
                                  {"p": prefix + "%"}).scalar_one() == 0
    app.extensions["heshan_engine"].dispose()
