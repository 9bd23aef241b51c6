"""Write sites: the set-based upsert of records, with stage events and edits."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..records import SiteRecord
from .site_sql import ORIENTED_GEOMETRY, SITE_GEOJSON

LOGGER = logging.getLogger(__name__)


INCOMING_COLUMNS = (
    "row_no", "code", "kind", "name", "name_en", "stage", "town", "park", "precision", "source",
    "description", "investment_cny_100m", "industry", "area_ha", "attributes", "geom",
    "signed_on", "signed_precision", "started_on", "started_precision",
    "in_production_on", "in_production_precision", "given_id", "keep_geometry", "clear_fields",
    "expected_version",
)


COMPARED_FIELDS = ("kind", "name", "name_en", "stage", "town", "park", "precision", "source",
                   "description", "investment_cny_100m", "industry", "area_ha", "attributes")


class StaleVersion(ServiceError):
    """A site changed between reading it and writing it (optimistic locking)."""

    status = 412
    code = "precondition_failed"


@dataclass
class UpsertResult:
    """What an upsert did: counts, and the action and site id per input row."""

    created: int
    updated: int
    unchanged: int
    actions: dict[int, tuple[str, int]]


def incoming_row(record: SiteRecord, geometry_hex: str) -> tuple[Any, ...]:
    """Return the COPY row of a record, its geometry given as hex EWKB."""
    dates = []
    for stage in ("signed", "started", "in_production"):
        partial = record.stage_dates.get(stage)
        dates.extend([partial.value if partial else None, partial.precision if partial else None])
    return (record.row, *(record.value(name) for name in INCOMING_COLUMNS[1:14]),
            json.dumps(record.attributes, ensure_ascii=False, default=str) if record.attributes else None,
            geometry_hex, *dates, record.site_id, record.keep_geometry, ",".join(record.clear) or None,
            record.expected_version)


OPTIONAL_FIELDS = ("name_en", "town", "park", "source", "description", "investment_cny_100m", "industry",
                   "area_ha")


# Rows without a code are matched by kind and name, which no unique index guards, and twin coded uploads
# would collide on sites.code: every transaction that writes sites first takes this one advisory lock,
# so the second writer waits and then sees what the first committed.
SITE_WRITE_LOCK_KEY = 7_305_120_417


def lock_site_writes(session: Session) -> None:
    """Wait for other site writes to commit (at most lock_timeout), and hold the lock until this transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SITE_WRITE_LOCK_KEY})


def lift_statement_timeout(session: Session) -> None:
    """Let this session's statements run as long as they need (the command line's long imports and exports)."""
    session.execute(text("SELECT set_config('statement_timeout', '0', false)"))


