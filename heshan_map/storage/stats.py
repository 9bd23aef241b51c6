"""The dashboard's figures in SQL: totals per kind × stage and per town, stages reached per year, the funnel."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..filters import Filter
from ..sitefields import TOTALLED_FIELDS
from ..vocabulary import STAGES
from . import filter_sql
from .filter_sql import filter_clause

LOGGER = logging.getLogger(__name__)
TOTALLED = tuple(field.name for field in TOTALLED_FIELDS)
STAGE_RANKS = " ".join(f"WHEN '{stage}' THEN {rank}" for rank, stage in enumerate(STAGES, start=1))
# The sites `s` with their stage dates `d`, which the filter's clause reads.
# An event counts by the as_of day when it was reached by then (undated: recorded by then, China Standard Time).
EVENT_BY_AS_OF = ("(CAST(:as_of AS date) IS NULL OR COALESCE(e.reached_on,"
                  " CAST((e.recorded_at AT TIME ZONE 'Asia/Shanghai') AS date)) <= CAST(:as_of AS date))")


def sites_from(selection: Filter) -> str:
    """Return the FROM item of the selected sites with their stage dates, as of the filter's day when it has one."""
    return filter_sql.site_source(selection)


def sums_sql() -> str:
    """Return the select list of the site count and the sum of each totalled field (zero when none is set)."""
    sums = ", ".join(f"COALESCE(sum(s.{name}), 0)::float8 AS {name}" for name in TOTALLED)
    return f"count(*)::int AS sites, {sums}"


def grouped(session: Session, selection: Filter, group: str) -> list[dict[str, Any]]:
    """Return the site count and totals of the selected sites grouped by columns of sites s."""
    where, params = filter_clause(selection)
    rows = session.execute(text(
        f"SELECT {group}, {sums_sql()} FROM {sites_from(selection)} WHERE {where}"
        f" GROUP BY {group} ORDER BY {group}"), params)
    return [dict(row) for row in rows.mappings()]


def by_kind_and_stage(session: Session, selection: Filter) -> list[dict[str, Any]]:
    """Return the count and totals of the selected sites per kind and stage."""
    return grouped(session, selection, "s.kind, s.stage")


def by_town_and_stage(session: Session, selection: Filter) -> list[dict[str, Any]]:
    """Return the count and totals of the selected sites per town (None: no town) and stage."""
    return grouped(session, selection, "s.town, s.stage")


def reached_by_year(session: Session, selection: Filter) -> list[dict[str, Any]]:
    """Return per year, stage and kind the selected sites with an event of that stage dated that year.

    The same sites as the filter reached=STAGE:YEAR selects, whatever their stage is now.
    """
    where, params = filter_clause(selection)
    params["as_of"] = selection.as_of
    rows = session.execute(text(f"""
        SELECT y.year, y.stage, s.kind, {sums_sql()}
        FROM {sites_from(selection)}
        JOIN (SELECT DISTINCT e.site_id, e.stage, CAST(extract(year FROM e.reached_on) AS integer) AS year
              FROM stage_events e WHERE e.reached_on IS NOT NULL AND {EVENT_BY_AS_OF}) y ON y.site_id = s.id
        WHERE {where}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""), params)
    return [dict(row) for row in rows.mappings()]


def undated_by_stage(session: Session, selection: Filter) -> dict[str, int]:
    """Return per stage how many selected sites reached it on a date nobody recorded (counted in no year)."""
    where, params = filter_clause(selection)
    params["as_of"] = selection.as_of
    rows = session.execute(text(f"""
        SELECT e.stage, count(DISTINCT s.id)::int FROM {sites_from(selection)}
        JOIN stage_events e ON e.site_id = s.id AND e.reached_on IS NULL AND {EVENT_BY_AS_OF}
        WHERE {where} AND NOT EXISTS (SELECT 1 FROM stage_events x WHERE x.site_id = s.id AND x.stage = e.stage
                                      AND x.reached_on IS NOT NULL)
        GROUP BY e.stage"""), params)
    return {stage: n for stage, n in rows}


def funnel(session: Session, selection: Filter) -> list[dict[str, Any]]:
    """Return per stage the selected sites that ever reached it: an event of that stage or a later one."""
    where, params = filter_clause(selection)
    params["as_of"] = selection.as_of
    rows = session.execute(text(f"""
        WITH furthest AS (
            SELECT s.id, max(CASE e.stage {STAGE_RANKS} END) AS rank
            FROM {sites_from(selection)} JOIN stage_events e ON e.site_id = s.id
            WHERE {where} AND {EVENT_BY_AS_OF}
            GROUP BY s.id)
        SELECT v.stage, count(f.id)::int AS sites
        FROM (VALUES {", ".join(f"('{stage}', {rank})" for rank, stage in enumerate(STAGES, start=1))})
             AS v(stage, rank)
        LEFT JOIN furthest f ON f.rank >= v.rank
        GROUP BY v.stage, v.rank ORDER BY v.rank"""), params)
    return [dict(row) for row in rows.mappings()]
