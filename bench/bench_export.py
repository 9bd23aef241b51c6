"""Benchmark exporting 100k polygons as GeoJSON over HTTP against psql writing the same query to /dev/null.

Also records the time to the first byte and the server worker's peak memory before and after.
Run: `make bench` or `.venv/bin/python bench/bench_export.py [polygons]`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, fresh_database, insert_synthetic_sites  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def psql_query() -> str:
    """Return the service's own feature statement (the same bytes the export streams) with its values inlined."""
    import re

    import psycopg

    from heshan_map.filters import Filter
    from heshan_map.storage.site_reads import feature_stream_sql
    from heshan_map.storage.site_sql import property_labels

    sql, params = feature_stream_sql(Filter(), property_labels("zh"))
    pg_sql = re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql.replace("%", "%%"))
    url = make_url(BENCH_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        return psycopg.ClientCursor(connection).mogrify(pg_sql, params)


def free_port() -> int:
    """Return a free local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_peak_kib(master: int) -> list[int]:
    """Return the peak resident memory (VmHWM, KiB) of each gunicorn worker of a master process."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return peaks


def curl_times(url: str) -> tuple[float, float, int]:
    """Return (seconds to first byte, total seconds, bytes) of downloading a URL to /dev/null."""
    output = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_starttransfer} %{time_total} %{size_download}",
                             url], capture_output=True, text=True, check=True).stdout.split()
    return float(output[0]), float(output[1]), int(output[2])


def main() -> None:
    polygons = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine = fresh_database()
    insert_synthetic_sites(engine, 0, polygons)
    url = make_url(BENCH_URL)
    psql_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    query = psql_query()
    start = time.perf_counter()
    # COPY streams rows as PostgreSQL makes them (a plain SELECT in psql holds the whole result first); JIT off as
    # in the service.
    subprocess.run(["psql", "-X", "-q", "-At", psql_url, "-c", "SET jit = off", "-c",
                    f"COPY ({query}) TO STDOUT", "-o", "/dev/null"], check=True)
    psql_seconds = time.perf_counter() - start
    port = free_port()
    server = subprocess.Popen([str(ROOT / ".venv/bin/heshan-map"), "serve", "--port", str(port), "--workers", "1"],
                              env={**os.environ, "DATABASE_URL": BENCH_URL}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(60):
            try:
                curl_times(base + "/healthz")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.5)
        curl_times(base + "/api/features?limit=1")
        before = worker_peak_kib(server.pid)
        first_byte, total, size = curl_times(base + "/api/export.geojson")
        after = worker_peak_kib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"polygons: {polygons}; GeoJSON {size / 1e6:.1f} MB")
    print(f"HTTP export: first byte after {first_byte:.3f} s, complete after {total:.2f} s")
    print(f"psql COPY of the service's own feature statement (the same features) to /dev/null: {psql_seconds:.2f} s")
    print(f"ratio HTTP/psql: {total / psql_seconds:.2f} (target <= 1.5; first byte target < 0.2 s)")
    print(f"server worker peak memory: {before} KiB before, {after} KiB after the export")


if __name__ == "__main__":
    main()
