"""Write what a filter selects as GeoJSON, CSV, XLSX, GeoPackage, KML or zipped Shapefile."""
from __future__ import annotations

import csv
import html
import datetime as dt
import io
import json
import logging
import re
import tempfile
import time
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

import geopandas as gpd
import pyogrio
from openpyxl import Workbook
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from .storage import site_reads
from .dates import today_in_heshan
from .errors import ExportTooLong, InvalidParameter
from .features import site_properties
from .filters import Filter
from .ingest.bounds import FORMULA_START
from .ingest.crs import WGS84, CrsError, CrsSpec, from_wgs84, parse_crs
from .vocabulary import KIND_LABELS, PRECISION_LABELS, STAGE_LABELS

LOGGER = logging.getLogger(__name__)

# Media type and file extension of each format in vocabulary.EXPORT_FORMATS.
FORMATS: dict[str, tuple[str, str]] = {
    "geojson": ("application/geo+json", "geojson"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
    "shp.zip": ("application/zip", "shp.zip"),
}
REPROJECTABLE = ("gpkg", "shp.zip")
# Column order and the headers people read, English and Chinese.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "要素ID"), ("code", "代码"), ("kind", "类型代码"), ("kind_label", "类型"), ("name", "名称"),
    ("name_en", "英文名称"), ("stage", "阶段代码"), ("stage_label", "阶段"), ("signed_on", "签约日期"),
    ("started_on", "动工日期"), ("in_production_on", "投产日期"), ("town", "镇街"), ("park", "园区"),
    ("investment_cny_100m", "投资额(亿元)"), ("industry", "产业"), ("area_ha", "面积(公顷)"),
    ("precision", "位置精度代码"), ("precision_label", "位置精度"), ("source", "来源"), ("description", "描述"),
    ("updated_at", "更新时间"),
)
# Shapefile field names: at most 10 ASCII characters.
SHAPEFILE_FIELDS = {"investment_cny_100m": "invest_cny", "in_production_on": "prod_on",
                    "precision_label": "prec_label", "description": "descr", "kind_label": "kind_label",
                    "stage_label": "stage_lbl", "updated_at": "updated"}
