"""Measure the peak memory and time of one export of many sites, each format in a fresh process.

Run: `PYTHONPATH=$PWD .venv/bin/python bench/bench_export_memory.py [sites] [formats...]` (BENCH_REUSE=1
keeps the database of a previous run); the database is made once
(BENCH_URL, half points, half small polygons). Each export runs through the app in a subprocess that
reports its resident memory before the request and its peak (ru_maxrss) after reading the whole body.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, fresh_database, insert_synthetic_sites  # noqa: E402

CHILD = """
import json, resource, sys, time
import heshan_map
from heshan_map import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "EXPORT_BUDGET_S": 3600})
client = app.test_client()
client.get("/api/features?limit=1")
def rss_kib():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
before = rss_kib()
start = time.perf_counter()
response = client.get("/api/export." + sys.argv[2], buffered=False)
size = sum(len(chunk) for chunk in response.response)
response.close()
print(json.dumps({"status": response.status_code, "bytes": size, "seconds": time.perf_counter() - start,
                  "rss_before_kib": before, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "code": heshan_map.__file__}))
"""


def measure(fmt: str) -> dict:
    """Return what one export of a format cost in a fresh process."""
    output = subprocess.run([sys.executable, "-P", "-c", CHILD, BENCH_URL, fmt], capture_output=True, text=True,
                            env={**os.environ}, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    sites = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    formats = sys.argv[2:] or ["geojson", "csv", "xlsx", "gpkg", "kml", "shp.zip"]
    if os.environ.get("BENCH_REUSE") != "1":
        insert_synthetic_sites(fresh_database(), sites // 2, sites - sites // 2)
    for fmt in formats:
        result = measure(fmt)
        print(f"{fmt:8} status {result['status']} {result['bytes'] / 1e6:7.1f} MB in {result['seconds']:6.1f} s; "
              f"RSS {result['rss_before_kib'] / 1024:6.0f} MiB before, peak {result['peak_kib'] / 1024:6.0f} MiB"
              f" ({result['code']})")


if __name__ == "__main__":
    main()
