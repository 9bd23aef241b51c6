"""Every SQL query of the service, always with bound parameters."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from .errors import ServiceError
from .filters import Filter
from .records import SiteRecord

LOGGER = logging.getLogger(__name__)

SITE_COLUMNS = """
    s.id, s.code, s.kind, s.name, s.name_en, s.stage, s.town, s.park, s.precision, s.source,
    s.description, s.investment_cny_100m, s.industry, s.area_ha, s.attributes,
    s.created_at, s.updated_at, s.version,
    d.signed_on, d.signed_precision, d.started_on, d.started_precision,
    d.in_production_on, d.in_production_precision
"""
SITE_FROM = "sites s LEFT JOIN site_stage_dates d ON d.site_id = s.id"
# A geometry as it is shown: polygons with counter-clockwise exteriors. ST_ForcePolygonCCW only on polygonal
# geometries, since PostGIS 3.3.2 reverses the vertex order of LineStrings it is given. {0} is the column.
ORIENTED_GEOMETRY = "CASE WHEN ST_Dimension({0}) = 2 THEN ST_ForcePolygonCCW({0}) ELSE {0} END"
SITE_GEOJSON = f"ST_AsGeoJSON({ORIENTED_GEOMETRY.format('s.geom')}, 7)"


def filter_clause(selection: Filter) -> tuple[str, dict[str, Any]]:
    """Return the WHERE clause of a filter over `sites s`, with its bound parameters."""
    parts = ["TRUE"]
    params: dict[str, Any] = {}
    if selection.kinds:
        parts.append("s.kind = ANY(:f_kinds)")
        params["f_kinds"] = list(selection.kinds)
    if selection.stages:
        parts.append("s.stage = ANY(:f_stages)")
        params["f_stages"] = list(selection.stages)
    if selection.towns:
        parts.append("s.town = ANY(:f_towns)")
        params["f_towns"] = list(selection.towns)
    if selection.parks:
        parts.append("s.park = ANY(:f_parks)")
        params["f_parks"] = list(selection.parks)
    if selection.precisions:
        parts.append("s.precision = ANY(:f_precisions)")
        params["f_precisions"] = list(selection.precisions)
    if selection.q:
        parts.append("(s.name ILIKE :f_q ESCAPE '\\' OR s.name_en ILIKE :f_q ESCAPE '\\' "
                     "OR s.code ILIKE :f_q ESCAPE '\\')")
        escaped = selection.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["f_q"] = f"%{escaped}%"
    reached_from, reached_to = selection.reached_between()
    if reached_from is not None or reached_to is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM stage_events e WHERE e.site_id = s.id AND e.reached_on IS NOT NULL"
            " AND (CAST(:f_from AS date) IS NULL OR e.reached_on >= :f_from)"
            " AND (CAST(:f_to AS date) IS NULL OR e.reached_on <= :f_to)"
            " AND (CAST(:f_year_stages AS text[]) IS NULL OR e.stage = ANY(:f_year_stages)))")
        params["f_from"] = reached_from
        params["f_to"] = reached_to
        params["f_year_stages"] = list(selection.stages) or None
    if selection.bbox:
        parts.append("ST_Intersects(s.geom, ST_MakeEnvelope(:f_minx, :f_miny, :f_maxx, :f_maxy, 4326))")
        params.update(dict(zip(("f_minx", "f_miny", "f_maxx", "f_maxy"), selection.bbox)))
    return " AND ".join(parts), params


def select_sites(session: Session, selection: Filter, limit: int | None = None,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Return the sites the filter selects, ordered by id, with geometry as GeoJSON text."""
    where, params = filter_clause(selection)
    params.update({"limit": limit, "offset": offset})
    sql = (f"SELECT {SITE_COLUMNS}, {SITE_GEOJSON} AS geometry FROM {SITE_FROM}"
           f" WHERE {where} ORDER BY s.id LIMIT :limit OFFSET :offset")
    return [dict(row) for row in session.execute(text(sql), params).mappings()]


