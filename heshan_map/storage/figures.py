"""The county totals the source documents report (reported_figures): loaded from the seed, read by the API."""
from __future__ import annotations

import logging
from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

LOGGER = logging.getLogger(__name__)

FIGURE_KEYS = ("year", "metric", "stage", "kind")  # what names one figure (reported_figures' unique key)
FIGURE_VALUES = ("value", "unit", "source")
FIGURES_SQL = """
    SELECT * FROM unnest(CAST(:year AS integer[]), CAST(:metric AS text[]), CAST(:stage AS text[]),
                         CAST(:kind AS text[]), CAST(:value AS numeric[]), CAST(:unit AS text[]),
                         CAST(:source AS text[])) AS n(year, metric, stage, kind, value, unit, source)"""


def sync_reported_figures(session: Session, figures: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Make reported_figures hold exactly these figures: insert new, update changed, delete others; return counts.

    Loading the same figures again changes nothing (ids, rows and counts stay).
    """
    params = {key: [figure[key] for figure in figures] for key in FIGURE_KEYS + FIGURE_VALUES}
    deleted = session.execute(text(f"""
        DELETE FROM reported_figures f WHERE NOT EXISTS (
            SELECT 1 FROM ({FIGURES_SQL}) n
            WHERE (n.year, n.metric, n.stage, n.kind) IS NOT DISTINCT FROM (f.year, f.metric, f.stage, f.kind))"""),
        params).rowcount
    written = session.execute(text(f"""
        INSERT INTO reported_figures (year, metric, stage, kind, value, unit, source)
        SELECT year, metric, stage, kind, value, unit, source FROM ({FIGURES_SQL}) n
        ON CONFLICT (year, metric, stage, kind) DO UPDATE
            SET value = EXCLUDED.value, unit = EXCLUDED.unit, source = EXCLUDED.source
            WHERE (reported_figures.value, reported_figures.unit, reported_figures.source)
                  IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.source)"""), params).rowcount
    counts = {"written": written or 0, "deleted": deleted or 0, "figures": len(figures)}
    LOGGER.info("reported figures: %s", counts)
    return counts


def select_reported_figures(session: Session) -> list[dict[str, Any]]:
    """Return every reported figure (year, stage, kind, metric, value, unit, source), by year, metric, stage, kind."""
    rows = session.execute(text(
        "SELECT year, stage, kind, metric, value::float8 AS value, unit, source FROM reported_figures"
        " ORDER BY year, metric, stage NULLS FIRST, kind NULLS FIRST")).mappings()
    return [dict(row) for row in rows]
