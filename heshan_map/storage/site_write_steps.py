"""The steps of the site upsert, each a set-based pass over the temp table `incoming`, built from the declaration.

Run in order by `site_writes.upsert_sites`: load_incoming, match_sites, lock_and_check_versions,
derive_town_and_park, keep_stored_values, derive_stage_events, classify_rows, (site_places.note_changed_parks),
write_changes, (site_places.rederive_around_changed_parks), collect_actions.

A row without a geometry (precision county, RFC 7946 "geometry": null) is copied as NULL, never given a
town or park from its position, and compared null-safely.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Sequence

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..records import SiteRecord
from ..sitefields import COLUMN_FIELDS, COMPARED, KEEPS_WHEN_EMPTY, STAGE_FIELDS, SiteField
from .site_sql import ORIENTED_GEOMETRY, SITE_GEOJSON

LOGGER = logging.getLogger(__name__)

STAGE_COLUMNS = tuple((f"{field.stage}_on", f"{field.stage}_precision") for field in STAGE_FIELDS)
# What a row says besides its fields: the site it names (API edits), whether it keeps the stored position,
# the fields it empties, and the version its editor read.
REQUEST_COLUMNS = (("given_id", "bigint"), ("keep_geometry", "boolean"), ("clear_fields", "text"),
                   ("expected_version", "integer"))
# What the steps fill in: the site a row is, what happens to it, whether it adds stage events, and whether
# its town and park were derived from its position (stored as sites.town_derived and sites.park_derived).
WORK_COLUMNS = (("site_id", "bigint"), ("action", "text"), ("new_events", "boolean DEFAULT false"),
                ("town_derived", "boolean DEFAULT false"), ("park_derived", "boolean DEFAULT false"))
DERIVED_FLAGS = ("town_derived", "park_derived")
INCOMING_COLUMNS = ("row_no", *(field.name for field in COLUMN_FIELDS), "geom",
                    *(column for pair in STAGE_COLUMNS for column in pair), *(name for name, _ in REQUEST_COLUMNS))
WRITTEN = tuple(field.name for field in COLUMN_FIELDS if field.name != "code")  # code: kept when a row has none
JSON_FIELDS = tuple(field.name for field in COLUMN_FIELDS if field.type == "json")  # empty object: keep stored
TEMP_TABLES = ("incoming_events", "incoming", "town_pieces", "park_shapes", "changed_parks")
# Where a row's position says nothing about its town or park: none (county), or only its town.
PLACED = "i.geom IS NOT NULL AND i.precision NOT IN ('town', 'county')"


class StaleVersion(ServiceError):
    """A site changed between reading it and writing it (optimistic locking)."""

    code = "precondition_failed"


def incoming_ddl() -> str:
    """Return the CREATE TABLE of `incoming`: one row per record, typed as the declaration stores each field."""
    columns = ["row_no integer", *(f"{field.name} {field.sql_type}" for field in COLUMN_FIELDS), "geom geometry",
               *(f"{on} date, {precision} text" for on, precision in STAGE_COLUMNS),
               *(f"{name} {sql_type}" for name, sql_type in REQUEST_COLUMNS + WORK_COLUMNS)]
    return f"CREATE TEMP TABLE incoming ({', '.join(columns)}) ON COMMIT DROP"


def copy_value(record: SiteRecord, field: SiteField) -> Any:
    """Return a record's value of a column field as COPY takes it (a json field as JSON text, None when empty)."""
    if field.type == "json":
        value = getattr(record, field.name)
        return json.dumps(value, ensure_ascii=False, default=str) if value else None
    return record.value(field.name)


def incoming_row(record: SiteRecord, geometry_hex: str | None) -> tuple[Any, ...]:
    """Return the COPY row of a record in INCOMING_COLUMNS order, its geometry given as hex EWKB."""
    dates: list[Any] = []
    for field in STAGE_FIELDS:
        partial = record.stage_dates.get(field.stage or "")
        dates.extend([partial.value if partial else None, partial.precision if partial else None])
    return (record.row, *(copy_value(record, field) for field in COLUMN_FIELDS), geometry_hex, *dates,
            record.site_id, record.keep_geometry, ",".join(record.clear) or None, record.expected_version)


def check_geometries(records: Sequence[SiteRecord]) -> None:
    """Refuse records whose geometry contradicts their precision: county has none, every other one has one."""
    problems = [{"row": record.row, "column": "precision", "message":
                 "位置待定（county）的站点不能有几何 / precision county (place unknown) takes no geometry"
                 if record.precision == "county" else
                 "没有几何的站点精度须为 county（位置待定） / a site without a geometry has precision county"}
                for record in records
                if (record.precision == "county") != (record.geometry is None) and not record.keep_geometry]
    if problems:
        raise ServiceError(f"{problems[0]['message']} (rows {', '.join(str(p['row']) for p in problems[:20])})",
                           code="invalid_feature", details=problems)


