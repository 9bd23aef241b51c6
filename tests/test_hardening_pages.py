"""A page of features stops at MAX_PAGE_BYTES, and its next link starts where it stopped."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from heshan_map import create_app
from tests.conftest import TEST_URL


def small_page_client(connection, budget: int):
    """Return a test client of an app whose feature pages hold at most `budget` characters."""
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "DB_CONNECTION": connection,
                      "SECRET_KEY": "test", "MAX_PAGE_BYTES": budget})
    return app.test_client()


def test_page_stops_at_byte_budget_and_next_link_continues(connection, client):
    everything = client.get("/api/features?limit=1000").get_json()
    all_ids = [feature["id"] for feature in everything["features"]]
    small = small_page_client(connection, 4000)
    seen: list[int] = []
    url = "/api/features?limit=50"
    pages = 0
    while url and pages < 200:
        page = small.get(url).get_json()
        pages += 1
        assert 1 <= page["numberReturned"] < 50
        seen += [feature["id"] for feature in page["features"]]
        nexts = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if nexts:
            offset = int(parse_qs(urlsplit(nexts[0]).query)["offset"][0])
            assert offset == len(seen)
            url = nexts[0].replace("http://localhost", "")
        else:
            url = None
    assert seen == all_ids
    assert pages > 2


def test_one_feature_always_fits(connection):
    page = small_page_client(connection, 1).get("/api/features?limit=10").get_json()
    assert page["numberReturned"] == 1
