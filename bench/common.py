"""Shared set-up for the benchmarks: a fresh migrated database and a served app."""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from werkzeug.serving import make_server

from heshan_map import create_app
from heshan_map.config import normalise_database_url
from heshan_map.db import upgrade_database
from heshan_map.storage.database import recreate_database

BENCH_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/heshan_map_bench"))


def fresh_database(url: str = BENCH_URL) -> Engine:
    """Drop, create and migrate the benchmark database; return its engine."""
    recreate_database(url)
    engine = create_engine(url)
    upgrade_database(engine)
    return engine


# A random point in Heshan's bounding box, and land parcels of a given shape around such points.
RANDOM_POINT = "ST_SetSRID(ST_MakePoint(112.5 + random() * 0.5, 22.5 + random() * 0.33), 4326)"
LAND_PLOTS = """
    INSERT INTO sites (code, kind, name, stage, precision, town, area_ha, geom)
    SELECT 'L' || i, 'land_plot', '测试地块 ' || i,
           (ARRAY['signed','started','in_production'])[1 + i % 3], 'surveyed', '共和镇', 1.2, {shape}
    FROM generate_series(1, :n) AS i"""


def record_stage_events(connection: Connection) -> None:
    """Give every site the stage event of its stage (a day in 2024), then ANALYZE."""
    connection.execute(text("""
        INSERT INTO stage_events (site_id, stage, reached_on, date_precision, recorded_by)
        SELECT id, stage, DATE '2024-01-01' + CAST(id % 300 AS integer), 'day', 'bench' FROM sites"""))
    connection.execute(text("ANALYZE"))


def insert_synthetic_sites(engine: Engine, points: int, polygons: int) -> None:
    """Insert synthetic points and small square polygons spread over Heshan's bounding box."""
    with engine.begin() as connection:
        connection.execute(text(f"""
            INSERT INTO sites (code, kind, name, stage, precision, town, geom)
            SELECT 'P' || i, 'project', '测试项目 ' || i,
                   (ARRAY['signed','started','in_production'])[1 + i % 3], 'point', '沙坪街道', {RANDOM_POINT}
            FROM generate_series(1, :n) AS i"""), {"n": points})
        connection.execute(text(LAND_PLOTS.format(shape=f"ST_Expand({RANDOM_POINT}, 0.0005)")), {"n": polygons})
        record_stage_events(connection)


@contextmanager
def served_app(url: str = BENCH_URL) -> Iterator[str]:
    """Serve the app on a free port in a thread; yield its base URL."""
    app = create_app({"DATABASE_URL": url})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def insert_parcels(engine: Engine, parcels: int) -> None:
    """Insert land parcels of 13 vertices (a buffered point, 3 segments a quarter) over Heshan, with stage events."""
    with engine.begin() as connection:
        connection.execute(text(LAND_PLOTS.format(shape=f"ST_Buffer({RANDOM_POINT}, 0.0005, 'quad_segs=3')")),
                           {"n": parcels})
        record_stage_events(connection)


@contextmanager
def gunicorn_served(workers: int = 2, url: str = BENCH_URL) -> Iterator[str]:
    """Serve the app with `heshan-map serve` (gunicorn) on a free port until it answers; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = Path(__file__).resolve().parent.parent / ".venv/bin/heshan-map"
    server = subprocess.Popen([str(cli), "serve", "--port", str(port), "--workers", str(workers)],
                              env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