def load_incoming(session: Session, records: Sequence[SiteRecord]) -> None:
    """Create the temp table `incoming` and COPY the records into it."""
    check_geometries(records)
    session.execute(text(incoming_ddl()))
    # A record without a geometry (precision county) is COPYed as NULL: to_wkb keeps None as None.
    geometries = shapely.set_srid(np.array([record.geometry for record in records], dtype=object), 4326)
    hexes = shapely.to_wkb(geometries, hex=True, include_srid=True) if records else []
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY incoming ({', '.join(INCOMING_COLUMNS)}) FROM STDIN") as copy:
            for record, geometry_hex in zip(records, hexes):
                copy.write_row(incoming_row(record, geometry_hex))
    session.execute(text("ANALYZE incoming"))


def match_sites(session: Session) -> None:
    """Set which site each row is: by id (API edits), else by code, else by kind and name."""
    for statement in (
        "UPDATE incoming i SET site_id = s.id FROM sites s WHERE i.given_id IS NOT NULL AND s.id = i.given_id",
        """UPDATE incoming i SET site_id = s.id FROM sites s
           WHERE i.site_id IS NULL AND i.code IS NOT NULL AND s.code = i.code""",
        """UPDATE incoming i SET site_id = s.id FROM sites s
           WHERE i.site_id IS NULL AND i.code IS NULL AND s.kind = i.kind AND s.name = i.name""",
    ):
        session.execute(text(statement))


def lock_and_check_versions(session: Session) -> None:
    """Lock the matched sites to the commit; raise StaleVersion when one is not at the version its row expects."""
    session.execute(text("SELECT 1 FROM sites s JOIN incoming i ON i.site_id = s.id FOR UPDATE OF s"))
    stale = session.execute(text(
        "SELECT i.row_no FROM incoming i JOIN sites s ON s.id = i.site_id"
        " WHERE i.expected_version IS NOT NULL AND s.version <> i.expected_version ORDER BY i.row_no")).scalars().all()
    if stale:
        raise StaleVersion(f"the site changed since it was read (rows {', '.join(map(str, stale))})")


def smallest_park_sql(shapes: str, site: str) -> str:
    """Return SQL of the name of the smallest park in `shapes` holding a point of `site` (never a park itself)."""
    return (f"(SELECT p.name FROM {shapes} p WHERE ST_Intersects(p.geom, ST_PointOnSurface({site}.geom))"
            " ORDER BY p.area, p.name LIMIT 1)")


def town_at_sql(pieces: str, site: str) -> str:
    """Return SQL of the town holding a point of `site` (the first by name where towns overlap), else the nearest."""
    point = f"ST_PointOnSurface({site}.geom)"
    return (f"COALESCE((SELECT t.name FROM {pieces} t WHERE ST_Intersects(t.geom, {point}) ORDER BY t.name LIMIT 1),"
            f" (SELECT a.name FROM admin_areas a WHERE a.level = 'town' ORDER BY a.geom <-> {point}, a.name LIMIT 1))")


# The parks whose shapes place other sites: placed parks (a park known only by its town, or not at all, has no
# shape that says which sites are in it). The incoming rows' parks take the place of their stored versions.
PARK_SHAPES = """
    SELECT id, code, name, geom, ST_Area(geom) AS area FROM sites
    WHERE kind = 'park' AND geom IS NOT NULL AND precision NOT IN ('town', 'county')
      AND id NOT IN (SELECT site_id FROM incoming WHERE site_id IS NOT NULL)
    UNION ALL
    SELECT site_id, code, name, geom, ST_Area(geom) FROM incoming i WHERE kind = 'park' AND {placed}"""


def given_in_place(name: str) -> str:
    """Return SQL telling a row's site has a town or park its owner gave and the row leaves it where it was."""
    return (f"EXISTS (SELECT 1 FROM sites s WHERE s.id = i.site_id AND s.{name} IS NOT NULL"
            f" AND NOT s.{name}_derived AND s.geom = i.geom)")


