"""SiteRecord: one site as read from a file, validated and in WGS84, ready to store."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from .dates import PartialDate


@dataclass
class SiteRecord:
    """A site to create or update, keyed by its code (or its kind and name when it has none)."""

    row: int
    kind: str
    name: str
    stage: str
    precision: str
    geometry: BaseGeometry
    code: str | None = None
    name_en: str | None = None
    town: str | None = None
    park: str | None = None
    source: str | None = None
    description: str | None = None
    investment_cny_100m: float | None = None
    industry: str | None = None
    area_ha: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    stage_dates: dict[str, PartialDate] = field(default_factory=dict)
    site_id: int | None = None
    # Placed only from a park, village or town name: an existing site keeps its own position.
    keep_geometry: bool = False
    # Optional fields to empty (an explicit null in a PATCH); others left empty keep their value.
    clear: tuple[str, ...] = ()
    # The version the editor read (If-Match); a site at another version is not overwritten.
    expected_version: int | None = None
