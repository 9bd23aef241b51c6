"""Read the GIS uploads (GeoJSON, KML, zipped Shapefile, GeoPackage) through pyogrio with a pinned driver."""
from __future__ import annotations

import codecs
import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyogrio import raw as pyogrio_raw
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from .gis_safety import (GPKG_OPEN_OPTIONS, gpkg_tables, harden_gdal, plain_geojson, refuse_prj_not_wkt,
                         refuse_remote_kml)
from .kml_extended import KmlExtendedData, read_kml_extended_data
from .safety import Limits, UnsafeFile, extract_zip_safely, refuse_xml_doctype
from .table import RawTable, refuse_too_many_columns, refuse_too_many_rows, refuse_too_many_vertices

LOGGER = logging.getLogger(__name__)

SHAPEFILE_MAGIC = b"\x00\x00\x27\x0a"
DBF_FALLBACK_ENCODINGS = ("utf-8", "gb18030")
GIS_ERRORS = (DataSourceError, DataLayerError, UnicodeDecodeError, ValueError, RuntimeError)


def kml_driver() -> str:
    """Return the KML driver this GDAL has, preferring LIBKML."""
    return "LIBKML" if "LIBKML" in pyogrio.list_drivers() else "KML"


def write_private_copy(data: bytes, folder: str, name: str) -> Path:
    """Write upload bytes to a private temp folder under a fixed name whose extension picks the driver."""
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def open_options(driver: str) -> dict[str, str]:
    """Return the dataset open options every read with this driver uses."""
    return GPKG_OPEN_OPTIONS if driver == "GPKG" else {}


def verified_info(path: Path, driver: str, layer: str | int = 0, encoding: str | None = None) -> dict[str, Any]:
    """Return pyogrio's layer info, refusing the file unless GDAL opened it with the expected driver."""
    harden_gdal()
    try:
        info = pyogrio.read_info(str(path), layer=layer, encoding=encoding, **open_options(driver))
    except GIS_ERRORS as error:
        raise UnsafeFile(f"GDAL cannot read the file ({error}) / 无法读取该地理数据文件", "invalid") from error
    if info["driver"] != driver:
        raise UnsafeFile(f"The file opened as {info['driver']}, not {driver}; refused / 文件格式与预期不符", "unsupported")
    return info


def layer_names(path: Path) -> list[str]:
    """Return the layer names of a dataset in file order."""
    harden_gdal()
    try:
        return [str(name) for name in pyogrio.list_layers(str(path))[:, 0]]
    except GIS_ERRORS as error:
        raise UnsafeFile(f"GDAL cannot read the file ({error}) / 无法读取该地理数据文件", "invalid") from error


def python_values(array: np.ndarray, declared_dtype: str) -> list[object]:
    """Convert one pyogrio field array to plain Python values, nulls as None."""
    if array.dtype.kind == "M":
        return array.astype("datetime64[us]").tolist()
    values = array.tolist()
    if array.dtype.kind == "f":
        as_int = declared_dtype.startswith(("int", "uint"))
        return [None if math.isnan(v) else int(v) if as_int else v for v in values]
    return values


def crs_wkt_of(crs: str | None) -> str | None:
    """Return WKT for a CRS as pyogrio reports it (EPSG:code or WKT), or None."""
    if not crs:
        return None
    try:
        return CRS.from_user_input(crs).to_wkt()
    except CRSError:
        LOGGER.warning("unrecognised CRS %s", crs)
        return crs


@dataclass
class Layer:
    """What pyogrio read from one layer: field names, Python rows and shapely geometries."""

    columns: list[str]
    rows: list[dict[str, object]]
    geometries: list[BaseGeometry | None]
    crs: str | None


def read_layer(path: Path, driver: str, limits: Limits, layer: str | int = 0,
               encoding: str | None = None, already_read: int = 0) -> Layer:
    """Read one layer with the driver verified, enforcing the feature limit before and during reading."""
    info = verified_info(path, driver, layer, encoding)
    refuse_too_many_columns(len(info["fields"]), limits)
    refuse_too_many_rows(already_read + max(info["features"], 0), limits)
    limits.check_budget()
    try:
        meta, _fids, wkb, fields = pyogrio_raw.read(
            str(path), layer=layer, encoding=encoding, max_features=limits.max_features - already_read + 1,
            **open_options(driver))
    except GIS_ERRORS as error:
        raise UnsafeFile(f"GDAL cannot read the file ({error}) / 无法读取该地理数据文件", "invalid") from error
    count = len(wkb) if wkb is not None else (len(fields[0]) if fields else 0)
    refuse_too_many_rows(already_read + count, limits)
    columns = [str(name) for name in meta["fields"]]
    columns_values = [python_values(array, str(dtype)) for array, dtype in zip(fields, meta["dtypes"])]
    rows = [dict(zip(columns, values)) for values in zip(*columns_values)] if columns else [{} for _ in range(count)]
    geometries = list(shapely.from_wkb(wkb)) if wkb is not None else [None] * count
    return Layer(columns, rows, geometries, meta.get("crs"))