def derive_town_and_park(session: Session) -> None:
    """Keep the stored position of rows placed only from a name; derive a town and park not given from the position.

    A row without a position (county), or placed only at its town, is never given a town or park from it. A row
    that leaves a site where it was keeps the town or park its owner gave; one that moves it derives them anew.
    """
    for statement in (
        # A row placed only from a name (no coordinates) keeps an existing site's own position (a county site has none).
        """UPDATE incoming i SET geom = s.geom, precision = s.precision
           FROM sites s WHERE s.id = i.site_id AND i.keep_geometry AND s.geom IS NOT NULL""",
        # Small pieces of the towns make the point-in-town test cheap.
        """CREATE TEMP TABLE town_pieces ON COMMIT DROP AS
           SELECT name, ST_Subdivide(geom, 64) AS geom FROM admin_areas WHERE level = 'town'""",
        "CREATE INDEX ON town_pieces USING gist (geom)",
        f"UPDATE incoming i SET town_derived = true, town = {town_at_sql('town_pieces', 'i')}"
        f" WHERE i.town IS NULL AND {PLACED} AND NOT {given_in_place('town')}",
        # The parks apart, so the lookup does not wade through every other site at the same spot.
        f"CREATE TEMP TABLE park_shapes ON COMMIT DROP AS {PARK_SHAPES.format(placed=PLACED)}",
        "CREATE INDEX ON park_shapes USING gist (geom)",
        f"UPDATE incoming i SET park_derived = true, park = {smallest_park_sql('park_shapes', 'i')}"
        f" WHERE i.park IS NULL AND i.kind <> 'park' AND {PLACED} AND NOT {given_in_place('park')}",
    ):
        session.execute(text(statement))


def kept_value_sql(name: str) -> str:
    """Return the SET of a keeps-when-empty field: the row's value, else the site's, NULL when the row clears it.

    A town or park derived from the row's position replaces the stored one; a derived one the row's position
    cannot speak for (no position, or only the town) is dropped; a given one stays.
    """
    cleared = f"'{name}' = ANY(string_to_array(i.clear_fields, ','))"
    if name in ("town", "park"):
        unplaced = f"i.{name} IS NULL AND s.{name}_derived AND NOT ({PLACED})"
        return (f"{name} = CASE WHEN {cleared} OR {unplaced} THEN NULL WHEN i.{name}_derived THEN i.{name}"
                f" ELSE COALESCE(i.{name}, s.{name}) END, {name}_derived = CASE WHEN {cleared} OR {unplaced} THEN false"
                f" WHEN i.{name}_derived THEN true WHEN i.{name} IS NULL THEN s.{name}_derived ELSE false END")
    return f"{name} = CASE WHEN {cleared} THEN NULL ELSE COALESCE(i.{name}, s.{name}) END"


def keep_stored_values(session: Session) -> None:
    """Give a matched row the site's value of each KEEPS_WHEN_EMPTY field it leaves empty (and of empty json)."""
    kept = [kept_value_sql(name) for name in KEEPS_WHEN_EMPTY]
    kept += [f"{name} = COALESCE(NULLIF(i.{name}, '{{}}'::jsonb), s.{name})" for name in JSON_FIELDS]
    session.execute(text(f"UPDATE incoming i SET {', '.join(kept)} FROM sites s WHERE s.id = i.site_id"))


def derive_stage_events(session: Session, default_stage_date: dt.date | None) -> None:
    """Create `incoming_events`: the stage events each row adds (a new or changed date of a stage reached)."""
    stages = ", ".join(f"('{field.stage}', {rank}, i.{on}, i.{precision})"
                       for rank, (field, (on, precision)) in enumerate(zip(STAGE_FIELDS, STAGE_COLUMNS), start=1))
    ranks = " ".join(f"WHEN '{field.stage}' THEN {rank}" for rank, field in enumerate(STAGE_FIELDS[:-1], start=1))
    session.execute(text(f"""
        CREATE TEMP TABLE incoming_events ON COMMIT DROP AS
        SELECT i.row_no, i.site_id, v.stage, COALESCE(v.reached_on, CAST(:default_date AS date)) AS reached_on,
               CASE WHEN v.reached_on IS NULL THEN 'day' ELSE v.date_precision END AS date_precision
        FROM incoming i
        CROSS JOIN LATERAL (VALUES {stages}) AS v(stage, rank, reached_on, date_precision)
        -- The latest event of the same stage, found through the (site_id, stage, recorded_at) index.
        LEFT JOIN LATERAL (SELECT e.reached_on, e.date_precision FROM stage_events e
                           WHERE e.site_id = i.site_id AND e.stage = v.stage
                           ORDER BY e.recorded_at DESC, e.id DESC LIMIT 1) last ON TRUE
        WHERE v.rank <= CASE i.stage {ranks} ELSE {len(STAGE_FIELDS)} END
          AND (
            (v.reached_on IS NOT NULL AND (last IS NULL OR
                (last.reached_on, last.date_precision) IS DISTINCT FROM (v.reached_on, v.date_precision)))
            OR (v.reached_on IS NULL AND v.stage = i.stage AND last IS NULL))"""),
        {"default_date": default_stage_date})
    session.execute(text("UPDATE incoming i SET new_events = true"
                         " FROM (SELECT DISTINCT row_no FROM incoming_events) e WHERE e.row_no = i.row_no"))


