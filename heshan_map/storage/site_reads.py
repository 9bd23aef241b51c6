"""Read sites: pages, counts, extents, one site, its history, and features built in PostGIS."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any, Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..filters import Filter
from .filter_sql import counted_source, filter_clause, site_source
from .site_sql import feature_text_sql, labels_params, site_row_sql

LOGGER = logging.getLogger(__name__)


# A site row: its stored columns, its geometry as GeoJSON text and its Feature properties per language.
SITE_ROW = site_row_sql()


def select_sites(session: Session, selection: Filter, limit: int | None = None,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Return the sites the filter selects, ordered by id: stored columns, GeoJSON text, properties per language."""
    where, params = filter_clause(selection)
    params.update({"limit": limit, "offset": offset, **labels_params()})
    sql = (f"SELECT {SITE_ROW} FROM {site_source(selection)}"
           f" WHERE {where} ORDER BY s.id LIMIT :limit OFFSET :offset")
    return [dict(row) for row in session.execute(text(sql), params).mappings()]


def iter_sites(session: Session, selection: Filter, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Yield every selected site, fetched in keyset-paged batches to keep memory flat."""
    where, params = filter_clause(selection)
    params.update(labels_params())
    last_id = 0
    while True:
        sql = (f"SELECT {SITE_ROW} FROM {site_source(selection)}"
               f" WHERE {where} AND s.id > :after ORDER BY s.id LIMIT :batch")
        rows = session.execute(text(sql), {**params, "after": last_id, "batch": batch}).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last_id = rows[-1]["id"]


def count_sites(session: Session, selection: Filter) -> int:
    """Return how many sites the filter selects (those whose place is unknown too, unless a bbox is given)."""
    where, params = filter_clause(selection)
    sql = f"SELECT count(*) FROM {counted_source(selection)} WHERE {where}"
    return session.execute(text(sql), params).scalar_one()


def count_by_kind_and_stage(session: Session, selection: Filter) -> dict[str, dict[str, int]]:
    """Return the counts of selected sites per kind and stage."""
    where, params = filter_clause(selection)
    rows = session.execute(text(f"SELECT s.kind, s.stage, count(*) AS n FROM {counted_source(selection)}"
                                f" WHERE {where} GROUP BY s.kind, s.stage"), params)
    counts: dict[str, dict[str, int]] = {}
    for kind, stage, n in rows:
        counts.setdefault(kind, {})[stage] = n
    return counts


def stages_ever_reached(session: Session, selection: Filter) -> set[tuple[str, str]]:
    """Return the (kind, stage) pairs some selected site has a stage event of, whatever its stage now."""
    today = dataclasses.replace(selection, as_of=None)
    where, params = filter_clause(today)
    rows = session.execute(text(f"SELECT DISTINCT s.kind, e.stage FROM {counted_source(today)}"
                                f" JOIN stage_events e ON e.site_id = s.id WHERE {where}"), params)
    return {(kind, stage) for kind, stage in rows}


def extent_of_sites(session: Session, selection: Filter) -> tuple[float, float, float, float] | None:
    """Return the bounding box of the selected sites that have a position, or None when there are none."""
    where, params = filter_clause(selection)
    row = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
        f" (SELECT ST_Extent(s.geom) AS e FROM {counted_source(selection)} WHERE {where}) x"), params).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def get_site(session: Session, site_id: int, as_of: dt.date | None = None) -> dict[str, Any] | None:
    """Return one site by id (a row as select_sites returns them), as it stood at the end of `as_of`, or None.

    With `as_of`, a site that had reached no stage by that day is None, as it is left out of every list then.
    """
    selection = Filter(as_of=as_of)
    where, params = filter_clause(selection)
    params.update({"id": site_id, **labels_params()})
    row = session.execute(text(f"SELECT {SITE_ROW} FROM {site_source(selection)} WHERE {where} AND s.id = :id"),
                          params).mappings().first()
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


def ping(session: Session) -> dict[str, Any]:
    """Return the PostGIS version and the site count, proving the database answers."""
    version = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    sites = session.execute(text("SELECT count(*) FROM sites")).scalar_one()
    return {"postgis": version, "sites": sites}


def select_park_points(session: Session) -> list[dict[str, Any]]:
    """Return each placed park's name, town, precision and a point inside it (for placing sites by park name).

    A park whose place is unknown (precision county) has no point and is left out.
    """
    from shapely import wkb

    rows = session.execute(text(
        "SELECT name, town, precision, ST_AsBinary(ST_PointOnSurface(geom)) AS point FROM sites"
        " WHERE kind = 'park' AND geom IS NOT NULL ORDER BY id")).mappings()
    return [{"name": row["name"], "town": row["town"], "precision": row["precision"],
             "point": wkb.loads(bytes(row["point"]))} for row in rows]


def stream_feature_json(session: Session, selection: Filter, labels: dict[str, Any],
                        chunk: int = 1000) -> Iterator[str]:
    """Yield the selected sites as RFC 7946 Feature JSON texts joined by commas, chunk by chunk, built in PostGIS.

    Each yielded text holds up to `chunk` features in id order; polygons have counter-clockwise exteriors
    and clockwise holes, coordinates to 7 decimals; the properties are those of `site_properties_sql`.
    `labels` holds kind_labels, stage_labels ({kind: {stage: label}}) and precision_labels
    (`site_sql.property_labels`).
    """
    sql, params = feature_stream_sql(selection, labels)
    result = session.execute(text(sql), params, execution_options={"stream_results": True, "yield_per": chunk})
    try:
        for part in result.partitions(chunk):
            yield ",".join(feature for (feature,) in part)
    finally:
        result.close()


def feature_stream_sql(selection: Filter, labels: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the statement yielding one Feature JSON text per selected site in id order, with its parameters."""
    where, params = filter_clause(selection)
    # One row per feature, streamed from a server-side cursor: the first chunk leaves as soon as PostGIS has
    # built its features, instead of after the whole selection was grouped into chunks.
    sql = f"""
        SELECT {feature_text_sql("labels")} AS feature
        FROM {site_source(selection)} WHERE {where} ORDER BY s.id"""
    params["labels"] = json.dumps(labels, ensure_ascii=False)
    return sql, params


def temporal_extent(session: Session, selection: Filter) -> tuple[dt.date | None, dt.date | None]:
    """Return the first and last dates a stage was reached among the selected sites."""
    where, params = filter_clause(selection)
    row = session.execute(text(
        f"SELECT min(e.reached_on), max(e.reached_on) FROM {counted_source(selection)}"
        " JOIN stage_events e ON e.site_id = s.id"
        f" WHERE {where}"), params).one()
    return row[0], row[1]


def site_id_for_kind_and_name(session: Session, kind: str, name: str) -> int | None:
    """Return the id of a site with this kind and name (the key of rows without a code), or None."""
    return session.execute(text("SELECT min(id) FROM sites WHERE kind = :kind AND name = :name"),
                           {"kind": kind, "name": name}).scalar()


def site_id_for_code(session: Session, code: str) -> int | None:
    """Return the id of the site with a code, or None."""
    return session.execute(text("SELECT id FROM sites WHERE code = :code"), {"code": code}).scalar()

