"""Match upload column headers, Chinese or English, to site fields; read units from brackets."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ..sitefields import FIELDS, INPUT_FIELDS, export_only_headers

LOGGER = logging.getLogger(__name__)

# The fields an upload row may have: the site's fields that have header aliases, and the input-only ones.
UPLOAD_FIELDS = tuple(field for field in FIELDS + INPUT_FIELDS if field.aliases)
# Field -> the header names that mean it (compared after normalise_header).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {field.name: (field.name, *field.aliases) for field in UPLOAD_FIELDS}
# Units written in brackets after a header, as multipliers to the field's unit (亿元, hectares).
UNIT_FACTORS: dict[str, dict[str, float]] = {field.name: dict(field.units) for field in UPLOAD_FIELDS if field.units}

_BRACKETS = re.compile(r"^(?P<name>.*?)\s*[(\[（【](?P<unit>[^)\]）】]*)[)\]）】]\s*$")
_ALIAS_INDEX = {alias.lower(): field for field, aliases in FIELD_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMatch:
    """A header matched to a field, with the factor its unit needs (1 when none)."""

    header: str
    field: str
    factor: float = 1.0


def normalise_header(header: object) -> str:
    """Return a header lower-cased, trimmed, with full-width spaces and BOMs removed."""
    return str(header or "").replace("\ufeff", "").replace("\u3000", " ").strip().lower()


def match_header(header: object) -> ColumnMatch | None:
    """Return the field a header means, with its unit factor, or None for an unknown column."""
    text = normalise_header(header)
    if not text:
        return None
    if text in _ALIAS_INDEX:
        return ColumnMatch(str(header), _ALIAS_INDEX[text])
    bracketed = _BRACKETS.match(text)
    if bracketed:
        field = _ALIAS_INDEX.get(bracketed.group("name").strip())
        if field:
            unit = bracketed.group("unit").strip().replace(" ", "")
            factors = UNIT_FACTORS.get(field)
            if factors is None or unit in factors:
                return ColumnMatch(str(header), field, factors[unit] if factors else 1.0)
            LOGGER.info("header %r: unknown unit %r", header, unit)
            return None
    return None


# The read-only columns this service's own CSV/XLSX export adds (类型代码, 要素ID, kind_label …), normalised: an
# export can be edited and uploaded again, and these are neither fields nor attributes.
EXPORT_ONLY_HEADERS = export_only_headers()


def match_columns(headers: list[str]) -> tuple[dict[str, ColumnMatch], list[str], list[str]]:
    """Return the matched fields, the unknown headers (kept as attributes) and duplicate-field headers.

    The read-only columns of the service's own exports are skipped.
    """
    matched: dict[str, ColumnMatch] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for header in headers:
        if normalise_header(header) in EXPORT_ONLY_HEADERS:
            continue
        match = match_header(header)
        if match is None:
            unknown.append(header)
        elif match.field in matched:
            duplicates.append(header)
        else:
            matched[match.field] = match
    return matched, unknown, duplicates
