"""The "位置待定 (N)" list beside the map in a real Chromium: sites with no position, filtered like the map."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.pagewatch import PageWatch

CODE_PREFIX = "UNPLACED-"
HOSTILE = "<img src=x onerror=alert(1)>待定"
# kind, stage, name, town, the year a stage was reached (None: no dated stage)
UNPLACED = [
    ("project", "planned", "待定测试甲 抽水蓄能", None, None),
    ("project", "signed", "待定测试乙 新材料", "共和镇", 2024),
    ("green_site", "planned", "待定测试丙 森林抚育", None, None),
    ("land_plot", "planned", "待定测试丁 垦造水田", "址山镇", None),
    ("project", "planned", HOSTILE, "沙坪街道", None),
]


@pytest.fixture()
def unplaced_sites(engine: Engine) -> Iterator[dict[str, int]]:
    """Store county-precision sites with no geometry (committed, for the live server); remove them afterwards."""
    ids: dict[str, int] = {}
    with Session(engine) as session:
        for number, (kind, stage, name, town, year) in enumerate(UNPLACED):
            ids[name] = session.execute(text(
                "INSERT INTO sites (code, kind, name, stage, precision, town, source, geom)"
                " VALUES (:code, :kind, :name, :stage, 'county', :town, '测试', NULL) RETURNING id"),
                {"code": f"{CODE_PREFIX}{number}", "kind": kind, "name": name, "stage": stage,
                 "town": town}).scalar_one()
            if year:
                session.execute(text("INSERT INTO stage_events (site_id, stage, reached_on, date_precision)"
                                     " VALUES (:id, :stage, make_date(:year, 5, 1), 'month')"),
                                {"id": ids[name], "stage": stage, "year": year})
        session.commit()
    yield ids
    with Session(engine) as session:
        session.execute(text("DELETE FROM sites WHERE code LIKE :prefix"), {"prefix": CODE_PREFIX + "%"})
        session.commit()


def api_features(base_url: str, query: str) -> list[dict[str, Any]]:
    """Return every Feature /api/features selects for a query string."""
    quoted = urllib.parse.quote(query, safe="=&,.")
    with urllib.request.urlopen(f"{base_url}/api/features?limit=10000&{quoted}") as response:
        return json.load(response)["features"]


def open_map(browser: Browser, base_url: str, query: str = "") -> tuple[Page, PageWatch]:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    watch = PageWatch(page, base_url)
    page.goto(f"{base_url}/{query}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    return page, watch


def listed_ids(page: Page) -> list[int]:
    """Return the ids the 位置待定 list shows (entries not hidden), in its order."""
    return [int(i) for i in page.eval_on_selector_all(
        "#unplaced-list li:not([hidden])", "items => items.map(item => item.dataset.id)")]


def heading_count(page: Page) -> int:
    """Return the N of the list's heading "位置待定 (N)"."""
    match = re.fullmatch(r"(?:位置待定|Place unknown) \((\d+)\)", page.locator("#unplaced h2").inner_text().strip())
    assert match, page.locator("#unplaced h2").inner_text()
    return int(match.group(1))


def drawn_ids(page: Page) -> set[int]:
    """Return the ids of the sites drawn in layers currently on the map."""
    return set(page.evaluate("""() => Object.values(window.heshanMap.layers)
        .filter(s => window.heshanLeafletMap.hasLayer(s.group)).flatMap(s => s.ids)"""))


@pytest.mark.parametrize("query", ["", "kind=project", "stage=planned", "town=共和镇", "q=待定测试乙", "year=2024",
                                   "kind=green_site,land_plot&stage=planned,signed", "park=鹤山工业城",
                                   "bbox=112.6,22.5,113.1,22.9", "lang=en&kind=project"])
def test_the_list_is_what_the_api_selects_with_no_position(browser: Browser, live_server: str,
                                                           unplaced_sites: dict[str, int], query: str) -> None:
    page, watch = open_map(browser, live_server, "?" + query)
    selected = api_features(live_server, query)
    unplaced = {f["id"] for f in selected if f["geometry"] is None}
    assert unplaced == {f["id"] for f in api_features(live_server, query + "&precision=county")}
    assert all(f["properties"]["precision"] == "county" for f in selected if f["geometry"] is None)
    assert set(listed_ids(page)) == unplaced and len(listed_ids(page)) == len(unplaced)
    assert heading_count(page) == len(unplaced)
    assert page.locator("#unplaced-empty").is_visible() == (not unplaced)
    # Never drawn: the map holds exactly the selected sites that have a position.
    assert drawn_ids(page) == {f["id"] for f in selected if f["geometry"] is not None}
    assert not drawn_ids(page) & set(unplaced_sites.values())
    assert watch.errors == [] and watch.dialogs == [] and watch.csp_violations() == []
    page.close()


