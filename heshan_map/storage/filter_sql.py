"""The WHERE clause of the shared filters over `sites s`, always with bound parameters."""
from __future__ import annotations

import logging
from typing import Any


from ..filters import Filter

LOGGER = logging.getLogger(__name__)


def filter_clause(selection: Filter) -> tuple[str, dict[str, Any]]:
    """Return the WHERE clause of a filter over `sites s`, with its bound parameters."""
    parts = ["TRUE"]
    params: dict[str, Any] = {}
    for column, values in selection.value_lists():
        if values:
            parts.append(f"s.{column} = ANY(:f_{column})")
            params[f"f_{column}"] = list(values)
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
    if selection.bbox:  # a site without a position (precision county) is in no box
        parts.append("ST_Intersects(s.geom, ST_MakeEnvelope(:f_minx, :f_miny, :f_maxx, :f_maxy, 4326))")
        params.update(dict(zip(("f_minx", "f_miny", "f_maxx", "f_maxy"), selection.bbox)))
    return " AND ".join(parts), params