NUMERIC_COLUMNS = ("investment_cny_100m", "area_ha")
BATCH_ROWS = 2000  # rows per GeoDataFrame appended to a GeoPackage or Shapefile
KML_CHUNK_PLACEMARKS = 500  # Placemarks per streamed KML chunk
# Characters XML 1.0 forbids; text stored before control characters were refused may still hold them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
CHUNK_BYTES = 64 * 1024  # bytes per chunk of a file sent from disk
KML_HEAD = ("<?xml version='1.0' encoding='utf-8'?>\n"
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>heshan_sites</name>')
KML_TAIL = "</Document></kml>"


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the filter, the format, the language of labels and headers, the output CRS."""

    selection: Filter
    fmt: str
    lang: str = "zh"
    crs: CrsSpec = WGS84
    chinese_headers: bool = False
    deadline: float | None = None  # time.monotonic() past which the export stops (EXPORT_BUDGET_S)


def check_deadline(request: ExportRequest) -> None:
    """Raise ExportTooLong when the export has run past its wall-clock budget."""
    if request.deadline is not None and time.monotonic() > request.deadline:
        raise ExportTooLong("The export took longer than the time allowed and was stopped; narrow the filter "
                            "or use the command line (heshan-map export) / 导出超时，请缩小筛选范围")


def parse_export_format(fmt: str) -> str:
    """Return a known export format or refuse it."""
    if fmt not in FORMATS:
        raise InvalidParameter("format", f"unknown export format '{fmt}'; expected one of {', '.join(FORMATS)}")
    return fmt


def parse_export_crs(fmt: str, value: str | None) -> CrsSpec:
    """Return the output CRS: WGS84 unless asked, and only for formats that can carry another."""
    if not value:
        return WGS84
    try:
        crs = parse_crs(value)
    except CrsError as error:
        raise InvalidParameter("crs", str(error)) from None
    assert crs is not None
    if crs != WGS84 and fmt not in REPROJECTABLE:
        raise InvalidParameter("crs", f"{fmt} is always WGS84 (EPSG:4326); another CRS only for gpkg or shp.zip")
    return crs


def labels_for(lang: str) -> dict[str, Any]:
    """Return the labels PostGIS writes into exported properties."""
    return {"kind_labels": KIND_LABELS[lang], "stage_labels": STAGE_LABELS[lang],
            "precision_labels": PRECISION_LABELS[lang]}


def download_name(selection: Filter, fmt: str, today: dt.date | None = None) -> str:
    """Return a file name that carries the filter and the date (heshan-sites_kind-project_2026-11-30.csv)."""
    parts = ["heshan-sites"]
    for key, value in selection.query_items():
        parts.append(f"{key}-{value}")
    parts.append((today or today_in_heshan()).isoformat())
    name = "_".join(re.sub(r"[\\/:*?\"<>|\s]+", "-", part) for part in parts)
    return f"{name[:180]}.{FORMATS[fmt][1]}"


def content_disposition(filename: str) -> str:
    """Return an attachment header with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def stream_geojson(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield a FeatureCollection in chunks of features built by PostGIS; memory stays flat."""
    head = b'{"type":"FeatureCollection","features":['
    for joined in site_reads.stream_feature_json(session, request.selection, labels_for(request.lang)):
        check_deadline(request)
        yield head + joined.encode("utf-8")
        head = b","
    check_deadline(request)
    yield (b"" if head == b"," else head) + b"]}\n"


def neutralise_formula(value: Any) -> Any:
    """Return text that a spreadsheet would run as a formula with a leading apostrophe; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(session: Session, request: ExportRequest) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield (properties, GeoJSON geometry text) of each selected site in id order."""
    for row in site_reads.iter_sites(session, request.selection):
        check_deadline(request)
        yield site_properties(row, request.lang), row["geometry"]


def header_row(request: ExportRequest) -> list[str]:
    """Return the column headers, Chinese when asked."""
    names = [zh if request.chinese_headers else en for en, zh in COLUMNS]
    return names + (["经度", "纬度", "WKT"] if request.chinese_headers else ["lon", "lat", "wkt"])


def xml_text(value: Any) -> Any:
    """Return text with the characters XML 1.0 (so XLSX and KML) cannot hold replaced by U+FFFD; others as they are."""
    return XML_ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value


def table_cells(props: dict[str, Any], geometry_text: str) -> list[Any]:
    """Return one row of cells: the properties, a representative lon/lat and the WKT, formulas neutralised."""
    geometry = shape(json.loads(geometry_text))
    point = geometry.representative_point()
    cells = [props.get(name) for name, _ in COLUMNS]
    return [neutralise_formula(cell) for cell in cells] + [round(point.x, 7), round(point.y, 7), geometry.wkt]


def stream_csv(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield CSV in UTF-8 with a BOM, so Excel shows Chinese, in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header_row(request))
    for count, (props, geometry) in enumerate(export_rows(session, request), start=1):
        writer.writerow(table_cells(props, geometry))
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    check_deadline(request)
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(session: Session, request: ExportRequest, target: Path) -> None:
    """Write an XLSX workbook of the selected sites."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("sites" if not request.chinese_headers else "项目")
    sheet.append(header_row(request))
    try:
        for props, geometry in export_rows(session, request):
            sheet.append([xml_text(cell) for cell in table_cells(props, geometry)])
    except BaseException:
        # Finish and remove openpyxl's own temporary sheet file rather than leave it to the garbage collector.
        sheet.close()
        Path(getattr(sheet._writer, "out", "")).unlink(missing_ok=True)
        raise
    workbook.save(target)


def geodataframes(session: Session, request: ExportRequest, field_names: dict[str, str] | None = None
                  ) -> Iterator[gpd.GeoDataFrame]:
    """Yield the selected sites as GeoDataFrames of up to BATCH_ROWS rows in the requested CRS; one if none."""
    records: list[dict[str, Any]] = []
    geometries: list[BaseGeometry] = []
    batches = 0
    for props, geometry_text in export_rows(session, request):
        records.append({(field_names or {}).get(name, name): props.get(name) for name, _ in COLUMNS})
        geometries.append(from_wgs84(shape(json.loads(geometry_text)), request.crs))
        if len(records) == BATCH_ROWS:
            yield geodataframe(records, geometries, request, field_names)
            records, geometries, batches = [], [], batches + 1
    if records or not batches:
        yield geodataframe(records, geometries, request, field_names)


def geodataframe(records: list[dict[str, Any]], geometries: list[BaseGeometry], request: ExportRequest,
                 field_names: dict[str, str] | None) -> gpd.GeoDataFrame:
    """Return rows and their geometries as a GeoDataFrame with the export's columns and types."""
    crs = f"EPSG:{request.crs.epsg}" if request.crs.kind == "epsg" else None
    columns = [(field_names or {}).get(name, name) for name, _ in COLUMNS]
    frame = gpd.GeoDataFrame(records, columns=columns, geometry=geometries, crs=crs)
    for name in NUMERIC_COLUMNS:
        column = (field_names or {}).get(name, name)
        frame[column] = frame[column].astype("float64")
    frame["id"] = frame["id"].astype("int64")
    return frame


def write_gpkg(session: Session, request: ExportRequest, target: Path) -> None:
    """Write a GeoPackage with one layer of the selected sites, appended batch by batch."""
    batches = geodataframes(session, request)
    first = next(batches)
    second = next(batches, None)
    if second is None:  # one batch: the layer takes the geometry type of what it holds
        pyogrio.write_dataframe(first, target, layer="heshan_sites", driver="GPKG")
        return
    pyogrio.write_dataframe(first, target, layer="heshan_sites", driver="GPKG", geometry_type="Unknown",
                            promote_to_multi=False)
    del first
    for frame in chain([second], batches):
        pyogrio.write_dataframe(frame, target, layer="heshan_sites", driver="GPKG", append=True,
                                promote_to_multi=False)


def kml_geometry(parent: ET.Element, geometry: BaseGeometry) -> None:
    """Append a shapely geometry to a KML element as Point, LineString, Polygon or MultiGeometry."""
    def coordinates(element: ET.Element, coords: Iterable[tuple[float, ...]]) -> None:
        ET.SubElement(element, "coordinates").text = " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in coords)

    kind = geometry.geom_type
    if kind.startswith("Multi") or kind == "GeometryCollection":
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geometry.geoms:
            kml_geometry(multi, part)
    elif kind == "Point":
        coordinates(ET.SubElement(parent, "Point"), geometry.coords)
    elif kind == "LineString":
        coordinates(ET.SubElement(parent, "LineString"), geometry.coords)
    elif kind == "Polygon":
        polygon = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(polygon, "outerBoundaryIs"), "LinearRing")
        coordinates(outer, geometry.exterior.coords)
        for ring in geometry.interiors:
            coordinates(ET.SubElement(ET.SubElement(polygon, "innerBoundaryIs"), "LinearRing"), ring.coords)


def kml_placemark(props: dict[str, Any], geometry_text: str) -> str:
    """Return one site as a KML Placemark with its name, description and fields as text."""
    placemark = ET.Element("Placemark", id=f"site-{props['id']}")
    props = {name: xml_text(value) for name, value in props.items()}
    ET.SubElement(placemark, "name").text = props["name"]
    if props.get("description"):
        # Google Earth renders <description> as HTML: escape it so stored text stays text there too.
        ET.SubElement(placemark, "description").text = html.escape(props["description"])
    data = ET.SubElement(placemark, "ExtendedData")
    for name, _ in COLUMNS:
        if name in ("name", "description") or props.get(name) is None:
            continue
        field = ET.SubElement(data, "Data", name=name)
        ET.SubElement(field, "value").text = str(props[name])
    kml_geometry(placemark, shape(json.loads(geometry_text)))
    return ET.tostring(placemark, encoding="unicode")


def stream_kml(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield KML 2.2 (always WGS84), a Placemark per site, in chunks of KML_CHUNK_PLACEMARKS."""
    # GDAL's KML driver written through pyogrio shifts field values when a name field is mapped,
    # so each Placemark is built with ElementTree, which escapes every text.
    parts = [KML_HEAD]
    for count, (props, geometry_text) in enumerate(export_rows(session, request), start=1):
        parts.append(kml_placemark(props, geometry_text))
        if count % KML_CHUNK_PLACEMARKS == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    check_deadline(request)
    parts.append(KML_TAIL)
    yield "".join(parts).encode("utf-8")


SHAPEFILE_FAMILIES = {"Point": "points", "MultiPoint": "multipoints", "LineString": "lines",
                      "MultiLineString": "lines", "Polygon": "polygons", "MultiPolygon": "polygons"}


def write_shapefile_zip(session: Session, request: ExportRequest, target: Path) -> None:
    """Write a zip of Shapefiles, one per geometry type (a Shapefile holds one), UTF-8 with .cpg, in batches."""
    with tempfile.TemporaryDirectory(prefix="heshan-shp-") as folder:
        started: set[str] = set()
        for frame in geodataframes(session, request, SHAPEFILE_FIELDS):
            families = frame.geometry.geom_type.map(SHAPEFILE_FAMILIES)
            for family in ("points", "multipoints", "lines", "polygons"):
                part = frame[families == family]
                if part.empty and not (family == "points" and frame.empty and not started):
                    continue
                pyogrio.write_dataframe(part, Path(folder) / f"heshan_sites_{family}.shp", driver="ESRI Shapefile",
                                        encoding="UTF-8", layer=f"heshan_sites_{family}", append=family in started)
                started.add(family)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, path.name)


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
