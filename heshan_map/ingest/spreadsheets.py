"""Read the spreadsheet uploads (CSV, XLSX) into a raw table, header in the first filled row."""
from __future__ import annotations

import codecs
import csv
import io
import logging
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .safety import Limits, UnsafeFile, refuse_xlsx_xml_doctypes
from .table import RawTable, refuse_too_many_columns, refuse_too_many_rows

LOGGER = logging.getLogger(__name__)

CSV_DELIMITERS = ",;\t"
CSV_SNIFF_CHARS = 64 * 1024
BUDGET_CHECK_ROWS = 1000


# --- shared helpers ---------------------------------------------------------------------------

def unique_column_names(raw_names: Iterable[object], warnings: list[str]) -> list[str]:
    """Strip header names, name blank ones column_N and suffix repeats _2, _3, noting each change."""
    columns: list[str] = []
    used: set[str] = set()
    next_suffix: dict[str, int] = {}
    for index, raw_name in enumerate(raw_names, start=1):
        name = "" if raw_name is None else str(raw_name).strip()
        if not name:
            name = f"column_{index}"
            warnings.append(f"Column {index} has no header; named it {name} / 第 {index} 列无表头")
        base, suffix = name, next_suffix.get(name, 2)
        while name in used:
            name = f"{base}_{suffix}"
            suffix += 1
        if name != base:
            next_suffix[base] = suffix
            warnings.append(f"Header '{base}' repeats; the later column is named {name} / 表头重复")
        used.add(name)
        columns.append(name)
    return columns


def is_blank(value: object) -> bool:
    """Tell whether a cell is empty or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def trim_trailing_blanks(cells: Sequence[object]) -> list[object]:
    """Drop empty cells from the end of a row."""
    cells = list(cells)
    while cells and is_blank(cells[-1]):
        cells.pop()
    return cells


TITLE_ROWS_LOOKAHEAD = 10


def header_and_records(records: Iterable[Sequence[object]], limits: Limits,
                       warnings: list[str] | None = None) -> tuple[int, list[object], list[tuple[int, list[object]]]]:
    """Split numbered records into the header and the non-blank rows after it.

    The header is the first row with at least two filled cells; rows above it with a single cell
    (a sheet title such as "2025年三季度签约项目表", common in Chinese workbooks) are skipped, with a warning.
    """
    header_number, header, body = 0, [], []
    leading: list[tuple[int, list[object]]] = []
    for number, cells in enumerate(records, start=1):
        if number % BUDGET_CHECK_ROWS == 0:
            limits.check_budget()
        trimmed = trim_trailing_blanks(cells)
        refuse_too_many_columns(len(trimmed), limits)
        if not trimmed:
            continue
        if not header_number:
            filled = sum(1 for cell in trimmed if not is_blank(cell))
            if filled >= 2 or len(leading) >= TITLE_ROWS_LOOKAHEAD:
                header_number, header = number, trimmed
                if leading and filled < 2:
                    header_number, header = leading[0]
                    body.extend(leading[1:] + [(number, trimmed)])
                elif leading and warnings is not None:
                    warnings.append(f"Row(s) {', '.join(str(n) for n, _ in leading)} above the header taken as a "
                                    f"title and skipped / 表头上方的标题行已跳过")
            else:
                leading.append((number, trimmed))
            continue
        body.append((number, trimmed))
        refuse_too_many_rows(len(body), limits)
    if not header_number and leading:
        header_number, header = leading[0]
        body = leading[1:]
    return header_number, header, body


def tabulate(fmt: str, records: Iterable[Sequence[object]], encoding: str | None, warnings: list[str],
             limits: Limits, missing: object) -> RawTable:
    """Build a RawTable from spreadsheet-like records whose first non-blank row is the header."""
    header_number, header, body = header_and_records(records, limits, warnings)
    if not header_number:
        raise UnsafeFile("The file has no header row / 文件没有表头行", "invalid")
    columns = unique_column_names(header, warnings)
    rows, numbers, too_wide = [], [], []
    padding = [missing] * len(columns)
    for number, cells in body:
        if len(cells) > len(columns):
            too_wide.append(str(number))
        rows.append(dict(zip(columns, [*cells[:len(columns)], *padding[len(cells):]])))
        numbers.append(number)
    if too_wide:
        shown = ", ".join(too_wide[:10]) + (" …" if len(too_wide) > 10 else "")
        warnings.append(f"Row(s) {shown} have more cells than the header; extra cells ignored "
                        f"/ 这些行的单元格多于表头，多余部分已忽略")
    return RawTable(fmt, columns, rows, [None] * len(rows), None, numbers, encoding, warnings)


# --- CSV --------------------------------------------------------------------------------------

def decode_csv_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM) or else GB18030; return text and encoding."""
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise UnsafeFile("CSV text is neither UTF-8 nor GB18030/GBK / CSV 编码无法识别（应为 UTF-8 或 GBK）", "invalid") from error


def count_fields(line: str, delimiter: str) -> int:
    """Count the fields of one CSV line split by delimiter, honouring quotes."""
    return len(next(csv.reader([line], delimiter=delimiter), []))


def sniff_delimiter(text: str) -> str:
    """Return the delimiter among comma, semicolon and tab that the CSV text uses."""
    sample = text[:CSV_SNIFF_CHARS]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    first_line = next((line for line in sample.splitlines() if line.strip()), "")
    if delimiter and count_fields(first_line, delimiter) > 1:
        return delimiter
    return max(CSV_DELIMITERS, key=lambda candidate: count_fields(first_line, candidate))


def narrow_records(reader: Iterator[list[str]], limits: Limits) -> Iterator[list[str]]:
    """Yield CSV records, refusing one wider than MAX_UPLOAD_COLUMNS the moment it is read."""
    for cells in reader:
        refuse_too_many_columns(len(cells), limits)
        yield cells


def read_csv(data: bytes, limits: Limits) -> RawTable:
    """Read CSV bytes into a RawTable of strings, header in row 1."""
    text, encoding = decode_csv_text(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = tabulate("csv", narrow_records(reader, limits), encoding, [], limits, missing="")
    except csv.Error as error:
        raise UnsafeFile(f"CSV cannot be parsed ({error}) / CSV 无法解析", "invalid") from error
    LOGGER.debug("CSV decoded as %s with delimiter %r", encoding, delimiter)
    return table


# --- XLSX -------------------------------------------------------------------------------------

def read_xlsx(data: bytes, limits: Limits) -> RawTable:
    """Read the first sheet of an XLSX workbook into a RawTable, keeping numbers and dates typed."""
    refuse_xlsx_xml_doctypes(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnsafeFile(f"The workbook cannot be opened ({error}) / 无法打开该 Excel 文件", "invalid") from error
    try:
        return read_first_sheet(workbook, limits)
    finally:
        workbook.close()


def read_first_sheet(workbook: Any, limits: Limits) -> RawTable:
    """Tabulate the first worksheet, warning when the workbook has others."""
    warnings: list[str] = []
    if not workbook.worksheets:
        raise UnsafeFile("The workbook has no worksheet / 工作簿中没有工作表", "invalid")
    sheet = workbook.worksheets[0]
    others = [name for name in workbook.sheetnames if name != sheet.title]
    if others:
        warnings.append(f"Only the first sheet '{sheet.title}' was read; ignored: {', '.join(others)} "
                        f"/ 只读取了第一个工作表")
    sheet.reset_dimensions()
    rows = sheet.iter_rows(min_row=1, values_only=True)
    return tabulate("xlsx", rows, None, warnings, limits, missing=None)

