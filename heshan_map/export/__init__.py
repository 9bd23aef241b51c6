"""Write what a filter selects as GeoJSON, CSV, XLSX, GeoPackage, KML or zipped Shapefile.

The modules: request (format, CRS, deadline, file name), columns (the declared fields as columns and the rows
that fill them), tables (CSV, XLSX), kml, gis (GeoPackage, Shapefile) and geojson. This module picks the
writer of a format and sends what it writes in chunks.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.orm import Session

from . import columns, geojson, gis, kml, tables
from .columns import COLUMNS, NUMERIC_COLUMNS, SHAPEFILE_FIELDS, export_rows, header_row, xml_text
from .geojson import stream_geojson
from .gis import write_gpkg, write_shapefile_zip
from .kml import kml_placemark, stream_kml
from .request import (FORMATS, REPROJECTABLE, ExportRequest, check_deadline, content_disposition, download_name,
                      labels_for, parse_export_crs, parse_export_format)
from .tables import neutralise_formula, stream_csv, table_cells, write_xlsx

__all__ = ["COLUMNS", "FILE_WRITERS", "FORMATS", "NUMERIC_COLUMNS", "REPROJECTABLE", "SHAPEFILE_FIELDS",
           "STREAM_WRITERS", "ExportRequest", "check_deadline", "columns", "content_disposition", "download_name",
           "export_chunks", "export_rows", "file_chunks", "geojson", "gis", "header_row", "kml", "kml_placemark",
           "labels_for", "neutralise_formula", "parse_export_crs", "parse_export_format", "stream_csv",
           "stream_geojson", "stream_kml", "table_cells", "tables", "write_export", "write_gpkg",
           "write_shapefile_zip", "write_xlsx", "xml_text"]

CHUNK_BYTES = 64 * 1024  # bytes per chunk of a file sent from disk
FILE_WRITERS: dict[str, Callable[[Session, ExportRequest, Path], None]] = {
    "xlsx": write_xlsx, "gpkg": write_gpkg, "shp.zip": write_shapefile_zip,
}
STREAM_WRITERS: dict[str, Callable[[Session, ExportRequest], Iterator[bytes]]] = {
    "geojson": stream_geojson, "csv": stream_csv, "kml": stream_kml,
}


def file_chunks(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Write a file format to a temporary folder, then yield the file in chunks; the folder goes when done."""
    with tempfile.TemporaryDirectory(prefix="heshan-export-") as folder:
        target = Path(folder) / f"export.{FORMATS[request.fmt][1]}"
        FILE_WRITERS[request.fmt](session, request, target)
        with target.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk


def export_chunks(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield an export of any format in chunks; memory stays bounded whatever the number of sites."""
    if request.fmt in STREAM_WRITERS:
        return STREAM_WRITERS[request.fmt](session, request)
    return file_chunks(session, request)


def write_export(session: Session, request: ExportRequest, target: Path) -> None:
    """Write an export of any format to a file."""
    if request.fmt in STREAM_WRITERS:
        with target.open("wb") as handle:
            for chunk in STREAM_WRITERS[request.fmt](session, request):
                handle.write(chunk)
    else:
        FILE_WRITERS[request.fmt](session, request, target)
