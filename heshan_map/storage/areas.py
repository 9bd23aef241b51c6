"""Reference areas (the county and its towns): read, write, and containment checks."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


LOGGER = logging.getLogger(__name__)


def select_admin_areas(session: Session, level: str) -> list[dict[str, Any]]:
    """Return the county or the towns with their geometry as GeoJSON text."""
    rows = session.execute(text(
        "SELECT id, level, name, name_en, precision, source, ST_AsGeoJSON(geom, 6) AS geometry"
        " FROM admin_areas WHERE level = :level ORDER BY id"), {"level": level}).mappings()
    return [dict(row) for row in rows]


def upsert_admin_area(session: Session, level: str, name: str, name_en: str | None, precision: str,
                      source: str, geometry_wkb: bytes) -> bool:
    """Create or replace a reference area by level and name; return whether it was new or changed.

    The caller derives the sites' towns again when a town changed (site_writes.rederive_towns).
    """
    result = session.execute(text("""
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
    return bool(result.rowcount)


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


def county_geometry_wkb(session: Session) -> bytes | None:
    """Return the county boundary as WKB, or None when it is not loaded."""
    value = session.execute(text(
        "SELECT ST_AsBinary(geom) FROM admin_areas WHERE level = 'county' LIMIT 1")).scalar()
    return bytes(value) if value is not None else None

