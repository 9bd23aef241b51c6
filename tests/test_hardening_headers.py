"""Security headers, the script nonce, the session cookie, and log lines user text cannot forge."""
from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from heshan_map import create_app
from heshan_map.auth import create_user
from heshan_map.logsafe import LOG_FORMAT, EscapingFilter, escape_control

from .conftest import TEST_URL

STATIC = Path(__file__).resolve().parent.parent / "heshan_map" / "static"
CLI = str(Path(sys.executable).parent / "heshan-map")
EDITOR = "headers-editor"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EXPECTED_REST = ("style-src 'self' 'unsafe-inline'", "connect-src 'self'", "object-src 'none'",
                 "base-uri 'self'", "frame-ancestors 'self'", "form-action 'self'", "default-src 'self'")


def directives(response) -> dict[str, list[str]]:
    """Return the response's Content-Security-Policy as directive name → sources."""
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def script_nonce(response) -> str:
    """Return the nonce script-src allows, checking it allows nothing inline or eval besides."""
    sources = directives(response)["script-src"]
    nonces = [s for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1 and set(sources) == {"'self'", nonces[0]}, sources
    return nonces[0][len("'nonce-"):-1]


def log_in(client, token: str) -> None:
    """Log the editor in through the login form."""
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/login", data={"name": EDITOR, "token": token, "csrf_token": csrf}).status_code == 302


@pytest.mark.parametrize("path", ["/", "/?lang=en", "/login", "/sites/999999", "/api/features?limit=1",
                                  "/api/nothing", "/static/map.js", "/healthz", "/openapi.json"])
def test_every_response_has_the_security_headers(client, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    script_nonce(response)
    policy = response.headers["Content-Security-Policy"]
    for expected in EXPECTED_REST:
        assert expected in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_every_inline_script_carries_the_nonce_of_its_request(client, session) -> None:
    log_in(client, create_user(session, EDITOR, "editor"))
    seen = set()
    for path in ("/", "/?lang=en&kind=park", "/upload", "/login", "/sites/999999"):
        response = client.get(path)
        nonce = script_nonce(response)
        assert nonce not in seen and len(nonce) >= 16
        seen.add(nonce)
        tags = SCRIPT_TAG.findall(response.get_data(as_text=True))
        inline = [attributes for attributes in tags if "src=" not in attributes]
        if path in ("/", "/upload"):
            assert inline, path  # the JSON configuration, and on the map page folium's scripts
        for attributes in inline:
            assert f'nonce="{nonce}"' in attributes, (path, attributes)


def test_basemap_hosts_are_the_only_outside_images(engine) -> None:
    def img_src(config: dict) -> list[str]:
        app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "SECRET_KEY": "t", **config})
        return directives(app.test_client().get("/healthz"))["img-src"]

    assert img_src({"TIANDITU_KEY": ""}) == ["'self'", "data:", "blob:", "https://tile.openstreetmap.org"]
    assert img_src({"TILE_URL": "https://{s}.tiles.example.cn:8443/{z}/{x}/{y}.png", "TIANDITU_KEY": ""})[3:] \
        == ["https://*.tiles.example.cn:8443"]
    assert img_src({"TILE_URL": "/tiles/{z}/{x}/{y}.png", "TIANDITU_KEY": ""}) == ["'self'", "data:", "blob:"]
    with_key = img_src({"TIANDITU_KEY": "k"})
    assert with_key[4:] == [f"https://t{n}.tianditu.gov.cn" for n in range(8)]


@pytest.mark.parametrize("behind_https", ["", "1"])
def test_session_cookie_is_httponly_lax_and_secure_behind_https(engine, monkeypatch, behind_https: str) -> None:
    monkeypatch.setenv("BEHIND_HTTPS", behind_https)
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "SECRET_KEY": "t"})
    cookie = app.test_client().get("/login").headers["Set-Cookie"]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in flags and flags["samesite"] == "SameSite=Lax"
    assert ("secure" in flags) == bool(behind_https)


