"""The one row check uploads and REST edits share: records of fields and a geometry in, WGS84 SiteRecords out."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from shapely.geometry.base import BaseGeometry

from ..dates import PartialDate, today_in_heshan
from ..records import VALUE_FIELDS, SiteRecord
from ..sitefields import NUMBER_FIELDS
from .bounds import ATTRIBUTE_CAP, FIELD_BOUNDS, RowError, check_geometry, check_row_cells, number_problem, shown
from .cells import (RowReader, attribute_value, blank, read_kind, read_precision, read_stage, read_stage_dates,
                    read_town)
from .checks import InputRecord, Options, SourceColumns, Validation
from .crs import WGS84, CrsError, CrsSpec
from .places import Reference
from .positions import PENDING_POSITION, check_inside_county, convert_lonlat, position_columns_of, read_position

LOGGER = logging.getLogger(__name__)
COUNTY = "county"  # the precision of a site whose place is unknown: no geometry
STORED_NUMBERS = tuple(name for name in NUMBER_FIELDS if name in VALUE_FIELDS)  # numbers a site keeps
LonLat = tuple[float, float]
Value = TypeVar("Value")
# What a position step found: lon/lat still to convert, or a WGS84 geometry; its precision; placed by name.
Located = tuple[LonLat | None, BaseGeometry | None, str, bool]


def check_records(records: Iterable[InputRecord], options: Options, reference: Reference,
                  file_crs: CrsSpec | None = None, columns: SourceColumns | None = None) -> Validation:
    """Check every record and convert it to a WGS84 SiteRecord; collect all errors, never stop at one.

    `columns` names the column each field came from (errors name it); by default the fields' own names.
    """
    records = list(records)
    if columns is None:
        columns = SourceColumns.of_fields(dict.fromkeys(name for record in records for name in record.values))
    result = Validation()
    if "name" not in columns.matched:
        result.error(None, None, "缺少名称列 / no name column (name/名称/项目名称)")
        return result
    result.crs_used = (options.crs or file_crs or WGS84).label()
    checker = RowChecker(options, reference, file_crs, columns, result)
    pending = [checked for checked in map(checker.check, records) if checked is not None]
    convert_lonlat(pending, options.crs or file_crs or WGS84)
    result.records = [record for record, _ in pending]
    by_row = {record.row: record for record in records}

    def position_columns(row_no: int) -> str:
        record = by_row[row_no]
        return position_columns_of(RowReader(record.values, columns), record.geometry)

    check_inside_county(result.records, reference.county, result, position_columns)
    return result


class RowChecker:
    """Check records one at a time, remembering the codes and names earlier records used."""

    def __init__(self, options: Options, reference: Reference, file_crs: CrsSpec | None, columns: SourceColumns,
                 result: Validation) -> None:
        self.options = options
        self.reference = reference
        self.file_crs = file_crs
        self.columns = columns
        self.result = result
        self.seen_codes: dict[str, int] = {}
        self.seen_names: dict[tuple[str, str], int] = {}
        self.latest_date = today_in_heshan() + dt.timedelta(days=366)
        # (key, column to report, label, cap) of every cell a record holds, made once.
        self.field_checks = [(name, match.header, name, FIELD_BOUNDS[name].cap if name in FIELD_BOUNDS else None)
                             for name, match in columns.matched.items()]
        self.attribute_checks = [(header, shown(header), shown(header), ATTRIBUTE_CAP)
                                 for header in columns.attributes]

    def check(self, record: InputRecord) -> tuple[SiteRecord, LonLat | None] | None:
        """Return the record as a SiteRecord (with lon/lat still to convert), or None after noting its errors."""
        problems = (check_row_cells(record.values, self.field_checks, self.options.limits)
                    + check_row_cells(record.attributes, self.attribute_checks, self.options.limits))
        bad_columns = {problem.column for problem in problems}
        values_sent = record.values
        if problems:  # each bad cell is reported once, then read as empty
            values_sent = {name: None if self.columns.header(name) in bad_columns else value
                           for name, value in values_sent.items()}
        reader = RowReader(values_sent, self.columns)
        values = self.read_values(reader, problems)
        if not values.get("name") and reader.header("name") not in bad_columns:
            problems.append(RowError(reader.header("name"), "缺少名称 / name missing"))
        self.check_ranges(reader, values, problems)
        stage_dates = self.read_dates(reader, values, problems)
        precision_text = self.read_or_note(lambda: read_precision(reader), problems)
        code = reader.text("code")
        self.check_identity(reader, record.row, code, values, problems)
        lonlat, geometry, precision, placed_by_name = self.locate(reader, record, values, precision_text, problems)
        if problems:
            for problem in problems:
                self.result.error(record.row, problem.column, problem.message)
            return None
        site = SiteRecord(
            row=record.row, kind=values["kind"], name=values["name"], stage=values["stage"],
            precision=precision if precision == COUNTY else precision_text or precision,
            geometry=PENDING_POSITION if lonlat is not None else geometry, code=code,
            town=values.get("town"), park=reader.text("park"),
            values={name: values.get(name) if name in NUMBER_FIELDS else reader.text(name) for name in VALUE_FIELDS},
            attributes=self.attributes_of(record), stage_dates=stage_dates, keep_geometry=placed_by_name)
        return site, lonlat

    @staticmethod
    def read_or_note(read: Callable[[], Value], problems: list[RowError]) -> Value | None:
        """Return what a cell reader returns, or None after adding its error to the problems."""
        try:
            return read()
        except RowError as error:
            problems.append(error)
            return None

    def read_values(self, reader: RowReader, problems: list[RowError]) -> dict[str, Any]:
        """Return the name, kind, stage, town and stored numbers that read without error."""
        values: dict[str, Any] = {}
        for name, read in (("name", lambda: reader.text("name")), ("kind", lambda: read_kind(reader, self.options)),
                           ("stage", lambda: read_stage(reader, self.options)), ("town", lambda: read_town(reader)),
                           *((name, lambda name=name: reader.number(name)) for name in STORED_NUMBERS)):
            try:
                values[name] = read()
            except RowError as error:
                problems.append(error)
        return values

    @staticmethod
    def check_ranges(reader: RowReader, values: dict[str, Any], problems: list[RowError]) -> None:
        """Add an error for every stored number outside its field's range."""
        for field_name in STORED_NUMBERS:
            out_of_range = values.get(field_name) is not None and number_problem(field_name, values[field_name])
            if out_of_range:
                problems.append(RowError(reader.header(field_name), out_of_range))

    def read_dates(self, reader: RowReader, values: dict[str, Any],
                   problems: list[RowError]) -> dict[str, PartialDate]:
        """Return the dates of the stages reached, when the stage read."""
        if "stage" not in values:
            return {}
        dates = self.read_or_note(lambda: read_stage_dates(reader, values["stage"], self.latest_date,
                                                                 self.options.ordered_dates), problems)
        return dates or {}

    def check_identity(self, reader: RowReader, row_no: int, code: str | None, values: dict[str, Any],
                       problems: list[RowError]) -> None:
        """Add an error when an earlier record used the code, or (neither having a code) the kind and name."""
        if code is not None:
            if code in self.seen_codes:
                problems.append(RowError(reader.header("code"), f"代码重复（第 {self.seen_codes[code]} 行已用） / "
                                                                f"code '{code}' already used in row {self.seen_codes[code]}"))
            else:
                self.seen_codes[code] = row_no
        elif values.get("name") and "kind" in values:
            # Without a code a site is found again by kind and name, so two such rows would be one site.
            key = (values["kind"], values["name"])
            if key in self.seen_names:
                problems.append(RowError(reader.header("name"), f"'{values['name']}' is also in row "
                                         f"{self.seen_names[key]} and neither has a code; give each a code "
                                         "(code/项目代码/编号)"))
            else:
                self.seen_names[key] = row_no

    def locate(self, reader: RowReader, record: InputRecord, values: dict[str, Any], precision_text: str | None,
               problems: list[RowError]) -> Located:
        """Return the record's position: its own, else a named place's, else none (county); then check its type."""
        lonlat, geometry, precision = None, None, "town"
        placed_by_name = False
        try:
            lonlat, geometry, precision = read_position(
                reader, record.row, record.geometry, self.options, self.file_crs, self.result)
        except (RowError, CrsError) as error:
            problems.append(error if isinstance(error, RowError) else RowError("geometry", str(error)))
        positioned = lonlat is not None or geometry is not None
        if positioned and precision_text == COUNTY:
            problems.append(RowError(reader.header("precision"), "位置精度为“位置待定”却给了位置 / precision county "
                                     "(place unknown) but the row has a position "
                                     f"({position_columns_of(reader, record.geometry)})"))
        elif not positioned and not problems:
            geometry, precision, placed_by_name = self.place_by_name(reader, record.row, values, precision_text)
        if geometry is not None and "kind" in values and not problems:
            try:
                geometry = check_geometry(geometry, values["kind"], self.options.repair,
                                          lambda message: self.result.note(record.row, message))
            except RowError as error:
                problems.append(error)
        return lonlat, geometry, precision, placed_by_name

    def place_by_name(self, reader: RowReader, row_no: int, values: dict[str, Any],
                      precision_text: str | None) -> tuple[BaseGeometry | None, str, bool]:
        """Return where a row without a position goes: the place its park, village or town names, else nowhere.

        Nowhere is precision county (place unknown), noted; an existing site then keeps its own position, unless
        the row itself says county.
        """
        if precision_text == COUNTY:
            return None, COUNTY, False
        names = {name: reader.text(name) for name in ("park", "village")}
        place = self.reference.gazetteer.find(names["park"], names["village"], values.get("town"))
        if place is None:
            unknown = "; ".join(f"{reader.header(name)} '{shown(text)}' is not in the gazetteer"
                                for name, text in names.items() if text)
            self.result.note(row_no, "位置待定 / place unknown (county): no coordinates and no known park, village "
                                     f"or town{f' ({unknown})' if unknown else ''}; it is listed, not drawn")
            if precision_text is not None:
                self.result.note(row_no, f"precision '{precision_text}' is not kept: the row has no position")
            return None, COUNTY, True
        self.result.note(row_no, f"placed at {place.name} ({place.precision}: no coordinates given)")
        if values.get("town") is None and place.town:
            values["town"] = place.town
        return place.point, place.precision, True

    def attributes_of(self, record: InputRecord) -> dict[str, Any]:
        """Return the record's non-empty cells of other columns as JSON values."""
        spreadsheet = self.columns.spreadsheet
        return {header: attribute_value(value, spreadsheet) for header, value in record.attributes.items()
                if not blank(value)}
