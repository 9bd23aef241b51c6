"""The WHERE clause of the shared filters over `sites s`, and the sites as of a day, always with bound parameters."""
from __future__ import annotations

import logging
from typing import Any

from ..filters import Filter
from ..sitefields import STORED_FIELDS
from ..vocabulary import STAGES
from .site_sql import ALERT, alert_params

LOGGER = logging.getLogger(__name__)

# The day an event counts as reached: its date, or the day (China Standard Time) it was recorded when it has none.
EVENT_DAY = "COALESCE({0}.reached_on, CAST(({0}.recorded_at AT TIME ZONE 'Asia/Shanghai') AS date))"
STAGE_ORDER = "array_position(ARRAY[" + ", ".join(f"'{stage}'" for stage in STAGES) + "]::text[], {0}.stage::text)"
# Every column of sites but stage, which a day's view takes from the stage events.
_OTHER_COLUMNS = [field.name for field in STORED_FIELDS if field.name != "stage"] + [
    "geom", "created_by", "created_upload_id"]
# A site's stage at the end of the day :f_as_of: the stage of its latest event reached by then (on one day, the
# furthest stage); a site that had reached no stage is left out.
SITES_AS_OF = (
    "(SELECT " + ", ".join(f"s0.{column}" for column in _OTHER_COLUMNS) + ", a.stage"
    " FROM sites s0 JOIN LATERAL (SELECT e.stage FROM stage_events e WHERE e.site_id = s0.id"
    f" AND {EVENT_DAY.format('e')} <= :f_as_of"
    f" ORDER BY {EVENT_DAY.format('e')} DESC, {STAGE_ORDER.format('e')} DESC, e.recorded_at DESC, e.id DESC"
    " LIMIT 1) a ON TRUE) s")
# Each site's stage dates (as of a day: {0} holds the condition on its events): per stage, its newest recorded
# event. A LATERAL subquery per site, so a page, a tile or a bbox reads the events of its own sites by the
# (site_id, stage, recorded_at) index instead of ranking every event of the county, as the view would.
DATES_OF_SITE = (
    "LATERAL (SELECT " + ", ".join(
        f"max(r.reached_on) FILTER (WHERE r.stage = '{stage}' AND r.rn = 1) AS {stage}_on,"
        f" max(r.date_precision) FILTER (WHERE r.stage = '{stage}' AND r.rn = 1) AS {stage}_precision"
        for stage in STAGES) +
    " FROM (SELECT e.stage, e.reached_on, e.date_precision, row_number() OVER"
    " (PARTITION BY e.stage ORDER BY e.recorded_at DESC, e.id DESC) AS rn"
    " FROM stage_events e WHERE e.site_id = s.id{0}) r) d")
DATES_AS_OF = DATES_OF_SITE.format(f" AND {EVENT_DAY.format('e')} <= :f_as_of")


def sites_source(selection: Filter) -> str:
    """Return the FROM item `s` of the sites: the table, or the sites as they stood at the filter's as_of day."""
    return SITES_AS_OF if selection.as_of else "sites s"


def dates_source(selection: Filter) -> str:
    """Return the FROM item `d` of a site's stage dates (LATERAL over its events), as of the filter's day when it has one."""
    return DATES_AS_OF if selection.as_of else DATES_OF_SITE.format("")


def site_source(selection: Filter) -> str:
    """Return the FROM clause of sites `s` with their stage dates `d` (as of the filter's day when it has one)."""
    return f"{sites_source(selection)} LEFT JOIN {dates_source(selection)} ON TRUE"


def counted_source(selection: Filter) -> str:
    """Return the FROM clause a count needs: the stage dates only when the alert filter reads them."""
    return site_source(selection) if selection.alerts else sites_source(selection)


def _reached_clause(selection: Filter, params: dict[str, Any]) -> str | None:
    """Return the year/datetime condition (a stage reached within the bounds, by the as_of day), or None."""
    reached_from, reached_to = selection.reached_between()
    if reached_from is None and reached_to is None:
        return None
    params["f_from"] = reached_from
    params["f_to"] = reached_to
    params["f_year_stages"] = list(selection.stages) or None
    return ("EXISTS (SELECT 1 FROM stage_events e WHERE e.site_id = s.id AND e.reached_on IS NOT NULL"
            " AND (CAST(:f_from AS date) IS NULL OR e.reached_on >= :f_from)"
            " AND (CAST(:f_to AS date) IS NULL OR e.reached_on <= :f_to)"
            + (f" AND {EVENT_DAY.format('e')} <= :f_as_of" if selection.as_of else "") +
            " AND (CAST(:f_year_stages AS text[]) IS NULL OR e.stage = ANY(:f_year_stages)))")


def _stage_years_clause(selection: Filter, params: dict[str, Any]) -> str | None:
    """Return the reached=STAGE:YEAR condition (any of the pairs, from the stage events), or None."""
    if not selection.reached:
        return None
    alternatives = []
    for number, (stage, first, last) in enumerate(selection.reached):
        params[f"f_rs{number}"] = stage
        params[f"f_rf{number}"] = first
        params[f"f_rt{number}"] = last
        alternatives.append(
            f"(e.stage = :f_rs{number} AND (CAST(:f_rf{number} AS integer) IS NULL"
            f" OR EXTRACT(YEAR FROM e.reached_on) >= :f_rf{number})"
            f" AND (CAST(:f_rt{number} AS integer) IS NULL OR EXTRACT(YEAR FROM e.reached_on) <= :f_rt{number}))")
    as_of = f" AND {EVENT_DAY.format('e')} <= :f_as_of" if selection.as_of else ""
    return ("EXISTS (SELECT 1 FROM stage_events e WHERE e.site_id = s.id AND e.reached_on IS NOT NULL"
            f"{as_of} AND ({' OR '.join(alternatives)}))")


def filter_clause(selection: Filter) -> tuple[str, dict[str, Any]]:
    """Return the WHERE clause of a filter over `sites s` (from `sites_source`), with its bound parameters."""
    parts = ["TRUE"]
    params: dict[str, Any] = alert_params(selection.as_of)
    if selection.as_of:
        params["f_as_of"] = selection.as_of
    if selection.alerts:
        parts.append(f"({ALERT}) = ANY(:f_alerts)")
        params["f_alerts"] = list(selection.alerts)
    for column, values in selection.value_lists():
        if values:
            parts.append(f"s.{column} = ANY(:f_{column})")
            params[f"f_{column}"] = list(values)
    if selection.q:
        parts.append("(s.name ILIKE :f_q ESCAPE '\\' OR s.name_en ILIKE :f_q ESCAPE '\\' "
                     "OR s.code ILIKE :f_q ESCAPE '\\')")
        escaped = selection.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["f_q"] = f"%{escaped}%"
    for clause in (_reached_clause(selection, params), _stage_years_clause(selection, params)):
        if clause:
            parts.append(clause)
    if selection.bbox:  # a site without a position (precision county) is in no box
        parts.append("ST_Intersects(s.geom, ST_MakeEnvelope(:f_minx, :f_miny, :f_maxx, :f_maxy, 4326))")
        params.update(dict(zip(("f_minx", "f_miny", "f_maxx", "f_maxy"), selection.bbox)))
    return " AND ".join(parts), params
