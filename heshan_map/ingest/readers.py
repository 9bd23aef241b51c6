"""The reader registry: every upload format, the land report included, read into a table and the file's own CRS."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .crs import CrsError, CrsSpec, crs_from_wkt
from .gis import read_geojson, read_gpkg, read_kml, read_shapefile_zip
from .landreport import plot_table, read_land_report
from .safety import Limits
from .sniff import sniff_format
from .spreadsheets import read_csv, read_xlsx
from .table import RawTable

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileDefaults:
    """What a format says about rows that do not say it themselves (a land report's plots are signed land plots)."""

    kind: str | None = None
    stage: str | None = None


@dataclass
class FileRead:
    """A file read: its table, the coordinate system it names (or why that one cannot be used), its defaults."""

    table: RawTable
    crs: CrsSpec | None = None  # None: the file names none, or one that cannot be used (crs_problem says why)
    crs_problem: str | None = None  # the upload's crs parameter must then name the coordinate system
    defaults: FileDefaults = field(default_factory=FileDefaults)


FileReader = Callable[[bytes, str, Limits], FileRead]
TableReader = Callable[[bytes, Limits], RawTable]


class NotATable(ValueError):
    """An upload of a recognised format that is not read as a table of its own (the land-report text)."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"{fmt} uploads are read by heshan_map.ingest.landreport, not as a table")
        self.format = fmt


def own_crs(wkt: str | None) -> tuple[CrsSpec | None, str | None]:
    """Return the CRS a table's WKT (a .prj, a layer's CRS) names, or None and why it cannot be used."""
    if not wkt:
        return None, None
    try:
        return crs_from_wkt(wkt), None
    except CrsError as error:
        return None, str(error)


def table_format(read: TableReader) -> FileReader:
    """Return the registry reader of a table format: its table and the CRS the table's WKT names."""
    def read_file(data: bytes, filename: str, limits: Limits) -> FileRead:
        table = read(data, limits)
        crs, problem = own_crs(table.crs_wkt)
        return FileRead(table, crs, problem)
    return read_file


LAND_REPORT_DEFAULTS = FileDefaults(kind="land_plot", stage="signed")


def read_land_report_file(data: bytes, filename: str, limits: Limits) -> FileRead:
    """Return a land report's plots as a table in the report's CRS (raises landreport.LandReportError)."""
    report = read_land_report(data)
    return FileRead(plot_table(report, filename), report.crs, defaults=LAND_REPORT_DEFAULTS)


# The formats that are tables of their own (sitefields' columns by header, an optional geometry per row).
TABLE_READERS: dict[str, TableReader] = {
    "csv": read_csv, "xlsx": read_xlsx, "geojson": read_geojson, "kml": read_kml,
    "shapefile_zip": read_shapefile_zip, "gpkg": read_gpkg,
}
# Every format sniff.sniff_format names -> its reader.
READERS: dict[str, FileReader] = {
    **{fmt: table_format(read) for fmt, read in TABLE_READERS.items()},
    "land_report": read_land_report_file,
}


def read_file(data: bytes, filename: str, limits: Limits | None = None, fmt: str | None = None) -> FileRead:
    """Read an upload of any format after checking it is safe and is what its name says.

    `fmt` is the format sniff_format already found for these bytes, so they are not sniffed twice.
    """
    limits = limits or Limits()
    fmt = fmt or sniff_format(data, filename)
    read = READERS[fmt](data, filename, limits)
    LOGGER.info("read %s as %s: %d rows, %d columns", filename, fmt, len(read.table.rows), len(read.table.columns))
    return read


def read_table(data: bytes, filename: str, limits: Limits | None = None, fmt: str | None = None) -> RawTable:
    """Read an upload of a table format into a RawTable; a land report raises NotATable."""
    fmt = fmt or sniff_format(data, filename)
    if fmt not in TABLE_READERS:
        raise NotATable(fmt)
    return read_file(data, filename, limits, fmt).table
