"""Coordinate systems of uploads: parsing, GCJ-02/BD-09 conversions and Gauss-Krüger zone detection."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer
from shapely.geometry import Point, Polygon

from heshan_map.ingest.crs import (BD09, GCJ02, HESHAN_BBOX, CrsError, CrsSpec, bd09_to_gcj02,
                                   bd09_to_wgs84, crs_from_wkt, from_wgs84, gcj02_to_bd09, gcj02_to_wgs84,
                                   looks_projected, parse_crs, resolve_projected_xy, to_wgs84,
                                   wgs84_to_bd09, wgs84_to_gcj02)

LOGGER = logging.getLogger(__name__)

GEOD = Geod(ellps="WGS84")
SHAPING = (112.96, 22.77)  # 沙坪, Heshan's centre
ZONE_37_POINT = (112.45, 22.60)  # west edge of Heshan, inside 3-degree zone 37 (109.5–112.5°E)
GUANGZHOU = (113.26, 23.13)

# Published test vectors of two independent, widely used implementations of the same formula:
# googollee/eviltransform python/test.py (wgsLat, wgsLng, gcjLat, gcjLng) ...
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen, 110 km from Heshan
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# ... and wandergis/coordtransform test/app.js, all applied to (116.404, 39.915).
WANDERGIS_INPUT = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
WANDERGIS_BD09_TO_GCJ02_APPROX = (116.39762729119315, 39.90865673957631)  # closed-form, ~1e-6° off


def heshan_grid(step: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Return a lon/lat grid over 112.4–113.1°E, 22.4–22.9°N."""
    lon, lat = np.meshgrid(np.arange(112.4, 113.1 + 1e-9, step), np.arange(22.4, 22.9 + 1e-9, step))
    return lon.ravel(), lat.ravel()