def upsert_sites(session: Session, records: Iterable[SiteRecord], actor: str | None,
                 upload_id: int | None = None, default_stage_date: dt.date | None = None,
                 default_source: str | None = None) -> UpsertResult:
    """Create or update sites by code in one set-based pass; record stage events and edits.

    An optional field the record leaves empty keeps the site's current value (a file without an
    investment column does not erase investments).
    """
    lock_site_writes(session)
    session.execute(text("""
        CREATE TEMP TABLE incoming (
            row_no integer, code text, kind text, name text, name_en text, stage text, town text,
            park text, precision text, source text, description text, investment_cny_100m numeric,
            industry text, area_ha numeric, attributes jsonb, geom geometry,
            signed_on date, signed_precision text, started_on date, started_precision text,
            in_production_on date, in_production_precision text, given_id bigint,
            keep_geometry boolean, clear_fields text, expected_version integer,
            site_id bigint, action text, new_events boolean DEFAULT false, park_derived boolean DEFAULT false
        ) ON COMMIT DROP"""))
    records = list(records)
    geometries = shapely.set_srid(np.array([record.geometry for record in records], dtype=object), 4326)
    hexes = shapely.to_wkb(geometries, hex=True, include_srid=True) if records else []
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY incoming ({', '.join(INCOMING_COLUMNS)}) FROM STDIN") as copy:
            for record, geometry_hex in zip(records, hexes):
                copy.write_row(incoming_row(record, geometry_hex))
    session.execute(text("ANALYZE incoming"))
    # Which site each row is: by id (API edits), by code, else by kind and name; then lock those sites.
    for statement in (
        "UPDATE incoming i SET site_id = s.id FROM sites s WHERE i.given_id IS NOT NULL AND s.id = i.given_id",
        """UPDATE incoming i SET site_id = s.id FROM sites s
           WHERE i.site_id IS NULL AND i.code IS NOT NULL AND s.code = i.code""",
        """UPDATE incoming i SET site_id = s.id FROM sites s
           WHERE i.site_id IS NULL AND i.code IS NULL AND s.kind = i.kind AND s.name = i.name""",
        "SELECT 1 FROM sites s JOIN incoming i ON i.site_id = s.id FOR UPDATE OF s",
    ):
        session.execute(text(statement))
    stale = session.execute(text(
        "SELECT i.row_no FROM incoming i JOIN sites s ON s.id = i.site_id"
        " WHERE i.expected_version IS NOT NULL AND s.version <> i.expected_version")).scalars().all()
    if stale:
        raise StaleVersion(f"the site changed since it was read (rows {', '.join(map(str, stale))})")
    optional = ", ".join(
        f"{name} = CASE WHEN '{name}' = ANY(string_to_array(i.clear_fields, ',')) THEN NULL"
        f" ELSE COALESCE(i.{name}, s.{name}) END" for name in OPTIONAL_FIELDS if name != "park")
    for statement in (
        # A row placed only from a name (no coordinates) keeps an existing site's own position.
        """UPDATE incoming i SET geom = s.geom, precision = s.precision
           FROM sites s WHERE s.id = i.site_id AND i.keep_geometry""",
        # Small pieces of the towns make the point-in-town test cheap.
        """CREATE TEMP TABLE town_pieces ON COMMIT DROP AS
           SELECT name, ST_Subdivide(geom, 64) AS geom FROM admin_areas WHERE level = 'town'""",
        "CREATE INDEX ON town_pieces USING gist (geom)",
        # A town or park not given is derived from the position, unless the position is only a
        # placeholder for a town (precision 'town'): then it says nothing about where the site is.
        """UPDATE incoming i SET town = (
               SELECT t.name FROM town_pieces t WHERE ST_Intersects(t.geom, ST_PointOnSurface(i.geom)) LIMIT 1)
           WHERE i.town IS NULL AND i.precision <> 'town'""",
        """UPDATE incoming i SET town = (
               SELECT a.name FROM admin_areas a WHERE a.level = 'town'
               ORDER BY a.geom <-> ST_PointOnSurface(i.geom) LIMIT 1)
           WHERE i.town IS NULL AND i.precision <> 'town'""",
        # The parks apart, so the lookup does not wade through every other site at the same spot.
        """CREATE TEMP TABLE park_shapes ON COMMIT DROP AS
           SELECT id, code, name, geom, ST_Area(geom) AS area FROM sites WHERE kind = 'park'""",
        "CREATE INDEX ON park_shapes USING gist (geom)",
        """UPDATE incoming i SET park_derived = true, park = (
               SELECT p.name FROM park_shapes p
               WHERE ST_Intersects(p.geom, ST_PointOnSurface(i.geom))
                 AND (i.code IS NULL OR p.code IS DISTINCT FROM i.code)
                 AND p.id IS DISTINCT FROM i.site_id
               ORDER BY p.area LIMIT 1)
           WHERE i.park IS NULL AND i.kind <> 'park' AND i.precision <> 'town'""",
        # An optional field the row leaves empty keeps the site's value, unless the row clears it.
        f"""UPDATE incoming i SET {optional},
               park = CASE WHEN 'park' = ANY(string_to_array(i.clear_fields, ',')) THEN NULL
                           WHEN i.park_derived THEN i.park ELSE COALESCE(i.park, s.park) END,
               attributes = COALESCE(NULLIF(i.attributes, '{{}}'::jsonb), s.attributes)
           FROM sites s WHERE s.id = i.site_id""",
    ):
        session.execute(text(statement))
    session.execute(text("""
        CREATE TEMP TABLE incoming_events ON COMMIT DROP AS
        SELECT i.row_no, i.site_id, v.stage, COALESCE(v.reached_on, CAST(:default_date AS date)) AS reached_on,
               CASE WHEN v.reached_on IS NULL THEN 'day' ELSE v.date_precision END AS date_precision
        FROM incoming i
        CROSS JOIN LATERAL (VALUES
            ('signed', 1, i.signed_on, i.signed_precision),
            ('started', 2, i.started_on, i.started_precision),
            ('in_production', 3, i.in_production_on, i.in_production_precision)
        ) AS v(stage, rank, reached_on, date_precision)
        -- The latest event of the same stage, found through the (site_id, stage, recorded_at) index.
        LEFT JOIN LATERAL (SELECT e.reached_on, e.date_precision FROM stage_events e
                           WHERE e.site_id = i.site_id AND e.stage = v.stage
                           ORDER BY e.recorded_at DESC, e.id DESC LIMIT 1) last ON TRUE
        WHERE v.rank <= CASE i.stage WHEN 'signed' THEN 1 WHEN 'started' THEN 2 ELSE 3 END
          AND (
            (v.reached_on IS NOT NULL AND (last IS NULL OR
                (last.reached_on, last.date_precision) IS DISTINCT FROM (v.reached_on, v.date_precision)))
            OR (v.reached_on IS NULL AND v.stage = i.stage AND last IS NULL))"""),
        {"default_date": default_stage_date})
    session.execute(text("UPDATE incoming i SET new_events = true"
                         " FROM (SELECT DISTINCT row_no FROM incoming_events) e WHERE e.row_no = i.row_no"))
    compared_old = ", ".join(f"s.{name}" for name in COMPARED_FIELDS)
    compared_new = ", ".join(f"i.{name}" for name in COMPARED_FIELDS)
    session.execute(text(f"""
        UPDATE incoming i SET action = CASE
            WHEN i.site_id IS NULL THEN 'create'
            WHEN ({compared_old}) IS DISTINCT FROM ({compared_new}) OR s.code IS DISTINCT FROM COALESCE(i.code, s.code)
              OR {SITE_GEOJSON} <> ST_AsGeoJSON({ORIENTED_GEOMETRY.format('i.geom')}, 7)
              OR i.new_events THEN 'update'
            ELSE 'unchanged' END
        FROM sites s WHERE s.id = i.site_id"""))
    session.execute(text("UPDATE incoming SET action = 'create', site_id = nextval('sites_id_seq'),"
                         " source = COALESCE(source, :source), attributes = COALESCE(attributes, '{}')"
                         " WHERE site_id IS NULL"), {"source": default_source})
    session.execute(text("UPDATE incoming_events e SET site_id = i.site_id FROM incoming i"
                         " WHERE e.row_no = i.row_no AND e.site_id IS NULL"))
    fields = ", ".join(COMPARED_FIELDS)
    # The edit records each changed field as [old, new]; the code of a row without one stays the site's.
    new_json = ("jsonb_build_object(" + ", ".join(f"'{n}', i.{n}" for n in COMPARED_FIELDS)
                + ", 'code', COALESCE(i.code, s.code), 'geometry', ST_AsGeoJSON(i.geom, 7)::jsonb)")
    old_json = ("jsonb_build_object(" + ", ".join(f"'{n}', s.{n}" for n in COMPARED_FIELDS)
                + ", 'code', s.code, 'geometry', ST_AsGeoJSON(s.geom, 7)::jsonb)")
    params = {"actor": actor, "upload_id": upload_id}
    session.execute(text(f"""
        INSERT INTO sites (id, code, {fields}, geom, created_by, created_upload_id)
        SELECT site_id, code, {compared_new}, geom, :actor, :upload_id
        FROM incoming i WHERE action = 'create'"""), params)
    session.execute(text(f"""
        INSERT INTO site_edits (site_id, action, changes, edited_by, upload_id)
        SELECT i.site_id, 'update', (
            SELECT COALESCE(jsonb_object_agg(n.key, jsonb_build_array(o.value, n.value)), '{{}}')
            FROM jsonb_each({new_json}) n
            JOIN jsonb_each({old_json}) o USING (key)
            WHERE n.value IS DISTINCT FROM o.value), :actor, :upload_id
        FROM incoming i JOIN sites s ON s.id = i.site_id WHERE i.action = 'update'"""),
        params)
    session.execute(text(f"""
        UPDATE sites s SET ({fields}, geom) = ({compared_new}, i.geom),
            code = COALESCE(i.code, s.code), updated_at = now(), version = s.version + 1
        FROM incoming i WHERE i.site_id = s.id AND i.action = 'update'"""))
    session.execute(text("""
        INSERT INTO stage_events (site_id, stage, reached_on, date_precision, recorded_by, upload_id)
        SELECT site_id, stage, reached_on, date_precision, :actor, :upload_id
        FROM incoming_events"""), params)
    rows = session.execute(text("SELECT row_no, action, site_id FROM incoming ORDER BY row_no")).all()
    for table in ("incoming_events", "incoming", "town_pieces", "park_shapes"):
        session.execute(text(f"DROP TABLE {table}"))
    actions = {row_no: (action, site_id) for row_no, action, site_id in rows}
    counts = {name: sum(1 for action, _ in actions.values() if action == name)
              for name in ("create", "update", "unchanged")}
    LOGGER.info("upsert: %s", counts)
    return UpsertResult(counts["create"], counts["update"], counts["unchanged"], actions)

