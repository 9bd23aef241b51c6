"""Upload records: what a file said, who sent it, and what came of it."""
from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


LOGGER = logging.getLogger(__name__)


def insert_upload(session: Session, *, user_name: str | None, filename: str, sha256: str, file_format: str,
                  crs_given: str | None, crs_used: str | None, kind_given: str | None, encoding: str | None,
                  raw_rows: list[dict[str, Any]], content: bytes) -> int:
    """Record an upload (who, the file, its hash, what it said) and return its id."""
    return session.execute(text("""
        INSERT INTO uploads (user_name, filename, sha256, file_format, crs_given, crs_used, kind_given, encoding,
                             raw_rows, content)
        VALUES (:user_name, :filename, :sha256, :file_format, :crs_given, :crs_used, :kind_given, :encoding,
                CAST(:raw_rows AS jsonb), :content)
        RETURNING id"""), {
        "user_name": user_name, "filename": filename, "sha256": sha256, "file_format": file_format,
        "crs_given": crs_given, "crs_used": crs_used, "kind_given": kind_given, "encoding": encoding,
        "raw_rows": json.dumps(raw_rows, ensure_ascii=False, default=str), "content": content,
    }).scalar_one()


def finish_upload(session: Session, upload_id: int, created: int, updated: int, unchanged: int,
                  report: dict[str, Any], crs_used: str | None) -> None:
    """Store an upload's counts, report and the coordinate system its rows turned out to use."""
    session.execute(text(
        "UPDATE uploads SET created = :created, updated = :updated, unchanged = :unchanged,"
        " crs_used = :crs_used, report = CAST(:report AS jsonb) WHERE id = :id"),
        {"created": created, "updated": updated, "unchanged": unchanged, "id": upload_id, "crs_used": crs_used,
         "report": json.dumps(report, ensure_ascii=False, default=str)})


def get_upload(session: Session, upload_id: int) -> dict[str, Any] | None:
    """Return an upload record without its file content."""
    row = session.execute(text(
        "SELECT id, user_name, filename, sha256, file_format, crs_given, crs_used, kind_given, encoding,"
        " created, updated, unchanged, uploaded_at, report, jsonb_array_length(raw_rows) AS raw_row_count"
        " FROM uploads WHERE id = :id"), {"id": upload_id}).mappings().first()
    return dict(row) if row else None

