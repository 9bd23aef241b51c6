"""Read the Ministry land-report coordinate text (报备坐标 txt) into projected and WGS84 plot polygons."""
from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field

from shapely.geometry import Polygon

from .crs import (CrsError, CrsSpec, ZONE_PREFIX_THRESHOLD, cgcs2000_gk_zone, has_zone_prefix,
                  resolve_projected_xy, to_wgs84)

LOGGER = logging.getLogger(__name__)

ATTRIBUTES_SECTION = "属性描述"
PLOTS_SECTION = "地块坐标"
HEADER_FIELDS = ("number_of_points", "area", "plot_id", "name", "geometry_type", "sheet", "use",
                 "land_class")
POLYGON_TYPE = "面"
METRE_UNITS = frozenset({"米", "m", "metre", "meter", "公尺"})
CLOSURE_TOLERANCE_M = 0.001
AREA_MATCH_TOLERANCE = 0.01  # relative: a declared area this close to the drawn one names its unit
LINE_BREAK = re.compile(r"\r\n|\r|\n")
SECTION_LINE = re.compile(r"^[\[【]\s*(.+?)\s*[\]】]$")
# pyproj has only a "ballpark" (no datum shift) operation from these to WGS84: tens of metres off.
UNSUPPORTED_DATUMS = (
    (re.compile(r"西安|xi'?an|80", re.IGNORECASE), "Xian 1980 (1980西安坐标系)"),
    (re.compile(r"北京|beijing|54", re.IGNORECASE), "Beijing 1954 (1954北京坐标系)"),
)


