"""Read KML ExtendedData (Data and SimpleData), which GDAL's plain KML driver leaves out."""
from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import shapely
from defusedxml import DefusedXmlException
from shapely.geometry.base import BaseGeometry

from .safety import Limits
from .table import refuse_too_many_columns

LOGGER = logging.getLogger(__name__)

COORDINATE_DIGITS = 7  # about 1 cm: enough to tell placemarks apart, loose enough for float printing

PlacemarkKey = tuple[str, tuple[float, float] | None]


def local_name(tag: str) -> str:
    """Return an element tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def first_position(text: str) -> tuple[float, float] | None:
    """Return the rounded lon/lat of the first tuple in a KML coordinates string."""
    for token in text.split():
        parts = token.split(",")
        try:
            return round(float(parts[0]), COORDINATE_DIGITS), round(float(parts[1]), COORDINATE_DIGITS)
        except (IndexError, ValueError):
            return None
    return None


def geometry_position(geometry: BaseGeometry | None) -> tuple[float, float] | None:
    """Return the rounded x/y of a geometry's first coordinate, or None when it has none."""
    if geometry is None or geometry.is_empty:
        return None
    x, y = shapely.get_coordinates(geometry)[0]
    return round(float(x), COORDINATE_DIGITS), round(float(y), COORDINATE_DIGITS)


def placemark_fields(placemark: Element) -> dict[str, str]:
    """Return the Data/value and SimpleData fields of one Placemark."""
    values: dict[str, str] = {}
    for element in placemark.iter():
        kind = local_name(element.tag)
        name = element.get("name")
        if not name:
            continue
        if kind == "SimpleData":
            values[name] = (element.text or "").strip()
        elif kind == "Data":
            value = next((child for child in element if local_name(child.tag) == "value"), None)
            values[name] = ((value.text if value is not None else "") or "").strip()
    return values


def placemark_key(placemark: Element) -> PlacemarkKey:
    """Return the (name, first position) that identifies a Placemark among GDAL's features."""
    name, position = "", None
    for element in placemark.iter():
        kind = local_name(element.tag)
        if kind == "name" and not name:
            name = (element.text or "").strip()
        elif kind == "coordinates" and position is None:
            position = first_position(element.text or "")
    return name, position


@dataclass
class KmlExtendedData:
    """ExtendedData fields of every Placemark, found again by name and first position."""

    columns: list[str] = field(default_factory=list)
    by_key: dict[PlacemarkKey, dict[str, str]] = field(default_factory=dict)
    key_counts: Counter[PlacemarkKey] = field(default_factory=Counter)

    def lookup(self, name: object, geometry: BaseGeometry | None) -> dict[str, str] | None:
        """Return the fields of the one Placemark with this name and first position, or None."""
        key = (str(name or "").strip(), geometry_position(geometry))
        return self.by_key.get(key) if self.key_counts[key] == 1 else None


def read_kml_extended_data(data: bytes, limits: Limits | None = None) -> KmlExtendedData:
    """Collect the ExtendedData of every Placemark of a checked KML document, within the column cap."""
    extended = KmlExtendedData()
    seen: set[str] = set()  # the columns so far, for a membership test in constant time
    try:
        for _event, element in SafeET.iterparse(io.BytesIO(data), events=("end",), forbid_dtd=True):
            if local_name(element.tag) != "Placemark":
                continue
            fields = placemark_fields(element)
            key = placemark_key(element)
            extended.key_counts[key] += 1
            extended.by_key[key] = fields
            for name in fields:
                if name not in seen:
                    seen.add(name)
                    extended.columns.append(name)
            if limits is not None:
                refuse_too_many_columns(len(extended.columns), limits)
            element.clear()
    except (SafeET.ParseError, DefusedXmlException) as error:
        LOGGER.warning("KML ExtendedData not read: %s", error)
        return KmlExtendedData()
    return extended
