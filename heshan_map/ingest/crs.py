"""Coordinate systems of uploads: EPSG codes, GCJ-02, BD-09 and CGCS2000 Gauss-Krüger zones."""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from ..vocabulary import HESHAN_SEARCH_BOUNDS

LOGGER = logging.getLogger(__name__)

HESHAN_BBOX = HESHAN_SEARCH_BOUNDS
ACCEPTED_FORMS = "EPSG:<code> (or the bare code, e.g. 4547), GCJ-02 (gcj02) or BD-09 (bd09)"

# CGCS2000 and WGS84 agree within a metre; geographic coordinates in either are stored as they are.
PASS_THROUGH_EPSG = frozenset({4326, 4490})

# GCJ-02: the published forward formula on the Krasovsky ellipsoid.
GCJ_SEMI_MAJOR_AXIS = 6378245.0
GCJ_ECCENTRICITY_SQUARED = 0.00669342162296594323
GCJ_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # outside it GCJ-02 equals WGS84
BD_X_PI = math.pi * 3000.0 / 180.0
INVERSE_TOLERANCE_DEG = 1e-11  # iterate an inverse until the forward residual is below this
INVERSE_MAX_ITERATIONS = 40

# Projected coordinates are recognised by magnitude: a Gauss-Krüger northing in south China is ~2.5e6.
PROJECTED_THRESHOLD = 1000.0
ZONE_PREFIX_THRESHOLD = 1e7  # an easting at or above this carries the zone number in front
# Central meridians tried, in order, for eastings without a zone prefix when no CRS is given.
HESHAN_PLAIN_GK_EPSG = (4547, 4546)


class CrsError(ValueError):
    """A coordinate system that cannot be read, is not supported, or does not fit the data."""


@dataclass(frozen=True)
class CrsSpec:
    """A coordinate system of uploaded data: an EPSG code, GCJ-02 or BD-09."""

    kind: str  # "epsg" | "gcj02" | "bd09"
    epsg: int | None = None

    def label(self) -> str:
        """Return the name shown to users ("EPSG:4326", "GCJ-02", "BD-09")."""
        if self.kind == "epsg":
            return f"EPSG:{self.epsg}"
        return {"gcj02": "GCJ-02", "bd09": "BD-09"}[self.kind]


WGS84 = CrsSpec("epsg", 4326)
GCJ02 = CrsSpec("gcj02")
BD09 = CrsSpec("bd09")


@dataclass(frozen=True)
class GkZone:
    """A CGCS2000 Gauss-Krüger zone (3- or 6-degree) and its two EPSG codes."""

    width: int  # 3 | 6
    zone: int

    @property
    def central_meridian(self) -> int:
        """Return the zone's central meridian in degrees east."""
        return self.zone * 3 if self.width == 3 else self.zone * 6 - 3

    @property
    def prefixed_epsg(self) -> int:
        """Return the code whose eastings carry the zone number in front (x_0 = zone·1e6 + 500000)."""
        return 4513 + self.zone - 25 if self.width == 3 else 4491 + self.zone - 13

    @property
    def plain_epsg(self) -> int:
        """Return the code whose eastings have no zone prefix (x_0 = 500000)."""
        if self.width == 3:
            return 4534 + (self.central_meridian - 75) // 3
        return 4502 + (self.central_meridian - 75) // 6


def cgcs2000_gk_zone(width: int, zone: int) -> GkZone:
    """Return the CGCS2000 Gauss-Krüger zone of a band width and zone number, or raise CrsError."""
    zones = {3: range(25, 46), 6: range(13, 24)}
    if width not in zones:
        raise CrsError(f"Gauss-Krüger zones are 3 or 6 degrees wide, not {width}")
    if zone not in zones[width]:
        first, last = zones[width][0], zones[width][-1]
        raise CrsError(f"{width}-degree zone {zone} is outside China's zones {first}–{last}")
    return GkZone(width, zone)


