"""Users and their API tokens (only each token's SHA-256 is stored)."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

LOGGER = logging.getLogger(__name__)


def insert_user(session: Session, name: str, role: str, token_sha256: str) -> int | None:
    """Insert a user and return its id; None when the name is taken (the transaction stays usable)."""
    return session.execute(text(
        "INSERT INTO users (name, role, token_sha256) VALUES (:name, :role, :hash)"
        " ON CONFLICT (name) DO NOTHING RETURNING id"),
        {"name": name, "role": role, "hash": token_sha256}).scalar_one_or_none()


def user_by_token_hash(session: Session, token_sha256: str) -> dict[str, Any] | None:
    """Return the id, name and role of the user whose token has this SHA-256, or None."""
    row = session.execute(text("SELECT id, name, role FROM users WHERE token_sha256 = :hash"),
                          {"hash": token_sha256}).mappings().first()
    return dict(row) if row else None


def user_by_id(session: Session, user_id: int) -> dict[str, Any] | None:
    """Return the id, name and role of a user, or None."""
    row = session.execute(text("SELECT id, name, role FROM users WHERE id = :id"),
                          {"id": user_id}).mappings().first()
    return dict(row) if row else None
