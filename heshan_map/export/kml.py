"""Write the selected sites as KML 2.2, a Placemark per site with its exported fields as ExtendedData."""
from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from typing import Any, Iterable, Iterator

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from .columns import FIELD_NAMES, export_rows, xml_text
from .request import ExportRequest, check_deadline

KML_CHUNK_PLACEMARKS = 500  # Placemarks per streamed KML chunk
KML_HEAD = ("<?xml version='1.0' encoding='utf-8'?>\n"
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>heshan_sites</name>')
KML_TAIL = "</Document></kml>"
# The fields a Placemark carries as its own <name> and <description> rather than as ExtendedData.
NAME_FIELD, DESCRIPTION_FIELD = "name", "description"
EXTENDED_FIELDS = tuple(name for name in FIELD_NAMES if name not in (NAME_FIELD, DESCRIPTION_FIELD))


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


def kml_placemark(props: dict[str, Any], geometry_text: str | None) -> str:
    """Return one site as a KML Placemark with its name, description and fields; without geometry when unplaced."""
    placemark = ET.Element("Placemark", id=f"site-{props['id']}")
    props = {name: xml_text(value) for name, value in props.items()}
    ET.SubElement(placemark, "name").text = props[NAME_FIELD]
    if props.get(DESCRIPTION_FIELD):
        # Google Earth renders <description> as HTML: escape it so stored text stays text there too.
        ET.SubElement(placemark, "description").text = html.escape(props[DESCRIPTION_FIELD])
    data = ET.SubElement(placemark, "ExtendedData")
    for name in EXTENDED_FIELDS:
        if props.get(name) is None:
            continue
        field = ET.SubElement(data, "Data", name=name)
        ET.SubElement(field, "value").text = str(props[name])
    if geometry_text is not None:  # KML 2.2 allows a Placemark without a geometry: a site whose place is unknown
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