def test_no_script_needs_eval() -> None:
    for path in STATIC.rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\s*\(|new\s+Function\b|\bFunction\s*\(\s*['\"]", source), path


# --- logs -------------------------------------------------------------------------------------

@pytest.fixture()
def log_stream() -> Iterator[io.StringIO]:
    """Return the text a service-style handler with the escaping filter writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(EscapingFilter())
    logger = logging.getLogger("heshan_map.test_logsafe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def test_a_file_name_with_a_newline_stays_one_log_line(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("heshan_map.test_logsafe")
    logger.info("read %s as %s", "a.csv\nFORGED INFO heshan_map.uploads: upload 1 by admin\r\x1b[2J", "csv")
    lines = log_stream.getvalue().splitlines()
    assert lines == ["INFO heshan_map.test_logsafe: read a.csv\\nFORGED INFO heshan_map.uploads: upload 1 "
                     "by admin\\r\\x1b[2J as csv"]
    assert escape_control("a\u2028b\tc\x7f") == "a\\u2028b\\tc\\x7f"


def test_tracebacks_stay_readable_and_indented(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("heshan_map.test_logsafe")
    try:
        raise ValueError("bad name x.csv\nINFO forged: line")
    except ValueError:
        logger.exception("upload of %s failed", "x.csv\nFORGED")
    first, *rest = log_stream.getvalue().splitlines()
    assert first == "ERROR heshan_map.test_logsafe: upload of x.csv\\nFORGED failed"
    assert rest[0] == "  Traceback (most recent call last):"
    assert any(line.startswith('    File "') for line in rest)
    assert all(line.startswith("  ") for line in rest), rest
    assert "  INFO forged: line" in rest


def test_the_cli_log_escapes_a_file_name(engine, tmp_path: Path) -> None:
    # Control characters are refused in file names; U+2028 is not, yet log viewers break lines at it.
    path = tmp_path / "projects.csv\u2028FORGED INFO heshan_map.uploads: upload 9 by admin.csv"
    path.write_text("项目名称,经度,纬度,状态\n日志测试项目,112.9612,22.7703,已签约\n", encoding="utf-8")
    result = subprocess.run([CLI, "import", str(path), "--kind", "project", "--dry-run"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "DATABASE_URL": TEST_URL})
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if " as csv: 1 rows" in line]
    assert line.startswith("INFO heshan_map.ingest.readers: read projects.csv\\u2028FORGED INFO"), result.stderr


def test_the_app_escapes_on_handlers_another_server_made(client, session) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "SECRET_KEY": "t"})
        token = create_user(session, EDITOR, "editor")
        # A browser sends a line separator in a file name percent-encoded; RFC 2231's filename* decodes it.
        body = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''x%E2%80%A8FORGED%20line.csv\r\n"
                "Content-Type: text/csv\r\n\r\n项目名称,经度,纬度,状态\r\n日志项目,112.9612,22.7703,已签约\r\n"
                "--b--\r\n").encode()
        response = client.post("/api/uploads?dry_run=true&kind=project", data=body,
                               headers={"Authorization": f"Bearer {token}",
                                        "Content-Type": "multipart/form-data; boundary=b"})
        assert response.status_code == 200, response.get_json()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert "x\\u2028FORGED line.csv" in stream.getvalue()
    assert not [line for line in stream.getvalue().splitlines() if line.startswith("FORGED")]


WARNING_SCRIPT = """
import logging, sys, warnings
from heshan_map import create_app, logsafe
if sys.argv[1] == "cli":
    logsafe.configure_logging()
else:  # another WSGI server set logging up before the app was made
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    create_app({"TESTING": True, "DATABASE_URL": sys.argv[2], "SECRET_KEY": "t"})
warnings.warn("Value 'a\\\\nFORGED INFO heshan_map: x' of field descr has been truncated", RuntimeWarning)
"""


@pytest.mark.parametrize("setup", ["cli", "server"])
def test_library_warnings_quoting_user_text_stay_one_log_line(setup: str) -> None:
    result = subprocess.run([sys.executable, "-c", WARNING_SCRIPT, setup, TEST_URL], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert "a\\nFORGED" in result.stderr, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("FORGED")], result.stderr


def test_bidirectional_overrides_are_escaped_in_logs() -> None:
    assert escape_control("invoice\u202egnp.exe \u2066x\u2069") == "invoice\\u202egnp.exe \\u2066x\\u2069"
