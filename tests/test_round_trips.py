"""What people do between the parts: export, edit, upload again; edit one site; restart the service."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from shapely.geometry import LineString, Polygon
from sqlalchemy import text

from heshan_map.auth import create_user
from heshan_map.records import SiteRecord
from heshan_map.storage.site_writes import upsert_sites

from .test_uploads import post_upload


@pytest.fixture()
def token(session) -> str:
    return create_user(session, "round-trip-editor", "editor")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", ["en", "zh"])
def test_an_export_uploaded_again_changes_nothing(client, token, headers) -> None:
    exported = client.get(f"/api/export.csv?kind=park,project&headers={headers}").data
    response = post_upload(client, exported, "export.csv", token)
    report = response.get_json()
    assert response.status_code == 200, report["errors"][:3]
    assert (report["created"], report["updated"]) == (0, 0)
    assert report["unchanged"] == client.get("/api/features?kind=park,project&limit=1").get_json()["numberMatched"]
    assert report["unknown_columns"] == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("headers", ["en", "zh"])
def test_an_export_of_every_kind_uploaded_again_changes_nothing(client, token, fmt, headers) -> None:
    exported = client.get(f"/api/export.{fmt}?headers={headers}").data
    response = post_upload(client, exported, f"export.{fmt}", token)
    report = response.get_json()
    assert response.status_code == 200, report["errors"][:3]
    assert (report["created"], report["updated"]) == (0, 0)
    assert report["unchanged"] == client.get("/api/features?limit=1").get_json()["numberMatched"]


def test_lines_keep_their_direction_in_the_api_and_geojson_export(client, session) -> None:
    # The seed draws no lines (issue 10: only what the documents place), so the test draws two, east and west.
    upsert_sites(session, [
        SiteRecord(row=row, code=f"RT-LINE-{row}", kind="green_site", name=f"绿道 {row}", stage="started",
                   precision="point", geometry=LineString(coords))
        for row, coords in ((1, [(112.90, 22.70), (112.91, 22.71)]), (2, [(112.93, 22.72), (112.92, 22.71)]))],
        actor="test")
    session.commit()
    lines = dict(session.execute(text(
        "SELECT id, ST_AsGeoJSON(geom, 7)::json FROM sites WHERE GeometryType(geom) LIKE '%LINESTRING'")).all())
    assert len(lines) >= 2
    exported = {feature["id"]: feature["geometry"]
                for feature in client.get("/api/export.geojson?kind=green_site").get_json()["features"]}
    for site_id, stored in lines.items():
        assert client.get(f"/api/features/{site_id}").get_json()["geometry"] == stored
        assert exported[site_id] == stored
    listed = client.get("/api/features?kind=green_site&limit=1000").get_json()["features"]
    assert {f["id"]: f["geometry"] for f in listed if f["id"] in lines} == lines


def test_a_status_sheet_without_coordinates_keeps_positions(client, token) -> None:
    # A park with a position (a county one has none to keep).
    park = client.get("/api/features?kind=park&precision=approximate&limit=1").get_json()["features"][0]
    sheet = f"代码,名称,类型,阶段,镇街\n{park['properties']['code']},{park['properties']['name']},park,started,共和镇\n"
    report = post_upload(client, sheet.encode("utf-8"), "status.csv", token).get_json()
    assert report["updated"] == 1, report
    after = client.get(f"/api/features/{park['id']}").get_json()
    assert after["geometry"] == park["geometry"]
    assert after["properties"]["precision"] == park["properties"]["precision"]
    assert after["properties"]["stage"] == "started"


def test_patch_clears_renames_and_moves(client, token, session) -> None:
    project = client.get("/api/features?kind=project&park=广东(江门)硅能源产业基地鹤山园区&limit=1").get_json()["features"][0]
    site_id = project["id"]
    etag = client.get(f"/api/features/{site_id}").headers["ETag"]
    cleared = client.patch(f"/api/features/{site_id}", headers={**bearer(token), "If-Match": etag},
                           json={"properties": {"description": None, "code": "NEW-CODE-1"}})
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["properties"]["description"] is None
    assert cleared.get_json()["properties"]["code"] == "NEW-CODE-1"
    taken = client.get("/api/features?kind=park&limit=1").get_json()["features"][0]["properties"]["code"]
    conflict = client.patch(f"/api/features/{site_id}", headers={**bearer(token), "If-Match": cleared.headers["ETag"]},
                            json={"properties": {"code": taken}})
    assert conflict.status_code == 409
    moved = client.patch(f"/api/features/{site_id}", headers={**bearer(token), "If-Match": cleared.headers["ETag"]},
                         json={"geometry": {"type": "Point", "coordinates": [112.93, 22.79]}})
    assert moved.status_code == 200
    assert moved.get_json()["properties"]["park"] is None
    assert moved.get_json()["properties"]["precision"] == "point"


def test_post_refuses_an_existing_kind_and_name(client, token) -> None:
    existing = client.get("/api/features?kind=project&limit=1").get_json()["features"][0]
    body = {"properties": {"kind": "project", "name": existing["properties"]["name"], "stage": "signed"},
            "geometry": {"type": "Point", "coordinates": [112.95, 22.76]}}
    assert client.post("/api/features", json=body, headers=bearer(token)).status_code == 409
    assert client.get(f"/api/features/{existing['id']}").get_json()["geometry"] == existing["geometry"]


def test_patch_refuses_the_kind_and_name_of_another_uncoded_site(client, token) -> None:
    ids = []
    for kind, name, x in (("green_site", "无代码绿地甲", 112.95), ("green_site", "无代码绿地乙", 112.96),
                          ("project", "无代码绿地甲", 112.97)):
        body = {"properties": {"kind": kind, "name": name, "stage": "signed"},
                "geometry": {"type": "Point", "coordinates": [x, 22.76]}}
        created = client.post("/api/features", json=body, headers=bearer(token))
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["properties"]["code"] is None
        ids.append(created.get_json()["id"])
    before = client.get(f"/api/features/{ids[1]}")
    renamed = client.patch(f"/api/features/{ids[1]}", headers={**bearer(token), "If-Match": before.headers["ETag"]},
                           json={"properties": {"name": " 无代码绿地甲 "}})
    assert renamed.status_code == 409, renamed.get_json()
    assert "kind and name" in renamed.get_json()["error"]["message"]
    after = client.get(f"/api/features/{ids[1]}")
    assert after.get_json() == before.get_json() and after.headers["ETag"] == before.headers["ETag"]
    project = client.get(f"/api/features/{ids[2]}")
    rekinded = client.patch(f"/api/features/{ids[2]}", headers={**bearer(token), "If-Match": project.headers["ETag"]},
                            json={"properties": {"kind": "绿美"}})
    assert rekinded.status_code == 409, rekinded.get_json()
    assert client.get(f"/api/features/{ids[2]}").get_json() == project.get_json()
    free = client.patch(f"/api/features/{ids[1]}", headers={**bearer(token), "If-Match": before.headers["ETag"]},
                        json={"properties": {"name": "无代码绿地丙"}})
    assert free.status_code == 200, free.get_json()
    assert free.get_json()["properties"]["name"] == "无代码绿地丙"


def test_api_polygons_are_counter_clockwise(client, session) -> None:
    # The seed has no park polygons (issue 10: no placeholder shapes), so the test draws one.
    square = Polygon([(112.90, 22.70), (112.91, 22.70), (112.91, 22.71), (112.90, 22.71)])
    upsert_sites(session, [SiteRecord(row=1, code="RT-PARK", kind="park", name="方形测试园", stage="signed",
                                      precision="surveyed", geometry=square)], actor="test")
    session.execute(text("UPDATE sites SET geom = ST_ForcePolygonCW(geom) WHERE kind = 'park'"))
    session.commit()
    polygons = [feature for feature in client.get("/api/features?kind=park").get_json()["features"]
                if feature["geometry"] and feature["geometry"]["type"] == "Polygon"]
    assert polygons
    for feature in polygons:
        ring = feature["geometry"]["coordinates"][0]
        assert sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) > 0


def test_kml_descriptions_stay_text_in_google_earth(client, session) -> None:
    session.execute(text("UPDATE sites SET description = '<img src=x onerror=alert(1)>' WHERE kind = 'park'"))
    document = ET.fromstring(client.get("/api/export.kml?kind=park").data)
    descriptions = [node.text for node in document.iter("{http://www.opengis.net/kml/2.2}description")]
    assert descriptions and all(d == "&lt;img src=x onerror=alert(1)&gt;" for d in descriptions)


def test_ogc_items_take_a_six_number_bbox_and_refuse_kind(client) -> None:
    four = client.get("/ogc/collections/project/items?bbox=112.4,22.4,113.1,22.9").get_json()["numberMatched"]
    six = client.get("/ogc/collections/project/items?bbox=112.4,22.4,0,113.1,22.9,100").get_json()["numberMatched"]
    assert four == six > 0
    assert client.get("/ogc/collections/project/items?kind=park").status_code == 400


def test_make_run_seeds_only_an_empty_database(engine) -> None:
    from .test_cli import run_cli

    result = run_cli("seed", "--if-empty")
    assert result.returncode == 0, result.stderr
    assert "not loaded again" in result.stdout
