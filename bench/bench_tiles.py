"""Benchmark vector tiles over 100,000 parcels of 13 vertices: tiles per second at zooms 10, 13 and 16.

The service (gunicorn, 2 workers, 4 client threads) against a reference in the same run: the same tile
statement run directly by psycopg from 4 threads, with no HTTP, Flask or filter parsing in between.
Run: `make bench` or `.venv/bin/python bench/bench_tiles.py [parcels]`.
"""
from __future__ import annotations

import math
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, fresh_database, gunicorn_served, insert_parcels  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
THREADS = 4
ZOOMS = (10, 13, 16)
BOX = (112.5, 22.5, 113.0, 22.83)  # where the synthetic parcels lie


def tiles_at(zoom: int, limit: int = 60) -> list[tuple[int, int, int]]:
    """Return up to `limit` tiles covering the parcels' box at a zoom, spread evenly."""
    n = 2 ** zoom

    def index(lon: float, lat: float) -> tuple[int, int]:
        return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    x0, y0 = index(BOX[0], BOX[3])
    x1, y1 = index(BOX[2], BOX[1])
    every = [(zoom, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    step = max(1, len(every) // limit)
    return every[::step][:limit]


def run_threads(work: list, one) -> tuple[float, list[float]]:
    """Run `one(item)` over the items from THREADS threads; return the wall time and each call's latency."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(work)

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            start = time.perf_counter()
            one(item)
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


def reference_sql() -> tuple[str, dict]:
    """Return the service's own tile statement and its parameters, for psycopg to run directly."""
    import json

    from heshan_map.filters import Filter
    from heshan_map.storage.filter_sql import filter_clause
    from heshan_map.storage.site_sql import property_labels
    from heshan_map.storage.tiles import tile_sql
    from heshan_map.vocabulary import KINDS

    where, params = filter_clause(Filter())
    params["labels"] = json.dumps(property_labels("zh"), ensure_ascii=False)
    sql = tile_sql(Filter(), where, KINDS)
    # SQLAlchemy's :name binds as psycopg's %(name)s.
    import re
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql.replace("%", "%%")), params


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine = fresh_database()
    insert_parcels(engine, parcels)
    with engine.connect() as connection:
        vertices = connection.execute(text("SELECT avg(ST_NPoints(geom)) FROM sites")).scalar_one()
    url = make_url(BENCH_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    sql, params = reference_sql()
    local = threading.local()

    def direct(tile: tuple[int, int, int]) -> None:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(url)
        from heshan_map.storage.tiles import pixel_m, tolerance_m
        local.connection.execute(sql, {**params, "z": tile[0], "x": tile[1], "y": tile[2],
                                       "tolerance": tolerance_m(tile[0]), "pixel": pixel_m(tile[0])}).fetchone()

    with gunicorn_served() as base:
        sizes: list[int] = []

        def served(tile: tuple[int, int, int]) -> None:
            with urllib.request.urlopen(f"{base}/tiles/{tile[0]}/{tile[1]}/{tile[2]}.mvt", timeout=120) as answer:
                sizes.append(len(answer.read()))

        print(f"parcels: {parcels}, {vertices:.0f} vertices each on average; {THREADS} client threads")
        for zoom in ZOOMS:
            tiles = tiles_at(zoom)
            run_threads(tiles[:4], served)  # warm both workers' pools
            sizes.clear()
            wall, latencies = run_threads(tiles, served)
            ref_wall, _ = run_threads(tiles, direct)
            rate, ref_rate = len(tiles) / wall, len(tiles) / ref_wall
            print(f"zoom {zoom}: {len(tiles)} tiles; service {rate:.1f} tiles/s (p50 {statistics.median(latencies) * 1000:.0f}"
                  f" ms, mean {statistics.mean(sizes) / 1024:.0f} KB); direct ST_AsMVT via psycopg {ref_rate:.1f}"
                  f" tiles/s; ratio service/direct {rate / ref_rate:.2f}")


if __name__ == "__main__":
    main()