def gk_zone_of_epsg(epsg: int | None) -> GkZone | None:
    """Return the CGCS2000 Gauss-Krüger zone an EPSG code belongs to, or None for other codes."""
    if epsg is None:
        return None
    if 4513 <= epsg <= 4533:
        return GkZone(3, epsg - 4513 + 25)
    if 4534 <= epsg <= 4554:
        return GkZone(3, (75 + 3 * (epsg - 4534)) // 3)
    if 4491 <= epsg <= 4501:
        return GkZone(6, epsg - 4491 + 13)
    if 4502 <= epsg <= 4512:
        return GkZone(6, (75 + 6 * (epsg - 4502) + 3) // 6)
    return None


def has_zone_prefix(crs: CrsSpec) -> bool:
    """Return whether a spec is a CGCS2000 Gauss-Krüger code whose eastings carry the zone number."""
    zone = gk_zone_of_epsg(crs.epsg) if crs.kind == "epsg" else None
    return zone is not None and zone.prefixed_epsg == crs.epsg


def gk_zone_of_prefix(easting: float) -> GkZone | None:
    """Return the zone named by the prefix of an easting (38xxxxxx.xx → 3-degree zone 38), or None."""
    zone = int(easting // 1_000_000)
    if 25 <= zone <= 45:
        return GkZone(3, zone)
    if 13 <= zone <= 23:
        return GkZone(6, zone)
    return None


# --- parsing ---------------------------------------------------------------------------------

_EPSG_PATTERN = re.compile(r"^(?:EPSG\s*:\s*)?(\d{4,6})$", re.IGNORECASE)
_NAMED_CRS = {"GCJ02": GCJ02, "BD09": BD09}


def parse_crs(value: str | None) -> CrsSpec | None:
    """Return the coordinate system a user named, None when blank, or raise CrsError."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _EPSG_PATTERN.match(text)
    if match:
        code = int(match.group(1))
        if not is_horizontal_epsg(code):
            raise CrsError(f"unknown coordinate system {value!r}: EPSG:{code} is not a geographic or "
                           f"projected system pyproj knows; use {ACCEPTED_FORMS}")
        return CrsSpec("epsg", code)
    named = _NAMED_CRS.get(re.sub(r"[\s_\-]", "", text).upper())
    if named is not None:
        return named
    raise CrsError(f"unknown coordinate system {value!r}; use {ACCEPTED_FORMS}")


def epsg_spec(code: int) -> CrsSpec:
    """Return the spec of a horizontal EPSG coordinate system pyproj knows, or raise CrsError."""
    if not is_horizontal_epsg(code):
        raise CrsError(f"EPSG:{code} is not a geographic or projected coordinate system pyproj knows; "
                       f"use {ACCEPTED_FORMS}")
    return CrsSpec("epsg", code)


@lru_cache(maxsize=256)
def is_horizontal_epsg(code: int) -> bool:
    """Return whether pyproj knows an EPSG code as a geographic or projected coordinate system."""
    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        return False
    return crs.is_geographic or crs.is_projected


def crs_from_wkt(wkt: str) -> CrsSpec:
    """Return the EPSG spec of a WKT (a .prj file or a layer's CRS), or raise CrsError."""
    if not wkt or not wkt.strip():
        raise CrsError("the coordinate system description is empty")
    try:
        crs = CRS.from_user_input(wkt.strip())
    except CRSError as exc:
        raise CrsError(f"cannot read the coordinate system description: {exc}") from exc
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        raise CrsError(f"no EPSG code matches the coordinate system {crs.name!r}; "
                       f"name it explicitly as {ACCEPTED_FORMS}")
    return epsg_spec(code)


# --- GCJ-02 and BD-09 ------------------------------------------------------------------------

def as_float_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return longitude and latitude as float arrays of one shape."""
    return np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def inside_gcj_china_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return where the GCJ-02 offset applies (the formula's own rough box around China)."""
    west, south, east, north = GCJ_CHINA_BOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def gcj_offset_metres_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the formula's raw longitude and latitude terms for x = lon − 105, y = lat − 35."""
    shared = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    root_x = np.sqrt(np.abs(x))
    lat_term = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root_x + shared
                + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
                + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    lon_term = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root_x + shared
                + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
                + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    return lon_term, lat_term


def gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset in degrees (dlon, dlat) at WGS84 positions; zero outside China."""
    lon_term, lat_term = gcj_offset_metres_terms(lon - 105.0, lat - 35.0)
    rad_lat = np.radians(lat)
    magic = 1.0 - GCJ_ECCENTRICITY_SQUARED * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    a = GCJ_SEMI_MAJOR_AXIS
    dlat = lat_term * 180.0 / ((a * (1.0 - GCJ_ECCENTRICITY_SQUARED)) / (magic * sqrt_magic) * np.pi)
    dlon = lon_term * 180.0 / (a / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = inside_gcj_china_box(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return GCJ-02 (Amap, Tencent) longitudes and latitudes of WGS84 positions."""
    lon, lat = as_float_arrays(lon, lat)
    dlon, dlat = gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def invert_iteratively(forward: Callable, lon: np.ndarray, lat: np.ndarray, start_lon: np.ndarray,
                       start_lat: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return positions whose forward transform equals (lon, lat), by fixed-point iteration."""
    guess_lon, guess_lat = start_lon.copy(), start_lat.copy()
    for _ in range(INVERSE_MAX_ITERATIONS):
        image_lon, image_lat = forward(guess_lon, guess_lat)
        residual_lon, residual_lat = image_lon - lon, image_lat - lat
        if not (np.any(np.abs(residual_lon) > INVERSE_TOLERANCE_DEG)
                or np.any(np.abs(residual_lat) > INVERSE_TOLERANCE_DEG)):
            return guess_lon, guess_lat
        guess_lon = guess_lon - residual_lon
        guess_lat = guess_lat - residual_lat
    LOGGER.warning("%s inverse did not converge to %.0e° in %d iterations", name,
                   INVERSE_TOLERANCE_DEG, INVERSE_MAX_ITERATIONS)
    return guess_lon, guess_lat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 positions of GCJ-02 coordinates, exact to 1e-11° (the forward transform inverted)."""
    lon, lat = as_float_arrays(lon, lat)
    return invert_iteratively(wgs84_to_gcj02, lon, lat, lon, lat, "GCJ-02")


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return BD-09 (Baidu) coordinates of GCJ-02 positions."""
    lon, lat = as_float_arrays(lon, lat)
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return radius * np.cos(theta) + 0.0065, radius * np.sin(theta) + 0.006


def bd09_to_gcj02_approximate(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return GCJ-02 positions of BD-09 coordinates by Baidu's published closed-form inverse (~1e-6°)."""
    x, y = lon - 0.0065, lat - 0.006
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    return radius * np.cos(theta), radius * np.sin(theta)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return GCJ-02 positions of BD-09 coordinates, exact to 1e-11° (the forward transform inverted)."""
    lon, lat = as_float_arrays(lon, lat)
    start_lon, start_lat = bd09_to_gcj02_approximate(lon, lat)
    return invert_iteratively(gcj02_to_bd09, lon, lat, start_lon, start_lat, "BD-09")


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return BD-09 (Baidu) coordinates of WGS84 positions."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 positions of BD-09 coordinates."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --- geometries ------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def transformer_to_wgs84(epsg: int) -> Transformer:
    """Return a cached lon/lat-ordered transformer from an EPSG system to WGS84."""
    return Transformer.from_crs(epsg, 4326, always_xy=True)


@lru_cache(maxsize=64)
def transformer_from_wgs84(epsg: int) -> Transformer:
    """Return a cached lon/lat-ordered transformer from WGS84 to an EPSG system."""
    return Transformer.from_crs(4326, epsg, always_xy=True)


def coordinate_function(crs: CrsSpec, towards_wgs84: bool) -> Callable | None:
    """Return the (x, y) → (x, y) array function between a system and WGS84, or None if it is WGS84."""
    if crs.kind == "gcj02":
        return gcj02_to_wgs84 if towards_wgs84 else wgs84_to_gcj02
    if crs.kind == "bd09":
        return bd09_to_wgs84 if towards_wgs84 else wgs84_to_bd09
    if crs.kind != "epsg" or crs.epsg is None:
        raise CrsError(f"unsupported coordinate system kind {crs.kind!r}")
    if crs.epsg in PASS_THROUGH_EPSG:
        return None
    transformer = transformer_to_wgs84(crs.epsg) if towards_wgs84 else transformer_from_wgs84(crs.epsg)
    return transformer.transform


def to_wgs84(geometry: BaseGeometry, crs: CrsSpec) -> BaseGeometry:
    """Return a geometry converted from its coordinate system to WGS84 lon/lat."""
    function = coordinate_function(crs, towards_wgs84=True)
    return geometry if function is None else shapely.transform(geometry, function, interleaved=False)


def from_wgs84(geometry: BaseGeometry, crs: CrsSpec) -> BaseGeometry:
    """Return a WGS84 geometry converted to another coordinate system (for exports)."""
    function = coordinate_function(crs, towards_wgs84=False)
    return geometry if function is None else shapely.transform(geometry, function, interleaved=False)


# --- Gauss-Krüger projected coordinates -------------------------------------------------------

def looks_projected(a: float, b: float) -> bool:
    """Return whether a coordinate pair is far outside longitude/latitude ranges (metres, not degrees)."""
    return abs(a) > PROJECTED_THRESHOLD or abs(b) > PROJECTED_THRESHOLD


def in_heshan_bbox(lon: float, lat: float) -> bool:
    """Return whether a WGS84 position lies inside Heshan's bounding box."""
    west, south, east, north = HESHAN_BBOX
    return bool(west <= lon <= east and south <= lat <= north)


def lands_in_heshan(easting: float, northing: float, epsg: int) -> bool:
    """Return whether a projected position in an EPSG system falls inside Heshan's bounding box."""
    lon, lat = transformer_to_wgs84(epsg).transform(easting, northing)
    return math.isfinite(lon) and math.isfinite(lat) and in_heshan_bbox(lon, lat)


def candidate_gk_epsg(easting: float, zone: GkZone | None) -> list[int]:
    """Return the Gauss-Krüger codes an easting could be in, given the zone a CRS names (if any)."""
    if easting >= ZONE_PREFIX_THRESHOLD:
        prefix_zone = gk_zone_of_prefix(easting)
        if prefix_zone is None or (zone is not None and prefix_zone != zone):
            return []
        return [prefix_zone.prefixed_epsg]
    if zone is not None:
        return [zone.plain_epsg]
    return list(HESHAN_PLAIN_GK_EPSG)


def resolve_projected_xy(x: float, y: float, crs: CrsSpec | None) -> tuple[float, float, CrsSpec, bool]:
    """Return (easting, northing, crs_used, swapped) for a Gauss-Krüger pair, reading it so it lands in Heshan.

    x is taken as the easting unless swapped is True (Chinese surveying writes X for the northing).
    An easting ≥ 1e7 carries the zone number in front and is kept as given under the prefixed code
    (38xxxxxx.xx → EPSG:4526). Only a None crs or a CGCS2000 Gauss-Krüger code is resolved; any
    other crs is returned unchanged with swapped False.
    """
    zone = gk_zone_of_epsg(crs.epsg) if crs is not None and crs.kind == "epsg" else None
    if crs is not None and zone is None:
        return x, y, crs, False
    for swapped, (easting, northing) in ((False, (x, y)), (True, (y, x))):
        for epsg in candidate_gk_epsg(easting, zone):
            if lands_in_heshan(easting, northing, epsg):
                return easting, northing, CrsSpec("epsg", epsg), swapped
    where = (f"CGCS2000 {zone.width}-degree Gauss-Krüger zone {zone.zone} (central meridian {zone.central_meridian}°E)"
             if zone is not None else "any CGCS2000 Gauss-Krüger zone covering Heshan (CM 111°E or 114°E)")
    west, south, east, north = HESHAN_BBOX
    raise CrsError(f"projected coordinates ({x}, {y}) do not fall inside Heshan ({west}–{east}°E, "
                   f"{south}–{north}°N) read as easting/northing or northing/easting, with or without a "
                   f"zone prefix, in {where}")
