"""Turn stored site rows into RFC 7946 GeoJSON Features (geometry converted only here)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from .dates import format_partial_date
from .vocabulary import KIND_LABELS, PRECISION_LABELS, stage_label


def plain_number(value: Decimal | float | None) -> float | int | None:
    """Return a database number as a JSON number without trailing zeros."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def site_properties(row: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """Return the Feature properties of a site row."""
    kind = row["kind"]
    props: dict[str, Any] = {
        "id": row["id"],
        "code": row["code"],
        "kind": kind,
        "kind_label": KIND_LABELS[lang][kind],
        "name": row["name"],
        "name_en": row["name_en"],
        "stage": row["stage"],
        "stage_label": stage_label(kind, row["stage"], lang),
        "signed_on": format_partial_date(row["signed_on"], row["signed_precision"]),
        "started_on": format_partial_date(row["started_on"], row["started_precision"]),
        "in_production_on": format_partial_date(row["in_production_on"], row["in_production_precision"]),
        "town": row["town"],
        "park": row["park"],
        "precision": row["precision"],
        "precision_label": PRECISION_LABELS[lang][row["precision"]],
        "source": row["source"],
        "description": row["description"],
        "investment_cny_100m": plain_number(row["investment_cny_100m"]),
        "industry": row["industry"],
        "area_ha": plain_number(row["area_ha"]),
        "created_at": iso_timestamp(row["created_at"]),
        "updated_at": iso_timestamp(row["updated_at"]),
        "version": row["version"],
    }
    if row.get("attributes"):
        props["attributes"] = row["attributes"]
    return props


def iso_timestamp(value: dt.datetime | None) -> str | None:
    """Return a timestamp as ISO 8601 in UTC."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def site_feature(row: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """Return the GeoJSON Feature of a site row."""
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geometry"]),
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
