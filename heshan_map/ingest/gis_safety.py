"""Keep GDAL on the upload: no network, no file outside its temp folder, no SQL a GeoPackage's author wrote."""
from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pyogrio
from defusedxml import DefusedXmlException

from .safety import UnsafeFile

LOGGER = logging.getLogger(__name__)

# Set before every GDAL read and never unset: pyogrio's options are process-wide, and restoring
# them after one read would reopen the door for a read running in another thread.
# - CPL_VSIL_CURL_ALLOWED_FILENAME/EXTENSIONS: /vsicurl/ (and the /vsis3/, /vsigs/… built on it)
#   open nothing, whoever names the path (a VRT's SrcDataSource, a GeoJSON crs name).
# - GML_DOWNLOAD_SCHEMA*: the GML driver never fetches an xsi:schemaLocation.
# GDAL 3.10 has no switch for CPLHTTPFetch (a GeoJSON "crs" link); those are refused in the content.
GDAL_READ_OPTIONS = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/vsicurl/uploads-never-read-urls",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".uploads-never-read-urls",
    "GML_DOWNLOAD_SCHEMA": "NO",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
}
GPKG_OPEN_OPTIONS = {"IMMUTABLE": "YES", "LIST_ALL_TABLES": "NO"}
# SQLite virtual-machine steps the inspection of one uploaded GeoPackage may take (≈ a second or two).
SQLITE_STEP_BUDGET = 50_000_000
SQLITE_STEPS_PER_CHECK = 10_000
VSI_PREFIX = "/vsi"
SAFE_CRS_URI = re.compile(r"^(urn:ogc:def:crs:|https?://www\.opengis\.net/def/crs/|EPSG:\d+$)", re.IGNORECASE)
KML_REFUSED_ELEMENTS = frozenset({"NetworkLink", "NetworkLinkControl"})
# A spatial index as GDAL writes it: the name (quoted or bare) then the rtree module, nothing between.
RTREE_TABLE_SQL = re.compile(r"""^\s*CREATE\s+VIRTUAL\s+TABLE\s+("[^"]*"|'[^']*'|`[^`]*`|\[[^\]]*\]|\w+)\s+"""
                             r"""USING\s+rtree\s*\(""", re.IGNORECASE)
# The spatial index triggers of the GeoPackage spec (F.3) and GDAL: rtree_<table>_<column><suffix>.
RTREE_TRIGGER_SUFFIXES = ("_insert", "_update1", "_update2", "_update3", "_update4", "_update5", "_update6",
                          "_update7", "_delete")
# The triggers the spec (and GDAL) put on its own tables, by name, with the table each is on.
GPKG_TRIGGERS = {
    **{f"gpkg_tile_matrix_{column}_{event}": "gpkg_tile_matrix"
       for column in ("zoom_level", "matrix_width", "matrix_height", "pixel_x_size", "pixel_y_size")
       for event in ("insert", "update")},
    **{f"gpkg_metadata_md_scope_{event}": "gpkg_metadata" for event in ("insert", "update")},
    **{f"gpkg_metadata_reference_{column}_{event}": "gpkg_metadata_reference"
       for column in ("reference_scope", "column_name", "row_id_value", "timestamp")
       for event in ("insert", "update")},
}


def harden_gdal() -> None:
    """Set the GDAL options that keep a read of an upload off the network."""
    pyogrio.set_gdal_config_options(GDAL_READ_OPTIONS)


# --- GeoJSON ----------------------------------------------------------------------------------

def checked_crs(crs: object) -> dict[str, Any] | None:
    """Return a GeoJSON "crs" member GDAL may read, refusing links and paths; None when absent."""
    if crs is None:
        return None
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if not isinstance(crs, dict) or crs.get("type") != "name" or not isinstance(name, str):
        raise UnsafeFile("The GeoJSON \"crs\" is a link or not a CRS name; only a name such as EPSG:4547 is "
                         "read; give the CRS with the crs parameter / GeoJSON 的 crs 只接受名称（如 EPSG:4547），"
                         "不接受链接", "invalid")
    # GDAL takes any other text as user input: a path it stats or opens, a /vsi or web address it reads.
    if VSI_PREFIX in name.lower() or not SAFE_CRS_URI.match(name.strip()):
        raise UnsafeFile(f"The GeoJSON \"crs\" name {name[:80]!r} is not an EPSG code or OGC CRS name "
                         f"(a path or web address is never read); refused "
                         f"/ GeoJSON 的 crs 名称不是 EPSG 代码或 OGC 坐标系名称（路径或网址一律不读取），拒绝读取", "invalid")
    return {"type": "name", "properties": {"name": name}}


