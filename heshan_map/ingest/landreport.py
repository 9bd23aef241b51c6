"""Read the Ministry land-report coordinate text (报备坐标 txt) into projected and WGS84 plot polygons."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from shapely.geometry import Polygon

from .crs import CrsSpec, has_zone_prefix, to_wgs84
from .landreport_geometry import (check_prefixes, check_ring, resolve_report_crs, ring_coordinates,
                                  split_rings)
from .landreport_text import (PLOTS_SECTION, RawPlot, RawPoint, check_header, decode_report, read_raw_plots,
                              split_sections)
from .table import RawTable

LOGGER = logging.getLogger(__name__)

AREA_MATCH_TOLERANCE = 0.01  # relative: a declared area this close to the drawn one names its unit


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


def close(a: float, b: float) -> bool:
    """Return whether two areas agree within the area-matching tolerance."""
    return abs(a - b) <= AREA_MATCH_TOLERANCE * max(abs(a), abs(b))


# --- assembly --------------------------------------------------------------------------------

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


PLOT_COLUMNS = ["地块号", "地块名称", "面积(公顷)", "用途", "地类编码", "图幅号"]
# A 地块号 of one to four digits (1, 2, 12) is the plot's place in its report, not a name of the plot.
SEQUENCE_NUMBER = re.compile(r"^\d{1,4}$")


def plot_code(plot_id: str, filename: str) -> str | None:
    """Return a plot's code: its own 地块号 when that identifies it, else `<file name>#<number>`."""
    if not plot_id:
        return None
    if SEQUENCE_NUMBER.match(plot_id):
        return f"{filename.rsplit('/', 1)[-1]}#{plot_id}"
    return plot_id


def plot_table(report: LandReport, filename: str) -> RawTable:
    """Return the plots of a land report as a table with projected polygons.

    A plot whose 地块号 identifies it (A-01, 4407842024001) keeps it as its code. A bare sequence number (1, 2, 3,
    as many reports number their plots) is not unique, so the code is the file's name and the number
    (`项目A.txt#1`): re-uploading the same report updates its plots, another report adds its own.
    """
    rows: list[dict[str, object]] = [
        {"地块号": plot_code(plot.plot_id, filename), "地块名称": plot.name or plot.plot_id,
         "面积(公顷)": plot.area_ha, "用途": plot.use or None, "地类编码": plot.land_class or None,
         "图幅号": plot.sheet or None}
        for plot in report.plots]
    return RawTable(format="land_report", columns=list(PLOT_COLUMNS), rows=rows,
                    geometries=[plot.polygon_projected for plot in report.plots], crs_wkt=None,
                    row_numbers=[plot.line for plot in report.plots], encoding=None,
                    warnings=[f"{key}={value}" for key, value in report.attributes.items()])
