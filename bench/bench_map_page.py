"""Benchmark the map page with 10k points and 10k polygons: HTML bytes and time until drawn.

Reference in the same run: fetching the same features from the API with urllib (no drawing).
Run: `make bench` or `.venv/bin/python bench/bench_map_page.py`.
"""
from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, insert_synthetic_sites, served_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def fetch_api(base: str) -> float:
    """Return the seconds to fetch every feature from the API, as the page does."""
    start = time.perf_counter()
    offset = 0
    while True:
        with urllib.request.urlopen(f"{base}/api/features?lang=zh&limit=10000&offset={offset}") as response:
            body = response.read()
        offset += 10000
        if b'"rel":"next"' not in body and b'"rel": "next"' not in body:
            break
    return time.perf_counter() - start


def main() -> None:
    engine = fresh_database()
    insert_synthetic_sites(engine, 10_000, 10_000)
    with served_app() as base:
        with urllib.request.urlopen(base + "/") as response:
            page_bytes = len(response.read())
        api_seconds = fetch_api(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda route, request: route.continue_() if request.url.startswith(base)
                       else route.abort())
            start = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_function("document.body.dataset.ready === 'true'", timeout=300_000)
            drawn_seconds = time.perf_counter() - start
            drawn = page.evaluate("window.heshanMap.features.length")
            browser.close()
    print(f"map page: {page_bytes} bytes of HTML (limit 300,000)")
    print(f"features drawn: {drawn}; time until drawn: {drawn_seconds:.2f} s")
    print(f"reference, API fetch of the same features: {api_seconds:.2f} s; ratio drawn/fetch: "
          f"{drawn_seconds / api_seconds:.2f}")


if __name__ == "__main__":
    main()
