"""Write sites: the set-based upsert of records, with stage events and edits (its steps in site_write_steps)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..records import SiteRecord
from ..sitefields import KEEPS_WHEN_EMPTY
from . import site_places
from . import site_write_steps as steps
from .site_places import rederive_parks, rederive_towns
from .site_write_steps import StaleVersion
from .stage_checks import stage_regressions

LOGGER = logging.getLogger(__name__)
__all__ = ["OPTIONAL_FIELDS", "StaleVersion", "UpsertResult", "lift_statement_timeout", "lock_site_writes",
           "rederive_parks", "rederive_towns", "stage_regressions", "upsert_sites"]

# The fields an upload or edit that leaves them empty does not erase; a PATCH empties them with an explicit null.
OPTIONAL_FIELDS = KEEPS_WHEN_EMPTY


@dataclass
class UpsertResult:
    """What an upsert did: counts, and the action and site id per input row."""

    created: int
    updated: int
    unchanged: int
    actions: dict[int, tuple[str, int]]
    rederived: int = 0  # other stored sites whose derived park changed because a park row changed


# Rows without a code are matched by kind and name, which no unique index guards, and twin coded uploads
# would collide on sites.code: every transaction that writes sites first takes this one advisory lock,
# so the second writer waits and then sees what the first committed.
SITE_WRITE_LOCK_KEY = 7_305_120_417


def lock_site_writes(session: Session) -> None:
    """Wait for other site writes to commit (at most lock_timeout), and hold the lock until this transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SITE_WRITE_LOCK_KEY})


def lift_statement_timeout(session: Session) -> None:
    """Let this session's statements run as long as they need (the command line's long imports and exports)."""
    session.execute(text("SELECT set_config('statement_timeout', '0', false)"))


def upsert_sites(session: Session, records: Iterable[SiteRecord], actor: str | None,
                 upload_id: int | None = None, default_stage_date: dt.date | None = None,
                 default_source: str | None = None) -> UpsertResult:
    """Create or update sites by code in one set-based pass; record stage events and edits.

    An optional field the record leaves empty keeps the site's current value (a file without an
    investment column does not erase investments). A record without a geometry (precision county) is stored
    without one and never given a town or park. When a park row is created, moved or renamed, the stored sites
    whose park was derived from their position are derived again. The caller commits.
    """
    lock_site_writes(session)
    steps.load_incoming(session, list(records))
    steps.match_sites(session)
    steps.lock_and_check_versions(session)
    steps.derive_town_and_park(session)
    steps.keep_stored_values(session)
    steps.derive_stage_events(session, default_stage_date)
    steps.classify_rows(session, default_source)
    site_places.note_changed_parks(session)
    steps.write_changes(session, actor, upload_id)
    rederived = site_places.rederive_around_changed_parks(session, actor, upload_id)
    actions = steps.collect_actions(session)
    counts = {name: sum(1 for action, _ in actions.values() if action == name)
              for name in ("create", "update", "unchanged")}
    LOGGER.info("upsert: %s, %s other site(s) derived again", counts, rederived)
    return UpsertResult(counts["create"], counts["update"], counts["unchanged"], actions, rederived)
