"""POST /api/uploads as editors meet it: auth and every sample format; the helpers the other upload tests share.

test_uploads_positions (CRS, geolocation), test_uploads_validation (row errors) and test_uploads_writes
(all-or-nothing, idempotence, hostile files, the CLI) hold the rest.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from .data import make_land_reports
from pyproj import Geod
from sqlalchemy import text

from heshan_map.auth import create_user

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")
EDITOR = "upload-editor"
PROJECT_HEADER = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期"]
GOOD_ROW = ["好项目", "112.9612", "22.7703", "已签约", "V-OK", "1", "2024-01"]
# True WGS84 positions of the sample project files (tests/data/make_samples.py), by code or name.
SAMPLE_PROJECT_POSITIONS = {"鹤山工业城扩园项目": (112.96, 22.77), "沙坪街道智能制造产业园": (112.80, 22.64),
                            "址山镇新材料项目，二期": (112.65, 22.60)}
SAMPLE_PLOT_CENTRES = {"共和镇工业地块": (112.96, 22.77), "雅瑶镇物流用地": (112.80, 22.64),
                       "龙口镇茶园地块": (112.85, 22.70)}


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


def test_csv_sample_as_saved_reads_planning_as_the_planned_stage(client, connection, editor) -> None:
    # Header row 1, data row 2, a blank row 3, then rows 4 and 5: 谋划 (in planning) is the pipeline's first stage.
    report = upload_ok(client, editor, (DATA / "projects_gbk.csv").read_bytes(), "projects_gbk.csv",
                       kind="project")
    assert report["encoding"] == "gb18030" and report["created"] == 3
    stored = features_by_name(client, report)
    assert stored["址山镇新材料项目，二期"]["properties"]["stage"] == "planned"
    assert stored["址山镇新材料项目，二期"]["properties"]["stage_label"] == "谋划中"
    assert stored["鹤山工业城扩园项目"]["properties"]["stage"] == "started"


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
    # 鹤山工业城 is in production in the seed: an upload may not set it back to an earlier stage.
    report = upload_ok(client, editor, (DATA / "sites.gpkg").read_bytes(), "sites.gpkg", stage="in_production")
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
    # Issue 10: a 地块号 that identifies the plot (A-01, not a bare 1, 2, 3) is its code as it is.
    assert stored["雅瑶镇产业园地块"]["properties"]["code"] == "A-01"


def test_bad_land_report_names_its_lines(client, connection, editor) -> None:
    before = counts(connection)
    response = post_upload(client, (DATA / "land_report_bad.txt").read_bytes(), "land_report_bad.txt", editor)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert {d["row"] for d in details} >= {LAND_REPORTS.BAD_MALFORMED_POINT_LINE, LAND_REPORTS.BAD_UNCLOSED_RING_LINE}
    assert counts(connection) == before