def classify_rows(session: Session, default_source: str | None) -> None:
    """Set each row's action: create (new id), update (a COMPARED field, code, geometry or event differs), unchanged."""
    compared_old = ", ".join(f"s.{name}" for name in COMPARED)
    compared_new = ", ".join(f"i.{name}" for name in COMPARED)
    session.execute(text(f"""
        UPDATE incoming i SET action = CASE
            WHEN i.site_id IS NULL THEN 'create'
            WHEN ({compared_old}) IS DISTINCT FROM ({compared_new}) OR s.code IS DISTINCT FROM COALESCE(i.code, s.code)
              OR {SITE_GEOJSON} IS DISTINCT FROM ST_AsGeoJSON({ORIENTED_GEOMETRY.format('i.geom')}, 7)
              OR i.new_events THEN 'update'
            ELSE 'unchanged' END
        FROM sites s WHERE s.id = i.site_id"""))
    session.execute(text("UPDATE incoming SET action = 'create', site_id = nextval('sites_id_seq'),"
                         " source = COALESCE(source, :source), attributes = COALESCE(attributes, '{}')"
                         " WHERE site_id IS NULL"), {"source": default_source})
    session.execute(text("UPDATE incoming_events e SET site_id = i.site_id FROM incoming i"
                         " WHERE e.row_no = i.row_no AND e.site_id IS NULL"))


def changes_sql() -> str:
    """Return SQL of an updated row's changes, each COMPARED field (and code, geometry) that differs as [old, new]."""
    # The code of a row without one stays the site's.
    new_json = ("jsonb_build_object(" + ", ".join(f"'{n}', i.{n}" for n in COMPARED)
                + ", 'code', COALESCE(i.code, s.code), 'geometry', ST_AsGeoJSON(i.geom, 7)::jsonb)")
    old_json = ("jsonb_build_object(" + ", ".join(f"'{n}', s.{n}" for n in COMPARED)
                + ", 'code', s.code, 'geometry', ST_AsGeoJSON(s.geom, 7)::jsonb)")
    return f"""(SELECT COALESCE(jsonb_object_agg(n.key, jsonb_build_array(o.value, n.value)), '{{}}')
                FROM jsonb_each({new_json}) n JOIN jsonb_each({old_json}) o USING (key)
                WHERE n.value IS DISTINCT FROM o.value)"""


def write_changes(session: Session, actor: str | None, upload_id: int | None) -> None:
    """Insert the created sites, record the edits of updated ones, update them, and insert the stage events."""
    fields = ", ".join(WRITTEN + DERIVED_FLAGS)
    written_new = ", ".join(f"i.{name}" for name in WRITTEN + DERIVED_FLAGS)
    params = {"actor": actor, "upload_id": upload_id}
    session.execute(text(f"""
        INSERT INTO sites (id, code, {fields}, geom, created_by, created_upload_id)
        SELECT site_id, code, {written_new}, geom, :actor, :upload_id
        FROM incoming i WHERE action = 'create'"""), params)
    session.execute(text(f"""
        INSERT INTO site_edits (site_id, action, changes, edited_by, upload_id)
        SELECT i.site_id, 'update', {changes_sql()}, :actor, :upload_id
        FROM incoming i JOIN sites s ON s.id = i.site_id WHERE i.action = 'update'"""), params)
    session.execute(text(f"""
        UPDATE sites s SET ({fields}, geom) = ({written_new}, i.geom),
            code = COALESCE(i.code, s.code), updated_at = now(), version = s.version + 1
        FROM incoming i WHERE i.site_id = s.id AND i.action = 'update'"""))
    # Whether an unchanged site's town and park were given or derived is the service's own note: no edit.
    session.execute(text("""
        UPDATE sites s SET (town_derived, park_derived) = (i.town_derived, i.park_derived)
        FROM incoming i WHERE i.site_id = s.id AND i.action = 'unchanged'
          AND (s.town_derived, s.park_derived) IS DISTINCT FROM (i.town_derived, i.park_derived)"""))
    session.execute(text("""
        INSERT INTO stage_events (site_id, stage, reached_on, date_precision, recorded_by, upload_id)
        SELECT site_id, stage, reached_on, date_precision, :actor, :upload_id
        FROM incoming_events"""), params)


def collect_actions(session: Session) -> dict[int, tuple[str, int]]:
    """Return the action and site id of each row, by row number, and drop the temp tables."""
    rows = session.execute(text("SELECT row_no, action, site_id FROM incoming ORDER BY row_no")).all()
    for table in TEMP_TABLES:
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    return {row_no: (action, site_id) for row_no, action, site_id in rows}
