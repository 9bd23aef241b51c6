"""OGC API – Features, the REST writes, and the OpenAPI document."""
from __future__ import annotations

import subprocess

from openapi_spec_validator import validate

from heshan_map.auth import create_user


def test_landing_conformance_collections(client) -> None:
    landing = client.get("/ogc").get_json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc", "conformance", "data"}
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    collections = client.get("/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in collections] == ["park", "project", "land_plot", "green_site"]
    bbox = collections[1]["extent"]["spatial"]["bbox"][0]
    assert 112.4 < bbox[0] < bbox[2] < 113.1


def test_items_paging_and_filters(client) -> None:
    first = client.get("/ogc/collections/project/items?limit=5").get_json()
    assert first["numberReturned"] == 5 and first["numberMatched"] >= 20
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(next_link.replace("http://localhost", "")).get_json()
    assert any(link["rel"] == "prev" for link in second["links"])
    assert {f["id"] for f in first["features"]}.isdisjoint({f["id"] for f in second["features"]})
    started = client.get("/ogc/collections/project/items?stage=started&limit=1000").get_json()
    assert all(f["properties"]["stage"] == "started" for f in started["features"])
    dated = client.get("/ogc/collections/project/items?datetime=2024-01-01/2024-12-31&limit=1000").get_json()
    assert dated["numberMatched"] == client.get("/api/features?kind=project&year=2024").get_json()["numberMatched"]
    feature = started["features"][0]
    assert client.get(f"/ogc/collections/project/items/{feature['id']}").get_json()["id"] == feature["id"]


def test_ogc_errors_are_json_4xx(client) -> None:
    for url, status in (("/ogc/collections/roads", 404), ("/ogc/collections/project/items/999999999", 404),
                        ("/ogc/collections/project/items/abc", 404), ("/ogc/collections/project/items?bbox=1,2", 400),
                        ("/ogc/collections/project/items?limit=10001", 400),
                        ("/ogc/collections/project/items?unknown=1", 400),
                        ("/ogc/collections/project/items?datetime=yesterday", 400)):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.get_json()["error"]["message"]


def test_gdal_oapif_reads_the_four_collections(live_server: str) -> None:
    listing = subprocess.run(["ogrinfo", "-ro", f"OAPIF:{live_server}/ogc"], capture_output=True, text=True,
                             timeout=120)
    assert listing.returncode == 0, listing.stderr
    for kind in ("park", "project", "land_plot", "green_site"):
        assert f": {kind} " in listing.stdout
        read = subprocess.run(["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{live_server}/ogc", kind],
                              capture_output=True, text=True, timeout=120)
        count = read.stdout.count("OGRFeature(")
        import json
        import urllib.request

        with urllib.request.urlopen(f"{live_server}/api/features?kind={kind}&limit=1") as response:
            expected = json.load(response)["numberMatched"]
        assert count == expected, (kind, count, expected, read.stderr[-500:])


def test_openapi_document_is_valid(client) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert "/api/features/{id}" in document["paths"] and "/ogc/collections/{kind}/items" in document["paths"]


def editor_headers(session) -> dict[str, str]:
    return {"Authorization": "Bearer " + create_user(session, "rest-editor", "editor")}


def test_create_and_patch_with_if_match(client, session) -> None:
    headers = editor_headers(session)
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.95, 22.76]},
            "properties": {"name": "接口测试项目", "kind": "project", "stage": "signed", "code": "REST-1"}}
    assert client.post("/api/features", json=body).status_code == 401
    viewer = {"Authorization": "Bearer " + create_user(session, "rest-viewer", "viewer")}
    assert client.post("/api/features", json=body, headers=viewer).status_code == 403
    created = client.post("/api/features", json=body, headers=headers)
    assert created.status_code == 201
    site_id, etag = created.get_json()["id"], created.headers["ETag"]
    assert client.post("/api/features", json=body, headers=headers).status_code == 409
    patch = {"properties": {"stage": "started", "started_on": "2025-06-01"}}
    assert client.patch(f"/api/features/{site_id}", json=patch, headers=headers).status_code == 428
    assert client.patch(f"/api/features/{site_id}", json=patch,
                        headers={**headers, "If-Match": '"stale"'}).status_code == 412
    updated = client.patch(f"/api/features/{site_id}", json=patch, headers={**headers, "If-Match": etag})
    assert updated.status_code == 200
    props = updated.get_json()["properties"]
    assert (props["stage"], props["started_on"], props["name"], props["version"]) == ("started", "2025-06-01",
                                                                                       "接口测试项目", 2)
    assert client.patch(f"/api/features/{site_id}", json=patch, headers={**headers, "If-Match": etag}).status_code == 412
    history = client.get(f"/api/features/{site_id}/history").get_json()["history"]
    assert any(h["type"] == "stage" and h["stage"] == "started" and h["reached_on"] == "2025-06-01"
               and h["by"] == "rest-editor" for h in history)
    bad = client.post("/api/features", headers=headers, json={"properties": {"name": "x", "kind": "project",
                      "stage": "signed"}, "geometry": {"type": "Point", "coordinates": [113.9, 22.7]}})
    assert bad.status_code == 422 and "outside Heshan" in bad.get_json()["error"]["details"][0]["message"]
