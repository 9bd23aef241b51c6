"""Turn a raw table into WGS84 site records, collecting every row error with its row and column."""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import numpy as np
import shapely
import shapely.errors
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from ..dates import PartialDate, parse_partial_date, today_in_heshan
from ..geolocate import Gazetteer
from ..records import VALUE_FIELDS, SiteRecord
from ..sitefields import NUMBER_FIELDS
from ..vocabulary import (KIND_LABELS, KINDS, PRECISION_LABELS, PRECISIONS, STAGE_DATE_FIELDS, STAGES, TOWNS,
                          stage_from_label)
from .bounds import (RowError, cell_checks, check_geometry, check_row_cells, default_limits, header_problems,
                     number_problem, shown, unquote_formula, vertex_problem)
from .columns import ColumnMatch, match_columns
from .crs import WGS84, CrsError, CrsSpec, coordinate_function, looks_projected, resolve_projected_xy, to_wgs84
from .table import RawTable

LOGGER = logging.getLogger(__name__)

KIND_ALIASES: dict[str, str] = {
    **{kind: kind for kind in KINDS},
    **{label: kind for lang in KIND_LABELS.values() for kind, label in lang.items()},
    "园区": "park", "产业园区": "park", "平台": "park", "项目": "project", "重点项目": "project",
    "地块": "land_plot", "土地整治": "land_plot", "整治地块": "land_plot", "绿美": "green_site",
    "绿美示范点": "green_site", "示范点": "green_site",
}
PRECISION_ALIASES: dict[str, str] = {
    label: precision for labels in PRECISION_LABELS.values() for precision, label in labels.items()}
_NUMBER_CLEAN = re.compile(r"[,\s，]")
# Stands in for a position converted later in one batch (convert_lonlat); one shared object.
PENDING_POSITION = Point(0, 0)


@dataclass
class Validation:
    """The records of a table that passed, the errors and notes of every row, and the CRS used."""

    records: list[SiteRecord] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    crs_used: str | None = None
    unknown_columns: list[str] = field(default_factory=list)

    def error(self, row: int | None, column: str | None, message: str) -> None:
        """Record an error of a row and column."""
        self.errors.append({"row": row, "column": column, "message": message})

    def note(self, row: int, message: str) -> None:
        """Record something done to a row that the user should know."""
        self.notes.append({"row": row, "message": message})


@dataclass
class Options:
    """What the upload said about the file (kind, coordinate system, repair, defaults) and the input limits."""

    kind: str | None = None
    crs: CrsSpec | None = None
    repair: bool = False
    default_stage: str | None = None
    limits: dict[str, int] = field(default_factory=default_limits)  # bounds.INPUT_LIMITS by name


def blank(value: object) -> bool:
    """Return whether a cell is empty."""
    # A NaN object is how GIS readers give a null number; the text "NaN" in a CSV stays an error.
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def cell_text(value: object) -> str | None:
    """Return a cell as trimmed text, integers without a trailing .0, or None when empty."""
    if value is None:
        return None
    if value.__class__ is str:  # the common case (every CSV cell), checked first
        return value.strip() or None
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_number(value: object, column: str, factor: float = 1.0) -> float | None:
    """Return a finite number from a cell (commas and spaces allowed), scaled by the unit factor."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise RowError(column, f"「{value}」不是数字 / '{value}' is not a number")
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    else:
        try:
            number = float(Decimal(_NUMBER_CLEAN.sub("", str(value))))
        except (InvalidOperation, ValueError):
            raise RowError(column, f"「{value}」不是数字 / '{value}' is not a number") from None
    if not math.isfinite(number):
        raise RowError(column, f"「{value}」不是有限数值 / '{value}' is not a finite number")
    return number * factor


class RowReader:
    """Read the fields of one row through the column mapping."""

    def __init__(self, row: dict[str, object], matched: dict[str, ColumnMatch], headers: dict[str, str],
                 spreadsheet: bool = False) -> None:
        self.row = row
        self.matched = matched
        self.headers = headers  # field -> the file's header, made once per table
        self.spreadsheet = spreadsheet  # CSV or XLSX: text may carry an export's formula apostrophe

    def header(self, field_name: str) -> str:
        """Return the header of a field, or the field name when the file has no such column."""
        return self.headers.get(field_name, field_name)

    def raw(self, field_name: str) -> object:
        """Return the raw cell of a field, or None."""
        header = self.headers.get(field_name)
        return self.row.get(header) if header is not None else None

    def text(self, field_name: str) -> str | None:
        """Return the cell of a field as text."""
        header = self.headers.get(field_name)
        if header is None:
            return None
        text = cell_text(self.row.get(header))
        return unquote_formula(text) if self.spreadsheet else text

    def number(self, field_name: str) -> float | None:
        """Return the cell of a field as a number in the field's unit."""
        header = self.headers.get(field_name)
        if header is None:
            return None
        return parse_number(self.row.get(header), header, self.matched[field_name].factor)


