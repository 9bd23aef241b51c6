"""Benchmark importing 100k point rows from CSV against ogr2ogr loading the same file into PostGIS.

Both load into the same fresh database in one run; prints both times and their ratio.
Run: `make bench` or `.venv/bin/python bench/bench_upload.py [rows]`.
"""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shapely.geometry import Point, shape
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, fresh_database  # noqa: E402

from heshan_map.seed import BOUNDARY_FILE, load_admin_areas  # noqa: E402
from heshan_map.uploads import UploadRequest, process_upload  # noqa: E402


def points_inside_heshan(rows: int, rng: random.Random) -> list[tuple[float, float]]:
    """Return random points inside the county boundary."""
    boundary = shape(json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))["features"][0]["geometry"])
    minx, miny, maxx, maxy = boundary.bounds
    points: list[tuple[float, float]] = []
    while len(points) < rows:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if boundary.contains(Point(lon, lat)):
            points.append((lon, lat))
    return points


def write_csv(path: Path, rows: int) -> None:
    """Write a CSV of points inside Heshan, with the contract's Chinese headers."""
    rng = random.Random(7)
    positions = points_inside_heshan(rows, rng)
    stages = ["已签约", "已动工", "已投产"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["项目名称", "项目代码", "经度", "纬度", "状态", "投资额(亿元)", "签约日期"])
        for i in range(rows):
            writer.writerow([f"基准项目{i}", f"B-{i:06d}", f"{positions[i][0]:.6f}",
                             f"{positions[i][1]:.6f}", stages[i % 3], f"{rng.random() * 20:.2f}",
                             f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"])


def ogr2ogr_seconds(path: Path) -> float:
    """Return the seconds ogr2ogr takes to load the CSV as points into a PostGIS table."""
    url = make_url(BENCH_URL)
    connection = (f"PG:host={url.host or 'localhost'} port={url.port or 5432} dbname={url.database} "
                  f"user={url.username or 'postgres'}")
    start = time.perf_counter()
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", connection, str(path), "-nln", "ogr_bench", "-overwrite",
                    "-oo", "X_POSSIBLE_NAMES=经度", "-oo", "Y_POSSIBLE_NAMES=纬度", "-a_srs", "EPSG:4326",
                    "-lco", "GEOMETRY_NAME=geom", "--config", "PG_USE_COPY", "YES"], check=True)
    return time.perf_counter() - start


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine = fresh_database()
    with Session(engine) as session:
        load_admin_areas(session)
        session.commit()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_projects.csv"
        write_csv(path, rows)
        data = path.read_bytes()
        start = time.perf_counter()
        with Session(engine) as session:
            outcome = process_upload(session, UploadRequest(data=data, filename=path.name, user="bench",
                                                            kind="project"))
            session.commit()
        ours = time.perf_counter() - start
        assert outcome.accepted and outcome.report["created"] == rows, outcome.report.get("errors", [])[:3]
        start = time.perf_counter()
        with Session(engine) as session:
            again = process_upload(session, UploadRequest(data=data, filename=path.name, user="bench",
                                                          kind="project"))
            session.commit()
        second = time.perf_counter() - start
        assert again.report["created"] == 0 and again.report["updated"] == 0
        reference = ogr2ogr_seconds(path)
    with engine.connect() as connection:
        loaded = connection.execute(text("SELECT count(*) FROM ogr_bench")).scalar_one()
    assert loaded == rows
    print(f"rows: {rows} ({len(data) / 1e6:.1f} MB CSV)")
    print(f"heshan-map import + commit (read, validate, WGS84 check, upsert, history): {ours:.2f} s")
    print(f"same file again (nothing changes): {second:.2f} s")
    print(f"ogr2ogr into PostGIS (plain load, no validation): {reference:.2f} s")
    print(f"ratio ours/ogr2ogr: {ours / reference:.2f}")


if __name__ == "__main__":
    main()
