"""Configuration defaults, overridden from the environment."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

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


def load_config() -> dict[str, object]:
    """Read the service settings from the environment."""
    return {
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