def read_kind(reader: RowReader, options: Options) -> str:
    """Return the row's kind from its column, else the upload's kind."""
    value = reader.text("kind")
    if value is None:
        if options.kind:
            return options.kind
        raise RowError(reader.header("kind"), "缺少类型：请加“类型”列或选择上传类型 / kind missing: add a 类型/kind column or choose the kind of the upload")
    kind = KIND_ALIASES.get(value) or KIND_ALIASES.get(value.lower())
    if kind is None:
        raise RowError(reader.header("kind"), f"未知类型「{value}」 / unknown kind '{value}'; expected {', '.join(KINDS)}")
    return kind


def read_stage(reader: RowReader, options: Options) -> str:
    """Return the row's stage from any kind's label or code."""
    value = reader.text("stage")
    if value is None:
        if options.default_stage:
            return options.default_stage
        raise RowError(reader.header("stage"), "缺少阶段 / stage missing (signed/started/in_production or 已签约/已动工/已投产 …)")
    stage = stage_from_label(value)
    if stage is None:
        raise RowError(reader.header("stage"), f"未知阶段「{value}」 / unknown stage '{value}'; expected signed, started, in_production "
                       "or a label such as 已签约/已动工/已投产")
    return stage


def read_town(reader: RowReader) -> str | None:
    """Return the row's town, accepting names without 镇/街道."""
    value = reader.text("town")
    if value is None:
        return None
    if value in TOWNS:
        return value
    matches = [town for town in TOWNS if town.startswith(value) or value.startswith(town[:2])]
    if len(matches) == 1:
        return matches[0]
    raise RowError(reader.header("town"), f"未知镇街「{value}」 / unknown town '{value}'; Heshan's towns are {'、'.join(TOWNS)}")


def read_stage_dates(reader: RowReader, stage: str, latest: dt.date) -> dict[str, PartialDate]:
    """Return the dates of the stages reached, refusing a date for a stage not yet reached."""
    dates: dict[str, PartialDate] = {}
    for date_stage, field_name in STAGE_DATE_FIELDS.items():
        raw = reader.raw(field_name)
        try:
            partial = parse_partial_date(raw)
        except ValueError as error:
            raise RowError(reader.header(field_name), str(error)) from None
        if partial is None:
            continue
        if STAGES.index(date_stage) > STAGES.index(stage):
            raise RowError(reader.header(field_name), f"该阶段尚未到达却填了日期 / a date for {date_stage} but the stage is only {stage}")
        if partial.value > latest:
            raise RowError(reader.header(field_name), f"日期超过一年以后 / {partial.isoformat()} is more than a year ahead")
        dates[date_stage] = partial
    return dates


def json_safe(value: object) -> object:
    """Return a cell as a JSON value (dates as ISO text, non-finite numbers as text)."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def attribute_value(value: object, spreadsheet: bool) -> object:
    """Return a kept cell of an unknown column as JSON, without an export's formula apostrophe."""
    value = json_safe(value)
    return unquote_formula(value) if spreadsheet and isinstance(value, str) else value


def position_columns_of(reader: RowReader, file_geometry: BaseGeometry | None) -> str:
    """Return the column(s) a row's position comes from, as the user's headers ("经度, 纬度")."""
    if file_geometry is not None and not file_geometry.is_empty:
        return "geometry"
    for pair in (("lon", "lat"), ("x", "y")):
        if any(not blank(reader.raw(name)) for name in pair):
            return ", ".join(reader.header(name) for name in pair)
    for name in ("park", "village", "town"):
        if not blank(reader.raw(name)):
            return reader.header(name)
    return "geometry"


