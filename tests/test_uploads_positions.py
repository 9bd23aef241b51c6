"""POST /api/uploads: coordinate systems (offset, projected, a file's own) and placing rows by name."""
from __future__ import annotations

import pytest
from pyproj import Transformer
from sqlalchemy import text

from heshan_map.ingest.crs import wgs84_to_bd09, wgs84_to_gcj02

from . import test_uploads
from .test_uploads import (ONE_PROJECT, PROJECT_HEADER, counts, csv_bytes, feature, features_by_id, features_by_name,
                           geojson_bytes, metres_between, point_of, post_upload, upload_ok, upload_record)

editor = test_uploads.editor  # the fixtures of test_uploads, shared

# Known WGS84 points inside Heshan (沙坪, 鹤城, 宅梧 sides).
TRUE_POINTS = [(112.9612, 22.7703), (112.8127, 22.6418), (112.6521, 22.6107)]


# --- 3. coordinate systems --------------------------------------------------------------------

def lonlat_csv(points: list[tuple[float, float]], prefix: str) -> bytes:
    """Return a project CSV with one row per lon/lat point, coded prefix-1, prefix-2, …"""
    rows = [[f"{prefix}项目{i}", repr(float(lon)), repr(float(lat)), "已签约", f"{prefix}-{i}", "", ""]
            for i, (lon, lat) in enumerate(points, start=1)]
    return csv_bytes(PROJECT_HEADER, rows)


@pytest.mark.parametrize("crs,forward", [("GCJ-02", wgs84_to_gcj02), ("BD-09", wgs84_to_bd09)])
def test_offset_coordinates_land_within_a_metre(client, connection, editor, crs: str, forward) -> None:
    lon, lat = forward([p[0] for p in TRUE_POINTS], [p[1] for p in TRUE_POINTS])
    given = list(zip(lon.tolist(), lat.tolist()))
    assert all(metres_between(g, t) > 100 for g, t in zip(given, TRUE_POINTS))  # the offset is real
    report = upload_ok(client, editor, lonlat_csv(given, crs), "picked.csv", kind="project", crs=crs)
    assert report["crs"] == crs
    stored = features_by_id(client, report)
    for row, truth in zip((2, 3, 4), TRUE_POINTS):
        assert metres_between(point_of(stored[row]), truth) < 1.0
    record = upload_record(client, editor, report)
    assert record["crs_given"] == crs and record["crs_used"] == crs
    raw_rows = connection.execute(text("SELECT raw_rows FROM uploads WHERE id = :id"),
                                  {"id": report["upload_id"]}).scalar_one()
    assert [float(row["经度"]) for row in raw_rows] == [g[0] for g in given]  # the values as sent, not WGS84
    assert [row["_row"] for row in raw_rows] == [2, 3, 4]


def test_polygon_in_bd09_geojson_lands_within_a_metre(client, editor) -> None:
    ring = [(112.9585, 22.7688), (112.9617, 22.7686), (112.9619, 22.7712), (112.9586, 22.7711)]
    lon, lat = wgs84_to_bd09([p[0] for p in ring], [p[1] for p in ring])
    baidu = [[x, y] for x, y in zip(lon.tolist(), lat.tolist())]
    data = geojson_bytes(feature({"名称": "百度坐标地块", "编号": "BD-1"},
                                 {"type": "Polygon", "coordinates": [baidu + [baidu[0]]]}))
    report = upload_ok(client, editor, data, "baidu.geojson", kind="land_plot", stage="signed", crs="BD-09")
    stored = features_by_name(client, report)["百度坐标地块"]["geometry"]["coordinates"][0]
    for vertex in ring:
        assert min(metres_between(tuple(p), vertex) for p in stored) < 1.0


def projected(points: list[tuple[float, float]], epsg: int) -> list[tuple[float, float]]:
    """Return WGS84 points as (easting, northing) in an EPSG system, to the centimetre."""
    transformer = Transformer.from_crs(4326, epsg, always_xy=True)
    return [tuple(round(v, 2) for v in transformer.transform(lon, lat)) for lon, lat in points]