def gis_table(fmt: str, layer: Layer, crs_wkt: str | None, encoding: str | None, warnings: list[str],
              limits: Limits) -> RawTable:
    """Build a RawTable from a read layer, numbering features from 1 and checking vertices."""
    refuse_too_many_vertices(layer.geometries, limits)
    numbers = list(range(1, len(layer.rows) + 1))
    return RawTable(fmt, layer.columns, layer.rows, layer.geometries, crs_wkt, numbers, encoding, warnings)


def read_geojson(data: bytes, limits: Limits) -> RawTable:
    """Read GeoJSON, rewritten with nothing GDAL could follow, with the GeoJSON driver."""
    plain = plain_geojson(data)
    with tempfile.TemporaryDirectory(prefix="heshan-upload-") as folder:
        path = write_private_copy(plain, folder, "upload.geojson")
        layer = read_layer(path, "GeoJSON", limits)
    return gis_table("geojson", layer, crs_wkt_of(layer.crs), "utf-8", [], limits)


def read_gpkg(data: bytes, limits: Limits) -> RawTable:
    """Read the first layer of a GeoPackage with the GPKG driver, warning about any others."""
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="heshan-upload-") as folder:
        path = write_private_copy(data, folder, "upload.gpkg")
        tables = gpkg_tables(path)
        verified_info(path, "GPKG")
        names = layer_names(path)
        if not names:
            raise UnsafeFile("The GeoPackage has no layers / GeoPackage 中没有图层", "invalid")
        if names[0] not in tables:
            raise UnsafeFile(f"The GeoPackage layer '{names[0]}' is not a table listed in gpkg_contents; refused "
                             f"/ GeoPackage 图层不是数据表，拒绝读取", "invalid")
        if len(names) > 1:
            warnings.append(f"Only the first layer '{names[0]}' was read; ignored: {', '.join(names[1:])} "
                            f"/ 只读取了第一个图层")
        layer = read_layer(path, "GPKG", limits, layer=names[0])
    return gis_table("gpkg", layer, crs_wkt_of(layer.crs), "utf-8", warnings, limits)


# --- KML --------------------------------------------------------------------------------------

def merge_layers(layers: list[Layer], limits: Limits) -> Layer:
    """Concatenate layers (KML folders) into one, with the union of their columns in order, capped."""
    union: dict[str, None] = {}
    for layer in layers:
        union.update(dict.fromkeys(layer.columns))
        refuse_too_many_columns(len(union), limits)
    columns = list(union)
    rows = [{column: row.get(column) for column in columns} for layer in layers for row in layer.rows]
    geometries = [geometry for layer in layers for geometry in layer.geometries]
    crs = next((layer.crs for layer in layers if layer.crs), None)
    return Layer(columns, rows, geometries, crs)


def add_extended_data(layer: Layer, extended: KmlExtendedData, warnings: list[str], limits: Limits) -> None:
    """Add each placemark's ExtendedData fields to the feature GDAL read for it, within the column cap."""
    if not extended.columns:
        return
    known = set(layer.columns)
    added = [column for column in dict.fromkeys(extended.columns) if column not in known]
    refuse_too_many_columns(len(layer.columns) + len(added), limits)
    layer.columns += added
    unmatched = 0
    for row, geometry in zip(layer.rows, layer.geometries):
        values = extended.lookup(row.get("Name"), geometry)
        if values is None:
            unmatched += 1
        for column in extended.columns:
            row.setdefault(column, None)
        if values is not None:
            row.update(values)
    if unmatched:
        warnings.append(f"ExtendedData of {unmatched} placemarks could not be matched unambiguously and was "
                        f"left empty / {unmatched} 个地标的扩展数据无法对应，已留空")


def read_kml(data: bytes, limits: Limits) -> RawTable:
    """Read every folder of a KML file with the pinned KML driver, plus its ExtendedData fields."""
    refuse_xml_doctype(data, "KML")
    refuse_remote_kml(data)
    driver = kml_driver()
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="heshan-upload-") as folder:
        path = write_private_copy(data, folder, "upload.kml")
        verified_info(path, driver)
        layers: list[Layer] = []
        for name in layer_names(path):
            layers.append(read_layer(path, driver, limits, layer=name,
                                     already_read=sum(len(layer.rows) for layer in layers)))
    if len(layers) > 1:
        warnings.append(f"Read {len(layers)} KML folders as one table / 已将 {len(layers)} 个 KML 文件夹合并读取")
    layer = merge_layers(layers, limits)
    if driver == "KML":
        add_extended_data(layer, read_kml_extended_data(data, limits), warnings, limits)
    return gis_table("kml", layer, crs_wkt_of(layer.crs or "EPSG:4326"), "utf-8", warnings, limits)


# --- zipped Shapefile -------------------------------------------------------------------------

def is_resource_fork(path: Path) -> bool:
    """Tell whether an extracted path is macOS metadata (__MACOSX/ or ._name), not data."""
    return path.name.startswith("._") or "__MACOSX" in path.parts


