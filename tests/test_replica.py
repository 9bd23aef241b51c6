"""Reads from a streaming replica made here (initdb + pg_basebackup), writes and read-after-write on the primary."""
from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from heshan_map import create_app
from heshan_map.config import normalise_database_url
from heshan_map.db import upgrade_database

BIN = Path("/usr/lib/postgresql/15/bin")
pytestmark = pytest.mark.skipif(not (BIN / "pg_basebackup").exists(), reason="PostgreSQL 15 server binaries absent")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary as the postgres user (the server refuses to run as root)."""
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                          timeout=120, check=True)


def start(data: Path, port: int) -> None:
    as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / f"{port}.log"), "-w", "-o",
                f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1 -c fsync=off", "start")


def stop(data: Path) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                    "-w", "stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def clusters() -> Iterator[dict]:
    """Make a throwaway primary with the schema and a streaming replica of it; stop and remove both after."""
    root = Path(tempfile.mkdtemp(prefix="heshan-replica-"))
    shutil.chown(root, "postgres", "postgres")
    primary, replica = root / "primary", root / "replica"
    primary_port, replica_port = free_port(), free_port()
    try:
        as_postgres(str(BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres")
        start(primary, primary_port)
        primary_url = f"postgresql://postgres@127.0.0.1:{primary_port}/postgres"
        engine = create_engine(primary_url.replace("postgresql://", "postgresql+psycopg://"))
        upgrade_database(engine)
        engine.dispose()
        as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
                    "-D", str(replica), "-R", "-X", "stream", "-c", "fast")
        start(replica, replica_port)
        yield {"primary": primary_url, "replica": f"postgresql://postgres@127.0.0.1:{replica_port}/postgres",
               "replica_dir": replica, "replica_port": replica_port}
    finally:
        stop(replica)
        stop(primary)
        shutil.rmtree(root, ignore_errors=True)


def app_for(clusters: dict, **config) -> object:
    return create_app({"DATABASE_URL": normalise_database_url(clusters["primary"]),
                       "DATABASE_READ_URL": clusters["replica"],  # normalised by the app, as from the environment
                       "SECRET_KEY": "test", "REPLICA_CHECK_S": 0, **config})


def on(url: str, sql: str, **params) -> object:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        value = connection.execute(text(sql), params).scalar()
    engine.dispose()
    return value


def wait_for_replay(clusters: dict, site_id: int) -> None:
    for _ in range(100):
        if on(clusters["replica"], "SELECT count(*) FROM sites WHERE id = :id", id=site_id):
            return
        time.sleep(0.1)
    raise AssertionError("the replica never replayed the site")


INSERT = ("INSERT INTO sites (kind, name, stage, precision, geom) VALUES ('project', :name, 'signed', 'point',"
          " ST_SetSRID(ST_MakePoint(112.9, 22.7), 4326)) RETURNING id")


def test_reads_go_to_the_replica_and_a_writer_reads_the_primary(clusters: dict, caplog) -> None:
    wait_for_replay(clusters, on(clusters["primary"], INSERT, name="已复制"))  # the replica has replayed a commit
    on(clusters["replica"], "SELECT pg_wal_replay_pause()")
    for _ in range(100):
        if on(clusters["replica"], "SELECT pg_get_wal_replay_pause_state()") == "paused":
            break
        time.sleep(0.05)
    site_id = on(clusters["primary"], INSERT, name="只在主库")
    try:
        app = app_for(clusters, REPLICA_MAX_LAG_S=3600)
        reader = app.test_client()
        assert reader.get(f"/api/features/{site_id}").status_code == 404  # the replica has not replayed it
        writer = app.test_client()
        writer.set_cookie("heshan_wrote", f"{time.time():.3f}")
        assert writer.get(f"/api/features/{site_id}").status_code == 200  # read-after-write: the primary
        stale = app.test_client()
        stale.set_cookie("heshan_wrote", f"{time.time() - 3600:.3f}")
        assert stale.get(f"/api/features/{site_id}").status_code == 404
        # A replica further behind than the bound: reads fall back to the primary, and the log says so.
        with caplog.at_level(logging.INFO):
            strict = app_for(clusters, REPLICA_MAX_LAG_S=0.001).test_client()
            assert strict.get(f"/api/features/{site_id}").status_code == 200
        assert any("replica" in record.getMessage().lower() for record in caplog.records)
    finally:
        on(clusters["replica"], "SELECT pg_wal_replay_resume()")
    wait_for_replay(clusters, site_id)
    assert app_for(clusters, REPLICA_MAX_LAG_S=3600).test_client().get(f"/api/features/{site_id}").status_code == 200


def test_a_replica_that_is_down_sends_reads_to_the_primary(clusters: dict, caplog) -> None:
    site_id = on(clusters["primary"], INSERT, name="副本停机")
    stop(clusters["replica_dir"])
    try:
        with caplog.at_level(logging.WARNING):
            answer = app_for(clusters).test_client().get(f"/api/features/{site_id}")
        assert answer.status_code == 200
        assert any("replica" in record.getMessage().lower() for record in caplog.records)
    finally:
        start(clusters["replica_dir"], clusters["replica_port"])
