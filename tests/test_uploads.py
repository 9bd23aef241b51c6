"""POST /api/uploads as editors meet it: auth, every format, CRS, geolocation, errors, idempotence, hostile files."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .data import make_land_reports
from pyproj import Geod, Transformer
from sqlalchemy import text

from heshan_map import create_app
from heshan_map.auth import create_user
from heshan_map.ingest.crs import wgs84_to_bd09, wgs84_to_gcj02

from .conftest import TEST_URL

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")
CLI = str(Path(sys.executable).parent / "heshan-map")
EDITOR = "upload-editor"
PROJECT_HEADER = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期"]
# True WGS84 positions of the sample project files (tests/data/make_samples.py), by code or name.
SAMPLE_PROJECT_POSITIONS = {"鹤山工业城扩园项目": (112.96, 22.77), "沙坪街道智能制造产业园": (112.80, 22.64),
                            "址山镇新材料项目，二期": (112.65, 22.60)}
SAMPLE_PLOT_CENTRES = {"共和镇工业地块": (112.96, 22.77), "雅瑶镇物流用地": (112.80, 22.64),
                       "龙口镇茶园地块": (112.85, 22.70)}
# Known WGS84 points inside Heshan (沙坪, 鹤城, 宅梧 sides).
TRUE_POINTS = [(112.9612, 22.7703), (112.8127, 22.6418), (112.6521, 22.6107)]


# The land-report generator: its TRUE_PLOTS are the reports' true positions.
LAND_REPORTS = make_land_reports


# --- helpers ----------------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    """Return a CSV file as a spreadsheet program saves it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def geojson_bytes(*features: dict[str, Any]) -> bytes:
    """Return a GeoJSON FeatureCollection file."""
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


def feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    """Return one GeoJSON Feature."""
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def post_upload(client, data: bytes, filename: str, token: str | None = None,
                headers: dict[str, str] | None = None, **params: str):
    """POST a file to /api/uploads as multipart form data, with the bearer token when given."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/uploads", data={"file": (io.BytesIO(data), filename), **params},
                       headers=all_headers, content_type="multipart/form-data")


def upload_ok(client, token: str, data: bytes, filename: str, **params: str) -> dict[str, Any]:
    """Upload a file that must commit; return its report."""
    response = post_upload(client, data, filename, token, **params)
    report = response.get_json()
    assert response.status_code == 200, report
    assert report["errors"] == []
    return report


def upload_refused(client, token: str, data: bytes, filename: str, **params: str) -> dict[str, Any]:
    """Upload a file that must be refused with row errors; return its report."""
    response = post_upload(client, data, filename, token, **params)
    report = response.get_json()
    assert response.status_code == 422, report
    assert report["errors"], report
    assert report["upload_id"] is None
    return report


def counts(connection) -> tuple[int, int, int, int]:
    """Return how many sites, stage events, edits and uploads the database holds."""
    return connection.execute(text(
        "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM stage_events),"
        " (SELECT count(*) FROM site_edits), (SELECT count(*) FROM uploads)")).one()


def upload_record(client, token: str, report: dict[str, Any]) -> dict[str, Any]:
    """Return GET /api/uploads/<id> of an upload's report."""
    response = client.get(f"/api/uploads/{report['upload_id']}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def features_by_id(client, report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Return the stored Features of every row an upload wrote, keyed by row number."""
    stored = {}
    for site in report["sites"]:
        response = client.get(f"/api/features/{site['id']}")
        assert response.status_code == 200
        stored[site["row"]] = response.get_json()
    return stored


def features_by_name(client, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the stored Features of every row an upload wrote, keyed by name."""
    return {f["properties"]["name"]: f for f in features_by_id(client, report).values()}


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the geodesic distance in metres between two WGS84 lon/lat points."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def point_of(feature_json: dict[str, Any]) -> tuple[float, float]:
    """Return the lon/lat of a Point Feature."""
    assert feature_json["geometry"]["type"] == "Point", feature_json["geometry"]
    lon, lat = feature_json["geometry"]["coordinates"][:2]
    return lon, lat


def polygon_centre(feature_json: dict[str, Any]) -> tuple[float, float]:
    """Return the mean of a Polygon Feature's exterior vertices (without the closing one)."""
    assert feature_json["geometry"]["type"] == "Polygon", feature_json["geometry"]
    ring = feature_json["geometry"]["coordinates"][0][:-1]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def error_at(report: dict[str, Any], row: int | None, column: str | None) -> dict[str, Any]:
    """Return the one error of a report at a row and column."""
    found = [e for e in report["errors"] if e["row"] == row and e["column"] == column]
    assert len(found) == 1, report["errors"]
    return found[0]


@pytest.fixture()
def editor(session) -> str:
    """Return the API token of a new editor."""
    return create_user(session, EDITOR, "editor")


@pytest.fixture()
def viewer(session) -> str:
    """Return the API token of a new viewer."""
    return create_user(session, "upload-viewer", "viewer")


def fixed_sample_csv(name: str, encoding: str) -> bytes:
    """Return a sample project CSV with its 谋划 (in planning) row declared signed, in the file's encoding."""
    raw = (DATA / name).read_bytes()
    text_ = raw.decode(encoding)
    assert "谋划" in text_
    return text_.replace("谋划", "签约").encode(encoding)


ONE_PROJECT = csv_bytes(PROJECT_HEADER, [["鹤山测试项目", "112.9612", "22.7703", "已签约", "T-AUTH-1", "1.5", "2024-03"]])


# --- 1. auth ----------------------------------------------------------------------------------

def test_anonymous_is_401_and_viewer_is_403(client, connection, viewer) -> None:
    before = counts(connection)
    anonymous = post_upload(client, ONE_PROJECT, "p.csv", kind="project")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["code"] == "unauthorized"
    wrong = post_upload(client, ONE_PROJECT, "p.csv", token="not-a-token", kind="project")
    assert wrong.status_code == 401
    as_viewer = post_upload(client, ONE_PROJECT, "p.csv", token=viewer, kind="project")
    assert as_viewer.status_code == 403
    assert as_viewer.get_json()["error"]["code"] == "forbidden"
    assert counts(connection) == before


def test_editor_token_commits(client, connection, editor) -> None:
    before = counts(connection)
    report = upload_ok(client, editor, ONE_PROJECT, "p.csv", kind="project")
    assert report["created"] == 1 and report["upload_id"]
    assert counts(connection)[0] == before[0] + 1
    assert counts(connection)[3] == before[3] + 1


def csrf_of_upload_page(client) -> str:
    """Return the CSRF token the upload page gives a logged-in editor."""
    page = client.get("/upload")
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.get_data(as_text=True))
    assert match
    return match.group(1)


def post_login(client, name: str, token: str):
    """Log in through the login form, with the CSRF token the form carries."""
    form = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    return client.post("/login", data={"name": name, "token": token, "csrf_token": match.group(1)})


def test_login_form_needs_its_csrf_token(client, editor) -> None:
    refused = client.post("/login", data={"name": EDITOR, "token": editor})
    assert refused.status_code == 403
    assert client.get("/upload").status_code == 302  # still not logged in


def test_web_session_needs_the_csrf_header(client, connection, editor) -> None:
    assert client.get("/upload").status_code == 302  # not logged in: to the login page
    assert post_login(client, EDITOR, "wrong").status_code == 401
    login = post_login(client, EDITOR, editor)
    assert login.status_code == 302 and login.headers["Location"].endswith("/upload")
    csrf = csrf_of_upload_page(client)
    before = counts(connection)
    without = post_upload(client, ONE_PROJECT, "p.csv", kind="project")
    assert without.status_code == 403
    assert without.get_json()["error"]["code"] == "csrf_failed"
    wrong = post_upload(client, ONE_PROJECT, "p.csv", headers={"X-CSRF-Token": csrf + "x"}, kind="project")
    assert wrong.status_code == 403
    not_ascii = post_upload(client, ONE_PROJECT, "p.csv", headers={"X-CSRF-Token": "é"}, kind="project")
    assert not_ascii.status_code == 403 and not_ascii.get_json()["error"]["code"] == "csrf_failed"
    assert counts(connection) == before
    with_token = post_upload(client, ONE_PROJECT, "p.csv", headers={"X-CSRF-Token": csrf}, kind="project")
    assert with_token.status_code == 200, with_token.get_json()
    assert with_token.get_json()["created"] == 1
    record = client.get(f"/api/uploads/{with_token.get_json()['upload_id']}").get_json()
    assert record["user_name"] == EDITOR


def test_viewer_session_cannot_open_the_upload_page(client, viewer) -> None:
    assert post_login(client, "upload-viewer", viewer).status_code == 302
    assert client.get("/upload").status_code == 403


# --- 2. every sample format -------------------------------------------------------------------

@pytest.mark.parametrize("name,encoding,expected_encoding", [
    ("projects_utf8.csv", "utf-8", "utf-8"),
    ("projects_utf8_bom.csv", "utf-8-sig", "utf-8-sig"),
    ("projects_gbk.csv", "gb18030", "gb18030"),
])
def test_csv_samples_commit_in_every_encoding(client, connection, editor, name: str, encoding: str,
                                              expected_encoding: str) -> None:
    report = upload_ok(client, editor, fixed_sample_csv(name, encoding), name, kind="project")
    assert report["encoding"] == expected_encoding
    assert report["created"] == 3
    stored = features_by_name(client, report)
    assert set(stored) == set(SAMPLE_PROJECT_POSITIONS)
    for site_name, truth in SAMPLE_PROJECT_POSITIONS.items():
        assert metres_between(point_of(stored[site_name]), truth) < 0.1
    first = stored["鹤山工业城扩园项目"]["properties"]
    assert first["stage"] == "started" and first["investment_cny_100m"] == 12.5
    assert first["signed_on"] == "2023-05-18" and first["code"] == "2303-440784-04-01-100001"
    assert first["precision"] == "point"


def test_csv_sample_as_saved_names_the_unknown_stage_at_its_spreadsheet_row(client, connection, editor) -> None:
    before = counts(connection)
    report = upload_refused(client, editor, (DATA / "projects_gbk.csv").read_bytes(), "projects_gbk.csv",
                            kind="project")
    # Header row 1, data row 2, a blank row 3, then rows 4 and 5: 谋划 (in planning) is no stage of the map.
    assert "谋划" in error_at(report, 5, "状态")["message"]
    assert counts(connection) == before


def test_xlsx_sample_commits_typed_cells(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "projects.xlsx").read_bytes(), "projects.xlsx", kind="project")
    assert report["format"] == "xlsx" and report["created"] == 2
    stored = features_by_name(client, report)
    for site_name in ("鹤山工业城扩园项目", "沙坪街道智能制造产业园"):
        assert metres_between(point_of(stored[site_name]), SAMPLE_PROJECT_POSITIONS[site_name]) < 0.1
    assert stored["沙坪街道智能制造产业园"]["properties"]["signed_on"] == "2023-11-02"
    assert [row["_row"] for row in report_raw_rows(client, report)] == [2, 4]


