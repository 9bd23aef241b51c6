"""Tell an upload's format from its name and check its content really is that format (415 when it lies)."""
from __future__ import annotations

import codecs
import io
import json
import logging
import re
import zipfile
from pathlib import PurePosixPath

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .safety import EMPTY_ZIP_MAGIC, ZIP_MAGIC, UnsafeFile, refuse_xml_doctype

LOGGER = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GEOJSON_TYPES = frozenset({
    "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
    "Polygon", "MultiPolygon", "GeometryCollection"})
LAND_REPORT_MARKER = "[地块坐标]"
FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".zip": "shapefile_zip",
    ".gpkg": "gpkg",
    ".txt": "land_report",
}
FORMAT_LABELS = {
    "csv": "CSV text",
    "xlsx": "an Excel .xlsx workbook",
    "geojson": "GeoJSON",
    "kml": "KML",
    "shapefile_zip": "a zipped Shapefile",
    "gpkg": "a GeoPackage",
    "land_report": "a land report (text with [地块坐标])",
}


def file_suffix(filename: str) -> str:
    """Return the lower-case extension of an uploaded name, ignoring any client-side folders."""
    basename = re.split(r"[\\/]", filename)[-1]
    return PurePosixPath(basename).suffix.lower()


def content_mismatch(filename: str, fmt: str, detail: str = "") -> UnsafeFile:
    """Build the 415 error for a file whose content is not what its name claims."""
    extra = f" ({detail})" if detail else ""
    return UnsafeFile(
        f"'{filename}' is named like {FORMAT_LABELS[fmt]} but its content is not{extra} "
        f"/ 文件内容与扩展名不符", "unsupported")


def unsupported_extension(filename: str) -> UnsafeFile:
    """Build the 415 error for an extension the service does not read."""
    supported = ", ".join(sorted(set(FORMAT_BY_SUFFIX) - {".json"}))
    return UnsafeFile(
        f"'{filename}': unsupported file type; supported are {supported} (Shapefile as .zip) "
        f"/ 不支持的文件类型", "unsupported")


def looks_binary_or_markup(data: bytes) -> str | None:
    """Tell what non-CSV thing the bytes are (archive, database, XML, VRT, binary), or None."""
    head = data[:8192]
    if b"<OGRVRTDataSource" in head or b"<ogrvrtdatasource" in head.lower():
        return "it is an OGR VRT"
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC, SQLITE_MAGIC, OLE2_MAGIC)) or b"\x00" in head:
        return "it is binary"
    if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"<"):
        return "it is XML or HTML"
    return None


def parses_as_geojson(data: bytes) -> bool:
    """Tell whether the bytes are JSON whose top-level type is a GeoJSON object."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("type") in GEOJSON_TYPES


def xml_root_name(data: bytes) -> str | None:
    """Return the local name of the root element of XML bytes, or None when they are not XML."""
    try:
        for _event, element in SafeET.iterparse(io.BytesIO(data), events=("start",), forbid_dtd=True):
            return element.tag.rsplit("}", 1)[-1]
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError):
        return None
    return None


def zip_has_shapefile(data: bytes) -> bool:
    """Tell whether zip bytes list at least one .shp member."""
    if not data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.lower().endswith(".shp") for name in archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return False


def zip_is_xlsx(data: bytes) -> bool:
    """Tell whether zip bytes hold the parts every XLSX workbook has."""
    if not data.startswith(ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def text_has_land_report_marker(data: bytes) -> bool:
    """Tell whether text bytes (UTF-8 or GB18030) contain the land-report coordinate section."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return LAND_REPORT_MARKER in data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return False


def content_matches(data: bytes, filename: str, fmt: str) -> None:
    """Raise UnsafeFile 415 unless the bytes really are of the format the name claims."""
    if fmt == "csv":
        problem = looks_binary_or_markup(data)
        if problem:
            raise content_mismatch(filename, fmt, problem)
    elif fmt == "xlsx":
        if data.startswith(OLE2_MAGIC):
            raise content_mismatch(filename, fmt, "it is an old .xls workbook; save it as .xlsx")
        if not zip_is_xlsx(data):
            raise content_mismatch(filename, fmt)
    elif fmt == "geojson":
        if not parses_as_geojson(data):
            detail = "it is an OGR VRT" if b"<OGRVRTDataSource" in data[:8192] else "no GeoJSON type at the top"
            raise content_mismatch(filename, fmt, detail)
    elif fmt == "kml":
        refuse_xml_doctype(data, f"'{filename}'")
        root = xml_root_name(data)
        if root != "kml":
            raise content_mismatch(filename, fmt, f"its root element is {root}" if root else "not XML")
    elif fmt == "shapefile_zip":
        if not zip_has_shapefile(data):
            raise content_mismatch(filename, fmt, "no .shp inside a zip archive")
    elif fmt == "gpkg":
        if not data.startswith(SQLITE_MAGIC):
            raise content_mismatch(filename, fmt)
    elif fmt == "land_report" and not text_has_land_report_marker(data):
        raise UnsafeFile(
            f"'{filename}': unsupported file type; a .txt is accepted only as a land report with a "
            f"{LAND_REPORT_MARKER} section / 不支持的文件类型：.txt 仅接受含 {LAND_REPORT_MARKER} 的勘测定界报告", "unsupported")


def sniff_format(data: bytes, filename: str) -> str:
    """Return the upload's format from its extension, after checking the content really is that format."""
    fmt = FORMAT_BY_SUFFIX.get(file_suffix(filename))
    if fmt is None:
        raise unsupported_extension(filename)
    content_matches(data, filename, fmt)
    return fmt
