"""Parse the shared query parameters (kind, stage, town, park, q, year, bbox, as_of, reached, alert) into one Filter."""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from typing import Mapping

from .dates import today_in_heshan
from .errors import InvalidParameter
from .sitefields import ALERT_LEVELS
from .vocabulary import KINDS, PRECISIONS, STAGES, TOWNS

LOGGER = logging.getLogger(__name__)
FILTER_PARAMETERS = ("kind", "stage", "town", "park", "q", "year", "bbox", "precision", "datetime", "as_of",
                     "reached", "alert")
FIRST_AS_OF = dt.date(1990, 1, 1)
HESHAN_YEARS = (1900, 2100)
_YEAR_RANGE = re.compile(r"^(\d{4})?(\.\.)?(\d{4})?$")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Filter:
    """What the user selected: empty fields select everything."""

    kinds: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    parks: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    q: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    reached_from: dt.date | None = None
    reached_to: dt.date | None = None
    as_of: dt.date | None = None  # the day the sites are seen as they stood at its end
    reached: tuple[tuple[str, int | None, int | None], ...] = ()  # (stage, first year, last year) reached
    alerts: tuple[str, ...] = ()  # alert levels (yellow, red)

    def value_lists(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Return the filter's value lists, each by its parameter name (also the sites column it matches)."""
        return (("kind", self.kinds), ("stage", self.stages), ("town", self.towns), ("park", self.parks),
                ("precision", self.precisions))

    def query_items(self) -> list[tuple[str, str]]:
        """Return the filter as query-string pairs, the inverse of parse_filter."""
        items: list[tuple[str, str]] = []
        for key, values in self.value_lists():
            if values:
                items.append((key, ",".join(values)))
        if self.q:
            items.append(("q", self.q))
        if self.year_from is not None or self.year_to is not None:
            items.append(("year", format_year_range(self.year_from, self.year_to)))
        if self.bbox:
            items.append(("bbox", ",".join(f"{v:g}" for v in self.bbox)))
        if self.reached_from or self.reached_to:
            items.append(("datetime", f"{self.reached_from or '..'}/{self.reached_to or '..'}"))
        if self.as_of:
            items.append(("as_of", self.as_of.isoformat()))
        if self.reached:
            items.append(("reached", ",".join(f"{stage}:{format_year_range(first, last)}"
                                              for stage, first, last in self.reached)))
        if self.alerts:
            items.append(("alert", ",".join(self.alerts)))
        return items

    def reached_between(self) -> tuple[dt.date | None, dt.date | None]:
        """Return the date bounds a stage must have been reached within (from year and datetime)."""
        start = dt.date(self.year_from, 1, 1) if self.year_from else None
        end = dt.date(self.year_to, 12, 31) if self.year_to else None
        if self.reached_from and (start is None or self.reached_from > start):
            start = self.reached_from
        if self.reached_to and (end is None or self.reached_to < end):
            end = self.reached_to
        return start, end


def format_year_range(year_from: int | None, year_to: int | None) -> str:
    """Return a year range in the query syntax: 2024, 2023.., ..2024 or 2022..2024."""
    if year_from == year_to and year_from is not None:
        return str(year_from)
    return f"{year_from or ''}..{year_to or ''}"


def split_list(args: Mapping[str, object], name: str) -> tuple[str, ...]:
    """Return the comma- or repeat-separated values of a parameter, stripped, without blanks."""
    getlist = getattr(args, "getlist", None)
    raw_values = getlist(name) if getlist else ([args[name]] if name in args else [])
    values: list[str] = []
    for raw in raw_values:
        for part in str(raw).replace("，", ",").split(","):
            part = part.strip()
            if part and part not in values:
                values.append(part)
    return tuple(values)


def parse_choice_list(args: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Return the values of a list parameter, refusing any value outside the vocabulary."""
    values = split_list(args, name)
    for value in values:
        if value not in allowed:
            raise InvalidParameter(name, f"unknown value '{value}'; expected one of {', '.join(allowed)}")
    return values


def parse_year(raw: str) -> tuple[int | None, int | None]:
    """Parse a year or a year range (2024, 2023.., ..2024, 2022..2024)."""
    match = _YEAR_RANGE.match(raw.strip())
    if not match or not (match.group(1) or match.group(3)) or (not match.group(2) and match.group(3)):
        raise InvalidParameter("year", f"'{raw}' is not a year (2024) or a range (2022..2024, 2023..)")
    first = int(match.group(1)) if match.group(1) else None
    last = int(match.group(3)) if match.group(3) else None
    if not match.group(2):
        last = first
    for value in (first, last):
        if value is not None and not HESHAN_YEARS[0] <= value <= HESHAN_YEARS[1]:
            raise InvalidParameter("year", f"{value} is outside {HESHAN_YEARS[0]}–{HESHAN_YEARS[1]}")
    if first is not None and last is not None and first > last:
        raise InvalidParameter("year", f"range '{raw}' ends before it starts")
    return first, last


def parse_as_of(raw: str, today: dt.date | None = None) -> dt.date:
    """Parse as_of=YYYY-MM-DD, a day from 1990 to today (in Heshan)."""
    try:
        value = dt.date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidParameter("as_of", f"'{raw}' is not a date YYYY-MM-DD")
    today = today or today_in_heshan()
    if value > today:
        raise InvalidParameter("as_of", f"{value} is in the future (today is {today})")
    if value < FIRST_AS_OF:
        raise InvalidParameter("as_of", f"{value} is before {FIRST_AS_OF}")
    return value


def parse_reached(args: Mapping[str, object]) -> tuple[tuple[str, int | None, int | None], ...]:
    """Parse reached=STAGE:YEAR or STAGE:YEAR..YEAR, a comma list of them."""
    pairs: list[tuple[str, int | None, int | None]] = []
    for part in split_list(args, "reached"):
        stage, colon, years = part.partition(":")
        stage = stage.strip()
        if not colon or stage not in STAGES:
            raise InvalidParameter("reached", f"'{part}' is not STAGE:YEAR or STAGE:YEAR..YEAR with a stage among "
                                              f"{', '.join(STAGES)}")
        try:
            first, last = parse_year(years)
        except InvalidParameter as error:
            raise InvalidParameter("reached", f"'{part}': {str(error).partition(': ')[2]}") from None
        pairs.append((stage, first, last))
    return tuple(pairs)


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """Parse minlon,minlat,maxlon,maxlat in WGS84 (or six numbers with heights, which are ignored)."""
    parts = raw.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise InvalidParameter("bbox", "expected four numbers: minlon,minlat,maxlon,maxlat")
    try:
        minx, miny, maxx, maxy = (float(part) for part in parts)
    except ValueError:
        raise InvalidParameter("bbox", "expected four numbers: minlon,minlat,maxlon,maxlat") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidParameter("bbox", "values must be finite numbers")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox", "longitudes must lie in [-180, 180] and latitudes in [-90, 90]")
    if minx > maxx or miny > maxy:
        raise InvalidParameter("bbox", "minimum is greater than maximum (expected minlon,minlat,maxlon,maxlat)")
    return minx, miny, maxx, maxy


def parse_datetime(raw: str) -> tuple[dt.date | None, dt.date | None]:
    """Parse an OGC datetime: an RFC 3339 date or date-time, or an interval a/b with .. for open ends."""
    def one(part: str) -> dt.date | None:
        part = part.strip()
        if part in ("..", ""):
            return None
        try:
            if "T" in part or "t" in part:
                return dt.datetime.fromisoformat(part.replace("Z", "+00:00").replace("z", "+00:00")).date()
            return dt.date.fromisoformat(part)
        except ValueError:
            raise InvalidParameter("datetime", f"'{part}' is not an RFC 3339 date or date-time") from None

    parts = raw.split("/")
    if len(parts) == 1:
        value = one(parts[0])
        if value is None:
            raise InvalidParameter("datetime", "an instant cannot be '..'")
        return value, value
    if len(parts) != 2:
        raise InvalidParameter("datetime", "expected an instant or an interval start/end")
    start, end = one(parts[0]), one(parts[1])
    if start and end and start > end:
        raise InvalidParameter("datetime", "the interval ends before it starts")
    return start, end


def parameter_items(args: Mapping[str, object]) -> list[tuple[str, str]]:
    """Return every (name, value) of the parameters, repeated ones included."""
    getlist = getattr(args, "getlist", None)
    if getlist is None:
        return [(str(key), str(value)) for key, value in args.items()]
    return [(str(key), str(value)) for key in args for value in getlist(key)]


def check_characters(args: Mapping[str, object]) -> None:
    """Refuse a NUL or a lone surrogate in any parameter and a control character in a filter parameter."""
    for key, value in parameter_items(args):
        name = key.encode("utf-8", "backslashreplace").decode("utf-8")[:40]
        if _UNSTORABLE.search(key) or _UNSTORABLE.search(value):
            raise InvalidParameter(name, "contains a NUL character or a lone surrogate / 含 NUL 或无效字符")
        if key in FILTER_PARAMETERS and _CONTROL.search(value.strip()):
            raise InvalidParameter(name, "contains a control character (line break, tab …) / 含控制字符")


def parse_filter(args: Mapping[str, object]) -> Filter:
    """Parse the shared filter parameters; raise InvalidParameter naming the bad one."""
    check_characters(args)
    q_raw = str(args.get("q") or "").strip()
    if len(q_raw) > 200:
        raise InvalidParameter("q", "at most 200 characters")
    year_raw = str(args.get("year") or "").strip()
    year_from, year_to = parse_year(year_raw) if year_raw else (None, None)
    bbox_raw = str(args.get("bbox") or "").strip()
    datetime_raw = str(args.get("datetime") or "").strip()
    reached = parse_datetime(datetime_raw) if datetime_raw else (None, None)
    as_of_raw = str(args.get("as_of") or "").strip()
    parks = split_list(args, "park")
    for park in parks:
        if len(park) > 200:
            raise InvalidParameter("park", "a park name is at most 200 characters of text")
    return Filter(
        kinds=parse_choice_list(args, "kind", KINDS),
        stages=parse_choice_list(args, "stage", STAGES),
        towns=parse_choice_list(args, "town", TOWNS),
        parks=parks,
        precisions=parse_choice_list(args, "precision", PRECISIONS),
        q=q_raw or None,
        year_from=year_from,
        year_to=year_to,
        bbox=parse_bbox(bbox_raw) if bbox_raw else None,
        reached_from=reached[0],
        reached_to=reached[1],
        as_of=parse_as_of(as_of_raw) if as_of_raw else None,
        reached=parse_reached(args),
        alerts=parse_choice_list(args, "alert", ALERT_LEVELS),
    )


def parse_paging(args: Mapping[str, object], default_limit: int, max_limit: int) -> tuple[int, int]:
    """Parse limit and offset; refuse negatives, non-integers and limits beyond the maximum."""
    values: dict[str, int] = {}
    for name, default in (("limit", default_limit), ("offset", 0)):
        raw = str(args.get(name) or "").strip()
        if not raw:
            values[name] = default
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise InvalidParameter(name, f"'{raw}' is not a non-negative integer")
        values[name] = int(raw)
    if values["limit"] < 1 or values["limit"] > max_limit:
        raise InvalidParameter("limit", f"must be between 1 and {max_limit}")
    return values["limit"], values["offset"]


def parse_lang(args: Mapping[str, object]) -> str:
    """Return the page language: Chinese by default, English with lang=en."""
    lang = str(args.get("lang") or "zh").strip().lower()
    if lang not in ("zh", "en"):
        raise InvalidParameter("lang", "expected zh or en")
    return lang


def check_parks(selection: Filter, known_parks: list[str]) -> None:
    """Refuse a park filter naming a park that does not exist."""
    for park in selection.parks:
        if park not in known_parks:
            raise InvalidParameter("park", f"unknown park '{park}'")
