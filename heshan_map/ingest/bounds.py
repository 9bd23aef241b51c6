"""Bounds on what a site may hold: one table of fields for uploads and the REST API, text and vertex caps."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from ..config import limit_settings
from .columns import UPLOAD_FIELDS

LOGGER = logging.getLogger(__name__)

# The limits of config.LIMIT_DEFAULTS that bound one site's values.
INPUT_LIMITS = ("MAX_NAME_CHARS", "MAX_CODE_CHARS", "MAX_TEXT_CHARS", "MAX_ATTRIBUTE_CHARS", "MAX_GEOMETRY_VERTICES")
ATTRIBUTE_CAP = "MAX_ATTRIBUTE_CHARS"
VERTEX_CAP = "MAX_GEOMETRY_VERTICES"
# What export.neutralise_formula puts an apostrophe before; the apostrophe is taken off again on import.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# NUL, the controls XML 1.0 forbids (XLSX and KML could not hold them) and lone surrogates; tab, LF and CR are text.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")
GEOD = Geod(ellps="WGS84")
ALLOWED_GEOMETRIES: dict[str, tuple[str, ...]] = {
    "park": ("Point", "Polygon", "MultiPolygon"),
    "project": ("Point", "Polygon", "MultiPolygon"),
    "land_plot": ("Point", "Polygon", "MultiPolygon"),
    "green_site": ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
}
GEOMETRY_TYPES = tuple(dict.fromkeys(name for names in ALLOWED_GEOMETRIES.values() for name in names))


@dataclass(frozen=True)
class FieldBound:
    """What one field holds: its JSON type, the limit capping its text, and for numbers a range."""

    type: str  # "text", "number", "date" or "geometry"
    cap: str | None = None
    low: float | None = None
    high: float | None = None
    unit: tuple[str, str] = ("", "")  # Chinese, English


# Every field a site row may have (columns.UPLOAD_FIELDS), for uploads and the REST API, from the declaration. The
# ranges leave room for any real site (Heshan covers about 108,300 ha) and stay far inside the numeric(14,4) columns.
FIELD_BOUNDS: dict[str, FieldBound] = {
    field.name: FieldBound(field.type, field.cap, field.low, field.high, field.unit_label) for field in UPLOAD_FIELDS}
JSON_TYPES = {"text": ("文本", "a string"), "number": ("数字", "a number"), "date": ("日期文本", "a date string")}


class RowError(ValueError):
    """A problem with one cell."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def default_limits() -> dict[str, int]:
    """Return the input limits from the environment (or their defaults), for callers without an app."""
    return input_limits(limit_settings())


def input_limits(config: Mapping[str, Any]) -> dict[str, int]:
    """Return the input limits of a configuration (the app's config or limit_settings())."""
    return {name: int(config[name]) for name in INPUT_LIMITS}


def shown(text: str, width: int = 60) -> str:
    """Return text safe to echo in a message: lone surrogates escaped, cut to a width."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8") if not text.isascii() else text
    return safe if len(safe) <= width else safe[:width] + "…"


def text_problem(text: str) -> str | None:
    """Return why text cannot be stored (a NUL, another control character, a lone surrogate), or None."""
    if "\x00" in text:
        return "含 NUL 字符 / contains a NUL character"
    if (control := _CONTROL.search(text)) is not None:
        return f"含控制字符 U+{ord(control.group()):04X} / contains the control character U+{ord(control.group()):04X}"
    if not text.isascii() and _UNSTORABLE.search(text):
        return "含无效的 Unicode 代理字符 / contains a lone surrogate (not valid Unicode)"
    return None


def length_problem(text: str, cap: str, limits: Mapping[str, int]) -> str | None:
    """Return a message when text is longer than its cap, else None."""
    most = limits[cap]
    if len(text) <= most:
        return None
    return (f"超过 {most} 个字符的上限（{cap}） / {len(text)} characters, over the cap {cap} = {most}")


def check_row_cells(row: Mapping[str, object], checks: list[tuple[str, str, str, str | None]],
                    limits: Mapping[str, int]) -> list[RowError]:
    """Return an error for every cell of a row holding unstorable or too long text (fields and attributes)."""
    problems = []
    for header, column, label, cap in checks:
        value = row.get(header)
        if value.__class__ is not str:
            if not isinstance(value, (dict, list, tuple)):
                continue
            value = str(value)
        if (cap is None or len(value) <= limits[cap]) and not _UNSTORABLE.search(value):
            continue  # nearly every cell
        problem = text_problem(value) or (length_problem(value.strip(), cap, limits) if cap else None)
        if problem:
            problems.append(RowError(column, f"{label}: {problem}"))
    return problems


def header_problems(headers: list[str]) -> list[RowError]:
    """Return an error for every column name holding a NUL or a lone surrogate."""
    return [RowError(shown(header), f"列名 / column name: {problem}")
            for header in headers if (problem := text_problem(header))]


def number_problem(field_name: str, value: float) -> str | None:
    """Return a message when a number is outside its field's range, else None."""
    bound = FIELD_BOUNDS[field_name]
    if bound.low is None or bound.high is None or bound.low <= value <= bound.high:
        return None
    zh, en = bound.unit
    return (f"须在 {bound.low:g}–{bound.high:g} {zh}之间 / {field_name} {value:g} is outside "
            f"{bound.low:g}–{bound.high:g} {en}")