class LandReportError(ValueError):
    """Problems found in a land-report file, each with its 1-based line number."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = sorted(errors)
        self.line, self.message = self.errors[0]
        super().__init__("; ".join(f"line {line}: {message}" for line, message in self.errors))


@dataclass(frozen=True)
class LandPlot:
    """One plot (地块) of a land report: its header fields and its polygon."""

    line: int
    number_of_points: int
    area: float | None
    plot_id: str
    name: str
    geometry_type: str
    sheet: str
    use: str
    land_class: str
    polygon_projected: Polygon  # (easting, northing) in the report's CRS
    polygon_wgs84: Polygon

    @property
    def hole_count(self) -> int:
        """Return how many holes (rings 2..) the plot has."""
        return len(self.polygon_projected.interiors)

    @property
    def drawn_area_ha(self) -> float:
        """Return the area of the projected polygon in hectares."""
        return self.polygon_projected.area / 10_000

    @property
    def area_ha(self) -> float | None:
        """Return the declared area in hectares (the format's unit; converted only if it clearly is m²)."""
        if self.area is None:
            return None
        drawn = self.drawn_area_ha
        if drawn > 0 and not close(self.area, drawn) and close(self.area, drawn * 10_000):
            return self.area / 10_000
        return self.area


@dataclass(frozen=True)
class LandReport:
    """A parsed land report: its attribute block, coordinate system and plots."""

    attributes: dict[str, str]
    crs: CrsSpec
    plots: list[LandPlot]


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


def close(a: float, b: float) -> bool:
    """Return whether two areas agree within the area-matching tolerance."""
    return abs(a - b) <= AREA_MATCH_TOLERANCE * max(abs(a), abs(b))


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


def split_rings(plot: RawPlot, errors: list[tuple[int, str]]) -> list[list[RawPoint]]:
    """Return a plot's points grouped into rings, recording ring numbers that jump."""
    rings: list[list[RawPoint]] = []
    for point in plot.points:
        current = rings[-1][0].ring if rings else 0
        if point.ring == current:
            rings[-1].append(point)
            continue
        if point.ring != current + 1:
            expected = "1" if not rings else f"{current} or {current + 1}"
            errors.append((point.line, f"ring number jumps from {current} to {point.ring} "
                                       f"(expected {expected})"))
            return []
        rings.append([point])
    if not rings:
        errors.append((plot.line, f"plot {plot.header['plot_id']!r} has no points"))
    return rings


def check_ring(ring: list[RawPoint], errors: list[tuple[int, str]]) -> bool:
    """Return whether a ring is closed and has at least 4 points, recording what is wrong."""
    first, last = ring[0], ring[-1]
    ok = True
    if len(ring) < 4:
        errors.append((first.line, f"ring {first.ring} has {len(ring)} points; a closed ring needs "
                                   f"at least 4 (the first repeated at the end)"))
        ok = False
    if len(ring) > 1 and (abs(first.x - last.x) > CLOSURE_TOLERANCE_M
                          or abs(first.y - last.y) > CLOSURE_TOLERANCE_M):
        errors.append((last.line, f"ring {first.ring} is not closed: its last point {last.name} "
                                  f"({last.x}, {last.y}) does not repeat its first point {first.name} "
                                  f"({first.x}, {first.y})"))
        ok = False
    return ok


# --- coordinate system -----------------------------------------------------------------------

def check_datum(report: ReportText, errors: list[tuple[int, str]]) -> bool:
    """Return whether the 坐标系 attribute names CGCS2000, recording why not."""
    value = report.attributes.get("坐标系", "")
    line = report.attribute_lines.get("坐标系", 1)
    if not value:
        LOGGER.warning("land report has no 坐标系; assuming CGCS2000 (2000国家大地坐标系)")
        return True
    if "2000" in value or "cgcs" in value.lower():
        return True
    for pattern, datum in UNSUPPORTED_DATUMS:
        if pattern.search(value):
            errors.append((line, f"坐标系={value} is {datum}, which is not supported: only CGCS2000 "
                                 f"(2000国家大地坐标系) is, because no accurate transformation from it "
                                 f"to WGS84 is available; convert the file to CGCS2000 first"))
            return False
    errors.append((line, f"坐标系={value} is not recognised; only CGCS2000 (2000国家大地坐标系) is "
                         f"supported"))
    return False


def check_unit(report: ReportText, errors: list[tuple[int, str]]) -> None:
    """Record an error when 计量单位 is given and is not metres."""
    unit = report.attributes.get("计量单位", "")
    if unit and unit.lower() not in METRE_UNITS:
        errors.append((report.attribute_lines["计量单位"], f"计量单位={unit} is not supported; "
                                                          f"coordinates must be in metres (米)"))


def declared_zone_crs(report: ReportText, errors: list[tuple[int, str]]) -> tuple[bool, CrsSpec | None]:
    """Return (ok, the zone's CRS without prefix) from 几度分带 and 带号; (True, None) when 带号 is absent."""
    width_text = report.attributes.get("几度分带", "") or "3"
    zone_text = report.attributes.get("带号", "")
    if not zone_text:
        return True, None
    try:
        zone = cgcs2000_gk_zone(int(width_text), int(zone_text))
    except ValueError as exc:
        line = report.attribute_lines.get("带号", 1)
        message = str(exc) if isinstance(exc, CrsError) else "几度分带 and 带号 must be whole numbers"
        errors.append((line, f"几度分带={width_text}, 带号={zone_text}: {message}"))
        return False, None
    return True, CrsSpec("epsg", zone.plain_epsg)


def resolve_report_crs(report: ReportText, plots: list[RawPlot],
                       errors: list[tuple[int, str]]) -> tuple[CrsSpec, bool] | None:
    """Return the report's CRS and whether X/Y are swapped, judged from its first point, or None."""
    datum_ok = check_datum(report, errors)
    check_unit(report, errors)
    zone_ok, declared = declared_zone_crs(report, errors)
    first = next((point for plot in plots for point in plot.points), None)
    if not (datum_ok and zone_ok) or first is None:
        return None
    try:
        _, _, crs, swapped = resolve_projected_xy(first.y, first.x, declared)
    except CrsError as exc:
        errors.append((first.line, str(exc)))
        return None
    if swapped:
        LOGGER.warning("land report writes X as the easting (not the northing); reading it swapped")
    return crs, swapped


def check_prefixes(plots: list[RawPlot], swapped: bool, prefixed: bool,
                   errors: list[tuple[int, str]]) -> None:
    """Record points whose easting has or lacks the zone prefix unlike the file's first point."""
    for plot in plots:
        for point in plot.points:
            easting = point.x if swapped else point.y
            if (easting >= ZONE_PREFIX_THRESHOLD) != prefixed:
                state = "has" if not prefixed else "lacks"
                errors.append((point.line, f"point {point.name} easting {easting} {state} the zone "
                                           f"prefix, unlike the file's first point"))


# --- assembly --------------------------------------------------------------------------------

def ring_coordinates(ring: list[RawPoint], swapped: bool) -> list[tuple[float, float]]:
    """Return a ring's (easting, northing) pairs."""
    return [(point.x, point.y) if swapped else (point.y, point.x) for point in ring]


def build_plot(plot: RawPlot, count: int, area: float | None, rings: list[list[RawPoint]],
               crs: CrsSpec, swapped: bool) -> LandPlot:
    """Return a checked plot with its projected and WGS84 polygons (kept as read, not repaired)."""
    shell, *holes = (ring_coordinates(ring, swapped) for ring in rings)
    polygon = Polygon(shell, holes)
    header = plot.header
    return LandPlot(line=plot.line, number_of_points=count, area=area, plot_id=header["plot_id"],
                    name=header["name"], geometry_type=header["geometry_type"], sheet=header["sheet"],
                    use=header["use"], land_class=header["land_class"], polygon_projected=polygon,
                    polygon_wgs84=to_wgs84(polygon, crs))


def check_plot(plot: RawPlot, errors: list[tuple[int, str]]) -> tuple[int, float | None,
                                                                       list[list[RawPoint]]] | None:
    """Return a plot's point count, area and rings if they pass every check, recording problems."""
    before = len(errors)
    count, area = check_header(plot, errors)
    rings = split_rings(plot, errors)
    rings_ok = all([check_ring(ring, errors) for ring in rings])
    if len(errors) > before or not rings_ok or count is None:
        return None
    return count, area, rings


def read_land_report(data: bytes) -> LandReport:
    """Return the plots of a land-report file, or raise LandReportError listing every problem."""
    try:
        text = decode_report(data)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LandReportError([(line, "the file is neither UTF-8 nor GBK/GB18030 text")]) from exc
    report = split_sections(text)
    if report.plot_lines is None:
        raise LandReportError([(1, f"the file has no [{PLOTS_SECTION}] section")])
    errors: list[tuple[int, str]] = []
    raw_plots = read_raw_plots(report.plot_lines, errors)
    if not raw_plots and not errors:
        errors.append((1, f"the [{PLOTS_SECTION}] section has no plots"))
    checked = [(plot, check_plot(plot, errors)) for plot in raw_plots]
    resolved = resolve_report_crs(report, raw_plots, errors)
    if resolved is not None:
        crs, swapped = resolved
        check_prefixes(raw_plots, swapped, has_zone_prefix(crs), errors)
    if errors or resolved is None:
        raise LandReportError(errors or [(1, "no point could be read to find the coordinate system")])
    plots = [build_plot(plot, *parts, crs, swapped) for plot, parts in checked]
    LOGGER.info("read land report: %d plots in %s", len(plots), crs.label())
    return LandReport(attributes=dict(report.attributes), crs=crs, plots=plots)

