"""What changed: an upload's stage change with its author in /api/changes, /changes and the Atom feed; filters."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import text

from heshan_map.auth import create_user
from heshan_map.changes import parse_since

from .test_uploads import csv_bytes, upload_ok

ATOM = "{http://www.w3.org/2005/Atom}"
AUTHOR = "变更编辑 <&李四>"  # markup in a user's name must reach the feed escaped
HEADER = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期", "动工日期"]
SIGNED = ["动态测试项目", "112.9612", "22.7703", "已签约", "T-CHANGES-1", "1.5", "2024-03", ""]
STARTED = ["动态测试项目", "112.9612", "22.7703", "已动工", "T-CHANGES-1", "2", "2024-03", "2024-11-05"]


@pytest.fixture()
def author(session) -> str:
    """Return the API token of an editor whose name holds markup."""
    return create_user(session, AUTHOR, "editor")


def move_back_an_hour(connection, site_id: int) -> None:
    """Record a site's creation, stage events and edits an hour earlier (a test runs in one transaction)."""
    for statement in ("UPDATE sites SET created_at = created_at - interval '1 hour' WHERE id = :id",
                      "UPDATE stage_events SET recorded_at = recorded_at - interval '1 hour' WHERE site_id = :id",
                      "UPDATE site_edits SET edited_at = edited_at - interval '1 hour' WHERE site_id = :id"):
        connection.execute(text(statement), {"id": site_id})


@pytest.fixture()
def uploaded(client, connection, author) -> dict[str, Any]:
    """Upload a new signed project, an hour later the same project started: return the second upload's report."""
    first = upload_ok(client, author, csv_bytes(HEADER, [SIGNED]), "signed.csv", kind="project")
    move_back_an_hour(connection, first["sites"][0]["id"])
    return upload_ok(client, author, csv_bytes(HEADER, [STARTED]), "started.csv", kind="project")


