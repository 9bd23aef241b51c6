"""Partial dates (a year, a month or a day, as reduced-precision ISO 8601) and times as people read them."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

HESHAN_TIMEZONE = ZoneInfo("Asia/Shanghai")
_PARTIAL = re.compile(r"^\s*(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?\s*$")


LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M"  # how pages show a moment: 2026-12-02 08:29, China Standard Time


def format_local_time(value: dt.datetime | str | None) -> str:
    """Return a moment (an aware datetime or ISO 8601 text with an offset) as Heshan's clock shows it."""
    if value is None or value == "":
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"a moment without a time zone cannot be shown in Heshan's time: {value!r}")
    return moment.astimezone(HESHAN_TIMEZONE).strftime(LOCAL_TIME_FORMAT)


def today_in_heshan() -> dt.date:
    """Return today's date in Heshan (China Standard Time), whatever the server's clock zone."""
    return dt.datetime.now(HESHAN_TIMEZONE).date()


@dataclass(frozen=True)
class PartialDate:
    """A date known to a year, a month or a day."""

    value: dt.date
    precision: str  # "year" | "month" | "day"

    def isoformat(self) -> str:
        """Return the date as reduced-precision ISO 8601 ("2024", "2024-04", "2024-04-21")."""
        return format_partial_date(self.value, self.precision)


def format_partial_date(value: dt.date | None, precision: str | None) -> str | None:
    """Return a stored date as ISO 8601 reduced to its known precision."""
    if value is None:
        return None
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def parse_partial_date(text: object) -> PartialDate | None:
    """Parse a year, year-month or full date (ISO, 2024/4/21 or 2024年4月21日); None when blank."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return PartialDate(text.date(), "day")
    if isinstance(text, dt.date):
        return PartialDate(text, "day")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if float(text).is_integer() and 1900 <= int(text) <= 2100:
            return PartialDate(dt.date(int(text), 1, 1), "year")
        raise ValueError(f"not a date: {text!r}")
    raw = str(text).strip()
    if not raw:
        return None
    match = _PARTIAL.match(raw)
    if not match:
        raise ValueError(f"not a date: {raw!r} (use 2024, 2024-04 or 2024-04-21)")
    year, month, day = match.groups()
    try:
        if day:
            return PartialDate(dt.date(int(year), int(month), int(day)), "day")
        if month:
            return PartialDate(dt.date(int(year), int(month), 1), "month")
        return PartialDate(dt.date(int(year), 1, 1), "year")
    except ValueError:
        raise ValueError(f"not a date: {raw!r}") from None
