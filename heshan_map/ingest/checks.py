"""What the row checks are given (options, the columns the fields came from, records) and what they give back."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..records import SiteRecord
from .bounds import default_limits
from .columns import ColumnMatch
from .crs import CrsSpec


@dataclass
class Validation:
    """The records that passed, the errors and notes of every row, and the CRS used."""

    records: list[SiteRecord] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    crs_used: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    # The kind rows without one were taken to be, and why ({"kind", "because"}); None when none was assumed.
    kind_assumed: dict[str, str] | None = None

    def error(self, row: int | None, column: str | None, message: str) -> None:
        """Record an error of a row and column."""
        self.errors.append({"row": row, "column": column, "message": message})

    def note(self, row: int | None, message: str) -> None:
        """Record something done to a row that the user should know."""
        self.notes.append({"row": row, "message": message})


@dataclass
class Options:
    """What the upload said about the file (kind, coordinate system, repair, defaults) and the input limits."""

    kind: str | None = None
    crs: CrsSpec | None = None
    repair: bool = False
    default_stage: str | None = None
    format_kind: str | None = None  # the kind the file's format implies (a land report's plots are land plots)
    # The stage-date fields whose order is checked: None, all a record gives; a PATCH, those the editor sent.
    ordered_dates: frozenset[str] | None = None
    limits: dict[str, int] = field(default_factory=default_limits)  # bounds.INPUT_LIMITS by name


@dataclass(frozen=True)
class SourceColumns:
    """Where the fields of the records came from: each field's header and unit factor, and the other columns."""

    matched: dict[str, ColumnMatch]  # field -> its column, in the file's order
    attributes: tuple[str, ...] = ()  # headers of columns that are no field, kept as attributes
    spreadsheet: bool = False  # CSV or XLSX: text may carry an export's formula apostrophe

    @classmethod
    def of_fields(cls, names: Iterable[str]) -> SourceColumns:
        """Return the columns of records keyed by field names as they are (a REST Feature's properties)."""
        return cls({name: ColumnMatch(name, name) for name in names})

    def header(self, field_name: str) -> str:
        """Return the header of a field, or the field name when no column holds it."""
        match = self.matched.get(field_name)
        return match.header if match is not None else field_name


@dataclass
class InputRecord:
    """One site to check: its fields by name as sent, its own geometry, and the cells of other columns."""

    row: int  # the row number errors and notes name (the file's line, or 1 for one Feature)
    values: Mapping[str, object]  # field name -> the value as sent
    geometry: BaseGeometry | None = None  # the file's or Feature's geometry, in the file's CRS
    attributes: Mapping[str, object] = field(default_factory=dict)  # header of SourceColumns.attributes -> cell
