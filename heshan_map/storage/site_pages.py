"""Feature pages built whole in PostGIS: one statement per page, and the data version that keys their ETag."""
from __future__ import annotations

import dataclasses
import json
import logging
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..filters import Filter
from .filter_sql import counted_source, filter_clause, site_source
from .site_sql import feature_text_sql, property_labels

LOGGER = logging.getLogger(__name__)

# One Feature as JSON text, in the requested language only (`:labels`).
FEATURE_TEXT = feature_text_sql("labels")


@dataclasses.dataclass(frozen=True)
class FeaturePage:
    """One page of features: their JSON texts joined by commas (UTF-8), the counts and whether more follow."""

    features: bytes
    returned: int
    matched: int | None  # None when counting would cost more than COUNT_CAP rows
    more: bool


def page_sql(selection: Filter, where: str) -> str:
    """Return the one statement of a page: features, counts, and the capped count only when it is needed."""
    # `fetched` reads one row past the page, so the last page is known without counting. The running byte sum
    # stops the page at :budget (always keeping its first feature). An uncorrelated sub-select (an InitPlan) runs only when the
    # CASE reaches it, so the capped count costs nothing on the last page.
    return f"""
        WITH fetched AS MATERIALIZED (
            SELECT s.id, {FEATURE_TEXT} AS feature FROM {site_source(selection)}
            WHERE {where} ORDER BY s.id LIMIT :limit + 1 OFFSET :offset),
        numbered AS (
            SELECT id, feature, row_number() OVER (ORDER BY id) AS n,
                   sum(octet_length(feature)) OVER (ORDER BY id) AS total FROM fetched),
        kept AS (SELECT id, feature FROM numbered WHERE n <= :limit AND (n = 1 OR total <= :budget)),
        sizes AS (SELECT (SELECT count(*) FROM fetched) AS fetched, (SELECT count(*) FROM kept) AS returned)
        SELECT z.returned, z.fetched,
               CASE WHEN z.fetched <= :limit AND (z.fetched > 0 OR :offset = 0) THEN :offset + z.fetched
                    ELSE (SELECT count(*) FROM (SELECT 1 FROM {counted_source(selection)} WHERE {where}
                                                LIMIT :cap + 1) capped) END AS counted,
               convert_to(COALESCE((SELECT string_agg(feature, ',' ORDER BY id) FROM kept), ''), 'UTF8') AS body
        FROM sizes z"""


def select_feature_page(session: Session, selection: Filter, lang: str, limit: int, offset: int,
                        budget: int, cap: int) -> FeaturePage:
    """Return one page of the selected sites in id order, built by one statement; count at most `cap` rows."""
    where, params = filter_clause(selection)
    params.update({"limit": limit, "offset": offset, "budget": budget, "cap": cap,
                   "labels": json.dumps(property_labels(lang), ensure_ascii=False)})
    returned, fetched, counted, body = session.execute(text(page_sql(selection, where)), params).one()
    last_page = fetched <= limit and (fetched > 0 or offset == 0)
    matched = counted if last_page or counted <= cap else None
    return FeaturePage(features=bytes(body), returned=returned, matched=matched, more=fetched > returned)


def data_version(session: Session) -> str:
    """Return a short text that changes whenever a site is created, edited or reaches a stage (index lookups)."""
    row = session.execute(text(
        "SELECT (SELECT max(id) FROM sites), (SELECT max(id) FROM site_edits), (SELECT max(id) FROM stage_events),"
        " CAST((now() AT TIME ZONE 'Asia/Shanghai') AS date)")).one()
    return "-".join(str(value) for value in row)
