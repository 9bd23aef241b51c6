"""Read one record's cells: text, numbers with units, kind, stage, town, precision and stage dates."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from ..dates import PartialDate, parse_partial_date
from ..vocabulary import (KIND_LABELS, KINDS, PRECISION_LABELS, PRECISIONS, STAGE_DATE_FIELDS, STAGES, TOWNS,
                          stage_from_label)
from .bounds import RowError, unquote_formula
from .checks import Options, SourceColumns

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
    """Read the fields of one record through the columns they came from."""

    def __init__(self, values: Mapping[str, object], columns: SourceColumns) -> None:
        self.values = values  # field name -> the value as sent
        self.columns = columns

    def header(self, field_name: str) -> str:
        """Return the header of a field, or the field name when the file has no such column."""
        return self.columns.header(field_name)

    def raw(self, field_name: str) -> object:
        """Return the raw value of a field, or None."""
        return self.values.get(field_name) if field_name in self.columns.matched else None

    def text(self, field_name: str) -> str | None:
        """Return the value of a field as text."""
        if field_name not in self.columns.matched:
            return None
        text = cell_text(self.values.get(field_name))
        return unquote_formula(text) if self.columns.spreadsheet else text

    def number(self, field_name: str) -> float | None:
        """Return the value of a field as a number in the field's unit."""
        match = self.columns.matched.get(field_name)
        if match is None:
            return None
        return parse_number(self.values.get(field_name), match.header, match.factor)


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
        raise RowError(reader.header("stage"), "缺少阶段 / stage missing (planned/signed/started/in_production or 谋划中/已签约/已动工/已投产 …)")
    stage = stage_from_label(value)
    if stage is None:
        raise RowError(reader.header("stage"), f"未知阶段「{value}」 / unknown stage '{value}'; expected planned, signed, started, "
                       "in_production or a label such as 谋划中/已签约/已动工/已投产")
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


def read_stage_dates(reader: RowReader, stage: str, latest: dt.date,
                     ordered: frozenset[str] | None = None) -> dict[str, PartialDate]:
    """Return the dates of the stages reached, refusing a date for a stage not yet reached or out of order.

    `ordered`: the date fields whose order is checked (None: all).
    """
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
    check_stage_order(reader, {date_stage: date for date_stage, date in dates.items()
                               if ordered is None or STAGE_DATE_FIELDS[date_stage] in ordered})
    return dates


def comparable(date: PartialDate, precision: str) -> tuple[int, ...]:
    """Return a date cut to a precision (year, month or day), to compare dates known to different precisions."""
    parts = (date.value.year, date.value.month, date.value.day)
    return parts[:{"year": 1, "month": 2}.get(precision, 3)]


def check_stage_order(reader: RowReader, dates: dict[str, PartialDate]) -> None:
    """Refuse a stage dated after a later stage (谋划 after 动工), naming both dates; 2024 and 2024-05 agree."""
    ordered = [(stage, dates[stage]) for stage in STAGES if stage in dates]
    for index, (earlier, earlier_date) in enumerate(ordered):
        for later, later_date in ordered[index + 1:]:
            coarser = "year" if "year" in (earlier_date.precision, later_date.precision) else (
                "month" if "month" in (earlier_date.precision, later_date.precision) else "day")
            if comparable(earlier_date, coarser) > comparable(later_date, coarser):
                earlier_field, later_field = STAGE_DATE_FIELDS[earlier], STAGE_DATE_FIELDS[later]
                first, then = reader.header(earlier_field), reader.header(later_field)
                raise RowError(f"{first}, {then}",
                               f"阶段日期顺序颠倒：{first} {earlier_date.isoformat()} 晚于 {then} "
                               f"{later_date.isoformat()} / {earlier_field} {earlier_date.isoformat()} is after "
                               f"{later_field} {later_date.isoformat()}; a site is {earlier} before it is {later}")


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


def read_precision(reader: RowReader) -> str | None:
    """Return the row's position precision from its code or label, or None when it gives none."""
    text = reader.text("precision")
    text = PRECISION_ALIASES.get(text, text) if text else None
    if text is not None and text not in PRECISIONS:
        raise RowError(reader.header("precision"), f"未知位置精度 / unknown precision '{text}'")
    return text