def test_the_unfiltered_list_holds_every_unplaced_site_in_kind_order(browser: Browser, live_server: str,
                                                                     unplaced_sites: dict[str, int]) -> None:
    page, watch = open_map(browser, live_server)
    shown = listed_ids(page)
    assert set(unplaced_sites.values()) <= set(shown)
    kinds = page.eval_on_selector_all("#unplaced-list li", "items => items.map(i => i.dataset.layer.split('/')[0])")
    order = ["park", "project", "land_plot", "green_site"]
    assert [order.index(kind) for kind in kinds] == sorted(order.index(kind) for kind in kinds)
    entry = page.locator(f"#unplaced-list li[data-id='{unplaced_sites['待定测试乙 新材料']}']")
    assert entry.inner_text().strip() == "待定测试乙 新材料 重点项目 · 已签约 · 共和镇"
    assert entry.locator(".swatch").evaluate("s => getComputedStyle(s).backgroundColor") == "rgb(31, 119, 180)"
    # A hostile name is text in the list, not markup.
    hostile = page.locator(f"#unplaced-list li[data-id='{unplaced_sites[HOSTILE]}'] a")
    assert hostile.inner_text() == HOSTILE and page.locator("#unplaced img").count() == 0
    assert watch.dialogs == [] and watch.errors == [] and watch.csp_violations() == []
    page.close()


def test_switching_a_layer_off_takes_its_unplaced_sites_off_the_list(browser: Browser, live_server: str,
                                                                     unplaced_sites: dict[str, int]) -> None:
    page, watch = open_map(browser, live_server)
    before = listed_ids(page)
    layer_unplaced = set(page.evaluate("window.heshanMap.layers['land_plot/planned'].unplacedIds"))
    assert unplaced_sites["待定测试丁 垦造水田"] in layer_unplaced  # with the seed's unplaced planned plots
    # A kind and stage whose only sites are unplaced still has its entry in the layer control.
    page.locator(".leaflet-control-layers").hover()
    label = page.locator(".leaflet-control-layers-overlays label", has=page.locator("[data-layer='land_plot/planned']"))
    label.locator("input").uncheck()
    assert listed_ids(page) == [i for i in before if i not in layer_unplaced]
    assert heading_count(page) == len(before) - len(layer_unplaced)
    shared = page.url
    assert "off=land_plot%2Fplanned" in shared
    label.locator("input").check()
    assert listed_ids(page) == before and heading_count(page) == len(before)
    page.goto(shared)
    page.wait_for_selector("body[data-ready='true']", state="attached")
    assert listed_ids(page) == [i for i in before if i not in layer_unplaced]
    assert watch.errors == [] and watch.csp_violations() == []
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_entry_links_to_a_site_page_that_says_place_unknown(browser: Browser, live_server: str,
                                                                unplaced_sites: dict[str, int], lang: str) -> None:
    query = "?lang=en" if lang == "en" else ""
    page, watch = open_map(browser, live_server, query)
    site_id = unplaced_sites["待定测试甲 抽水蓄能"]
    link = page.locator(f"#unplaced-list li[data-id='{site_id}'] a")
    assert link.get_attribute("href") == f"/sites/{site_id}{query}"
    link.click()
    page.wait_for_url(f"{live_server}/sites/{site_id}{query}")
    position = page.locator("tr.position")
    assert position.get_attribute("data-position") == "unplaced"
    assert position.locator("td strong").inner_text() == ("位置待定" if lang == "zh" else "Place unknown")
    assert page.locator("tr[data-field='precision_label'] td").inner_text() == \
        ("位置待定" if lang == "zh" else "Place unknown")
    assert page.locator("a[href*='#map=']").count() == 0  # no position to show
    assert watch.errors == [] and watch.csp_violations() == []
    page.close()


def test_a_placed_site_page_links_to_its_position(client, session) -> None:
    site_id, lon, lat = session.execute(text(
        "SELECT id, ST_X(geom), ST_Y(geom) FROM sites WHERE GeometryType(geom) = 'POINT' ORDER BY id LIMIT 1")).one()
    html = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert 'data-position="placed"' in html and "位置待定</strong>" not in html
    assert f'href="/#map=15/{lat:.5f}/{lon:.5f}"' in html
