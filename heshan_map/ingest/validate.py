"""Check an uploaded table: match its headers to fields, then check its rows as records (ingest.rows)."""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

from .bounds import header_problems, shown
from .cells import blank
from .checks import InputRecord, Options, SourceColumns, Validation
from .columns import match_columns
from .crs import CrsSpec
from .kinds import KindGuess, guess_kind
from .places import Reference
from .rows import check_records
from .table import RawTable

LOGGER = logging.getLogger(__name__)
SPREADSHEET_FORMATS = ("csv", "xlsx")  # their text may carry the formula apostrophe an export puts


def table_columns(table: RawTable) -> tuple[SourceColumns, list[str]]:
    """Return the columns a table's fields come from, and the headers that repeat an earlier column's field."""
    matched, unknown, duplicates = match_columns(table.columns)
    return SourceColumns(matched, tuple(unknown), table.format in SPREADSHEET_FORMATS), duplicates


def header_errors(columns: SourceColumns, duplicates: list[str]) -> list[dict[str, object]]:
    """Return the errors of a table's headers: unstorable names and columns meaning an earlier one's field."""
    errors: list[dict[str, object]] = [{"row": None, "column": problem.column, "message": problem.message}
                                       for problem in header_problems(list(columns.attributes))]
    return errors + [{"row": None, "column": header, "message": f"column '{header}' means the same as an earlier column"}
                     for header in duplicates]


def table_records(table: RawTable, columns: SourceColumns) -> Iterator[InputRecord]:
    """Yield a table's rows as records: the cells of matched columns by field, the others by header."""
    fields = [(name, match.header) for name, match in columns.matched.items()]
    attributes = columns.attributes
    for index, row in enumerate(table.rows):
        yield InputRecord(row=table.row_numbers[index], values={name: row.get(header) for name, header in fields},
                          geometry=table.geometries[index] if table.geometries else None,
                          attributes={header: row.get(header) for header in attributes})


def kind_guess(table: RawTable, columns: SourceColumns, options: Options) -> KindGuess | None:
    """Return the kind assumed for rows without one (or why none can be), when neither they nor the upload say it."""
    if options.kind:
        return None
    kind_column = columns.matched.get("kind")
    if kind_column is not None and not any(blank(row.get(kind_column.header)) for row in table.rows):
        return None
    name_column = columns.matched.get("name")
    return guess_kind(table.columns, name_column.header if name_column else None, table.format,
                      options.format_kind)


def validate_table(table: RawTable, options: Options, reference: Reference, file_crs: CrsSpec | None) -> Validation:
    """Check every row of a table and convert it to a WGS84 SiteRecord; collect all errors, never stop at one.

    Rows that name no kind, in an upload that gives none, take the kind the format or the headers imply.
    """
    columns, duplicates = table_columns(table)
    errors = header_errors(columns, duplicates)
    guess = kind_guess(table, columns, options)
    if guess is not None and guess.kind is not None:
        options = dataclasses.replace(options, kind=guess.kind)
    records = table_records(table, columns) if "name" in columns.matched else iter(())
    result = check_records(records, options, reference, file_crs, columns)
    result.errors[:0] = errors
    if guess is not None:
        result.notes.insert(0, {"row": None, "message": guess.note()})
        result.kind_assumed = guess.report() if guess.kind is not None else None
    result.unknown_columns = [shown(header, 1000) for header in columns.attributes]
    return result
