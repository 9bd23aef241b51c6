"""The heshan-map command line, run as a user runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from heshan_map.auth import user_for_token

from .conftest import TEST_URL

CLI = str(Path(sys.executable).parent / "heshan-map")


def run_cli(*args: str, url: str = TEST_URL) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": url})


def test_unreachable_database_is_one_clear_sentence() -> None:
    result = run_cli("db", "upgrade", url="postgresql://postgres@127.0.0.1:1/nothing")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Cannot connect to the database" in result.stderr
    assert "DATABASE_URL" in result.stderr


def test_database_without_postgis_is_named(engine) -> None:
    admin = TEST_URL.rsplit("/", 1)[0] + "/postgres"
    from sqlalchemy import create_engine

    with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS heshan_map_nopostgis"))
        connection.execute(text("CREATE DATABASE heshan_map_nopostgis"))
    result = run_cli("seed", url=TEST_URL.rsplit("/", 1)[0] + "/heshan_map_nopostgis")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no PostGIS extension" in result.stderr


def test_users_create_prints_the_token_last(engine) -> None:
    result = run_cli("users", "create", "cli-editor", "--role", "editor")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        user = user_for_token(session, token)
        assert user is not None and user["role"] == "editor"
        session.execute(text("DELETE FROM users WHERE name = 'cli-editor'"))
        session.commit()


def test_seed_command_is_idempotent(engine) -> None:
    result = run_cli("seed")
    assert result.returncode == 0, result.stderr
    assert "created 0, updated 0" in result.stdout
