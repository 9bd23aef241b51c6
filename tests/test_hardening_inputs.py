"""Hostile or out-of-range values through the REST API and uploads: a 4xx naming the field or cap, nothing written."""
from __future__ import annotations

import io
import json
import math
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from heshan_map.auth import create_user

from .test_uploads import counts, csv_bytes, feature, geojson_bytes, post_upload

POINT = {"type": "Point", "coordinates": [112.96, 22.77]}
HEADER = ["名称", "经度", "纬度", "阶段", "代码", "投资额(亿元)", "面积(公顷)", "描述"]


@pytest.fixture()
def token(session) -> str:
    return create_user(session, "hardening-editor", "editor")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def project(**extra: Any) -> dict[str, Any]:
    """Return the properties of a good new project, with some replaced."""
    return {"kind": "project", "name": "加固测试项目", "stage": "signed", "code": "HARD-1", **extra}


def post_feature(client, token: str, properties: dict[str, Any], geometry: Any = POINT):
    """POST a Feature as an editor."""
    return client.post("/api/features", headers=bearer(token),
                       json={"type": "Feature", "properties": properties, "geometry": geometry})


def error_text(response) -> str:
    """Return an error response's message."""
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)[:300]
    return body["error"]["message"]


def assert_refused(response, statuses: tuple[int, ...], *words: str) -> None:
    """Check a refusal's status and that its message names every word."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:500])
    text = error_text(response)
    for word in words:
        assert word in text, (word, text[:500])


def refused_everywhere(client, connection, token: str, properties: dict[str, Any], *words: str,
                       geometry: Any = POINT, statuses: tuple[int, ...] = (422,)) -> None:
    """POST the properties as a new site and PATCH them onto a seeded one: both refused, nothing written."""
    before = counts(connection)
    assert_refused(post_feature(client, token, properties, geometry), statuses, *words)
    seeded = client.get("/api/features?kind=project&limit=1").get_json()["features"][0]
    read = client.get(f"/api/features/{seeded['id']}")
    patch = {"properties": {k: v for k, v in properties.items() if k not in ("kind", "stage")}}
    if geometry is not POINT:
        patch["geometry"] = geometry
    patched = client.patch(f"/api/features/{seeded['id']}", json=patch,
                           headers={**bearer(token), "If-Match": read.headers["ETag"]})
    assert_refused(patched, statuses, *words)
    assert counts(connection) == before
    assert client.get(f"/api/features/{seeded['id']}").get_json() == read.get_json()


def upload_refused(client, connection, token: str, data: bytes, filename: str, *words: str) -> list[dict]:
    """Upload a file that must be refused with row errors naming every word; return the errors."""
    before = counts(connection)
    response = post_upload(client, data, filename, token, kind="project")
    report = response.get_json()
    assert response.status_code == 422, report
    text = json.dumps(report["errors"], ensure_ascii=False)
    for word in words:
        assert word in text, (word, text[:500])
    assert counts(connection) == before
    return report["errors"]


def csv_row(**cells: str) -> bytes:
    """Return a one-row project CSV with some cells replaced."""
    row = {"名称": "加固上传项目", "经度": "112.9612", "纬度": "22.7703", "阶段": "已签约", "代码": "HARD-U1",
           "投资额(亿元)": "1", "面积(公顷)": "2", "描述": "", **cells}
    header = list(row)
    return csv_bytes(header, [[row[h] for h in header]])


# --- 1. numeric ranges -------------------------------------------------------------------------

def test_numbers_beyond_their_range_are_422_naming_the_field(client, connection, token) -> None:
    refused_everywhere(client, connection, token, project(investment_cny_100m=1e11), "investment_cny_100m", "100000")
    refused_everywhere(client, connection, token, project(area_ha=1e12), "area_ha", "200000")
    upload_refused(client, connection, token, csv_row(**{"投资额(亿元)": "1e11"}), "big.csv", "投资额(亿元)", "100000")
    upload_refused(client, connection, token, csv_row(**{"面积(公顷)": "1000000000000"}), "big.csv", "面积(公顷)")


# --- 2. NUL and lone surrogates ------------------------------------------------------------------

@pytest.mark.parametrize("control", ["\x1b", "\x0b", "\x08"])
def test_control_characters_in_text_are_422(client, connection, token, control: str) -> None:
    refused_everywhere(client, connection, token, project(description=f"a{control}b"), "description",
                       f"U+{ord(control):04X}")
    refused_everywhere(client, connection, token, project(name=f"a{control}b"), "name", f"U+{ord(control):04X}")


def test_tabs_and_line_breaks_stay_text(client, token) -> None:
    response = post_feature(client, token, project(description="第一行\n第二行\t制表\r\n"))
    assert response.status_code == 201, response.get_json()


def test_control_characters_stored_earlier_still_export(client, connection) -> None:
    connection.execute(text("UPDATE sites SET description = 'x\x1by\x0bz' WHERE id = "
                            "(SELECT min(id) FROM sites WHERE kind = 'project')"))
    response = client.get("/api/export.xlsx?kind=project")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "x\ufffdy\ufffdz" in cells
    response = client.get("/api/export.kml?kind=project")
    assert response.status_code == 200
    kml = ET.fromstring(response.data)
    descriptions = [element.text for element in kml.iter("{http://www.opengis.net/kml/2.2}description")]
    assert "x\ufffdy\ufffdz" in descriptions


def test_nul_in_any_text_field_is_422(client, connection, token) -> None:
    refused_everywhere(client, connection, token, project(name="a\x00b"), "name", "NUL")
    refused_everywhere(client, connection, token, project(description="a\x00b"), "description", "NUL")
    # A NUL in the first 8 KB makes the file binary; later ones reach the rows.
    padding = ["好项目", "112.9612", "22.7703", "已签约", "长" * 3_000, ""]
    header = ["名称", "经度", "纬度", "阶段", "描述", "负责人"]
    for cells, column in ((["a\x00b", "112.9", "22.7", "已签约", "", ""], "名称"),
                          (["好二", "112.9", "22.7", "已签约", "d\x00", ""], "描述"),
                          (["好三", "112.9", "22.7", "已签约", "", "x\x00y"], "负责人")):
        errors = upload_refused(client, connection, token, csv_bytes(header, [padding, cells]), "nul.csv", "NUL")
        assert [error["column"] for error in errors] == [column], errors


def test_lone_surrogates_are_422(client, connection, token) -> None:
    before = counts(connection)
    raw = '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.96, 22.77]}, ' \
          '"properties": {"kind": "project", "stage": "signed", "name": "x\\ud800y"}}'
    response = client.post("/api/features", data=raw, content_type="application/json", headers=bearer(token))
    assert_refused(response, (422,), "name", "surrogate")
    unknown_key = raw.replace('"name": "x\\ud800y"', '"name": "好", "k\\udc00": 1')
    response = client.post("/api/features", data=unknown_key, content_type="application/json", headers=bearer(token))
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert counts(connection) == before


# --- 3. geometry types ------------------------------------------------------------------------------

def test_unknown_geometry_type_is_422_naming_the_allowed_types(client, connection, token) -> None:
    refused_everywhere(client, connection, token, project(), "Circle", "Polygon", "MultiLineString",
                       geometry={"type": "Circle", "coordinates": [112.96, 22.77], "radius": 5})


# --- 4. JSON depth and types ---------------------------------------------------------------------

def test_deeply_nested_json_is_refused_naming_the_cap(client, connection, token) -> None:
    before = counts(connection)
    deep = '{"properties": {"name": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = client.post("/api/features", data=deep, content_type="application/json", headers=bearer(token))
    assert_refused(response, (400, 413), "MAX_JSON_DEPTH", "32")
    seeded = client.get("/api/features?kind=project&limit=1").get_json()["features"][0]
    etag = client.get(f"/api/features/{seeded['id']}").headers["ETag"]
    response = client.patch(f"/api/features/{seeded['id']}", data=deep, content_type="application/json",
                            headers={**bearer(token), "If-Match": etag})
    assert_refused(response, (400, 413), "MAX_JSON_DEPTH")
    assert counts(connection) == before


def test_deep_json_hidden_in_utf16_is_refused_not_a_500(client, connection, token) -> None:
    # U+2241 is the bytes 41 22 in UTF-16-LE: a byte scan would see a quote and miss the brackets after it.
    before = counts(connection)
    deep = '{"properties": {"name": "\u2241' + "[" * 100_000 + "]" * 100_000 + '"}}'
    hidden = '{"properties": {"name": "\u2241", "x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    for body in (deep.encode("utf-16-le"), hidden.encode("utf-16-le"), hidden.encode("utf-32")):
        response = client.post("/api/features", data=body, content_type="application/json", headers=bearer(token))
        assert response.status_code in (400, 413), response.status_code
        assert response.get_json()["error"]["message"]
    assert counts(connection) == before


def test_json_depth_is_linear_on_escaped_quotes(client, token) -> None:
    body = ('{"properties": {"name": "' + '\\"' * 200_000 + ', "x": ' + "[" * 40 + "]" * 40).encode()
    started = time.monotonic()
    response = client.post("/api/features", data=body, content_type="application/json", headers=bearer(token))
    assert time.monotonic() - started < 2
    assert response.status_code in (400, 413, 422), response.status_code


@pytest.mark.parametrize("properties, field", [
    (project(name={"a": 1}), "name"),
    (project(description=["x"]), "description"),
    (project(code=12), "code"),
    (project(name_en=["x"]), "name_en"),
    (project(investment_cny_100m="12"), "investment_cny_100m"),
    (project(signed_on=2024), "signed_on"),
])
def test_wrong_json_types_are_422_naming_the_field(client, connection, token, properties, field) -> None:
    refused_everywhere(client, connection, token, properties, field)


# --- 5. lengths and vertices -------------------------------------------------------------------------

@pytest.mark.parametrize("field, cap, value", [
    ("name", "MAX_NAME_CHARS", 301), ("name_en", "MAX_NAME_CHARS", 301), ("code", "MAX_CODE_CHARS", 101),
    ("description", "MAX_TEXT_CHARS", 10_001), ("source", "MAX_TEXT_CHARS", 10_001),
    ("industry", "MAX_TEXT_CHARS", 10_001),
])
def test_too_long_text_is_refused_naming_the_cap(client, connection, token, field, cap, value) -> None:
    refused_everywhere(client, connection, token, project(**{field: "长" * value}), field, cap,
                       str(value - 1), statuses=(413, 422))


def test_ten_megabyte_name_and_long_upload_cells_are_refused(client, connection, token) -> None:
    refused_everywhere(client, connection, token, project(name="x" * 10_000_000), "MAX_NAME_CHARS", "300",
                       statuses=(413, 422))
    upload_refused(client, connection, token, csv_row(描述="长" * 10_001), "long.csv", "描述", "MAX_TEXT_CHARS", "10000")
    upload_refused(client, connection, token, csv_row(名称="长" * 301), "long.csv", "名称", "MAX_NAME_CHARS")
    with_attribute = csv_bytes(["名称", "经度", "纬度", "阶段", "负责人"],
                               [["加固上传项目", "112.9612", "22.7703", "已签约", "x" * 2_001]])
    upload_refused(client, connection, token, with_attribute, "long.csv", "负责人", "MAX_ATTRIBUTE_CHARS", "2000")


def ring(vertices: int) -> list[list[float]]:
    """Return a closed valid ring of that many vertices around a point inside Heshan."""
    points = [[112.96 + 0.01 * math.cos(2 * math.pi * i / (vertices - 1)),
               22.77 + 0.01 * math.sin(2 * math.pi * i / (vertices - 1))] for i in range(vertices - 1)]
    return points + [points[0]]


def test_too_many_vertices_are_refused_naming_the_cap(client, connection, token) -> None:
    polygon = {"type": "Polygon", "coordinates": [ring(100_001)]}
    refused_everywhere(client, connection, token, project(), "MAX_GEOMETRY_VERTICES", "100000",
                       geometry=polygon, statuses=(413, 422))
    data = geojson_bytes(feature({"名称": "加固上传地块", "阶段": "已签约"}, polygon))
    upload_refused(client, connection, token, data, "big.geojson", "MAX_GEOMETRY_VERTICES", "100000")


# --- 6. formula-neutralised exports round trip ---------------------------------------------------------

FORMULA_SITES = [("=1+1 项目", "=HYPERLINK(\"x\")"), ("-负号项目", "-2"), ("+加号项目", "+86 电话"), ("@at项目", "@SUM(1)")]


def test_exports_with_formula_like_text_upload_again_unchanged(client, token) -> None:
    for number, (name, description) in enumerate(FORMULA_SITES):
        created = post_feature(client, token, project(name=name, description=description, code=f"FORMULA-{number}"))
        assert created.status_code == 201, error_text(created)
    exported_csv = client.get("/api/export.csv?kind=project").data
    assert "'=1+1 项目" in exported_csv.decode("utf-8-sig")
    report = post_upload(client, exported_csv, "export.csv", token).get_json()
    assert (report["created"], report["updated"]) == (0, 0), report["errors"][:3]
    exported_xlsx = client.get("/api/export.xlsx?kind=project&headers=zh").data
    sheet = load_workbook(io.BytesIO(exported_xlsx)).active
    assert any(cell.value == "'-负号项目" for row in sheet.iter_rows() for cell in row)
    report = post_upload(client, exported_xlsx, "export.xlsx", token).get_json()
    assert (report["created"], report["updated"]) == (0, 0), report["errors"][:3]
    names = {f["properties"]["name"] for f in client.get("/api/features?kind=project&q=项目").get_json()["features"]}
    assert {name for name, _ in FORMULA_SITES} <= names


def test_an_apostrophe_before_ordinary_text_is_kept(client, connection, token) -> None:
    data = csv_row(名称="'引号项目", 描述="'=x")
    report = post_upload(client, data, "quote.csv", token, kind="project").get_json()
    assert report["created"] == 1, report
    props = client.get("/api/features?q='引号").get_json()["features"][0]["properties"]
    assert (props["name"], props["description"]) == ("'引号项目", "=x")


# --- 7. control characters in filter parameters -------------------------------------------------------

PATHS = ("/api/features", "/api/export.csv", "/api/counts", "/ogc/collections/project/items")
CONTROL_QUERIES = [(path, query, parameter) for path in PATHS
                   for query, parameter in (("q=a%0Db", "q"), ("q=a%0Ab", "q"), ("q=a%09b", "q"), ("q=%7F", "q"),
                                            ("foo=a%00b", "foo"))
                   if not (parameter == "foo" and path.startswith("/ogc"))]  # OGC refuses unknown parameters


@pytest.mark.parametrize("path, query, parameter", CONTROL_QUERIES)
def test_control_characters_in_parameters_are_400(client, path, query, parameter) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and parameter in error["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_json_body_are_400(client, connection, token, constant: str) -> None:
    before = counts(connection)
    body = ('{"type": "Feature", "properties": {"kind": "project", "name": "非数测试", "stage": "signed", '
            f'"area_ha": {constant}}}, "geometry": {{"type": "Point", "coordinates": [112.96, 22.77]}}}}')
    response = client.post("/api/features", data=body, content_type="application/json", headers=bearer(token))
    assert_refused(response, (400,), constant)
    assert counts(connection) == before


def test_csv_export_names_its_charset_once(client) -> None:
    assert client.get("/api/export.csv").headers["Content-Type"] == "text/csv; charset=utf-8"
