"""Configuration defaults, overridden from the environment."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from .alerts import AlertRulesError, active_rules

LOGGER = logging.getLogger(__name__)
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/heshan_map"


def normalise_database_url(url: str) -> str:
    """Return the URL with the psycopg 3 driver named, as SQLAlchemy needs it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key() -> str:
    """Return SECRET_KEY from the environment, else a random key made once and kept in instance/secret_key."""
    from_environment = os.environ.get("SECRET_KEY")
    if from_environment:
        return from_environment
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        LOGGER.info("made a new session key in %s", path)
    return path.read_text(encoding="ascii").strip()


# Bounds on the work one request may cause (issue 8). Each can be set by an environment variable
# of the same name; the README's configuration table lists them.
LIMIT_DEFAULTS: dict[str, int] = {
    "MAX_UPLOAD_ROWS": 200_000,          # rows or features in one upload
    "MAX_UPLOAD_COLUMNS": 500,           # columns (fields) in one upload
    "MAX_FILE_VERTICES": 5_000_000,      # coordinates in all geometries of one upload
    "MAX_GEOMETRY_VERTICES": 100_000,    # coordinates in one geometry (upload or API)
    "MAX_NAME_CHARS": 300,               # name, name_en
    "MAX_CODE_CHARS": 100,               # code
    "MAX_TEXT_CHARS": 10_000,            # description, source, industry and other free text
    "MAX_ATTRIBUTE_CHARS": 2_000,        # one kept attribute value (unknown column)
    "MAX_JSON_DEPTH": 32,                # nesting of a JSON request body
    "STATEMENT_TIMEOUT_MS": 60_000,      # one SQL statement
    "UPLOAD_BUDGET_S": 600,              # wall clock of one upload, reading to commit
    "EXPORT_BUDGET_S": 600,              # wall clock of one export
    "EXPORTS_PER_CLIENT": 2,             # exports one client address may run at once
    "EXPORTS_TOTAL": 4,                  # exports one worker process runs at once
    "POOL_TIMEOUT_S": 3,                 # wait for a database connection before answering 503
    "RETRY_AFTER_S": 5,                  # Retry-After of a 429 or 503
    "MAX_PAGE_BYTES": 20_000_000,        # text in one page of features; a page stops early past it
    "WRITE_LOCK_TIMEOUT_MS": 30_000,     # wait for another upload or edit to finish writing; then 503
    "IDLE_IN_TRANSACTION_TIMEOUT_MS": 120_000,  # a stream whose client stops reading lets its connection go
    "FEATURE_COUNT_CAP": 10_000,         # numberMatched is counted up to this many sites (else left out)
    "TILE_TIMEOUT_MS": 5_000,            # one vector tile's statement; then 503 tile_timeout
    "TILE_MAX_AGE_S": 60,                # Cache-Control max-age of a vector tile (a proxy may keep it that long)
}


# Reads from a streaming replica (issue 12): the README's "Scaling out" section explains them.
REPLICA_DEFAULTS: dict[str, float] = {
    "READ_AFTER_WRITE_S": 10,            # after a client writes, its reads go to the primary this long
    "REPLICA_MAX_LAG_S": 5,              # a replica further behind than this serves no reads
    "REPLICA_CHECK_S": 1,                # how long one check of the replica's lag is trusted
    "REPLICA_LOG_INTERVAL_S": 60,        # at most one warning this often while reads fall back to the primary
    "REPLICA_CONNECT_TIMEOUT_S": 2,      # wait for a connection to the replica before falling back
}


def replica_settings() -> dict[str, object]:
    """Return DATABASE_READ_URL (empty: no replica) and the replica bounds, each overridable by the environment."""
    url = os.environ.get("DATABASE_READ_URL", "")
    return {"DATABASE_READ_URL": normalise_database_url(url) if url else "",
            **{name: float(os.environ.get(name, str(default))) for name, default in REPLICA_DEFAULTS.items()}}


def limit_settings() -> dict[str, int]:
    """Return the request limits, each overridable by the environment variable of its name."""
    return {name: int(os.environ.get(name, str(default))) for name, default in LIMIT_DEFAULTS.items()}


def alert_rules() -> dict[str, dict[str, dict[str, float]]]:
    """Return the alert rules in force; stop start-up with the one-sentence reason when ALERT_RULES is bad."""
    try:
        return active_rules()
    except AlertRulesError as error:
        raise SystemExit(str(error)) from None


def load_config() -> dict[str, object]:
    """Read the service settings from the environment."""
    return {
        "ALERT_RULES": alert_rules(),
        **limit_settings(),
        **replica_settings(),
        # Behind HTTPS the session cookie is sent only over HTTPS.
        "SESSION_COOKIE_SECURE": os.environ.get("BEHIND_HTTPS", "").lower() in ("1", "true", "yes"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "DATABASE_URL": normalise_database_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        "SECRET_KEY": secret_key(),
        "TIANDITU_KEY": os.environ.get("TIANDITU_KEY", ""),
        "TILE_URL": os.environ.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "TILE_ATTRIBUTION": os.environ.get(
            "TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors"
        ),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(50 * 1024 * 1024))),
        "API_MAX_LIMIT": 10_000,
        "API_DEFAULT_LIMIT": 1_000,
        "JSON_AS_ASCII": False,
    }

