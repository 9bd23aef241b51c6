"""Pages show moments in China Standard Time as 2026-12-02 08:29; the API keeps ISO 8601 with an offset."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser
from sqlalchemy import text

from heshan_map.dates import format_local_time

ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.mark.parametrize("moment, shown", [
    ("2026-12-02T00:29:59.9Z", "2026-12-02 08:29"),
    ("2026-12-01T16:29:00+00:00", "2026-12-02 00:29"),  # past midnight in Heshan: the next day
    ("2026-12-02T08:29:00+08:00", "2026-12-02 08:29"),
    ("2026-07-01T12:00:00-04:00", "2026-07-02 00:00"),  # no summer time in China
    (dt.datetime(2026, 12, 2, 0, 29, tzinfo=dt.timezone.utc), "2026-12-02 08:29"),
    (None, ""),
])
def test_a_moment_reads_as_heshans_clock(moment, shown):
    assert format_local_time(moment) == shown


def test_a_moment_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="without a time zone"):
        format_local_time("2026-12-02T00:29:00")


@pytest.fixture()
def dated_site(session) -> int:
    """Store a site created and edited at known moments (rolled back with the test)."""
    site_id = session.execute(text(
        "INSERT INTO sites (code, kind, name, stage, precision, geom, created_at, created_by)"
        " VALUES ('TIMES-1', 'project', '时间测试项目', 'signed', 'point', ST_SetSRID(ST_MakePoint(112.96, 22.77), 4326),"
        " '2026-12-01T16:05:00Z', '张三') RETURNING id")).scalar_one()
    session.execute(text("INSERT INTO site_edits (site_id, action, changes, edited_at, edited_by)"
                         " VALUES (:id, 'update', '{\"name\": [\"a\", \"b\"]}', '2026-12-02T00:29:00Z', '李四')"),
                    {"id": site_id})
    session.execute(text("INSERT INTO stage_events (site_id, stage, reached_on, recorded_at, recorded_by)"
                         " VALUES (:id, 'signed', '2026-11-30', '2026-12-02T00:29:30Z', '李四')"), {"id": site_id})
    session.flush()
    return site_id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_site_history_shows_china_standard_time(client, dated_site, lang):
    html = client.get(f"/sites/{dated_site}" + ("?lang=en" if lang == "en" else "")).get_data(as_text=True)
    moments = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert moments == [("2026-12-01T16:05:00Z", "2026-12-02 00:05"), ("2026-12-02T00:29:00Z", "2026-12-02 08:29"),
                       ("2026-12-02T00:29:30Z", "2026-12-02 08:29")]
    # No machine timestamp is left in what a person reads (attributes aside).
    visible = re.sub(r"<[^>]+>", " ", html)
    assert not ISO_MOMENT.search(visible), ISO_MOMENT.search(visible)


def test_the_api_keeps_iso_8601_with_an_offset(client, dated_site):
    history = client.get(f"/api/features/{dated_site}/history").get_json()["history"]
    assert [entry["at"] for entry in history] == ["2026-12-01T16:05:00Z", "2026-12-02T00:29:00Z",
                                                  "2026-12-02T00:29:30Z"]
    for entry in history:
        assert dt.datetime.fromisoformat(entry["at"]).utcoffset() == dt.timedelta(0)
    properties = client.get(f"/api/features/{dated_site}").get_json()["properties"]
    assert properties["created_at"].startswith("2026-12-01T16:05:00") and properties["created_at"].endswith("Z")


def test_the_page_script_formats_moments_the_same_way(browser: Browser, live_server: str) -> None:
    page = browser.new_page()
    page.route("**/*", lambda route, request: route.continue_() if request.url.startswith(live_server)
               else route.abort())
    page.goto(f"{live_server}/")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    for moment, shown in [("2026-12-02T00:29:59.9Z", "2026-12-02 08:29"),
                          ("2026-12-01T16:29:00+00:00", "2026-12-02 00:29"),
                          ("2026-07-01T12:00:00-04:00", "2026-07-02 00:00"), ("not a time", "")]:
        assert page.evaluate("(m) => window.heshanSiteLayers.localTime(m)", moment) == shown
        if shown:
            assert format_local_time(moment) == shown
    page.close()