def metres_between(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Return geodesic distances in metres on the WGS84 ellipsoid."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def project(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    """Return (easting, northing) of a WGS84 position in an EPSG system."""
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


# --- GCJ-02 / BD-09 --------------------------------------------------------------------------

def test_gcj02_round_trip_on_a_heshan_grid_is_below_a_centimetre():
    lon, lat = heshan_grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    error = metres_between(lon, lat, back_lon, back_lat)
    LOGGER.info("GCJ-02 round trip max error %.2e m over %d points", error.max(), error.size)
    assert error.size == 141 * 101
    assert error.max() < 0.01


def test_gcj02_inverse_leaves_a_forward_residual_below_1e9_degrees():
    gcj_lon, gcj_lat = heshan_grid(0.01)
    image_lon, image_lat = wgs84_to_gcj02(*gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert np.abs(image_lon - gcj_lon).max() < 1e-9
    assert np.abs(image_lat - gcj_lat).max() < 1e-9


@pytest.mark.parametrize("wgs_lat, wgs_lon, gcj_lat, gcj_lon", EVILTRANSFORM_PAIRS)
def test_gcj02_matches_published_pairs(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert lon == pytest.approx(gcj_lon, abs=1e-9) and lat == pytest.approx(gcj_lat, abs=1e-9)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert metres_between(wgs_lon, wgs_lat, back_lon, back_lat) < 0.001


def test_gcj02_matches_coordtransform_reference():
    lon, lat = wgs84_to_gcj02(*WANDERGIS_INPUT)
    assert (float(lon), float(lat)) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-9)


def test_bd09_forward_matches_coordtransform_reference():
    lon, lat = gcj02_to_bd09(*WANDERGIS_INPUT)
    assert (float(lon), float(lat)) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-9)


def test_bd09_inverse_is_exact_and_near_the_closed_form_one():
    lon, lat = bd09_to_gcj02(*WANDERGIS_INPUT)
    assert (float(lon), float(lat)) == pytest.approx(WANDERGIS_BD09_TO_GCJ02_APPROX, abs=1e-6)
    image = gcj02_to_bd09(lon, lat)
    assert (float(image[0]), float(image[1])) == pytest.approx(WANDERGIS_INPUT, abs=1e-10)


def test_bd09_round_trip_on_a_heshan_grid_is_below_a_centimetre():
    lon, lat = heshan_grid()
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres_between(lon, lat, back_lon, back_lat).max() < 0.01


def test_offsets_around_heshan_are_several_hundred_metres():
    lon, lat = heshan_grid(0.05)
    gcj = metres_between(lon, lat, *wgs84_to_gcj02(lon, lat))
    bd = metres_between(lon, lat, *wgs84_to_bd09(lon, lat))
    assert 400 < gcj.min() and gcj.max() < 800
    assert 900 < bd.min() and bd.max() < 1600


def test_gcj02_is_identity_outside_china():
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (float(lon), float(lat)) == (2.35, 48.85)
    back = gcj02_to_wgs84(2.35, 48.85)
    assert (float(back[0]), float(back[1])) == (2.35, 48.85)


def test_conversions_keep_array_shapes():
    lon = np.full((3, 2), SHAPING[0])
    lat = np.full((3, 2), SHAPING[1])
    for function in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84, gcj02_to_bd09,
                     bd09_to_gcj02):
        out_lon, out_lat = function(lon, lat)
        assert out_lon.shape == (3, 2) and out_lat.shape == (3, 2)


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("EPSG:4326", CrsSpec("epsg", 4326)),
    ("epsg:4547", CrsSpec("epsg", 4547)),
    (" Epsg : 4490 ", CrsSpec("epsg", 4490)),
    ("4526", CrsSpec("epsg", 4526)),
    ("EPSG:32649", CrsSpec("epsg", 32649)),
    ("GCJ-02", GCJ02), ("gcj02", GCJ02), ("GCJ02", GCJ02), ("gcj-02", GCJ02),
    ("BD-09", BD09), ("bd09", BD09), ("BD09", BD09),
    (None, None), ("", None), ("   ", None),
])
def test_parse_crs_accepts_the_listed_forms(value, expected):
    assert parse_crs(value) == expected


@pytest.mark.parametrize("value", ["WGS84", "EPSG:", "EPSG:999999", "EPSG:9001", "EPSG:4978", "GCJ-03",
                                   "BD-09x", "mars", "EPSG:4326;drop"])
def test_parse_crs_refuses_other_values_naming_them(value):
    with pytest.raises(CrsError) as caught:
        parse_crs(value)
    assert repr(value) in str(caught.value)
    assert "GCJ-02" in str(caught.value) and "EPSG:<code>" in str(caught.value)


def test_crs_error_is_a_value_error():
    assert issubclass(CrsError, ValueError)


@pytest.mark.parametrize("spec, label", [(CrsSpec("epsg", 4326), "EPSG:4326"), (GCJ02, "GCJ-02"),
                                         (BD09, "BD-09")])
def test_label(spec, label):
    assert spec.label() == label


ESRI_CM_114E = (
    'PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],'
    'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


def test_crs_from_wkt_reads_an_esri_prj_and_ogc_wkt():
    assert crs_from_wkt(ESRI_CM_114E) == CrsSpec("epsg", 4547)
    assert crs_from_wkt(CRS.from_epsg(4526).to_wkt()) == CrsSpec("epsg", 4526)
    assert crs_from_wkt(CRS.from_epsg(4490).to_wkt()) == CrsSpec("epsg", 4490)


@pytest.mark.parametrize("wkt", ["", "not a crs", "+proj=tmerc +lon_0=113.5 +x_0=123456 +ellps=GRS80"])
def test_crs_from_wkt_refuses_what_has_no_epsg_code(wkt):
    with pytest.raises(CrsError):
        crs_from_wkt(wkt)


# --- geometries ------------------------------------------------------------------------------

def test_wgs84_and_cgcs2000_geographic_pass_through():
    point = Point(*SHAPING)
    assert to_wgs84(point, CrsSpec("epsg", 4326)).equals(point)
    assert to_wgs84(point, CrsSpec("epsg", 4490)).equals(point)
    assert from_wgs84(point, CrsSpec("epsg", 4490)).equals(point)


def test_epsg_4547_and_prefixed_4526_readings_agree_within_a_millimetre():
    easting, northing = project(*SHAPING, 4547)
    plain = to_wgs84(Point(easting, northing), CrsSpec("epsg", 4547))
    prefixed = to_wgs84(Point(easting + 38_000_000, northing), CrsSpec("epsg", 4526))
    assert metres_between(plain.x, plain.y, prefixed.x, prefixed.y) < 0.001
    assert metres_between(plain.x, plain.y, *SHAPING) < 0.001


@pytest.mark.parametrize("spec", [CrsSpec("epsg", 4547), CrsSpec("epsg", 4526), GCJ02, BD09])
def test_polygon_round_trips_through_export_systems(spec):
    polygon = Polygon([(112.95, 22.76), (112.97, 22.76), (112.97, 22.78), (112.95, 22.76)])
    back = to_wgs84(from_wgs84(polygon, spec), spec)
    for (lon, lat), (back_lon, back_lat) in zip(polygon.exterior.coords, back.exterior.coords):
        assert metres_between(lon, lat, back_lon, back_lat) < 0.01


def test_gcj02_geometry_is_moved_by_the_offset():
    moved = to_wgs84(Point(*SHAPING), GCJ02)
    assert 400 < metres_between(moved.x, moved.y, *SHAPING) < 800


# --- Gauss-Krüger ----------------------------------------------------------------------------

def test_resolve_plain_easting_northing():
    easting, northing = project(*SHAPING, 4547)
    assert resolve_projected_xy(easting, northing, None) == (easting, northing, CrsSpec("epsg", 4547), False)


def test_resolve_detects_swapped_x_y():
    easting, northing = project(*SHAPING, 4547)
    assert resolve_projected_xy(northing, easting, None) == (easting, northing, CrsSpec("epsg", 4547), True)


def test_resolve_detects_zone_prefix_swapped_or_not():
    easting, northing = project(*SHAPING, 4526)
    expected = (easting, northing, CrsSpec("epsg", 4526))
    assert resolve_projected_xy(easting, northing, None) == (*expected, False)
    assert resolve_projected_xy(northing, easting, None) == (*expected, True)


def test_resolve_adds_or_drops_the_prefix_a_given_zone_code_implies():
    easting, northing = project(*SHAPING, 4547)
    assert resolve_projected_xy(easting + 38e6, northing, CrsSpec("epsg", 4547))[2] == CrsSpec("epsg", 4526)
    assert resolve_projected_xy(easting, northing, CrsSpec("epsg", 4526))[2] == CrsSpec("epsg", 4547)


def test_resolve_finds_zone_37_with_and_without_prefix():
    easting, northing = project(*ZONE_37_POINT, 4525)
    assert resolve_projected_xy(easting, northing, None)[2] == CrsSpec("epsg", 4525)
    plain_easting, plain_northing = project(*ZONE_37_POINT, 4546)
    assert resolve_projected_xy(plain_northing, plain_easting, None)[2:] == (CrsSpec("epsg", 4546), True)


def test_resolve_refuses_a_point_outside_heshan_in_every_reading():
    easting, northing = project(*GUANGZHOU, 4547)
    for x, y in [(easting, northing), (easting + 38e6, northing), (1234.5, 6789.0)]:
        with pytest.raises(CrsError, match="do not fall inside Heshan"):
            resolve_projected_xy(x, y, None)


def test_resolve_refuses_a_prefix_of_another_zone_than_the_given_code():
    easting, northing = project(*SHAPING, 4547)
    with pytest.raises(CrsError, match="zone 38"):
        resolve_projected_xy(easting + 37e6, northing, CrsSpec("epsg", 4547))


def test_resolve_leaves_other_systems_alone():
    easting, northing = project(*SHAPING, 32649)
    assert resolve_projected_xy(easting, northing, CrsSpec("epsg", 32649)) == (
        easting, northing, CrsSpec("epsg", 32649), False)


def test_resolved_reading_lands_in_the_heshan_bbox():
    easting, northing, crs, _ = resolve_projected_xy(*project(*SHAPING, 4526)[::-1], None)
    point = to_wgs84(Point(easting, northing), crs)
    west, south, east, north = HESHAN_BBOX
    assert west <= point.x <= east and south <= point.y <= north


@pytest.mark.parametrize("a, b, expected", [(112.96, 22.77, False), (-179.0, 89.0, False),
                                            (393192.6, 2519442.0, True), (2519442.0, 38393192.6, True)])
def test_looks_projected(a, b, expected):
    assert looks_projected(a, b) is expected
