"""Read a record's position (its geometry, a WKT cell, lon/lat or projected x/y) and check it lies in Heshan."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
import shapely.errors
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from ..records import SiteRecord
from .bounds import RowError, shown, vertex_problem
from .cells import RowReader, blank
from .checks import Options, Validation
from .crs import WGS84, CrsError, CrsSpec, coordinate_function, looks_projected, resolve_projected_xy, to_wgs84

# Stands in for a position converted later in one batch (convert_lonlat); one shared object.
PENDING_POSITION = Point(0, 0)


def position_columns_of(reader: RowReader, file_geometry: BaseGeometry | None) -> str:
    """Return the column(s) a row's position comes from, as the user's headers ("经度, 纬度")."""
    if file_geometry is not None and not file_geometry.is_empty:
        return "geometry"
    for pair in (("lon", "lat"), ("x", "y")):
        if any(not blank(reader.raw(name)) for name in pair):
            return ", ".join(reader.header(name) for name in pair)
    for name in ("park", "village", "town"):
        if not blank(reader.raw(name)):
            return reader.header(name)
    return "geometry"


def read_position(reader: RowReader, row_no: int, file_geometry: BaseGeometry | None, options: Options,
                  file_crs: CrsSpec | None, result: Validation) -> tuple[tuple[float, float] | None,
                                                                       BaseGeometry | None, str]:
    """Return (lon/lat still to convert, or a WGS84 geometry, and its precision) for a row.

    The file's own geometry comes first, then a WKT column (as this service's CSV export writes),
    then lon/lat, then projected x/y.
    """
    wkt = reader.text("wkt")
    geometry_column = "geometry"
    if (file_geometry is None or file_geometry.is_empty) and wkt:
        geometry_column = reader.header("wkt")
        try:
            file_geometry = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            raise RowError(reader.header("wkt"), f"不是有效的 WKT / not WKT: '{shown(wkt)}'") from None
    if file_geometry is not None and not file_geometry.is_empty:
        too_many = vertex_problem(file_geometry, options.limits)
        if too_many:
            raise RowError(geometry_column, too_many)
        crs = options.crs or file_crs or WGS84
        geometry = to_wgs84(shapely.force_2d(file_geometry), crs)  # heights (KML's ",0") are not stored
        return None, geometry, "point" if geometry.geom_type == "Point" else "surveyed"
    lon, lat = reader.number("lon"), reader.number("lat")
    x, y = reader.number("x"), reader.number("y")
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            raise RowError(reader.header("lat" if lat is None else "lon"), "经度和纬度须同时填写 / longitude and latitude come in pairs")
        if looks_projected(lon, lat):
            x, y = lon, lat
        else:
            if not -180 <= lon <= 180:
                raise RowError(reader.header("lon"), f"经度超出范围 / longitude {lon} is outside -180…180")
            if not -90 <= lat <= 90:
                raise RowError(reader.header("lat"), f"纬度超出范围 / latitude {lat} is outside -90…90")
            return (lon, lat), None, "point"
    if x is not None or y is not None:
        if x is None or y is None:
            raise RowError(reader.header("y" if y is None else "x"), "x 和 y 须同时填写 / x and y come in pairs")
        try:
            easting, northing, crs_used, swapped = resolve_projected_xy(x, y, options.crs or file_crs)
        except CrsError as error:
            raise RowError(reader.header("x"), str(error)) from None
        if swapped:
            result.note(row_no, "x/y read as northing/easting (Chinese surveying order)")
        result.crs_used = crs_used.label()
        return None, to_wgs84(Point(easting, northing), crs_used), "point"
    return None, None, "town"


def convert_lonlat(pending: list[tuple[SiteRecord, tuple[float, float] | None]], crs: CrsSpec) -> None:
    """Convert every picked lon/lat to WGS84 in one vectorised pass and set the records' points."""
    waiting = [(record, lonlat) for record, lonlat in pending if lonlat is not None]
    if not waiting:
        return
    lon = np.fromiter((lonlat[0] for _, lonlat in waiting), dtype=float, count=len(waiting))
    lat = np.fromiter((lonlat[1] for _, lonlat in waiting), dtype=float, count=len(waiting))
    function = coordinate_function(crs, towards_wgs84=True)
    if function is not None:
        lon, lat = function(lon, lat)
    for (record, _), point in zip(waiting, shapely.points(np.column_stack([lon, lat]))):
        record.geometry = point


def check_inside_county(records: list[SiteRecord], county: BaseGeometry | None, result: Validation,
                        column_of: Callable[[int], str]) -> None:
    """Refuse every record whose geometry is not wholly inside Heshan (a record whose place is unknown has none)."""
    if county is None or not records:
        return
    shapely.prepare(county)
    geometries = np.array([record.geometry for record in records], dtype=object)
    inside = shapely.covers(county, geometries) | shapely.is_missing(geometries)
    for record, ok in zip(records, inside):
        if not ok:
            x, y = record.geometry.representative_point().coords[0]
            result.error(record.row, column_of(record.row),
                         f"位置不在鹤山市内 / outside Heshan ({x:.5f}, {y:.5f} in WGS84)")
    records[:] = [record for record, ok in zip(records, inside) if ok]