def plain_feature(feature: object) -> object:
    """Return a Feature with only its type, id, properties and geometry."""
    if not isinstance(feature, dict):
        return feature
    return {key: feature[key] for key in ("type", "id", "properties", "geometry") if key in feature}


def plain_geojson(data: bytes) -> bytes:
    """Return the GeoJSON rewritten with only GeoJSON members and no '<' or '/' outside escapes."""
    # Without '<' no XML driver (OGR_VRT, WFS, GML) can claim the file, and without '/' it names no
    # path: both are written as JSON escapes, which read back as the same strings.
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UnsafeFile(f"The GeoJSON cannot be parsed ({error}) / GeoJSON 无法解析", "invalid") from error
    plain: dict[str, Any] = {"type": document["type"]}
    crs = checked_crs(document.get("crs"))
    if crs:
        plain["crs"] = crs
    if document["type"] == "FeatureCollection":
        features = document.get("features")
        plain["features"] = [plain_feature(f) for f in features] if isinstance(features, list) else features
    elif document["type"] == "Feature":
        plain.update(plain_feature(document))  # type: ignore[arg-type]
    else:
        plain.update({key: document[key] for key in ("coordinates", "geometries") if key in document})
    try:
        text = json.dumps(plain, ensure_ascii=False, allow_nan=False)
    except ValueError as error:
        raise UnsafeFile(f"The GeoJSON holds NaN or Infinity ({error}) / GeoJSON 含 NaN 或 Infinity", "invalid") from error
    try:
        return text.replace("<", "\\u003c").replace("/", "\\/").encode("utf-8")
    except UnicodeEncodeError as error:  # a "\ud800" escape decodes to a lone surrogate, which no text may hold
        raise UnsafeFile("The GeoJSON text holds an invalid (lone surrogate) character, written as a \\ud800-\\udfff "
                         "escape; refused / GeoJSON 文本含无效字符（孤立代理项），拒绝读取", "invalid") from error


# --- KML --------------------------------------------------------------------------------------

def refuse_remote_kml(data: bytes) -> None:
    """Refuse KML that is not one well-formed kml element, holds a NetworkLink, or names a /vsi path."""
    try:
        root = SafeET.parse(io.BytesIO(data), forbid_dtd=True).getroot()
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as error:
        raise UnsafeFile(f"The KML is not well-formed XML ({error}) / KML 不是格式正确的 XML", "invalid") from error
    if root.tag.rsplit("}", 1)[-1] != "kml":
        raise UnsafeFile("The KML's root element is not kml / KML 根元素不是 kml", "unsupported")
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        if name in KML_REFUSED_ELEMENTS:
            raise UnsafeFile(f"The KML has a {name} (a link to another file); refused "
                             f"/ KML 含网络链接（{name}），拒绝读取", "invalid")
        texts = [element.text or "", *element.attrib.values()]
        if any(text.strip().lower().startswith(VSI_PREFIX) for text in texts):
            raise UnsafeFile("The KML names a GDAL /vsi path; refused / KML 含 /vsi 路径，拒绝读取", "invalid")


# --- Shapefile .prj ---------------------------------------------------------------------------

WKT_START = re.compile(r"^\s*(PROJCS|GEOGCS|GEOCCS|COMPD_CS|PROJCRS|GEOGCRS|GEODCRS|BOUNDCRS|COMPOUNDCRS)\s*\[",
                       re.IGNORECASE)


def refuse_prj_not_wkt(text: str) -> None:
    """Refuse a .prj that is not WKT (a URL, a /vsi or other path, a PROJ +init string)."""
    if text and not WKT_START.match(text):
        raise UnsafeFile("The Shapefile's .prj is not a WKT coordinate system; refused "
                         "/ Shapefile 的 .prj 不是 WKT 坐标系，拒绝读取", "invalid")


# --- GeoPackage -------------------------------------------------------------------------------

