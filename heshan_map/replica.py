"""Reads from a streaming replica: whether a request may read it, and whether it is up and close enough behind."""
from __future__ import annotations

import logging
import math
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .storage import database

LOGGER = logging.getLogger(__name__)
# The cookie a response that wrote sets: its value is the write's Unix time; it lives READ_AFTER_WRITE_S seconds.
WROTE_COOKIE = "heshan_wrote"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wrote_recently(cookie: str | None, window_s: float, now: float | None = None) -> bool:
    """Tell whether a write-time cookie says the client wrote less than window_s seconds ago."""
    if not cookie:
        return False
    try:
        wrote_at = float(cookie)
    except ValueError:
        return False
    now = time.time() if now is None else now
    return math.isfinite(wrote_at) and now - window_s < wrote_at <= now + 1.0


def first_line(error: BaseException) -> str:
    """Return the first line of a database error's message, without the SQL."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else error.__class__.__name__


class ReplicaRouter:
    """Know whether the replica may serve reads: reachable and at most max_lag_s behind, checked every check_s."""

    def __init__(self, engine: Engine, max_lag_s: float, check_s: float, log_interval_s: float) -> None:
        """Hold the replica's engine and the bounds; nothing is checked until the first read."""
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self.log_interval_s = log_interval_s
        self._lock = threading.Lock()
        self._checked_at = -math.inf
        self._usable = False
        self._reason = "not checked yet"
        self._warned_at = -math.inf

    def state(self) -> dict[str, object]:
        """Return whether reads go to the replica now, and why not when they do not."""
        usable = self.usable()
        return {"in_use": usable, **({} if usable else {"reason": self._reason})}

    def usable(self) -> bool:
        """Tell whether reads may go to the replica, checking it when the last check is older than check_s."""
        if time.monotonic() - self._checked_at < self.check_s:
            return self._usable
        never_checked = self._checked_at == -math.inf
        if not self._lock.acquire(blocking=never_checked):
            return self._usable  # another thread is checking: keep the last answer rather than wait
        try:
            if time.monotonic() - self._checked_at >= self.check_s:
                self._set(*self._probe())
        finally:
            self._lock.release()
        return self._usable

    def mark_down(self, error: BaseException) -> None:
        """Record that a connection to the replica failed, so reads go to the primary until the next check."""
        self._set(False, f"unreachable ({first_line(error)})")

    def _probe(self) -> tuple[bool, str]:
        """Ask the replica how far behind it is; return (usable, reason when not)."""
        try:
            with self.engine.connect() as connection:
                lag = database.replica_lag_seconds(connection)
        except SQLAlchemyError as error:
            return False, f"unreachable ({first_line(error)})"
        if lag > self.max_lag_s:
            return False, f"{lag:.1f} s behind the primary (bound {self.max_lag_s:g} s)"
        return True, ""

    def _set(self, usable: bool, reason: str) -> None:
        """Keep a check's answer and log a change: a warning at most once per log interval, recovery once."""
        was_usable = self._usable
        self._usable, self._reason, self._checked_at = usable, reason, time.monotonic()
        where = self.engine.url.render_as_string(hide_password=True)
        if not usable and time.monotonic() - self._warned_at >= self.log_interval_s:
            self._warned_at = time.monotonic()
            LOGGER.warning("reads go to the primary: the replica %s is %s", where, reason)
        elif usable and not was_usable and self._warned_at != -math.inf:
            LOGGER.info("reads go to the replica %s again", where)
