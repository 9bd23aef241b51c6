"""Read what changed: stage events, edits and site creations over the filtered sites, newest first."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..filters import Filter
from .filter_sql import filter_clause, site_source

LOGGER = logging.getLogger(__name__)

# Every change of a site as one row: a stage reached, an edit, or the site's creation (kept on the site itself).
# `rank` orders changes recorded at the same moment (one transaction): creation, then edits, then stage events.
# The `since` bound is repeated in each branch so PostgreSQL filters before it sorts.
CHANGES_FROM = """
    (SELECT 'stage' AS type, NULL AS action, 2 AS rank, e.id AS entry_id, e.site_id, e.recorded_at AS at,
            e.recorded_by AS who, e.stage, e.reached_on, e.date_precision, e.upload_id, NULL::jsonb AS changes
     FROM stage_events e WHERE CAST(:since AS timestamptz) IS NULL OR e.recorded_at >= :since
     UNION ALL
     SELECT 'edit', x.action, 1, x.id, x.site_id, x.edited_at, x.edited_by, NULL, NULL, NULL, x.upload_id, x.changes
     FROM site_edits x WHERE CAST(:since AS timestamptz) IS NULL OR x.edited_at >= :since
     UNION ALL
     SELECT 'edit', 'create', 0, c.id, c.id, c.created_at, c.created_by, NULL, NULL, NULL, c.created_upload_id,
            NULL::jsonb
     FROM sites c WHERE CAST(:since AS timestamptz) IS NULL OR c.created_at >= :since) ch"""


def changes_from(selection: Filter) -> str:
    """Return the FROM clause of the changes joined to the selected sites (as of the filter's day, with dates)."""
    return f"{CHANGES_FROM} JOIN {site_source(selection)} ON s.id = ch.site_id"


def select_changes(session: Session, selection: Filter, since: dt.datetime | None,
                   limit: int, offset: int) -> list[dict[str, Any]]:
    """Return one page of the changes of the selected sites recorded since a moment, newest first."""
    where, params = filter_clause(selection)
    rows = session.execute(text(f"""
        SELECT ch.type, ch.action, ch.entry_id, ch.site_id, ch.at, ch.who, ch.stage, ch.reached_on,
               ch.date_precision, ch.upload_id, ch.changes,
               s.name AS site_name, s.kind AS site_kind, s.town AS site_town
        FROM {changes_from(selection)}
        WHERE {where}
        ORDER BY ch.at DESC, ch.rank DESC, ch.entry_id DESC
        LIMIT :limit OFFSET :offset"""), {**params, "since": since, "limit": limit, "offset": offset}).mappings()
    return [dict(row) for row in rows]


def count_changes(session: Session, selection: Filter, since: dt.datetime | None) -> int:
    """Return how many changes of the selected sites were recorded since a moment."""
    where, params = filter_clause(selection)
    return int(session.execute(text(f"SELECT count(*) FROM {changes_from(selection)} WHERE {where}"),
                               {**params, "since": since}).scalar_one())