def open_immutable(path: Path) -> sqlite3.Connection:
    """Open a SQLite file read-only and immutable, trusting nothing in its schema, with a step budget."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        connection.execute("PRAGMA trusted_schema = OFF")
        steps = iter(range(SQLITE_STEP_BUDGET // SQLITE_STEPS_PER_CHECK))
        # A non-zero answer interrupts the statement: no query on the upload runs past the budget.
        connection.set_progress_handler(lambda: next(steps, None) is None, SQLITE_STEPS_PER_CHECK)
        return connection
    except sqlite3.Error as error:
        raise UnsafeFile(f"The GeoPackage cannot be opened ({error}) / 无法打开该 GeoPackage", "invalid") from error


def standard_object(kind: str, name: str, table: str, sql: str, contents: set[str],
                    rtrees: dict[str, str]) -> bool:
    """Tell whether a schema object is one GDAL or the GeoPackage standard makes, by its exact name."""
    if kind in ("table", "index"):
        if not sql.lstrip().upper().startswith("CREATE VIRTUAL TABLE"):
            return True
        match = RTREE_TABLE_SQL.match(sql)
        return name in rtrees and match is not None and match.group(1).strip("\"'`[]") == name
    if kind != "trigger":
        return False
    if name in GPKG_TRIGGERS:
        return table == GPKG_TRIGGERS[name]
    if table in contents and name in (f"trigger_insert_feature_count_{table}",
                                      f"trigger_delete_feature_count_{table}"):
        return True
    return any(rtrees.get(name[:-len(suffix)]) == table for suffix in RTREE_TRIGGER_SUFFIXES
               if name.endswith(suffix))


def rtree_names(connection: sqlite3.Connection, objects: list[tuple[str, str, str, str]]) -> dict[str, str]:
    """Return the spatial index names the spec allows (rtree_<table>_<column>), each with its table."""
    if not any(kind == "table" and name == "gpkg_geometry_columns" for kind, name, _table, _sql in objects):
        return {}
    rows = connection.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
    return {f"rtree_{table}_{column}": str(table) for table, column in rows}


def refuse_views(objects: list[tuple[str, str, str, str]]) -> None:
    """Refuse a GeoPackage with any view: GDAL's own files have none, and a view runs its author's query."""
    views = [name for kind, name, _table, _sql in objects if kind == "view"]
    if views:
        raise UnsafeFile(f"The GeoPackage holds views ({', '.join(views[:5])}); only plain tables are read "
                         f"/ GeoPackage 含视图，只接受普通数据表", "invalid")


def gpkg_tables(path: Path) -> set[str]:
    """Return the gpkg_contents tables, refusing views, virtual tables and non-standard triggers."""
    connection = open_immutable(path)
    try:
        objects = connection.execute(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
        refuse_views(objects)  # before any query reads a table that a view could stand in for
        contents = {str(row[0]) for row in connection.execute("SELECT table_name FROM gpkg_contents")}
        rtrees = rtree_names(connection, objects)
        linked_srs = connection.execute(
            "SELECT count(*) FROM gpkg_spatial_ref_sys WHERE lower(definition) LIKE '%/vsi%' "
            "OR lower(trim(definition)) LIKE 'http%' OR lower(trim(definition)) LIKE 'file:%'").fetchone()[0]
        generated = [table for table in contents if any(
            row[6] in (2, 3) for row in connection.execute("SELECT * FROM pragma_table_xinfo(?)", (table,)))]
    except sqlite3.Error as error:
        raise UnsafeFile(f"The GeoPackage cannot be read ({error}) / 无法读取该 GeoPackage", "invalid") from error
    finally:
        connection.close()
    if linked_srs:
        raise UnsafeFile("The GeoPackage's gpkg_spatial_ref_sys names a path or web address instead of WKT; "
                         "refused / GeoPackage 坐标系定义是路径或网址，拒绝读取", "invalid")
    odd = [f"{kind} {name}" for kind, name, table, sql in objects
           if not standard_object(kind, name, table, sql, contents, rtrees)]
    if odd or generated:
        shown = ", ".join((odd + [f"generated columns in {table}" for table in generated])[:5])
        raise UnsafeFile(f"The GeoPackage holds views, triggers or virtual tables ({shown}); only plain tables "
                         f"are read / GeoPackage 含视图、触发器或虚拟表，只接受普通数据表", "invalid")
    return contents