def report_raw_rows(client, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the raw rows an upload record keeps (from the uploads table via the test connection)."""
    app = client.application
    with app.app_context():
        from heshan_map.db import get_session

        return get_session().execute(text("SELECT raw_rows FROM uploads WHERE id = :id"),
                                     {"id": report["upload_id"]}).scalar_one()


def test_kml_sample_commits_points_and_polygons(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "green_sites.kml").read_bytes(), "green_sites.kml",
                       kind="green_site")
    assert report["created"] == 2
    stored = features_by_name(client, report)
    assert metres_between(point_of(stored["古劳水乡绿美示范点"]), (112.96, 22.77)) < 0.1
    assert stored["古劳水乡绿美示范点"]["properties"]["stage"] == "started"
    polygon = stored["大雁山林分优化"]
    assert polygon["properties"]["stage"] == "in_production"
    assert metres_between(polygon_centre(polygon), (112.805, 22.645)) < 1


def test_geojson_sample_commits_plots(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "plots.geojson").read_bytes(), "plots.geojson",
                       kind="land_plot", stage="signed")
    assert report["created"] == 3
    stored = features_by_name(client, report)
    for site_name, centre in SAMPLE_PLOT_CENTRES.items():
        assert metres_between(polygon_centre(stored[site_name]), centre) < 1
        assert stored[site_name]["properties"]["precision"] == "surveyed"
    assert stored["雅瑶镇物流用地"]["properties"]["area_ha"] == 3.25
    assert stored["雅瑶镇物流用地"]["properties"]["code"] == "HS2024-02"


def test_shapefile_in_epsg_4547_is_reprojected_from_its_prj(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "plots_4547_shp.zip").read_bytes(), "plots_4547_shp.zip",
                       kind="land_plot", stage="signed")
    assert report["crs"] == "EPSG:4547"
    stored = features_by_name(client, report)
    assert set(stored) == set(SAMPLE_PLOT_CENTRES)
    for site_name, centre in SAMPLE_PLOT_CENTRES.items():
        assert metres_between(polygon_centre(stored[site_name]), centre) < 1
        ring = stored[site_name]["geometry"]["coordinates"][0]
        corner = (centre[0] - 0.004, centre[1] - 0.004)
        assert min(metres_between(tuple(p), corner) for p in ring) < 1
    record = upload_record(client, editor, report)
    assert record["crs_given"] is None and record["crs_used"] == "EPSG:4547"


def test_gbk_shapefile_without_cpg_keeps_chinese_names(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "plots_gbk_nocpg_shp.zip").read_bytes(), "plots_gbk_nocpg_shp.zip",
                       kind="land_plot", stage="signed")
    assert report["encoding"] == "gb18030"
    listed = client.get("/api/features?kind=land_plot&q=HS2024&limit=100").get_json()
    names = {f["properties"]["name"] for f in listed["features"]}
    assert set(SAMPLE_PLOT_CENTRES) <= names
    stored = features_by_name(client, report)
    assert stored["龙口镇茶园地块"]["properties"]["attributes"]["用途"] == "农用地"
    for site_name, centre in SAMPLE_PLOT_CENTRES.items():
        assert metres_between(polygon_centre(stored[site_name]), centre) < 1


def test_geopackage_sample_commits_its_first_layer(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "sites.gpkg").read_bytes(), "sites.gpkg", stage="started")
    assert report["format"] == "gpkg" and report["rows"] == 2
    stored = features_by_name(client, report)
    assert metres_between(point_of(stored["鹤山工业城"]), (112.96, 22.77)) < 0.1
    assert metres_between(point_of(stored["鹤山市址山镇产业园"]), (112.65, 22.60)) < 0.1
    assert all(f["properties"]["kind"] == "park" for f in stored.values())
    assert any("plots" in warning for warning in report["warnings"])


def assert_plot_matches_truth(stored: dict[str, Any], rings: list[list[tuple[float, float]]]) -> None:
    """Check a stored polygon has the true rings (holes kept), every vertex within 1 m."""
    assert stored["geometry"]["type"] == "Polygon"
    stored_rings = stored["geometry"]["coordinates"]
    assert len(stored_rings) == len(rings)
    for stored_ring, true_ring in zip(stored_rings, rings):
        assert len(stored_ring) == len(true_ring) + 1  # closed
        for true_vertex in true_ring:
            assert min(metres_between(tuple(p), true_vertex) for p in stored_ring) < 1.0


def test_land_report_gbk_commits_polygons_with_their_hole(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "land_report_gbk.txt").read_bytes(), "land_report_gbk.txt")
    assert report["format"] == "land_report" and report["created"] == 2
    stored = features_by_name(client, report)
    assert set(stored) == {"沙坪街道工业地块", "共和镇留用地"}
    assert_plot_matches_truth(stored["沙坪街道工业地块"], LAND_REPORTS.TRUE_PLOTS["gbk-1"]["rings"])
    assert_plot_matches_truth(stored["共和镇留用地"], LAND_REPORTS.TRUE_PLOTS["gbk-2"]["rings"])
    props = stored["沙坪街道工业地块"]["properties"]
    assert props["kind"] == "land_plot" and props["precision"] == "surveyed"
    assert props["area_ha"] == pytest.approx(9.5842)


def test_land_report_without_zone_prefix_commits(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "land_report_utf8_noprefix.txt").read_bytes(),
                       "land_report_utf8_noprefix.txt")
    stored = features_by_name(client, report)
    assert_plot_matches_truth(stored["雅瑶镇产业园地块"], LAND_REPORTS.TRUE_PLOTS["utf8-1"]["rings"])
    assert stored["雅瑶镇产业园地块"]["properties"]["code"] == "land_report_utf8_noprefix.txt#A-01"  # file name + plot number


def test_bad_land_report_names_its_lines(client, connection, editor) -> None:
    before = counts(connection)
    response = post_upload(client, (DATA / "land_report_bad.txt").read_bytes(), "land_report_bad.txt", editor)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert {d["row"] for d in details} >= {LAND_REPORTS.BAD_MALFORMED_POINT_LINE, LAND_REPORTS.BAD_UNCLOSED_RING_LINE}
    assert counts(connection) == before


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
    assert connection.execute(text(
        "SELECT precision FROM sites WHERE kind = 'park' AND name = '中欧新材料创新基地'")).scalar_one() == "town"
    data = csv_bytes(["项目名称", "园区", "状态"], [["新材料项目", "中欧新材料创新基地", "已签约"]])
    report = upload_ok(client, editor, data, "p.csv", kind="project")
    assert features_by_id(client, report)[2]["properties"]["precision"] == "town"


def test_row_with_no_position_and_no_place_is_an_error(client, connection, editor) -> None:
    before = counts(connection)
    data = csv_bytes(["项目名称", "园区", "状态"], [["无处可放", "不存在的园区", "已签约"]])
    report = upload_refused(client, editor, data, "nowhere.csv", kind="project")
    assert report["errors"][0]["row"] == 2
    assert counts(connection) == before


# --- 5. validation: 422, row as the spreadsheet counts it, the column, nothing written -------------

GOOD_ROW = ["好项目", "112.9612", "22.7703", "已签约", "V-OK", "1", "2024-01"]


def refused_csv(client, connection, editor, bad_row: list[str], extra_rows: list[list[str]] | None = None,
                header: list[str] = PROJECT_HEADER) -> dict[str, Any]:
    """Upload a good row, then a bad one (spreadsheet row 3); check nothing was written; return the report."""
    before = counts(connection)
    report = upload_refused(client, editor, csv_bytes(header, [GOOD_ROW, bad_row, *(extra_rows or [])]),
                            "bad.csv", kind="project")
    assert counts(connection) == before
    return report


def test_missing_name(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["", "112.9", "22.7", "已签约", "V-1", "", ""])
    assert "name" in error_at(report, 3, "项目名称")["message"]


def test_unknown_stage(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "快好了", "V-1", "", ""])
    assert "快好了" in error_at(report, 3, "状态")["message"]


@pytest.mark.parametrize("value", ["十二亿", "NaN", "inf", "-Infinity", "1.2.3"])
def test_unparseable_or_non_finite_investment(client, connection, editor, value: str) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "已签约", "V-1", value, ""])
    assert value in error_at(report, 3, "投资额(亿元)")["message"]


def test_latitude_out_of_range(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "95", "已签约", "V-1", "", ""])
    assert "95" in error_at(report, 3, "纬度")["message"]


def test_point_outside_heshan(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["广州项目", "113.2644", "23.1291", "已签约", "V-1", "", ""])
    error = [e for e in report["errors"] if e["row"] == 3]
    assert len(error) == 1 and "outside Heshan" in error[0]["message"]
    assert error[0]["column"] == "经度, 纬度"


def test_several_errors_are_all_reported(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["", "112.9", "22.7", "快好了", "V-1", "abc", ""],
                         extra_rows=[["项目", "112.9", "95", "已签约", "V-2", "", ""]])
    assert {(e["row"], e["column"]) for e in report["errors"]} == {
        (3, "项目名称"), (3, "状态"), (3, "投资额(亿元)"), (4, "纬度")}


def test_duplicate_codes_within_the_file(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目二", "112.9", "22.7", "已签约", "V-OK", "", ""])
    assert "row 2" in error_at(report, 3, "项目代码")["message"]


def test_same_name_twice_without_codes(client, connection, editor) -> None:
    """Rows without a code are found again by kind and name; two of them would flip one site back and forth."""
    report = refused_csv(client, connection, editor, ["好项目", "112.80", "22.64", "已签约", "", "", ""],
                         extra_rows=[["好项目", "112.85", "22.70", "已签约", "", "", ""]])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "项目名称")]
    assert "row 3" in report["errors"][0]["message"]


def test_date_for_a_stage_not_reached(client, connection, editor) -> None:
    header = PROJECT_HEADER + ["投产日期"]
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "已签约", "V-1", "", "", "2024-06"],
                         header=header)
    assert "in_production" in error_at(report, 3, "投产日期")["message"]


BOWTIE = {"type": "Polygon", "coordinates": [[[112.95, 22.76], [112.97, 22.78], [112.97, 22.76],
                                               [112.95, 22.78], [112.95, 22.76]]]}


def test_self_intersecting_polygon_is_refused_with_the_geos_reason(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "好地块", "编号": "G-1"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}),
                         feature({"名称": "蝴蝶地块", "编号": "G-2"}, BOWTIE))
    before = counts(connection)
    report = upload_refused(client, editor, data, "bowtie.geojson", kind="land_plot", stage="signed")
    assert "Self-intersection" in error_at(report, 2, "geometry")["message"]  # GIS features count from 1
    assert counts(connection) == before


def test_self_intersecting_polygon_is_repaired_when_asked(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "蝴蝶地块", "编号": "G-2"}, BOWTIE))
    report = upload_ok(client, editor, data, "bowtie.geojson", kind="land_plot", stage="signed", repair="true")
    assert report["created"] == 1
    notes = [n for n in report["notes"] if "repaired" in n["message"]]
    assert len(notes) == 1 and notes[0]["row"] == 1
    message = notes[0]["message"]
    assert "Self-intersection" in message and "MultiPolygon of 2 parts" in message
    before_ha, after_ha = (float(v) for v in re.findall(r"([\d.]+) ha", message))
    # Two triangles, each 0.01° of longitude by 0.02° of latitude (about 1.03 km by 2.21 km) / 2: 227 ha in all.
    assert after_ha == pytest.approx(227, rel=0.01) and before_ha < after_ha
    stored = features_by_name(client, report)["蝴蝶地块"]
    assert stored["geometry"]["type"] == "MultiPolygon"
    assert connection.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM sites WHERE code = 'G-2'")).scalar()


def test_linestring_is_no_project(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "道路项目", "编号": "L-1", "状态": "已签约"},
                                 {"type": "LineString", "coordinates": [[112.95, 22.76], [112.96, 22.77]]}))
    before = counts(connection)
    report = upload_refused(client, editor, data, "road.geojson", kind="project")
    assert "LineString" in error_at(report, 1, "geometry")["message"]
    assert counts(connection) == before


def test_feature_rows_count_as_gis_attribute_tables_do(client, connection, editor) -> None:
    """GeoJSON features have no header row: they are numbered as a GIS attribute table shows them, from 1."""
    data = geojson_bytes(feature({"名称": "好", "编号": "F-1", "状态": "已签约"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}),
                         feature({"名称": "", "编号": "F-2", "状态": "已签约"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}))
    report = upload_refused(client, editor, data, "rows.geojson", kind="project")
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "名称")]


# --- 6. all-or-nothing and idempotence -------------------------------------------------------------

def test_dry_run_previews_and_writes_nothing(client, connection, editor) -> None:
    before = counts(connection)
    response = post_upload(client, fixed_sample_csv("projects_utf8.csv", "utf-8"), "p.csv", editor,
                           kind="project", dry_run="true")
    report = response.get_json()
    assert response.status_code == 200, report
    assert report["dry_run"] is True and report["upload_id"] is None
    assert report["created"] == 3  # what a commit would do
    assert len(report["preview"]["features"]) == 3
    assert {f["properties"]["name"] for f in report["preview"]["features"]} == set(SAMPLE_PROJECT_POSITIONS)
    assert counts(connection) == before


def test_one_bad_row_writes_nothing_of_the_good_ones(client, connection, editor) -> None:
    before = counts(connection)
    rows = [["项目甲", "112.96", "22.77", "已签约", "A-1", "", ""],
            ["项目乙", "112.80", "22.64", "已签约", "A-2", "", ""],
            ["项目丙", "113.5", "23.5", "已签约", "A-3", "", ""]]
    report = upload_refused(client, editor, csv_bytes(PROJECT_HEADER, rows), "p.csv", kind="project")
    assert [e["row"] for e in report["errors"]] == [4]
    assert report["created"] == 0
    assert counts(connection) == before


def test_the_same_file_twice_changes_nothing(client, connection, editor) -> None:
    data = fixed_sample_csv("projects_gbk.csv", "gb18030")
    first = upload_ok(client, editor, data, "p.csv", kind="project")
    assert first["created"] == 3
    after_first = counts(connection)
    second = upload_ok(client, editor, data, "p.csv", kind="project")
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    sites, events, edits, uploads = counts(connection)
    assert (sites, events, edits) == after_first[:3]
    assert uploads == after_first[3] + 1


@pytest.mark.parametrize("name,params,rows", [
    ("projects.xlsx", {"kind": "project"}, 2), ("green_sites.kml", {"kind": "green_site"}, 2),
    ("plots.geojson", {"kind": "land_plot", "stage": "signed"}, 3),
    ("plots_4547_shp.zip", {"kind": "land_plot", "stage": "signed"}, 3),
    ("plots_gbk_nocpg_shp.zip", {"kind": "land_plot", "stage": "signed"}, 3),
    ("sites.gpkg", {"stage": "started"}, 2), ("land_report_gbk.txt", {}, 2),
    ("land_report_utf8_noprefix.txt", {}, 1),
])
def test_every_format_uploaded_twice_changes_nothing(client, connection, editor, name: str,
                                                     params: dict[str, str], rows: int) -> None:
    data = (DATA / name).read_bytes()
    first = upload_ok(client, editor, data, name, **params)
    assert first["created"] + first["updated"] == rows
    after_first = counts(connection)
    second = upload_ok(client, editor, data, name, **params)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, rows)
    assert counts(connection)[:3] == after_first[:3]


def history_of(client, site_id: int) -> list[dict[str, Any]]:
    """Return a site's history entries."""
    response = client.get(f"/api/features/{site_id}/history")
    assert response.status_code == 200
    return response.get_json()["history"]


def test_updated_sheet_moves_the_stage_with_its_date(client, editor) -> None:
    header = PROJECT_HEADER + ["动工日期"]
    first_rows = [["项目甲", "112.96", "22.77", "已签约", "U-1", "2", "2024-01-15", ""],
                  ["项目乙", "112.80", "22.64", "已签约", "U-2", "3", "2024-02", ""]]
    first = upload_ok(client, editor, csv_bytes(header, first_rows), "sheet.csv", kind="project")
    assert first["created"] == 2
    moved = [first_rows[0][:3] + ["已动工"] + first_rows[0][4:7] + ["2024-09-01"], first_rows[1]]
    second = upload_ok(client, editor, csv_bytes(header, moved), "sheet.csv", kind="project")
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
    site_id = next(s["id"] for s in second["sites"] if s["row"] == 2)
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    assert props["stage"] == "started" and props["started_on"] == "2024-09-01" and props["signed_on"] == "2024-01-15"
    started = [e for e in history_of(client, site_id) if e["type"] == "stage" and e["stage"] == "started"]
    assert len(started) == 1
    assert started[0]["reached_on"] == "2024-09-01"
    assert started[0]["by"] == EDITOR and started[0]["upload_id"] == second["upload_id"]


def test_stage_change_without_a_date_gets_today(client, editor) -> None:
    row = ["项目丁", "112.96", "22.77", "已签约", "U-9", "", "2023"]
    first = upload_ok(client, editor, csv_bytes(PROJECT_HEADER, [row]), "s.csv", kind="project")
    site_id = first["sites"][0]["id"]
    second = upload_ok(client, editor, csv_bytes(PROJECT_HEADER, [row[:3] + ["已投产"] + row[4:]]), "s.csv",
                       kind="project")
    assert second["updated"] == 1
    events = [e for e in history_of(client, site_id) if e["type"] == "stage"]
    assert [(e["stage"], e["reached_on"]) for e in events] == [
        ("signed", "2023"), ("in_production", dt.date.today().isoformat())]
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    assert props["in_production_on"] == dt.date.today().isoformat() and props["started_on"] is None


# --- 7. hostile files ---------------------------------------------------------------------------

def assert_json_error(response, status: int) -> dict[str, Any]:
    """Check a response is a JSON error of the contract's shape with that status; return its error."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_size_limit_is_a_413_json_error(connection, editor) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "DB_CONNECTION": connection,
                      "SECRET_KEY": "test", "MAX_CONTENT_LENGTH": 1000})
    client = app.test_client()
    before = counts(connection)
    big = csv_bytes(PROJECT_HEADER, [GOOD_ROW[:4] + [f"BIG-{i}"] + GOOD_ROW[5:] for i in range(60)])
    assert len(big) > 1000
    assert_json_error(post_upload(client, big, "big.csv", editor, kind="project"), 413)
    assert counts(connection) == before
    small = post_upload(client, ONE_PROJECT, "p.csv", editor, kind="project")
    assert small.status_code == 200, small.get_json()


@pytest.mark.parametrize("name,status", [
    ("zip_bomb.zip", 413), ("traversal.zip", 400), ("symlink.zip", 400), ("xxe.kml", 400),
    ("xxe.xlsx", 400), ("vrt_as.geojson", 415), ("not_really.xlsx", 415),
])
def test_hostile_files_are_refused(client, connection, editor, name: str, status: int) -> None:
    before = counts(connection)
    error = assert_json_error(post_upload(client, (DATA / name).read_bytes(), name, editor, kind="project",
                                          stage="signed"), status)
    assert "root:" not in json.dumps(error)
    assert counts(connection) == before


def test_unsupported_extension_and_missing_file(client, connection, editor) -> None:
    assert_json_error(post_upload(client, b"MZ\x90\x00", "tool.exe", editor), 415)
    response = client.post("/api/uploads", data={"kind": "project"}, headers={"Authorization": f"Bearer {editor}"},
                           content_type="multipart/form-data")
    assert "file" in assert_json_error(response, 400)["message"]


# --- 8. CLI ---------------------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run heshan-map as a user runs it, on the test database."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": TEST_URL})


def committed_site_count(engine) -> int:
    """Return the committed number of sites."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sites")).scalar_one()


