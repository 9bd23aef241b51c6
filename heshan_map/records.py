"""SiteRecord: one site as read from a file, validated and in WGS84, ready to store."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from .dates import PartialDate
from .sitefields import COLUMN_FIELDS

# The fields a record names because the write pipeline acts on them; every other stored field is in `values`.
NAMED_FIELDS = ("code", "kind", "name", "stage", "town", "park", "precision")
VALUE_FIELDS = tuple(field.name for field in COLUMN_FIELDS
                     if field.name not in NAMED_FIELDS and field.name != "attributes")


@dataclass
class SiteRecord:
    """A site to create or update, keyed by its code (or its kind and name when it has none)."""

    row: int
    kind: str
    name: str
    stage: str
    precision: str
    geometry: BaseGeometry | None  # None exactly when the place is unknown (precision county)
    code: str | None = None
    town: str | None = None
    park: str | None = None
    # The other stored fields (sitefields.COLUMN_FIELDS less the named ones), by name; absent means empty.
    values: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    stage_dates: dict[str, PartialDate] = field(default_factory=dict)
    site_id: int | None = None
    # Placed only from a park, village or town name: an existing site keeps its own position.
    keep_geometry: bool = False
    # Optional fields to empty (an explicit null in a PATCH); others left empty keep their value.
    clear: tuple[str, ...] = ()
    # The version the editor read (If-Match); a site at another version is not overwritten.
    expected_version: int | None = None

    def value(self, name: str) -> Any:
        """Return a stored field's value by name, named or in `values` (None when empty)."""
        return getattr(self, name) if name in NAMED_FIELDS else self.values.get(name)
