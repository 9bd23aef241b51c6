"""Parse the text of a land report (报备坐标 txt): its sections, attribute block, plot headers and point lines."""
from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field

LOGGER = logging.getLogger(__name__)

ATTRIBUTES_SECTION = "属性描述"
PLOTS_SECTION = "地块坐标"
HEADER_FIELDS = ("number_of_points", "area", "plot_id", "name", "geometry_type", "sheet", "use",
                 "land_class")
POLYGON_TYPE = "面"
LINE_BREAK = re.compile(r"\r\n|\r|\n")
SECTION_LINE = re.compile(r"^[\[【]\s*(.+?)\s*[\]】]$")


@dataclass
class RawPoint:
    """A point line as read: name, ring number and the file's X (northing) and Y (easting)."""

    line: int
    name: str
    ring: int
    x: float
    y: float


@dataclass
class RawPlot:
    """A plot header and the point lines that follow it, before checking."""

    line: int
    header: dict[str, str]
    points: list[RawPoint] = field(default_factory=list)
    point_lines: int = 0


@dataclass
class ReportText:
    """The sections of a land-report file, with line numbers."""

    attributes: dict[str, str] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)
    plot_lines: list[tuple[int, str]] | None = None


# --- text ------------------------------------------------------------------------------------

def decode_report(data: bytes) -> str:
    """Return the text of a report in UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def split_sections(text: str) -> ReportText:
    """Return the attribute block and the numbered lines of the [地块坐标] section."""
    report = ReportText()
    section = None
    for number, raw in enumerate(LINE_BREAK.split(text), start=1):
        line = raw.strip().lstrip("\ufeff")
        heading = SECTION_LINE.match(line)
        if heading:
            section = heading.group(1)
            if section == PLOTS_SECTION and report.plot_lines is None:
                report.plot_lines = []
            continue
        if not line:
            continue
        if section == ATTRIBUTES_SECTION:
            add_attribute(report, number, line)
        elif section == PLOTS_SECTION:
            report.plot_lines.append((number, line))
        else:
            LOGGER.debug("ignoring line %d outside the known sections: %r", number, line)
    return report


def add_attribute(report: ReportText, number: int, line: str) -> None:
    """Record a `key=value` line of the [属性描述] block."""
    key, separator, value = line.replace("＝", "=").partition("=")
    if not separator:
        LOGGER.debug("ignoring attribute line %d without '=': %r", number, line)
        return
    report.attributes[key.strip()] = value.strip()
    report.attribute_lines[key.strip()] = number


def split_fields(line: str) -> list[str]:
    """Return the comma-separated fields of a line without trailing empty fields."""
    fields = [part.strip() for part in line.replace("，", ",").split(",")]
    while fields and not fields[-1]:
        fields.pop()
    return fields


def is_header(fields: list[str]) -> bool:
    """Return whether a line's fields are a plot header (ending in '@', or eight fields or more)."""
    return bool(fields) and (fields[-1] == "@" or len(fields) >= len(HEADER_FIELDS))


# --- plots -----------------------------------------------------------------------------------

def read_raw_plots(lines: list[tuple[int, str]], errors: list[tuple[int, str]]) -> list[RawPlot]:
    """Return the plots of the [地块坐标] section, recording lines that do not parse."""
    plots: list[RawPlot] = []
    for number, line in lines:
        fields = split_fields(line)
        if is_header(fields):
            plots.append(RawPlot(number, header_fields(fields)))
        elif not plots:
            errors.append((number, f"point line before any plot header: {line!r}"))
        else:
            plots[-1].point_lines += 1
            point = parse_point(number, fields, line, errors)
            if point is not None:
                plots[-1].points.append(point)
    return plots


def header_fields(fields: list[str]) -> dict[str, str]:
    """Return a header line's fields by name (missing ones blank)."""
    if fields and fields[-1] == "@":
        fields = fields[:-1]
    padded = fields + [""] * (len(HEADER_FIELDS) - len(fields))
    return dict(zip(HEADER_FIELDS, padded))


def parse_point(number: int, fields: list[str], line: str,
                errors: list[tuple[int, str]]) -> RawPoint | None:
    """Return a point line `name,ring,X,Y` as read, or record why it does not parse."""
    if len(fields) != 4:
        errors.append((number, f"point line does not parse (expected name,ring,X,Y): {line!r}"))
        return None
    name, ring, x, y = fields
    try:
        return RawPoint(number, name, int(ring), float(x), float(y))
    except ValueError:
        errors.append((number, f"point line does not parse (ring must be a whole number, X and Y "
                               f"numbers): {line!r}"))
        return None


def check_header(plot: RawPlot, errors: list[tuple[int, str]]) -> tuple[int | None, float | None]:
    """Return a header's point count and area, recording fields that do not parse."""
    header = plot.header
    count = area = None
    try:
        count = int(header["number_of_points"])
    except ValueError:
        errors.append((plot.line, f"plot header point count {header['number_of_points']!r} is not a "
                                  f"whole number"))
    if header["area"]:
        try:
            area = float(header["area"])
        except ValueError:
            errors.append((plot.line, f"plot header area {header['area']!r} is not a number"))
    if header["geometry_type"] != POLYGON_TYPE:
        errors.append((plot.line, f"plot {header['plot_id']!r} has geometry type "
                                  f"{header['geometry_type']!r}; only {POLYGON_TYPE} (polygon) plots "
                                  f"are supported"))
    if count is not None and count != plot.point_lines:
        errors.append((plot.line, f"plot {header['plot_id']!r} header says {count} points but "
                                  f"{plot.point_lines} point lines follow"))
    return count, area
