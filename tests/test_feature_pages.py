"""Feature pages built in one statement: the counting rule, the cap, the weak ETag a proxy revalidates with."""
from __future__ import annotations

from sqlalchemy import text


def total_sites(session) -> int:
    return session.execute(text("SELECT count(*) FROM sites")).scalar_one()


def test_last_page_counts_without_a_count_and_a_small_match_is_counted(client, session) -> None:
    total = total_sites(session)
    last = client.get(f"/api/features?limit=10&offset={total - 3}").get_json()
    assert (last["numberReturned"], last["numberMatched"]) == (3, total)
    assert [link["rel"] for link in last["links"]] == ["self", "prev"]
    first = client.get("/api/features?limit=10").get_json()
    assert (first["numberReturned"], first["numberMatched"]) == (10, total)
    assert "next" in [link["rel"] for link in first["links"]]
    beyond = client.get(f"/api/features?limit=10&offset={total + 50}").get_json()
    assert beyond["numberReturned"] == 0 and beyond["features"] == []


def test_number_matched_is_left_out_above_the_cap_but_paging_goes_on(app, session) -> None:
    app.config["FEATURE_COUNT_CAP"] = 5
    client = app.test_client()
    page = client.get("/ogc/collections/project/items?limit=10").get_json()
    assert "numberMatched" not in page and page["numberReturned"] == 10
    assert "next" in [link["rel"] for link in page["links"]]
    projects = session.execute(text("SELECT count(*) FROM sites WHERE kind = 'project'")).scalar_one()
    last = client.get(f"/ogc/collections/project/items?limit=10&offset={projects - 2}").get_json()
    assert last["numberMatched"] == projects  # the last page counts itself, whatever the cap


def test_pages_carry_a_weak_etag_and_answer_304_until_the_data_changes(client, session) -> None:
    first = client.get("/api/features?kind=park&limit=5")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and "no-cache" in first.headers["Cache-Control"]
    again = client.get("/api/features?kind=park&limit=5", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get("/api/features?kind=park&limit=6", headers={"If-None-Match": etag}).status_code == 200
    assert client.get("/api/features?kind=park&limit=5&lang=en", headers={"If-None-Match": etag}).status_code == 200
    site_id = first.get_json()["features"][0]["id"]
    session.execute(text("INSERT INTO stage_events (site_id, stage, reached_on, date_precision, recorded_by)"
                         " VALUES (:id, 'started', DATE '2025-01-02', 'day', 'test')"), {"id": site_id})
    assert client.get("/api/features?kind=park&limit=5", headers={"If-None-Match": etag}).status_code == 200
