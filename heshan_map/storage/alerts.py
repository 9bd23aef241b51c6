"""Read the overdue sites: those a yellow or red alert flags at the as_of day, most overdue first."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..filters import Filter
from ..sitefields import ALERT_LEVELS
from ..vocabulary import STAGES
from .filter_sql import filter_clause, site_source
from .site_sql import ALERT, ALERT_DAY, DAYS_IN_STAGE, DAYS_OVERDUE, RULE_MONTHS, partial_date_sql

LOGGER = logging.getLogger(__name__)
# The date a site entered its current stage, to the precision it is known to (2024, 2024-05, 2024-05-01).
ENTERED_ON = "CASE s.stage " + " ".join(
    f"WHEN '{stage}' THEN {partial_date_sql(f'd.{stage}_on', f'd.{stage}_precision')}" for stage in STAGES) + " END"
ENTERED_PRECISION = "CASE s.stage " + " ".join(
    f"WHEN '{stage}' THEN d.{stage}_precision" for stage in STAGES) + " END"


def select_alerts(session: Session, selection: Filter) -> list[dict[str, Any]]:
    """Return the flagged sites the filter selects (yellow and red unless it names levels), most overdue first.

    Each row: id, code, name, kind, stage, town, park, entered_on (the stage's date as known), entered_precision,
    days_in_stage, alert, days_overdue (days past the yellow threshold), yellow_months, red_months, day.
    """
    flagged = selection if selection.alerts else dataclasses.replace(selection, alerts=ALERT_LEVELS)
    where, params = filter_clause(flagged)
    sql = f"""
        SELECT s.id, s.code, s.name, s.kind, s.stage, s.town, s.park, {ENTERED_ON} AS entered_on,
               {ENTERED_PRECISION} AS entered_precision, {DAYS_IN_STAGE} AS days_in_stage, {ALERT} AS alert,
               {DAYS_OVERDUE} AS days_overdue, {RULE_MONTHS.format('yellow')} AS yellow_months,
               {RULE_MONTHS.format('red')} AS red_months, {ALERT_DAY} AS day
        FROM {site_source(flagged)} WHERE {where}
        ORDER BY days_overdue DESC, s.name, s.id"""
    return [dict(row) for row in session.execute(text(sql), params).mappings()]