@pytest.mark.parametrize("case", ["plain_4547", "prefix_38", "swapped", "prefix_38_swapped_no_crs"])
def test_projected_xy_lands_within_a_metre(client, connection, editor, case: str) -> None:
    if case == "plain_4547":
        pairs, crs, header = projected(TRUE_POINTS, 4547), "EPSG:4547", ("x", "y")
    elif case == "prefix_38":
        pairs, crs, header = projected(TRUE_POINTS, 4526), "EPSG:4547", ("X坐标", "Y坐标")
        assert all(str(int(x)).startswith("38") for x, _ in pairs)
    elif case == "swapped":  # Chinese surveying: X is the northing
        pairs, crs, header = [(n, e) for e, n in projected(TRUE_POINTS, 4547)], "EPSG:4547", ("X", "Y")
    else:
        pairs, crs, header = [(n, e) for e, n in projected(TRUE_POINTS, 4526)], "", ("X", "Y")
    rows = [[f"测量项目{i}", repr(x), repr(y), "已动工", f"XY-{case}-{i}"] for i, (x, y) in enumerate(pairs, start=1)]
    data = csv_bytes(["名称", header[0], header[1], "阶段", "编号"], rows)
    report = upload_ok(client, editor, data, "surveyed.csv", kind="project", **({"crs": crs} if crs else {}))
    stored = features_by_id(client, report)
    for row, truth in zip((2, 3, 4), TRUE_POINTS):
        assert metres_between(point_of(stored[row]), truth) < 1.0
    if "swapped" in case:
        assert {n["row"] for n in report["notes"]} == {2, 3, 4}
        assert all("northing" in n["message"] for n in report["notes"])
    record = upload_record(client, editor, report)
    assert record["crs_given"] == (crs or None)
    assert record["crs_used"] == ("EPSG:4526" if "38" in case else "EPSG:4547")
    raw_rows = connection.execute(text("SELECT raw_rows FROM uploads WHERE id = :id"),
                                  {"id": report["upload_id"]}).scalar_one()
    assert [(float(r[header[0]]), float(r[header[1]])) for r in raw_rows] == pairs


def test_unknown_crs_parameter_is_a_400(client, connection, editor) -> None:
    before = counts(connection)
    response = post_upload(client, ONE_PROJECT, "p.csv", editor, kind="project", crs="EPSG:999999")
    assert response.status_code == 400
    assert "crs" in response.get_json()["error"]["message"]
    assert counts(connection) == before


# --- 4. geolocation ---------------------------------------------------------------------------

def test_rows_without_coordinates_are_placed_by_park_or_town(client, connection, editor) -> None:
    park_point = connection.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM sites"
        " WHERE kind = 'park' AND name = '鹤山工业城') x")).one()
    town_seat = (112.90708, 22.77426)  # 龙口镇 in geodata/heshan_places.geojson
    data = csv_bytes(["项目名称", "园区", "镇街", "状态", "项目代码"], [
        ["园区内项目", "鹤山工业城", "", "已签约", "GEO-1"],
        ["龙口某项目", "", "龙口镇", "已签约", "GEO-2"],
    ])
    report = upload_ok(client, editor, data, "places.csv", kind="project")
    stored = features_by_id(client, report)
    in_park, in_town = stored[2]["properties"], stored[3]["properties"]
    assert in_park["precision"] == "approximate" and in_park["park"] == "鹤山工业城"
    assert in_park["town"] == "共和镇"
    assert metres_between(point_of(stored[2]), tuple(park_point)) < 1
    assert in_town["precision"] == "town" and in_town["town"] == "龙口镇"
    assert metres_between(point_of(stored[3]), town_seat) < 1
    notes = {n["row"]: n["message"] for n in report["notes"]}
    assert "鹤山工业城" in notes[2] and "approximate" in notes[2]
    assert "龙口镇" in notes[3] and "town" in notes[3]


def test_a_park_known_only_to_its_town_places_no_better_than_town(client, connection, editor) -> None:
    park = connection.execute(text(
        "SELECT name FROM sites WHERE kind = 'park' AND precision = 'town' ORDER BY id LIMIT 1")).scalar_one()
    data = csv_bytes(["项目名称", "园区", "状态"], [["新材料项目", park, "已签约"]])
    report = upload_ok(client, editor, data, "p.csv", kind="project")
    assert features_by_id(client, report)[2]["properties"]["precision"] == "town"


def test_row_with_no_position_and_no_known_place_is_accepted_as_county(client, connection, editor) -> None:
    # Issue 10: no longer an error; the site's place is unknown (county, no geometry) and the report says so.
    data = csv_bytes(["项目名称", "园区", "状态"], [["无处可放", "不存在的园区", "已签约"]])
    report = upload_ok(client, editor, data, "nowhere.csv", kind="project")
    assert report["errors"] == [] and report["created"] == 1
    [note] = [note for note in report["notes"] if note["row"] == 2]
    assert "place unknown (county)" in note["message"] and "园区 '不存在的园区' is not in the gazetteer" in note["message"]
    stored = connection.execute(text("SELECT precision, geom IS NULL, park FROM sites WHERE name = '无处可放'")).one()
    assert tuple(stored) == ("county", True, "不存在的园区")
