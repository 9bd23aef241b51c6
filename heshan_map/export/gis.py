"""Write the selected sites as a GeoPackage or a zip of Shapefiles, in the requested CRS, batch by batch.

A site whose place is unknown (precision county) is a row with an empty geometry: in the GeoPackage's one
layer, and in the Shapefile zip's heshan_sites_unplaced.shp (null shapes), since a Shapefile holds one type.
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from itertools import chain
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import pyogrio
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from ..ingest.crs import from_wgs84
from .columns import FIELD_NAMES, INTEGER_COLUMNS, NUMERIC_COLUMNS, SHAPEFILE_FIELDS, export_rows
from .request import ExportRequest

BATCH_ROWS = 2000  # rows per GeoDataFrame appended to a GeoPackage or Shapefile
GPKG_FIELDS: dict[str, str] = {name: name for name in FIELD_NAMES}  # a GeoPackage keeps the fields' names
SHAPEFILE_FAMILIES = {"Point": "points", "MultiPoint": "multipoints", "LineString": "lines",
                      "MultiLineString": "lines", "Polygon": "polygons", "MultiPolygon": "polygons"}
UNPLACED_FAMILY = "unplaced"  # the Shapefile of the sites without a geometry (null shapes, typed Point)


def geodataframes(session: Session, request: ExportRequest, field_names: dict[str, str]
                  ) -> Iterator[gpd.GeoDataFrame]:
    """Yield the selected sites as GeoDataFrames of up to BATCH_ROWS rows in the requested CRS; one if none."""
    records: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    batches = 0
    for props, geometry_text in export_rows(session, request):
        records.append({field_names[name]: props.get(name) for name in FIELD_NAMES})
        geometry = None if geometry_text is None else shape(json.loads(geometry_text))
        geometries.append(None if geometry is None else from_wgs84(geometry, request.crs))
        if len(records) == BATCH_ROWS:
            yield geodataframe(records, geometries, request, field_names)
            records, geometries, batches = [], [], batches + 1
    if records or not batches:
        yield geodataframe(records, geometries, request, field_names)


def geodataframe(records: list[dict[str, Any]], geometries: list[BaseGeometry | None], request: ExportRequest,
                 field_names: dict[str, str]) -> gpd.GeoDataFrame:
    """Return rows and their geometries as a GeoDataFrame with the export's columns and types."""
    crs = f"EPSG:{request.crs.epsg}" if request.crs.kind == "epsg" else None
    columns = [field_names[name] for name in FIELD_NAMES]
    frame = gpd.GeoDataFrame(records, columns=columns, geometry=geometries, crs=crs)
    for name in NUMERIC_COLUMNS:
        frame[field_names[name]] = frame[field_names[name]].astype("float64")
    for name in INTEGER_COLUMNS:
        frame[field_names[name]] = frame[field_names[name]].astype("int64")
    return frame


def write_gpkg(session: Session, request: ExportRequest, target: Path) -> None:
    """Write a GeoPackage with one layer of the selected sites, appended batch by batch."""
    batches = geodataframes(session, request, GPKG_FIELDS)
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


def write_shapefile_zip(session: Session, request: ExportRequest, target: Path) -> None:
    """Write a zip of Shapefiles, one per geometry type (a Shapefile holds one), UTF-8 with .cpg, in batches."""
    with tempfile.TemporaryDirectory(prefix="heshan-shp-") as folder:
        started: set[str] = set()
        for frame in geodataframes(session, request, SHAPEFILE_FIELDS):
            families = frame.geometry.geom_type.map(SHAPEFILE_FAMILIES).fillna(UNPLACED_FAMILY)
            for family in ("points", "multipoints", "lines", "polygons", UNPLACED_FAMILY):
                part = frame[families == family]
                if part.empty and not (family == "points" and frame.empty and not started):
                    continue
                typed = {"geometry_type": "Point"} if family == UNPLACED_FAMILY else {}
                pyogrio.write_dataframe(part, Path(folder) / f"heshan_sites_{family}.shp", driver="ESRI Shapefile",
                                        encoding="UTF-8", layer=f"heshan_sites_{family}", append=family in started,
                                        **typed)
                started.add(family)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, path.name)
