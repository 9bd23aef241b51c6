"""Check a land report's rings and find its coordinate system (CGCS2000 Gauss-Kruger, zone, axis order)."""
from __future__ import annotations

import logging
import re

from .crs import CrsError, CrsSpec, ZONE_PREFIX_THRESHOLD, cgcs2000_gk_zone, resolve_projected_xy
from .landreport_text import RawPlot, RawPoint, ReportText

LOGGER = logging.getLogger(__name__)

METRE_UNITS = frozenset({"米", "m", "metre", "meter", "公尺"})
CLOSURE_TOLERANCE_M = 0.001
# pyproj has only a "ballpark" (no datum shift) operation from these to WGS84: tens of metres off.
UNSUPPORTED_DATUMS = (
    (re.compile(r"西安|xi'?an|80", re.IGNORECASE), "Xian 1980 (1980西安坐标系)"),
    (re.compile(r"北京|beijing|54", re.IGNORECASE), "Beijing 1954 (1954北京坐标系)"),
)


# --- rings -----------------------------------------------------------------------------------

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


def ring_coordinates(ring: list[RawPoint], swapped: bool) -> list[tuple[float, float]]:
    """Return a ring's (easting, northing) pairs."""
    return [(point.x, point.y) if swapped else (point.y, point.x) for point in ring]