def read_position(reader: RowReader, row_no: int, file_geometry: BaseGeometry | None, options: Options,
                  file_crs: CrsSpec | None, result: Validation) -> tuple[tuple[float, float] | None,
                                                                       BaseGeometry | None, str]:
    """Return (lon/lat still to convert, or a WGS84 geometry, and its precision) for a row.

    The file's own geometry comes first, then a WKT column (as this service's CSV export writes),
    then lon/lat, then projected x/y.
    """
    wkt = reader.text("wkt")
    geometry_column = "geometry"
    if (file_geometry is None or file_geometry.is_empty) and wkt:
        geometry_column = reader.header("wkt")
        try:
            file_geometry = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            raise RowError(reader.header("wkt"), f"不是有效的 WKT / not WKT: '{shown(wkt)}'") from None
    if file_geometry is not None and not file_geometry.is_empty:
        too_many = vertex_problem(file_geometry, options.limits)
        if too_many:
            raise RowError(geometry_column, too_many)
        crs = options.crs or file_crs or WGS84
        geometry = to_wgs84(shapely.force_2d(file_geometry), crs)  # heights (KML's ",0") are not stored
        return None, geometry, "point" if geometry.geom_type == "Point" else "surveyed"
    lon, lat = reader.number("lon"), reader.number("lat")
    x, y = reader.number("x"), reader.number("y")
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            raise RowError(reader.header("lat" if lat is None else "lon"), "经度和纬度须同时填写 / longitude and latitude come in pairs")
        if looks_projected(lon, lat):
            x, y = lon, lat
        else:
            if not -180 <= lon <= 180:
                raise RowError(reader.header("lon"), f"经度超出范围 / longitude {lon} is outside -180…180")
            if not -90 <= lat <= 90:
                raise RowError(reader.header("lat"), f"纬度超出范围 / latitude {lat} is outside -90…90")
            return (lon, lat), None, "point"
    if x is not None or y is not None:
        if x is None or y is None:
            raise RowError(reader.header("y" if y is None else "x"), "x 和 y 须同时填写 / x and y come in pairs")
        try:
            easting, northing, crs_used, swapped = resolve_projected_xy(x, y, options.crs or file_crs)
        except CrsError as error:
            raise RowError(reader.header("x"), str(error)) from None
        if swapped:
            result.note(row_no, "x/y read as northing/easting (Chinese surveying order)")
        result.crs_used = crs_used.label()
        return None, to_wgs84(Point(easting, northing), crs_used), "point"
    return None, None, "town"


