"""The export's columns, taken from the site declaration, and the selected sites' rows to fill them."""
from __future__ import annotations

import re
from typing import Any, Iterator

from sqlalchemy.orm import Session

from .. import sitefields
from ..features import site_properties
from ..sitefields import SiteField
from ..storage import site_reads
from .request import ExportRequest, check_deadline

# The exported fields, in column order: their names are the English headers, header_zh the Chinese ones.
COLUMNS: tuple[SiteField, ...] = sitefields.EXPORTED
FIELD_NAMES: tuple[str, ...] = sitefields.names(COLUMNS)
# The columns a CSV or XLSX adds after the fields (English, Chinese): a representative point and the WKT,
# which an upload reads back as the site's geometry.
GEOMETRY_HEADERS: tuple[tuple[str, str], ...] = (("lon", "经度"), ("lat", "纬度"), ("wkt", "WKT"))
# Shapefile (DBF) field names, at most 10 characters; GeoPackage keeps the fields' own names.
SHAPEFILE_FIELDS: dict[str, str] = {field.name: field.shapefile_name for field in COLUMNS}
# Columns a GeoPackage or Shapefile types as float64 and as int64 (never empty).
NUMERIC_COLUMNS: tuple[str, ...] = sitefields.names(tuple(field for field in COLUMNS if field.type == "number"))
INTEGER_COLUMNS: tuple[str, ...] = sitefields.names(
    tuple(field for field in COLUMNS if field.type == "integer" and not field.nullable))
# Characters XML 1.0 forbids; text stored before control characters were refused may still hold them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def header_row(chinese: bool) -> list[str]:
    """Return the CSV/XLSX column headers, Chinese when asked."""
    if chinese:
        return [field.header_zh or field.name for field in COLUMNS] + [zh for _, zh in GEOMETRY_HEADERS]
    return [field.export_header for field in COLUMNS] + [en for en, _ in GEOMETRY_HEADERS]


def export_rows(session: Session, request: ExportRequest) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Yield (properties, GeoJSON geometry text, None when the place is unknown) of each selected site in id order."""
    for row in site_reads.iter_sites(session, request.selection):
        check_deadline(request)
        yield site_properties(row, request.lang), row["geometry"]


def xml_text(value: Any) -> Any:
    """Return text with the characters XML 1.0 (so XLSX and KML) cannot hold replaced by U+FFFD; others as they are."""
    return XML_ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value
