"""ORM models: sites of the four kinds, their stage events and edits, areas, users, uploads."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer, LargeBinary, Numeric, String,
                        Table, Text, func)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .sitefields import STORED_FIELDS


class Base(DeclarativeBase):
    """Declarative base of every table."""


# How each sql_type of the declaration is mapped; the sizes are those of the migrations.
SQL_TYPES: dict[str, Callable[[], Any]] = {
    "bigint": BigInteger, "integer": Integer, "text": Text, "character varying": lambda: String(16),
    "numeric": lambda: Numeric(14, 4), "jsonb": JSONB, "timestamp with time zone": lambda: DateTime(timezone=True),
    "boolean": Boolean,
}
# What the declaration does not say of a column: keys, uniqueness and defaults.
COLUMN_OPTIONS: dict[str, dict[str, Any]] = {
    "id": {"primary_key": True}, "code": {"unique": True}, "attributes": {"server_default": "{}"},
    "created_at": {"server_default": func.now()}, "updated_at": {"server_default": func.now()},
    "version": {"server_default": "1"}, "town_derived": {"server_default": "false"},
    "park_derived": {"server_default": "false"},
}


def site_columns() -> list[Column]:
    """Return the columns of sites: the declared ones (sitefields.STORED_FIELDS), the geometry and the creator."""
    declared = [Column(field.name, SQL_TYPES[field.sql_type or "text"](), nullable=field.nullable,
                       **COLUMN_OPTIONS.get(field.name, {})) for field in STORED_FIELDS]
    return declared + [Column("geom", Geometry(srid=4326, spatial_index=False), nullable=True),
                       Column("created_by", Text), Column("created_upload_id", BigInteger, ForeignKey("uploads.id"))]


class Site(Base):
    """A park, project, land plot or green site: one table for the four kinds, its columns from the declaration."""

    __table__ = Table("sites", Base.metadata, *site_columns())


class StageEvent(Base):
    """A stage reached by a site, with the date it was reached and who recorded it."""

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    reached_on: Mapped[dt.date | None] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8), server_default="day")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_by: Mapped[str | None] = mapped_column(Text)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))


class SiteEdit(Base):
    """An edit of a site's attributes or geometry: what changed, when and by whom."""

    __tablename__ = "site_edits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    edited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    edited_by: Mapped[str | None] = mapped_column(Text)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))


class AdminArea(Base):
    """A reference area: the county boundary or a town."""

    __tablename__ = "admin_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    precision: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))


class User(Base):
    """A person or program allowed to use the service, with a role and a hashed API token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(8))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Upload(Base):
    """An uploaded file: who sent it, its hash, what it said, and what came of it."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_name: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(16))
    crs_given: Mapped[str | None] = mapped_column(Text)
    crs_used: Mapped[str | None] = mapped_column(Text)
    kind_given: Mapped[str | None] = mapped_column(String(16))
    raw_rows: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created: Mapped[int] = mapped_column(Integer, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    encoding: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
