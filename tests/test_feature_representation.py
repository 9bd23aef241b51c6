"""One feature: an ETag per representation (language, day, as_of), If-Match by version, and as_of on single reads."""
from __future__ import annotations

from .test_as_of import longi
from .test_ogc import editor_headers


def test_if_match_takes_the_etag_of_any_representation_of_the_version(client, session) -> None:
    headers = editor_headers(session)
    site_id = longi(client, "")[0]["id"]
    english = client.get(f"/api/features/{site_id}?lang=en&as_of=2025-03-01").headers["ETag"]
    patch = {"properties": {"industry": "光伏 · representation test"}}
    updated = client.patch(f"/api/features/{site_id}", json=patch, headers={**headers, "If-Match": english})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert client.patch(f"/api/features/{site_id}", json=patch, headers={**headers, "If-Match": english}).status_code == 412
    assert client.patch(f"/api/features/{site_id}", json=patch,
                        headers={**headers, "If-Match": updated.headers["ETag"]}).status_code == 200


def test_single_feature_reads_follow_as_of(client) -> None:
    site_id = longi(client, "")[0]["id"]
    then = client.get(f"/api/features/{site_id}?as_of=2023-06-30")
    assert then.status_code == 200
    assert then.get_json()["properties"]["stage"] == "signed"
    assert client.get(f"/api/features/{site_id}").get_json()["properties"]["stage"] == "in_production"
    before = client.get(f"/api/features/{site_id}?as_of=2021-12-31")
    assert before.status_code == 404 and "2021-12-31" in before.get_json()["error"]["message"]
    item = client.get(f"/ogc/collections/project/items/{site_id}?as_of=2023-06-30")
    assert item.get_json()["properties"]["stage"] == "signed"
    assert client.get(f"/ogc/collections/project/items/{site_id}?as_of=2021-12-31").status_code == 404
    assert client.get(f"/api/features/{site_id}?as_of=2023-02-30").status_code == 400


def test_etag_changes_with_language_and_day(client) -> None:
    site_id = longi(client, "")[0]["id"]
    zh = client.get(f"/api/features/{site_id}").headers["ETag"]
    en = client.get(f"/api/features/{site_id}?lang=en").headers["ETag"]
    day1 = client.get(f"/api/features/{site_id}?as_of=2025-03-01").headers["ETag"]
    day2 = client.get(f"/api/features/{site_id}?as_of=2025-03-02").headers["ETag"]
    assert len({zh, en, day1, day2}) == 4  # days in stage moves with the day, so a cache must not answer 304
    assert zh.split(".")[0] == en.split(".")[0] == day1.split(".")[0]
    assert client.get(f"/api/features/{site_id}?lang=en", headers={"If-None-Match": zh}).status_code == 200
    assert client.get(f"/api/features/{site_id}?lang=en", headers={"If-None-Match": en}).status_code == 304