def choose_shp(paths: list[Path], warnings: list[str]) -> Path:
    """Return the .shp to read, warning when the archive holds several."""
    shps = sorted(path for path in paths if path.suffix.lower() == ".shp" and not is_resource_fork(path))
    if not shps:
        raise UnsafeFile("The zip archive holds no .shp file / 压缩包中没有 .shp 文件", "invalid")
    if len(shps) > 1:
        warnings.append(f"Only {shps[0].name} was read; ignored: {', '.join(p.name for p in shps[1:])} "
                        f"/ 只读取了第一个 Shapefile")
    return shps[0]


def sidecar(shp: Path, paths: list[Path], suffix: str) -> Path | None:
    """Return the file beside shp with the same stem and the given extension, any letter case."""
    for path in paths:
        if path.parent == shp.parent and path.stem == shp.stem and path.suffix.lower() == suffix:
            return path
    return None


def refuse_incomplete_shapefile(shp: Path, paths: list[Path]) -> None:
    """Raise UnsafeFile 422 when the .shp is not a shapefile or lacks its .shx or .dbf."""
    with open(shp, "rb") as handle:
        if handle.read(4) != SHAPEFILE_MAGIC:
            raise UnsafeFile(f"{shp.name} is not a Shapefile / {shp.name} 不是有效的 Shapefile", "unsupported")
    missing = [suffix for suffix in (".shx", ".dbf") if sidecar(shp, paths, suffix) is None]
    if missing:
        raise UnsafeFile(f"The Shapefile lacks {', '.join(missing)} / Shapefile 缺少 {'、'.join(missing)} 文件", "invalid")


def codec_for_cpg(text: str) -> str | None:
    """Return the Python codec a .cpg names (UTF-8, GBK, 936, CP936, ANSI 936), or None if unknown."""
    name = text.strip().upper().removeprefix("ANSI").strip()
    if name.isdigit():
        name = f"cp{name}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def dbf_encodings(shp: Path, paths: list[Path], warnings: list[str]) -> list[str]:
    """Return the encodings to try on the DBF: the .cpg's first, then UTF-8 and GB18030."""
    cpg = sidecar(shp, paths, ".cpg")
    if cpg is None:
        return list(DBF_FALLBACK_ENCODINGS)
    declared = cpg.read_bytes()[:100].decode("ascii", errors="replace")
    codec = codec_for_cpg(declared)
    if codec is None:
        warnings.append(f"The .cpg names an unknown encoding '{declared.strip()}'; guessed instead "
                        f"/ .cpg 中的编码无法识别")
        return list(DBF_FALLBACK_ENCODINGS)
    return [codec] + [name for name in DBF_FALLBACK_ENCODINGS if codecs.lookup(name).name != codec]


def read_shapefile_layer(shp: Path, encodings: list[str], cpg_given: bool, limits: Limits,
                         warnings: list[str]) -> tuple[Layer, str]:
    """Read the shapefile with the first encoding that decodes its DBF; return the layer and encoding."""
    for index, encoding in enumerate(encodings):
        try:
            return read_layer(shp, "ESRI Shapefile", limits, encoding=encoding), encoding
        except UnsafeFile as error:
            if not isinstance(error.__cause__, UnicodeDecodeError) or index == len(encodings) - 1:
                raise
            if cpg_given and index == 0:
                warnings.append(f"The DBF text is not valid {encoding} as its .cpg says / DBF 编码与 .cpg 不符")
            LOGGER.debug("DBF is not %s, trying the next encoding", encoding)
    raise AssertionError("unreachable: the encoding list is never empty")


def read_prj(shp: Path, paths: list[Path], warnings: list[str]) -> str | None:
    """Return the WKT in the .prj beside shp, or None with a warning when there is none."""
    prj = sidecar(shp, paths, ".prj")
    if prj is None:
        warnings.append("The Shapefile has no .prj; its coordinate system is unknown / Shapefile 缺少 .prj 坐标系文件")
        return None
    text = prj.read_bytes().decode("utf-8", errors="replace").strip()
    refuse_prj_not_wkt(text)
    return text or None


def read_shapefile_zip(data: bytes, limits: Limits) -> RawTable:
    """Extract a zipped Shapefile privately and read it with the ESRI Shapefile driver."""
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="heshan-upload-") as folder:
        paths = extract_zip_safely(data, folder, limits)
        shp = choose_shp(paths, warnings)
        refuse_incomplete_shapefile(shp, paths)
        encodings = dbf_encodings(shp, paths, warnings)
        cpg_given = sidecar(shp, paths, ".cpg") is not None
        crs_wkt = read_prj(shp, paths, warnings)  # before GDAL reads the layer, and with it the .prj
        layer, encoding = read_shapefile_layer(shp, encodings, cpg_given, limits, warnings)
        if not cpg_given and encoding != "utf-8":
            warnings.append(f"No .cpg; the DBF text is not UTF-8, read it as {encoding.upper()} (GBK) "
                            f"/ 缺少 .cpg，DBF 按 GBK 解码")
    return gis_table("shapefile_zip", layer, crs_wkt, encoding, warnings, limits)