def changes_json(client, query: str = "") -> dict[str, Any]:
    """Return GET /api/changes with a query, which must succeed."""
    response = client.get(f"/api/changes{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_api_lists_the_uploads_stage_change_with_its_author_newest_first(client, uploaded) -> None:
    body = changes_json(client, "?q=动态测试项目")
    entries = body["changes"]
    assert body["numberMatched"] == len(entries) == 4  # created, signed; an hour later started and its edit
    started = entries[0]
    assert started["type"] == "stage" and started["stage"] == "started"
    assert started["stage_label"] == "已动工" and started["reached_on"] == "2024-11-05"
    assert started["by"] == AUTHOR and started["upload_id"] == uploaded["upload_id"]
    assert started["site"]["name"] == "动态测试项目" and started["site"]["kind"] == "project"
    assert started["site"]["town"] and started["site"]["url"].endswith(f"/sites/{started['site']['id']}")
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$", started["at"])
    edit = next(entry for entry in entries if entry["type"] == "edit" and entry["action"] == "update")
    assert "investment_cny_100m" in edit["fields"]
    assert [entry["type"] for entry in entries[-2:]] == ["stage", "edit"]  # signed, then (oldest) created
    assert dt.datetime.fromisoformat(entries[-2]["at"]) < dt.datetime.fromisoformat(entries[1]["at"])
    assert entries[-1]["action"] == "create" and entries[-2]["reached_on"] == "2024-03"
    times = [dt.datetime.fromisoformat(entry["at"]) for entry in entries]
    assert times == sorted(times, reverse=True)


def test_api_filters_by_town_kind_and_since(client, uploaded) -> None:
    town = changes_json(client, "?q=动态测试项目")["changes"][0]["site"]["town"]
    assert changes_json(client, f"?q=动态测试项目&town={town}")["numberMatched"] == 4
    other = "双合镇" if town != "双合镇" else "宅梧镇"
    assert changes_json(client, f"?q=动态测试项目&town={other}")["numberMatched"] == 0
    assert changes_json(client, "?q=动态测试项目&kind=park")["numberMatched"] == 0
    assert changes_json(client, "?q=动态测试项目&stage=started")["numberMatched"] == 4
    assert changes_json(client, "?q=动态测试项目&since=2099-01-01")["numberMatched"] == 0
    entries = changes_json(client, "?q=动态测试项目")["changes"]
    between = dt.datetime.fromisoformat(entries[-1]["at"]) + dt.timedelta(minutes=30)
    newer = changes_json(client, "?q=动态测试项目&since=" + between.isoformat().replace("+", "%2B"))["changes"]
    assert [entry["id"] for entry in newer] == [entry["id"] for entry in entries[:2]]
    as_typed = changes_json(client, "?q=动态测试项目&since=" + between.isoformat())  # '+' read as a space
    assert as_typed["numberMatched"] == 2
    recent = changes_json(client, "?kind=project&since=2000-01-01T00:00:00Z")
    assert recent["since"] == "2000-01-01T08:00:00+08:00"
    assert all(entry["site"]["kind"] == "project" for entry in recent["changes"])


def test_api_pages_with_next_links(client, connection, uploaded) -> None:
    total = connection.execute(text(
        "SELECT (SELECT count(*) FROM stage_events) + (SELECT count(*) FROM site_edits) + (SELECT count(*) FROM sites)"
    )).scalar_one()
    first = changes_json(client, "?limit=3")
    assert first["numberMatched"] == total and first["numberReturned"] == 3
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=3" in following and "limit=3" in following
    second = changes_json(client, following[following.index("?"):])
    assert second["numberReturned"] == 3
    assert not {entry["id"] for entry in first["changes"]} & {entry["id"] for entry in second["changes"]}
    assert any(link["rel"] == "prev" for link in second["links"])
    last = changes_json(client, f"?limit=3&offset={total - 1}")
    assert last["numberReturned"] == 1 and not any(link["rel"] == "next" for link in last["links"])


@pytest.mark.parametrize("query,parameter", [
    ("?since=yesterday", "since"), ("?since=2024-13-01", "since"), ("?since=0001-01-01", "since"),
    ("?limit=0", "limit"), ("?limit=abc", "limit"), ("?limit=100000", "limit"), ("?offset=-1", "offset"),
    ("?town=北京", "town"), ("?kind=farm", "kind"),
])
def test_bad_parameters_are_400_naming_them(client, query: str, parameter: str) -> None:
    for path in ("/api/changes", "/changes.atom", "/changes"):
        response = client.get(path + query, headers={"Accept": "application/json"})
        assert response.status_code == 400, (path, query)
        error = response.get_json()["error"]
        assert error["code"] == "invalid_parameter" and f"'{parameter}'" in error["message"], error


def test_since_reads_dates_in_heshan_time() -> None:
    assert parse_since("2026-12-01") == dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert parse_since("2026-12-01T08:00") == dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    assert parse_since("2026-12-01T08:00:00+00:00") == dt.datetime(2026, 12, 1, 8, tzinfo=dt.timezone.utc)
    assert parse_since("") is None


def test_page_lists_the_stage_change_with_its_author_and_site_link(client, uploaded) -> None:
    response = client.get("/changes?q=动态测试项目")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    site_id = uploaded["sites"][0]["id"]
    first_row = page[page.index("<tbody>"):page.index("</tr>", page.index("<tbody>"))]
    assert "进入阶段 已动工（2024-11-05）" in first_row
    assert "变更编辑 &lt;&amp;李四&gt;" in first_row and "<&李四>" not in page
    assert f'href="http://localhost/sites/{site_id}"' in first_row
    assert 'class="site-nav"' in page and 'aria-current="page"' in page
    assert re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="/changes.atom\?q=', page)
    assert '<select name="town">' in page and 'name="since"' in page
    assert '<input type="hidden" name="q" value="动态测试项目">' in page
    assert re.search(r"<time datetime=\"[^\"]+\+08:00\">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</time>", first_row)


def test_page_in_english_and_its_paging_links(client, uploaded) -> None:
    page = client.get("/changes?q=动态测试项目&lang=en&limit=2").get_data(as_text=True)
    assert "What changed" in page and "Reached Started (2024-11-05)" in page
    assert "?lang=en" in page[page.index("<tbody>"):]  # the site links keep the language
    older = re.search(r'<a rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "offset=2" in older and "limit=2" in older and "lang=en" in older
    second = client.get(older).get_data(as_text=True)
    assert 'rel="prev"' in second and "Created" in client.get(
        older.replace("offset=2", "offset=3")).get_data(as_text=True)
    empty = client.get("/changes?q=动态测试项目&since=2099-01-01").get_data(as_text=True)
    assert "此筛选下没有变动" in empty


def test_atom_feed_holds_the_stage_change_with_its_author(client, uploaded) -> None:
    response = client.get("/changes.atom?q=动态测试项目")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}id").text.startswith("tag:localhost,2026:changes?")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").isascii()  # a URI, not an IRI
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    ids = set()
    for entry in entries:
        for required in ("id", "title", "updated", "author/" + ATOM + "name", "summary"):
            assert entry.find(f"{ATOM}{required}").text, required
        dt.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)  # RFC 3339
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://localhost/sites/")
        ids.add(entry.find(f"{ATOM}id").text)
    assert len(ids) == 4 and all(re.match(r"^tag:localhost,2026:change/(stage|edit|create)-\d+$", i) for i in ids)
    newest = entries[0]
    assert newest.find(f"{ATOM}title").text == "动态测试项目：进入阶段 已动工（2024-11-05）"
    assert newest.find(f"{ATOM}author/{ATOM}name").text == AUTHOR
    assert f"#{uploaded['upload_id']}" in newest.find(f"{ATOM}summary").text
    assert b"&lt;&amp;" in response.data  # the author's markup escaped
    again = ET.fromstring(client.get("/changes.atom?q=动态测试项目").data)
    assert {e.find(f"{ATOM}id").text for e in again.findall(f"{ATOM}entry")} == ids  # stable ids


def test_atom_feed_honours_filters_paging_and_lang(client, uploaded) -> None:
    feed = ET.fromstring(client.get("/changes.atom?q=动态测试项目&limit=2&lang=en").data)
    assert len(feed.findall(f"{ATOM}entry")) == 2
    assert feed.find(f"{ATOM}entry/{ATOM}title").text == "动态测试项目: Reached Started (2024-11-05)"
    assert "offset=2" in feed.find(f"{ATOM}link[@rel='next']").get("href")
    empty = ET.fromstring(client.get("/changes.atom?q=动态测试项目&kind=park").data)
    assert empty.findall(f"{ATOM}entry") == [] and empty.find(f"{ATOM}updated").text
    assert empty.find(f"{ATOM}id").text != feed.find(f"{ATOM}id").text  # a filtered feed is its own feed