def test_cli_dry_run_prints_the_counts(engine, tmp_path: Path) -> None:
    path = tmp_path / "projects_gbk.csv"
    path.write_bytes(fixed_sample_csv("projects_gbk.csv", "gb18030"))
    before = committed_site_count(engine)
    result = run_cli("import", str(path), "--kind", "project", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "created 3, updated 0, unchanged 0" in result.stdout
    assert "dry run" in result.stdout
    assert committed_site_count(engine) == before


def test_cli_bad_file_lists_every_error_without_a_traceback(engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(PROJECT_HEADER, [GOOD_ROW, ["", "112.9", "22.7", "快好了", "C-1", "NaN", ""]]))
    before = committed_site_count(engine)
    result = run_cli("import", str(path), "--kind", "project")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "row 3 [项目名称]" in result.stderr
    assert "row 3 [状态]" in result.stderr
    assert "row 3 [投资额(亿元)]" in result.stderr
    assert committed_site_count(engine) == before
    sample = run_cli("import", str(DATA / "projects_gbk.csv"), "--kind", "project", "--dry-run")
    assert sample.returncode == 1 and "row 5 [状态]" in sample.stderr and "Traceback" not in sample.stderr


def test_cli_hostile_file_is_one_sentence(engine) -> None:
    result = run_cli("import", str(DATA / "traversal.zip"), "--kind", "land_plot")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "refused" in result.stderr
