"""Mapbox Vector Tiles of the selected sites, built by PostGIS (ST_AsMVT), one layer per kind."""
from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..errors import TileTimeout
from ..filters import Filter
from ..sitefields import TILED
from .filter_sql import filter_clause, site_source
from .site_sql import property_sql

LOGGER = logging.getLogger(__name__)
EXTENT = 4096  # tile coordinates per side
BUFFER = 64  # coordinates drawn past the edge, so strokes do not break at tile borders
WORLD_M = 40075016.685578488  # the width of EPSG:3857 in metres


def tolerance_m(zoom: int) -> float:
    """Return the simplification tolerance at a zoom: half a tile coordinate, in metres."""
    return WORLD_M / (2 ** zoom) / EXTENT / 2


def pixel_m(zoom: int) -> float:
    """Return one screen pixel of a 256-pixel tile at a zoom, in metres."""
    return WORLD_M / (2 ** zoom) / 256


def tile_sql(selection: Filter, where: str, kinds: tuple[str, ...]) -> str:
    """Return the statement building one tile: a layer per kind, feature id = site id, the TILED properties."""
    properties = ", ".join(f"{property_sql(field, 'labels')} AS {field.name}" for field in TILED)
    # Lines and polygons are simplified to half a tile unit before ST_AsMVTGeom snaps them to the grid; one
    # smaller than a screen pixel (:pixel metres) each way is drawn as its centroid, so a county-wide tile of
    # many parcels stays small and still shows where they are. Points are kept as they are.
    layers = " || ".join(
        f"COALESCE((SELECT ST_AsMVT(t, '{kind}', {EXTENT}, 'geom', 'id') FROM features t WHERE t.kind = '{kind}'),"
        " ''::bytea)" for kind in kinds)
    return f"""
        WITH box AS (SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
                            ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4326) AS wgs84),
        projected AS (
            SELECT s.id, {properties}, ST_Transform(s.geom, 3857) AS g
            FROM {site_source(selection)}, box
            WHERE {where} AND s.geom && box.wgs84 AND ST_Intersects(s.geom, box.wgs84)),
        features AS (
            SELECT p.id, {", ".join(f"p.{field.name}" for field in TILED)},
                   ST_AsMVTGeom(CASE WHEN ST_Dimension(p.g) = 0 THEN p.g
                                     WHEN ST_XMax(p.g) - ST_XMin(p.g) < :pixel
                                          AND ST_YMax(p.g) - ST_YMin(p.g) < :pixel THEN ST_Centroid(p.g)
                                     ELSE ST_Simplify(p.g, :tolerance, true) END,
                                box.tile, {EXTENT}, {BUFFER}, true) AS geom
            FROM projected p, box)
        SELECT {layers}"""


def select_tile(session: Session, selection: Filter, zoom: int, x: int, y: int, kinds: tuple[str, ...],
                labels: str, timeout_ms: int) -> bytes:
    """Return the MVT bytes of one tile (empty when no selected site is in it) within a statement timeout."""
    where, params = filter_clause(selection)
    params.update({"z": zoom, "x": x, "y": y, "tolerance": tolerance_m(zoom), "pixel": pixel_m(zoom),
                   "labels": labels})
    try:
        with session.begin_nested():
            session.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(int(timeout_ms))})
            body = session.execute(text(tile_sql(selection, where, kinds)), params).scalar_one()
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != "57014":  # query_canceled
            raise
        LOGGER.warning("tile %s/%s/%s took over %s ms", zoom, x, y, timeout_ms)
        raise TileTimeout(f"This tile took longer than {timeout_ms / 1000:g} s to build; zoom in or narrow the "
                          "filter / 该瓦片生成超时，请放大地图或缩小筛选范围") from None
    return bytes(body or b"")
