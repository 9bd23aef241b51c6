"""Load test: 50 concurrent clients for 60 s against gunicorn over 60,000 sites, mixing every kind of request.

Each client is a thread with its own loopback source address (127.0.1.N), so the per-client export cap
applies to each simulated office rather than to all of them at once. The mix: the map page, feature pages,
site pages, exports of a filtered view in every format, and CSV uploads by an editor. Every request is
bounded (a 120 s socket timeout) and the run stops by itself.

Printed: per endpoint the count, p50 and p95 latency and the statuses; errors are connection failures,
5xx and unexpected statuses. A 429 (export cap, honoured with its Retry-After) is counted and shown apart.
Run: `make bench` or `.venv/bin/python bench/bench_load.py [clients] [seconds] [sites]`.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, fresh_database, insert_synthetic_sites  # noqa: E402
from bench_export import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv/bin/heshan-map")
EXPORT_FORMATS = ("geojson", "csv", "xlsx", "gpkg", "kml", "shp.zip")
EXPECTED = {"map": {200}, "features": {200}, "site": {200}, "export": {200, 429}, "upload": {200}}
# Relative weights of the request kinds a client draws from.
MIX = (("map", 2), ("features", 5), ("site", 4), ("export", 2), ("upload", 1))


@dataclass
class Tally:
    """Latencies and statuses per endpoint, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, seconds: float, status: str, detail: bytes = b"") -> None:
        """Record one answered request, keeping the start of the body of an unexpected answer."""
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1
            if not status.isdigit() or int(status) not in EXPECTED[endpoint]:
                self.errors.append(f"{endpoint}: {status} {detail[:300].decode('utf-8', 'replace')}")


def upload_body(client: int) -> tuple[bytes, str]:
    """Return a multipart body with a 20-row coded CSV (the same rows each time, so re-uploads are unchanged)."""
    lines = ["项目名称,经度,纬度,状态,项目代码,投资额(亿元)"]
    for row in range(20):
        lines.append(f"负载测试项目{client}-{row},{112.62 + row * 0.004:.4f},{22.62 + client * 0.001:.4f},"
                     f"{'签约' if row % 2 else '在建'},LOAD-{client}-{row},{1 + row}")
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nproject\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"load-{client}.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n" + "\n".join(lines) + f"\r\n--{boundary}--\r\n").encode("utf-8")
    return body, f"multipart/form-data; boundary={boundary}"


def request_for(kind: str, client: int, max_id: int, rng: random.Random) -> tuple[str, str, bytes | None, dict]:
    """Return (method, path, body, headers) of one request of a kind."""
    if kind == "map":
        return "GET", rng.choice(["/", "/?stage=started", "/?kind=project&lang=en", "/?town=%E6%B2%99%E5%9D%AA%E8%A1%97%E9%81%93"]), None, {}
    if kind == "features":
        return "GET", f"/api/features?limit=500&offset={rng.randrange(0, 59_000)}", None, {}
    if kind == "site":
        return "GET", f"/sites/{rng.randrange(1, max_id)}", None, {}
    if kind == "export":
        lon, lat = 112.5 + rng.random() * 0.45, 22.5 + rng.random() * 0.3
        bbox = f"{lon:.3f},{lat:.3f},{lon + 0.02:.3f},{lat + 0.02:.3f}"  # a view of a few hundred sites
        return "GET", f"/api/export.{rng.choice(EXPORT_FORMATS)}?bbox={bbox}", None, {}
    body, content_type = upload_body(client)
    return "POST", "/api/uploads", body, {"Content-Type": content_type}


def run_client(client: int, port: int, token: str, max_id: int, deadline: float, tally: Tally) -> None:
    """Send requests from one loopback address until the deadline, honouring Retry-After on a 429."""
    rng = random.Random(client)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    source = (f"127.0.1.{client + 1}", 0)
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        method, path, body, headers = request_for(kind, client, max_id, rng)
        if kind == "upload":
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=source)
        start = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            detail = response.read(4096)
            while response.read(256 * 1024):
                pass
            status, retry = str(response.status), response.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as error:
            status, retry, detail = type(error).__name__, None, str(error).encode()
        finally:
            connection.close()
        tally.record(kind, time.perf_counter() - start, status, detail)
        if status == "429":
            time.sleep(min(float(retry or 1), 10))


def start_server(port: int, workers: int) -> subprocess.Popen:
    """Start `heshan-map serve` on the benchmark database and wait until it answers."""
    server = subprocess.Popen([CLI, "serve", "--port", str(port), "--workers", str(workers)],
                              env={**os.environ, "DATABASE_URL": BENCH_URL},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start")


def percentile(values: list[float], share: float) -> float:
    """Return a percentile of a list of latencies."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(tally: Tally, seconds: float) -> int:
    """Print the table per endpoint and return the number of errors."""
    total = sum(len(values) for values in tally.latencies.values())
    print(f"{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s)")
    print(f"{'endpoint':<10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for endpoint, _ in MIX:
        values = tally.latencies.get(endpoint, [])
        if not values:
            continue
        statuses = ", ".join(f"{status}×{n}" for status, n in sorted(tally.statuses[endpoint].items()))
        print(f"{endpoint:<10} {len(values):>6} {statistics.median(values) * 1000:>8.0f} "
              f"{percentile(values, 0.95) * 1000:>8.0f} {max(values) * 1000:>8.0f}  {statuses}")
    print(f"errors (connection failures, 5xx, unexpected statuses): {len(tally.errors)}")
    for line in tally.errors[:20]:
        print("  ", line)
    return len(tally.errors)


def main() -> None:
    clients = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    sites = int(sys.argv[3]) if len(sys.argv) > 3 else 60_000
    engine = fresh_database()
    insert_synthetic_sites(engine, sites // 2, sites - sites // 2)
    env = {**os.environ, "DATABASE_URL": BENCH_URL}
    subprocess.run([CLI, "seed"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    created = subprocess.run([CLI, "users", "create", f"load-{uuid.uuid4().hex[:6]}", "--role", "editor"],
                             env=env, check=True, capture_output=True, text=True)
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    server = start_server(port, workers=2)
    tally = Tally()
    try:
        start = time.monotonic()
        deadline = start + seconds
        threads = [threading.Thread(target=run_client, args=(i, port, token, sites, deadline, tally), daemon=True)
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 180)
        elapsed = time.monotonic() - start
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(f"load test: {clients} clients, {sites:,} sites, gunicorn 2 workers × 4 threads")
    errors = report(tally, elapsed)
    print(json.dumps({"clients": clients, "seconds": round(elapsed), "errors": errors}))
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