def validate_table(table: RawTable, options: Options, gazetteer: Gazetteer, county: BaseGeometry | None,
                   file_crs: CrsSpec | None) -> Validation:
    """Check every row and convert it to a WGS84 SiteRecord; collect all errors, never stop at one."""
    result = Validation()
    matched, unknown, duplicates = match_columns(table.columns)
    result.unknown_columns = [shown(header, 1000) for header in unknown]
    for problem in header_problems(unknown):
        result.error(None, problem.column, problem.message)
    for header in duplicates:
        result.error(None, header, f"column '{header}' means the same as an earlier column")
    if "name" not in matched:
        result.error(None, None, "缺少名称列 / no name column (name/名称/项目名称)")
        return result
    result.crs_used = (options.crs or file_crs or WGS84).label()
    pending: list[tuple[SiteRecord, tuple[float, float] | None]] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    latest_date = today_in_heshan() + dt.timedelta(days=366)
    headers = {name: match.header for name, match in matched.items()}
    spreadsheet = table.format in ("csv", "xlsx")
    checks = cell_checks(headers, unknown)
    for index, row in enumerate(table.rows):
        row_no = table.row_numbers[index]
        problems: list[RowError] = check_row_cells(row, checks, options.limits)
        bad_columns = {problem.column for problem in problems}
        if problems:  # each bad cell is reported once, then read as empty
            row = {key: None if key in bad_columns else value for key, value in row.items()}
        reader = RowReader(row, matched, headers, spreadsheet)
        values: dict[str, Any] = {}
        for name, read in (("name", lambda: reader.text("name")), ("kind", lambda: read_kind(reader, options)),
                           ("stage", lambda: read_stage(reader, options)), ("town", lambda: read_town(reader)),
                           *((name, lambda name=name: reader.number(name)) for name in NUMBER_FIELDS
                             if name in VALUE_FIELDS)):
            try:
                values[name] = read()
            except RowError as error:
                problems.append(error)
        if not values.get("name") and reader.header("name") not in bad_columns:
            problems.append(RowError(reader.header("name"), "缺少名称 / name missing"))
        for field_name in (name for name in NUMBER_FIELDS if name in VALUE_FIELDS):
            out_of_range = values.get(field_name) is not None and number_problem(field_name, values[field_name])
            if out_of_range:
                problems.append(RowError(reader.header(field_name), out_of_range))
        stage_dates: dict[str, PartialDate] = {}
        if "stage" in values:
            try:
                stage_dates = read_stage_dates(reader, values["stage"], latest_date)
            except RowError as error:
                problems.append(error)
        precision_text = reader.text("precision")
        precision_text = PRECISION_ALIASES.get(precision_text, precision_text) if precision_text else None
        if precision_text is not None and precision_text not in PRECISIONS:
            problems.append(RowError(reader.header("precision"), f"未知位置精度 / unknown precision '{precision_text}'"))
        code = reader.text("code")
        if code is not None:
            if code in seen_codes:
                problems.append(RowError(reader.header("code"), f"代码重复（第 {seen_codes[code]} 行已用） / code '{code}' already used in row {seen_codes[code]}"))
            else:
                seen_codes[code] = row_no
        elif values.get("name") and "kind" in values:
            # Without a code a site is found again by kind and name, so two such rows would be one site.
            key = (values["kind"], values["name"])
            if key in seen_names:
                problems.append(RowError(reader.header("name"), f"'{values['name']}' is also in row {seen_names[key]} "
                                         "and neither has a code; give each a code (code/项目代码/编号)"))
            else:
                seen_names[key] = row_no
        lonlat, geometry, precision = None, None, "town"
        placed_by_name = False
        file_geometry = table.geometries[index] if table.geometries else None
        try:
            lonlat, geometry, precision = read_position(
                reader, row_no, file_geometry, options, file_crs, result)
        except (RowError, CrsError) as error:
            problems.append(error if isinstance(error, RowError) else RowError("geometry", str(error)))
        if lonlat is None and geometry is None and not problems:
            place = gazetteer.find(reader.text("park"), reader.text("village"), values.get("town"))
            if place is None:
                problems.append(RowError(None, "没有坐标，也没有可定位的园区、村或镇街 / no coordinates, and no known park, village or town to place it"))
            else:
                geometry, precision = place.point, place.precision
                placed_by_name = True
                result.note(row_no, f"placed at {place.name} ({place.precision}: no coordinates given)")
                if values.get("town") is None and place.town:
                    values["town"] = place.town
        if geometry is not None and "kind" in values and not problems:
            try:
                geometry = check_geometry(geometry, values["kind"], options.repair,
                                          lambda message: result.note(row_no, message))
            except RowError as error:
                problems.append(error)
        if problems:
            for problem in problems:
                result.error(row_no, problem.column, problem.message)
            continue
        attributes = {header: attribute_value(row.get(header), spreadsheet) for header in unknown
                      if not blank(row.get(header))}
        record = SiteRecord(
            row=row_no, kind=values["kind"], name=values["name"], stage=values["stage"],
            precision=precision_text or precision, geometry=geometry or PENDING_POSITION, code=code,
            town=values.get("town"), park=reader.text("park"),
            values={name: values.get(name) if name in NUMBER_FIELDS else reader.text(name) for name in VALUE_FIELDS},
            attributes=attributes, stage_dates=stage_dates, keep_geometry=placed_by_name)
        pending.append((record, lonlat))
    convert_lonlat(pending, options.crs or file_crs or WGS84)
    result.records = [record for record, _ in pending]
    index_of_row = {row_no: index for index, row_no in enumerate(table.row_numbers)}

    def position_columns(row_no: int) -> str:
        index = index_of_row[row_no]
        reader = RowReader(table.rows[index], matched, headers)
        return position_columns_of(reader, table.geometries[index] if table.geometries else None)

    check_inside_county(result.records, county, result, position_columns)
    return result


def convert_lonlat(pending: list[tuple[SiteRecord, tuple[float, float] | None]], crs: CrsSpec) -> None:
    """Convert every picked lon/lat to WGS84 in one vectorised pass and set the records' points."""
    waiting = [(record, lonlat) for record, lonlat in pending if lonlat is not None]
    if not waiting:
        return
    lon = np.fromiter((lonlat[0] for _, lonlat in waiting), dtype=float, count=len(waiting))
    lat = np.fromiter((lonlat[1] for _, lonlat in waiting), dtype=float, count=len(waiting))
    function = coordinate_function(crs, towards_wgs84=True)
    if function is not None:
        lon, lat = function(lon, lat)
    for (record, _), point in zip(waiting, shapely.points(np.column_stack([lon, lat]))):
        record.geometry = point


def check_inside_county(records: list[SiteRecord], county: BaseGeometry | None, result: Validation,
                        column_of: Callable[[int], str]) -> None:
    """Refuse every record whose geometry is not wholly inside Heshan."""
    if county is None or not records:
        return
    shapely.prepare(county)
    geometries = np.array([record.geometry for record in records], dtype=object)
    inside = shapely.covers(county, geometries)
    for record, ok in zip(records, inside):
        if not ok:
            x, y = record.geometry.representative_point().coords[0]
            result.error(record.row, column_of(record.row),
                         f"位置不在鹤山市内 / outside Heshan ({x:.5f}, {y:.5f} in WGS84)")
    records[:] = [record for record, ok in zip(records, inside) if ok]