def iter_sites(session: Session, selection: Filter, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Yield every selected site, fetched in keyset-paged batches to keep memory flat."""
    where, params = filter_clause(selection)
    last_id = 0
    while True:
        sql = (f"SELECT {SITE_COLUMNS}, {SITE_GEOJSON} AS geometry FROM {SITE_FROM}"
               f" WHERE {where} AND s.id > :after ORDER BY s.id LIMIT :batch")
        rows = session.execute(text(sql), {**params, "after": last_id, "batch": batch}).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last_id = rows[-1]["id"]


def count_sites(session: Session, selection: Filter) -> int:
    """Return how many sites the filter selects."""
    where, params = filter_clause(selection)
    return session.execute(text(f"SELECT count(*) FROM sites s WHERE {where}"), params).scalar_one()


def count_by_kind_and_stage(session: Session, selection: Filter) -> dict[str, dict[str, int]]:
    """Return the counts of selected sites per kind and stage."""
    where, params = filter_clause(selection)
    rows = session.execute(text(f"SELECT s.kind, s.stage, count(*) AS n FROM sites s WHERE {where}"
                                " GROUP BY s.kind, s.stage"), params)
    counts: dict[str, dict[str, int]] = {}
    for kind, stage, n in rows:
        counts.setdefault(kind, {})[stage] = n
    return counts


def extent_of_sites(session: Session, selection: Filter) -> tuple[float, float, float, float] | None:
    """Return the bounding box of the selected sites, or None when there are none."""
    where, params = filter_clause(selection)
    row = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
        f" (SELECT ST_Extent(s.geom) AS e FROM sites s WHERE {where}) x"), params).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def get_site(session: Session, site_id: int) -> dict[str, Any] | None:
    """Return one site by id, or None."""
    row = session.execute(text(
        f"SELECT {SITE_COLUMNS}, {SITE_GEOJSON} AS geometry FROM {SITE_FROM} WHERE s.id = :id"),
        {"id": site_id}).mappings().first()
    return dict(row) if row else None


def select_history(session: Session, site_id: int) -> list[dict[str, Any]]:
    """Return a site's stage events and edits, oldest first."""
    rows = session.execute(text("""
        SELECT 'stage' AS type, e.recorded_at AS at, e.recorded_by AS who, e.stage,
               e.reached_on, e.date_precision, e.upload_id, NULL::jsonb AS changes, NULL AS action
        FROM stage_events e WHERE e.site_id = :id
        UNION ALL
        SELECT 'edit', x.edited_at, x.edited_by, NULL, NULL, NULL, x.upload_id, x.changes, x.action
        FROM site_edits x WHERE x.site_id = :id
        UNION ALL
        SELECT 'edit', s.created_at, s.created_by, NULL, NULL, NULL, s.created_upload_id, '{}'::jsonb, 'create'
        FROM sites s WHERE s.id = :id
        ORDER BY at, type, action"""), {"id": site_id}).mappings()
    return [dict(row) for row in rows]


def park_names(session: Session) -> list[str]:
    """Return the names of every park site."""
    return list(session.execute(text("SELECT name FROM sites WHERE kind = 'park' ORDER BY name")).scalars())


def select_admin_areas(session: Session, level: str) -> list[dict[str, Any]]:
    """Return the county or the towns with their geometry as GeoJSON text."""
    rows = session.execute(text(
        "SELECT id, level, name, name_en, precision, source, ST_AsGeoJSON(geom, 6) AS geometry"
        " FROM admin_areas WHERE level = :level ORDER BY id"), {"level": level}).mappings()
    return [dict(row) for row in rows]


def upsert_admin_area(session: Session, level: str, name: str, name_en: str | None, precision: str,
                      source: str, geometry_wkb: bytes) -> None:
    """Create or replace a reference area by level and name."""
    session.execute(text("""
        INSERT INTO admin_areas (level, name, name_en, precision, source, geom)
        VALUES (:level, :name, :name_en, :precision, :source,
                ST_Multi(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)))
        ON CONFLICT (level, name) DO UPDATE SET name_en = EXCLUDED.name_en,
            precision = EXCLUDED.precision, source = EXCLUDED.source, geom = EXCLUDED.geom
        WHERE (admin_areas.name_en, admin_areas.precision, admin_areas.source)
              IS DISTINCT FROM (EXCLUDED.name_en, EXCLUDED.precision, EXCLUDED.source)
           OR NOT ST_Equals(admin_areas.geom, EXCLUDED.geom)"""),
        {"level": level, "name": name, "name_en": name_en, "precision": precision,
         "source": source, "wkb": geometry_wkb})


def outside_county(session: Session, geometries_wkb: list[bytes]) -> list[int]:
    """Return the indexes of geometries not wholly inside the county boundary (all, if none loaded)."""
    if not geometries_wkb:
        return []
    rows = session.execute(text("""
        SELECT g.i - 1 FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS g(wkb, i)
        WHERE NOT EXISTS (SELECT 1 FROM admin_areas a WHERE a.level = 'county'
                          AND ST_CoveredBy(ST_SetSRID(ST_GeomFromWKB(g.wkb), 4326), a.geom))
        ORDER BY g.i"""), {"wkbs": geometries_wkb})
    return [row[0] for row in rows]


def ping(session: Session) -> dict[str, Any]:
    """Return the PostGIS version and the site count, proving the database answers."""
    version = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    sites = session.execute(text("SELECT count(*) FROM sites")).scalar_one()
    return {"postgis": version, "sites": sites}


# ---------------------------------------------------------------- upsert

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
    return (record.row, record.code, record.kind, record.name, record.name_en, record.stage,
            record.town, record.park, record.precision, record.source, record.description,
            record.investment_cny_100m, record.industry, record.area_ha,
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


def select_park_points(session: Session) -> list[dict[str, Any]]:
    """Return each park's name, town, precision and a point inside it (for placing sites by park name)."""
    from shapely import wkb

    rows = session.execute(text(
        "SELECT name, town, precision, ST_AsBinary(ST_PointOnSurface(geom)) AS point FROM sites"
        " WHERE kind = 'park' ORDER BY id")).mappings()
    return [{"name": row["name"], "town": row["town"], "precision": row["precision"],
             "point": wkb.loads(bytes(row["point"]))} for row in rows]


def county_geometry_wkb(session: Session) -> bytes | None:
    """Return the county boundary as WKB, or None when it is not loaded."""
    value = session.execute(text(
        "SELECT ST_AsBinary(geom) FROM admin_areas WHERE level = 'county' LIMIT 1")).scalar()
    return bytes(value) if value is not None else None


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


def _partial_date_sql(column: str, precision: str) -> str:
    """Return SQL formatting a stored date to the precision it is known to."""
    return (f"CASE {precision} WHEN 'year' THEN to_char({column}, 'YYYY') WHEN 'month' THEN to_char({column}, 'YYYY-MM')"
            f" ELSE to_char({column}, 'YYYY-MM-DD') END")


def stream_feature_json(session: Session, selection: Filter, labels: dict[str, Any],
                        chunk: int = 1000) -> Iterator[str]:
    """Yield the selected sites as RFC 7946 Feature JSON texts joined by commas, chunk by chunk, built in PostGIS.

    Each yielded text holds up to `chunk` features in id order; polygons have counter-clockwise exteriors
    and clockwise holes, coordinates to 7 decimals. `labels` holds kind_labels, stage_labels
    ({kind: {stage: label}}) and precision_labels.
    """
    where, params = filter_clause(selection)
    # One row per feature, streamed from a server-side cursor: the first chunk leaves as soon as PostGIS has
    # built its features, instead of after the whole selection was grouped into chunks.
    sql = f"""
        SELECT json_build_object(
            'type', 'Feature', 'id', s.id,
            'geometry', {SITE_GEOJSON}::json,
            'properties', json_build_object(
                'id', s.id, 'code', s.code, 'kind', s.kind,
                'kind_label', CAST(:labels AS jsonb) -> 'kind_labels' ->> s.kind,
                'name', s.name, 'name_en', s.name_en, 'stage', s.stage,
                'stage_label', CAST(:labels AS jsonb) -> 'stage_labels' -> s.kind ->> s.stage,
                'signed_on', {_partial_date_sql('d.signed_on', 'd.signed_precision')},
                'started_on', {_partial_date_sql('d.started_on', 'd.started_precision')},
                'in_production_on', {_partial_date_sql('d.in_production_on', 'd.in_production_precision')},
                'town', s.town, 'park', s.park, 'precision', s.precision,
                'precision_label', CAST(:labels AS jsonb) -> 'precision_labels' ->> s.precision,
                'source', s.source, 'description', s.description,
                'investment_cny_100m', s.investment_cny_100m::float8, 'industry', s.industry,
                'area_ha', s.area_ha::float8,
                'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'updated_at', to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'version', s.version))::text AS feature
        FROM {SITE_FROM} WHERE {where} ORDER BY s.id"""
    params["labels"] = json.dumps(labels, ensure_ascii=False)
    result = session.execute(text(sql), params, execution_options={"stream_results": True, "yield_per": chunk})
    try:
        for part in result.partitions(chunk):
            yield ",".join(feature for (feature,) in part)
    finally:
        result.close()


def temporal_extent(session: Session, selection: Filter) -> tuple[dt.date | None, dt.date | None]:
    """Return the first and last dates a stage was reached among the selected sites."""
    where, params = filter_clause(selection)
    row = session.execute(text(
        "SELECT min(e.reached_on), max(e.reached_on) FROM stage_events e JOIN sites s ON s.id = e.site_id"
        f" WHERE {where}"), params).one()
    return row[0], row[1]


def site_id_for_kind_and_name(session: Session, kind: str, name: str) -> int | None:
    """Return the id of a site with this kind and name (the key of rows without a code), or None."""
    return session.execute(text("SELECT min(id) FROM sites WHERE kind = :kind AND name = :name"),
                           {"kind": kind, "name": name}).scalar()


def site_id_for_code(session: Session, code: str) -> int | None:
    """Return the id of the site with a code, or None."""
    return session.execute(text("SELECT id FROM sites WHERE code = :code"), {"code": code}).scalar()
