"""Read what an export asks for: its format, output CRS and language; name the file it downloads as."""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..dates import today_in_heshan
from ..errors import ExportTooLong, InvalidParameter
from ..filters import Filter
from ..ingest.crs import WGS84, CrsError, CrsSpec, parse_crs
from ..vocabulary import KIND_LABELS, PRECISION_LABELS, STAGE_LABELS

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
