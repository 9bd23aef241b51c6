"""Turn stored site rows into RFC 7946 GeoJSON Features (geometry converted only here)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .dates import format_partial_date


def site_properties(row: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """Return the Feature properties of a site row in a language, as PostGIS built them (site_sql)."""
    return dict(row.get(f"properties_{lang}") or row["properties_zh"])


def iso_timestamp(value: dt.datetime | None) -> str | None:
    """Return a timestamp as ISO 8601 in UTC."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def site_feature(row: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """Return the GeoJSON Feature of a site row; its geometry is null when its place is unknown (RFC 7946 3.2)."""
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geometry"]) if row["geometry"] is not None else None,  # county: unplaced
        "properties": site_properties(row, lang),
    }


def area_feature(row: dict[str, Any]) -> dict[str, Any]:
    """Return the GeoJSON Feature of a county or town row."""
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geometry"]),
        "properties": {key: row[key] for key in ("level", "name", "name_en", "precision", "source")},
    }


def history_entry(row: dict[str, Any]) -> dict[str, Any]:
    """Return one history row as JSON: a stage reached or an edit."""
    entry: dict[str, Any] = {"type": row["type"], "at": iso_timestamp(row["at"]), "by": row["who"],
                             "upload_id": row["upload_id"]}
    if row["type"] == "stage":
        entry["stage"] = row["stage"]
        entry["reached_on"] = format_partial_date(row["reached_on"], row["date_precision"])
    else:
        entry["action"] = row["action"]
        entry["changes"] = row["changes"]
    return entry