def vertex_problem(geometry: BaseGeometry, limits: Mapping[str, int]) -> str | None:
    """Return a message when a geometry has more vertices than MAX_GEOMETRY_VERTICES, else None."""
    most = limits[VERTEX_CAP]
    vertices = int(shapely.get_num_coordinates(geometry))
    if vertices <= most:
        return None
    return f"顶点过多（上限 {most}，{VERTEX_CAP}） / {vertices} vertices, over the cap {VERTEX_CAP} = {most}"


def unquote_formula(text: str | None) -> str | None:
    """Return a spreadsheet cell without the apostrophe an export put before formula-like text."""
    if text is not None and len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:].strip() or None
    return text


def json_value_problems(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return an error for every property of a JSON body of a type its field cannot hold or with unstorable text."""
    errors = []
    for name, value in properties.items():
        bound = FIELD_BOUNDS.get(name)
        if value is None or bound is None or bound.type not in JSON_TYPES:
            continue
        zh, en = JSON_TYPES[bound.type]
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if (bound.type == "number") != is_number or not (is_number or isinstance(value, str)):
            problem = f"须为{zh} / must be {en}, not {type(value).__name__}"
        else:
            problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            errors.append({"row": None, "column": name, "message": f"{name}: {problem}"})
    return errors


def hectares(geometry: BaseGeometry) -> float:
    """Return the geodesic area of a WGS84 geometry in hectares (as its rings are drawn)."""
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 10_000


def shape_words(geometry: BaseGeometry) -> str:
    """Return a geometry's type and how many parts it has, as a note says it ("a MultiPolygon of 2 parts")."""
    parts = len(geometry.geoms) if hasattr(geometry, "geoms") else 1
    return f"a {geometry.geom_type} of {parts} parts" if parts > 1 else f"a {geometry.geom_type}"


def check_geometry(geometry: BaseGeometry, kind: str, repair: bool, note: Callable[[str], None]) -> BaseGeometry:
    """Return a valid geometry of a type the kind can have; repair only when asked, noting the repair."""
    if geometry.geom_type not in ALLOWED_GEOMETRIES[kind]:
        raise RowError("geometry", f"该类型不能是 {geometry.geom_type} / a {kind} cannot be a {geometry.geom_type}; "
                       f"allowed: {', '.join(ALLOWED_GEOMETRIES[kind])}")
    if not geometry.is_valid:
        reason = explain_validity(geometry)
        if not repair:
            raise RowError("geometry", f"几何图形无效 / invalid geometry: {reason} (upload with repair=true to repair it)")
        repaired = shapely.make_valid(geometry)
        if repaired.geom_type == "GeometryCollection":
            polygons = [part for part in repaired.geoms if part.geom_type in ("Polygon", "MultiPolygon")]
            repaired = shapely.union_all(polygons) if polygons else repaired
        if repaired.geom_type not in ALLOWED_GEOMETRIES[kind] or not repaired.is_valid:
            raise RowError("geometry", f"几何图形无效且无法修复 / invalid geometry that cannot be repaired: {reason}")
        note(f"geometry repaired ({reason}): the {geometry.geom_type} is now {shape_words(repaired)}, "
             f"area {hectares(geometry):.2f} ha → {hectares(repaired):.2f} ha")
        geometry = repaired
    return geometry
