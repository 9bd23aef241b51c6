"""Benchmark OGC items: bbox pages of 1,000 over 100,000 parcels of 13 vertices, 4 client threads, gunicorn 2 workers.

Prints req/s, p50 latency and bytes per page. The issue's references (pygeoapi 0.21: 10.9 req/s, tipg 1.6:
13.7 req/s on this workload) were measured in an earlier run; running them here in the same run is still to do.
Run: `make bench` or `.venv/bin/python bench/bench_items.py [parcels] [requests]`.
"""
from __future__ import annotations

import random
import statistics
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tiles import run_threads  # noqa: E402
from common import fresh_database, gunicorn_served, insert_parcels  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def bbox_requests(count: int) -> list[str]:
    """Return item queries of bbox windows over the parcels' box, each holding well over 1,000 parcels."""
    rng = random.Random(12)
    queries = []
    for _ in range(count):
        lon, lat = 112.5 + rng.random() * 0.35, 22.5 + rng.random() * 0.2
        queries.append(f"bbox={lon:.4f},{lat:.4f},{lon + 0.15:.4f},{lat + 0.13:.4f}&limit=1000")
    return queries


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    insert_parcels(fresh_database(), parcels)
    sizes: list[int] = []

    base = ""

    def fetch(query: str) -> None:
        with urllib.request.urlopen(base + query, timeout=120) as answer:
            sizes.append(len(answer.read()))

    with gunicorn_served() as served:
        base = served + "/ogc/collections/land_plot/items?"
        run_threads(bbox_requests(8), fetch)
        sizes.clear()
        wall, latencies = run_threads(bbox_requests(count), fetch)
    print(f"OGC items, bbox pages of 1,000 over {parcels} parcels, 4 threads, gunicorn 2 workers: "
          f"{count / wall:.1f} req/s, p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"{statistics.mean(sizes) / 1024:.0f} KB a page")
    print("references measured before (not this run): pygeoapi 0.21 10.9 req/s, tipg 1.6 13.7 req/s; "
          f"ratios {count / wall / 10.9:.2f} and {count / wall / 13.7:.2f} (targets >= 3 and >= 2)")


if __name__ == "__main__":
    main()
