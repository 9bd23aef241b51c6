"""Fixtures: a freshly migrated and seeded PostGIS test database; each test in a rolled-back transaction."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from heshan_map import create_app
from heshan_map.config import normalise_database_url
from heshan_map.db import upgrade_database
from heshan_map.seed import seed_database
from heshan_map.storage.database import recreate_database

DATA = Path(__file__).parent / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
TEST_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/heshan_map_test"))


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """Return an engine on a test database built by the migrations and loaded with the seed."""
    recreate_database(TEST_URL)
    engine = create_engine(TEST_URL)
    upgrade_database(engine)
    with Session(engine) as session:
        seed_database(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator:
    """Return a connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture()
def session(connection) -> Iterator[Session]:
    """Return a session whose commits become savepoints of the test's transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture()
def app(connection):
    """Return the application bound to the test's transaction."""
    return create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "DB_CONNECTION": connection,
                       "SECRET_KEY": "test"})


@pytest.fixture()
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    """Serve the app on a free local port over the committed test database; yield its base URL."""
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "SECRET_KEY": "test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Return Debian's Chromium driven by Playwright, headless."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
