"""Derive again the towns and parks that came from a site's position when the towns or the parks change.

A site's town or park is either given by its owner (never overwritten here) or derived from its position
(`sites.town_derived`, `sites.park_derived`). When a park is created, moved, renamed or stops being a park,
the derived parks of the sites it covered or now covers are derived again (a step of the upsert, after it
wrote); when a town is written, every derived town is. Sites placed only at their town (precision `town`)
are never put in a park, and sites whose place is unknown (precision `county`) are never joined. Each site
that changes gets an edit in its history and a new version, so caches and editors see the change.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .site_write_steps import smallest_park_sql, town_at_sql

LOGGER = logging.getLogger(__name__)

# A stored site whose position speaks for its town and park: it has one, and it is more than its town.
PLACED_SITE = "s.geom IS NOT NULL AND s.precision NOT IN ('town', 'county')"
# The parks whose shapes place sites, as they are stored now.
STORED_PARK_SHAPES = ("(SELECT id, code, name, geom, ST_Area(geom) AS area FROM sites WHERE kind = 'park'"
                      " AND geom IS NOT NULL AND precision NOT IN ('town', 'county'))")
TOWN_AREAS = "(SELECT name, geom FROM admin_areas WHERE level = 'town')"


def note_changed_parks(session: Session) -> None:
    """Create `changed_parks`: the old and new shape and name of each park row the upsert creates or updates.

    A row that turns a park into another kind counts too: the sites its old shape covered lose it.
    """
    session.execute(text("""
        CREATE TEMP TABLE changed_parks ON COMMIT DROP AS
        SELECT s.geom AS old_geom, s.name AS old_name, i.geom AS new_geom, i.name AS new_name
        FROM incoming i LEFT JOIN sites s ON s.id = i.site_id
        WHERE i.action IN ('create', 'update') AND (i.kind = 'park' OR s.kind = 'park')"""))


def apply_derived(session: Session, field: str, candidates_sql: str, params: dict[str, Any]) -> int:
    """Set `field` of the candidate sites (id, old, new) whose derived value changed; record each edit; return how many."""
    result = session.execute(text(f"""
        WITH candidates AS ({candidates_sql}),
        changed AS (SELECT id, old, new FROM candidates WHERE new IS DISTINCT FROM old),
        edits AS (INSERT INTO site_edits (site_id, action, changes, edited_by, upload_id)
                  SELECT id, 'update', jsonb_build_object('{field}', jsonb_build_array(old, new)), :actor, :upload_id
                  FROM changed)
        UPDATE sites s SET {field} = c.new, updated_at = now(), version = s.version + 1
        FROM changed c WHERE s.id = c.id"""), {"actor": None, "upload_id": None, **params})
    return result.rowcount or 0


def rederive_around_changed_parks(session: Session, actor: str | None, upload_id: int | None) -> int:
    """Derive again the park of the stored sites a changed park covered or covers (not the rows just written)."""
    if not session.execute(text("SELECT EXISTS (SELECT 1 FROM changed_parks)")).scalar_one():
        return 0
    touched = ("EXISTS (SELECT 1 FROM changed_parks c WHERE ST_Intersects(c.old_geom, ST_PointOnSurface(s.geom))"
               " OR ST_Intersects(c.new_geom, ST_PointOnSurface(s.geom)) OR s.park IN (c.old_name, c.new_name))")
    candidates = (f"SELECT s.id, s.park AS old, {smallest_park_sql(STORED_PARK_SHAPES, 's')} AS new FROM sites s"
                  f" WHERE s.park_derived AND s.kind <> 'park' AND {PLACED_SITE}"
                  f" AND s.id NOT IN (SELECT site_id FROM incoming) AND {touched}")
    count = apply_derived(session, "park", candidates, {"actor": actor, "upload_id": upload_id})
    if count:
        LOGGER.info("park derived again for %s site(s) around changed parks", count)
    return count


def rederive_parks(session: Session, actor: str | None = None) -> int:
    """Derive again the park of every site whose park was derived; return how many changed."""
    candidates = (f"SELECT s.id, s.park AS old, {smallest_park_sql(STORED_PARK_SHAPES, 's')} AS new FROM sites s"
                  f" WHERE s.park_derived AND s.kind <> 'park' AND {PLACED_SITE}")
    count = apply_derived(session, "park", candidates, {"actor": actor})
    LOGGER.info("park derived again for %s site(s)", count)
    return count


def rederive_towns(session: Session, actor: str | None = None) -> int:
    """Derive again the town of every site whose town was derived (after the towns were written); return how many."""
    candidates = (f"SELECT s.id, s.town AS old, {town_at_sql(TOWN_AREAS, 's')} AS new FROM sites s"
                  f" WHERE s.town_derived AND {PLACED_SITE}")
    count = apply_derived(session, "town", candidates, {"actor": actor})
    LOGGER.info("town derived again for %s site(s)", count)
    return count
