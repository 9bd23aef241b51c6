"""Find the rows that would move a stored site back to a stage earlier than one it already reached."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..dates import format_partial_date, today_in_heshan
from ..records import SiteRecord
from ..vocabulary import STAGES, stage_label

LOGGER = logging.getLogger(__name__)

STAGE_ARRAY = "ARRAY[" + ", ".join(f"'{stage}'" for stage in STAGES) + "]"
# Each row's site, matched as the upsert matches it (by id, else by code, else by kind and name when it has no
# code), and the latest stage that site reached: its furthest stage event, or its stage when no event is further.
REACHED_SQL = f"""
    WITH rows AS (
        SELECT * FROM unnest(CAST(:rows AS integer[]), CAST(:ids AS bigint[]), CAST(:codes AS text[]),
                             CAST(:kinds AS text[]), CAST(:names AS text[]), CAST(:stages AS text[]))
                      AS r(row_no, given_id, code, kind, name, stage)
    ), matched AS (
        SELECT r.row_no, r.stage, COALESCE(
            (SELECT s.id FROM sites s WHERE s.id = r.given_id),
            (SELECT s.id FROM sites s WHERE r.given_id IS NULL AND s.code = r.code),
            (SELECT min(s.id) FROM sites s WHERE r.given_id IS NULL AND r.code IS NULL
                                            AND s.kind = r.kind AND s.name = r.name)) AS site_id
        FROM rows r
    )
    SELECT m.row_no, reached.stage, reached.reached_on, reached.date_precision
    FROM matched m
    CROSS JOIN LATERAL (
        SELECT stage, reached_on, date_precision FROM (
            SELECT e.stage, e.reached_on, e.date_precision, 1 AS from_event, e.recorded_at, e.id
            FROM stage_events e WHERE e.site_id = m.site_id
            UNION ALL
            SELECT s.stage, NULL::date, NULL, 0, NULL, NULL FROM sites s WHERE s.id = m.site_id
        ) known
        ORDER BY array_position({STAGE_ARRAY}, stage) DESC, from_event DESC, recorded_at DESC, id DESC
        LIMIT 1) reached
    WHERE m.site_id IS NOT NULL
      AND array_position({STAGE_ARRAY}, reached.stage) > array_position({STAGE_ARRAY}, m.stage)
    ORDER BY m.row_no"""


def regression_message(record: SiteRecord, reached: str, reached_on: str | None, row_on: str,
                       row_on_given: bool) -> str:
    """Return the row error of a stage going back, naming both stages and both dates, in Chinese and English."""
    zh_row = row_on if row_on_given else f"未给日期，按今天 {row_on}"
    en_row = row_on if row_on_given else f"no date given, so today {row_on}"
    zh_reached = f"已于 {reached_on} " if reached_on else "已（日期不详）"
    en_reached = f"on {reached_on}" if reached_on else "(date unknown)"
    return (f"阶段不能倒退：本行为“{stage_label(record.kind, record.stage)}”（{zh_row}），但该站点{zh_reached}"
            f"达到“{stage_label(record.kind, reached)}” / the stage cannot go back: this row sets "
            f"{record.stage} ({en_row}) but the site already reached {reached} {en_reached}")


def stage_regressions(session: Session, records: Sequence[SiteRecord],
                      default_date: dt.date | None = None) -> dict[int, str]:
    """Return, by row number, the rows setting a stage earlier than one their stored site already reached.

    The site is matched as the upsert matches it; the message names the row's date of its stage (or the
    default date, today in Heshan, that the upload would record) and the date the later stage was reached.
    """
    if not records:
        return {}
    rows = session.execute(text(REACHED_SQL), {
        "rows": [record.row for record in records], "ids": [record.site_id for record in records],
        "codes": [record.code for record in records], "kinds": [record.kind for record in records],
        "names": [record.name for record in records], "stages": [record.stage for record in records]}).all()
    by_row = {record.row: record for record in records}
    today = (default_date or today_in_heshan()).isoformat()
    problems: dict[int, str] = {}
    for row_no, reached, reached_on, precision in rows:
        record = by_row[row_no]
        given = record.stage_dates.get(record.stage)
        problems[row_no] = regression_message(record, reached, format_partial_date(reached_on, precision),
                                              given.isoformat() if given else today, given is not None)
    if problems:
        LOGGER.info("stage regressions in rows %s", sorted(problems))
    return problems
