"""The map page in a real headless Chromium, with every outside host blocked."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import text
from sqlalchemy.orm import Session

from heshan_map import sitefields
from tests.pagewatch import PageWatch, wait_until


HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    "`${alert(2)}` backtick",
    "</script><script>alert(3)</script>",
    "\"'><svg onload=alert(4)>",
]


def open_map(browser: Browser, base_url: str, query: str = "", **context_args) -> tuple[Page, PageWatch]:
    context = browser.new_context(**context_args)
    page = context.new_page()
    watch = PageWatch(page, base_url)
    page.goto(f"{base_url}/{query}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    return page, watch


def api_ids(base_url: str, query: str) -> set[int]:
    """Return the ids of the sites with a position the API selects (the map draws these; the rest are listed)."""
    quoted = urllib.parse.quote(query, safe="=&,.")
    with urllib.request.urlopen(f"{base_url}/api/features?limit=10000&{quoted}") as response:
        return {f["id"] for f in json.load(response)["features"] if f["geometry"] is not None}


def drawn_ids(page: Page) -> set[int]:
    """Return the ids of the site features in layers currently on the map."""
    return set(page.evaluate("""() => Object.values(window.heshanMap.layers)
        .filter(s => window.heshanLeafletMap.hasLayer(s.group)).flatMap(s => s.ids)"""))


def test_page_is_offline_and_clean(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server)
    assert page.evaluate("window.heshanMap.error") is None
    assert watch.errors == []
    # Only basemap tiles may go outside; every script, style and font comes from the service.
    assert all(kind == "image" for kind, _ in watch.outside), watch.outside
    assert page.locator(".leaflet-interactive").count() > 0
    assert drawn_ids(page) == api_ids(live_server, "")
    assert watch.csp_violations() == []
    page.context.close()


@pytest.mark.parametrize("query", ["kind=project&stage=started,in_production", "town=共和镇", "year=2024",
                                   "q=园", "bbox=112.8,22.6,113.0,22.8&kind=park,green_site"])
def test_map_draws_what_the_api_selects(browser: Browser, live_server: str, query: str) -> None:
    page, watch = open_map(browser, live_server, "?" + query)
    assert drawn_ids(page) == api_ids(live_server, query)
    assert watch.errors == []
    assert watch.csp_violations() == []
    page.context.close()


def test_switching_a_stage_off_removes_exactly_its_features(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server)
    before = drawn_ids(page)
    # The first kind/stage layer that draws something (most seed sites have no position: issue 10).
    key = page.evaluate("Object.keys(window.heshanMap.layers).find(k => window.heshanMap.layers[k].ids.length)")
    layer_ids = set(page.evaluate(f"window.heshanMap.layers['{key}'].ids"))
    assert layer_ids
    page.locator(".leaflet-control-layers").hover()
    label = page.locator(".leaflet-control-layers-overlays label", has=page.locator(f"[data-layer='{key}']"))
    label.locator("input").uncheck()
    assert drawn_ids(page) == before - layer_ids
    # The URL carries the switched-off layer, so a colleague opening it sees the same view.
    shared = page.url
    assert "off=" + key.replace("/", "%2F") in shared
    label.locator("input").check()
    assert drawn_ids(page) == before
    page.goto(shared)
    page.wait_for_selector("body[data-ready='true']", state="attached")
    assert drawn_ids(page) == before - layer_ids
    assert watch.csp_violations() == []
    page.context.close()


@pytest.fixture()
def hostile_sites(engine) -> Iterator[list[int]]:
    """Store sites with hostile names (committed, for the live server); remove them afterwards."""
    with Session(engine) as session:
        ids = [session.execute(text(
            "INSERT INTO sites (code, kind, name, stage, precision, source, description, town, geom)"
            " VALUES (:code, 'project', :name, 'signed', 'point', :name, :name, '沙坪街道',"
            " ST_SetSRID(ST_MakePoint(:lon, 22.77), 4326)) RETURNING id"),
            {"code": f"HOSTILE-{i}", "name": name, "lon": 112.90 + i * 0.01}).scalar_one()
            for i, name in enumerate(HOSTILE_NAMES)]
        session.commit()
    yield ids
    with Session(engine) as session:
        session.execute(text("DELETE FROM sites WHERE code LIKE 'HOSTILE-%'"))
        session.commit()


def test_hostile_names_stay_inert_text(browser: Browser, live_server: str, hostile_sites: list[int]) -> None:
    page, watch = open_map(browser, live_server, "?q=HOSTILE")
    page.goto(f"{live_server}/?kind=project&stage=signed")
    page.wait_for_selector("body[data-ready='true']", state="attached")
    for site_id, name in zip(hostile_sites, HOSTILE_NAMES):
        page.evaluate("""(id) => { for (const s of Object.values(window.heshanMap.layers)) {
            s.points.eachLayer(l => { if (l.feature.properties.id === id) {
                s.points.zoomToShowLayer(l, () => l.openPopup()); } }); } }""", site_id)
        popup = page.locator(".leaflet-popup-content h3")
        popup.wait_for()
        assert popup.inner_text() == name
        page.evaluate("window.heshanLeafletMap.closePopup()")
    assert watch.dialogs == []
    assert page.locator("img[src='x'], svg[onload]").count() == 0
    assert page.evaluate("window.heshanMap.error") is None
    # The name search reflects the text into the form as a value, not markup.
    page.goto(f"{live_server}/?q=" + urllib.request.quote(HOSTILE_NAMES[2]))
    page.wait_for_selector("body[data-ready='true']", state="attached")
    assert page.locator("input[name=q]").input_value() == HOSTILE_NAMES[2]
    assert watch.dialogs == [] and watch.errors == []
    assert watch.csp_violations() == []
    page.context.close()


def test_phone_viewport(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server, "", viewport={"width": 390, "height": 844},
                           is_mobile=True, has_touch=True)
    box = page.locator(".folium-map").bounding_box()
    assert box and box["width"] >= 380 and box["height"] >= 300
    assert not page.locator("#filter-form").is_visible()
    page.locator("#panel-toggle").click()
    assert page.locator("#filter-form").is_visible()
    assert watch.errors == []
    assert watch.csp_violations() == []
    page.context.close()


def test_english_page(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server, "?lang=en")
    assert page.locator("h1").inner_text() == "Heshan project map"
    assert page.locator("html").get_attribute("lang") == "en"
    assert watch.csp_violations() == []
    page.context.close()


def test_a_script_without_the_nonce_is_refused_and_reported(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server)
    page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.injectedRan = true"; document.body.append(s);
        const a = document.createElement("img"); a.setAttribute("onerror", "window.handlerRan = true");
        a.src = "data:,"; document.body.append(a); }""")
    wait_until(page, "window.__cspViolations.length >= 2")
    assert page.evaluate("[window.injectedRan, window.handlerRan]") == [None, None]
    assert all(v.startswith("script-src") for v in page.evaluate("window.__cspViolations"))
    assert watch.errors and all("Content Security Policy" in e for e in watch.errors)
    page.context.close()


def test_map_draws_under_the_policy(browser: Browser, live_server: str, tmp_path) -> None:
    page, watch = open_map(browser, live_server, viewport={"width": 1200, "height": 800})
    policy = page.evaluate("""async () => (await fetch("/")).headers.get("Content-Security-Policy")""")
    assert "'nonce-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert page.locator(".leaflet-interactive").count() > 0
    assert page.locator(".leaflet-control-layers").count() == 1
    page.screenshot(path=str(tmp_path / "map-under-csp.png"))
    assert watch.csp_violations() == [] and watch.errors == []
    page.context.close()


def test_popup_rows_follow_the_declaration(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server, "?lang=en&kind=project")
    props = page.evaluate("""() => { for (const s of Object.values(window.heshanMap.layers)) { let found = null;
        s.points.eachLayer(l => { if (!found && l.feature.properties.investment_cny_100m !== null) {
            found = l.feature.properties; s.points.zoomToShowLayer(l, () => l.openPopup()); } });
        if (found) return found; } }""")
    page.locator(".leaflet-popup-content table").wait_for()
    shown = [row for row in sitefields.row_labels("en") if props.get(row["field"]) not in (None, "")]
    stage_labels = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).stageLabels.project")
    expected = [row["label"] + (f" ({stage_labels[row['stage']]})" if row["stage"] else "") for row in shown]
    assert page.locator(".leaflet-popup-content th").all_inner_texts() == expected
    values = page.locator(".leaflet-popup-content td").all_inner_texts()
    alert_labels = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).text")
    assert [value.strip() for value in values] == [
        alert_labels["alert_" + props[row["field"]]] if row["field"] == "alert" else str(props[row["field"]])
        for row in shown]
    stage_cell = page.locator(".leaflet-popup-content td").nth([row["field"] for row in shown].index("stage_label"))
    assert stage_cell.locator(".swatch").count() == 1
    assert page.locator(".leaflet-popup-content p").inner_text() == props["description"]
    assert page.locator(".leaflet-popup-content a").get_attribute("href") == f"/sites/{props['id']}?lang=en"
    assert watch.errors == [] and watch.csp_violations() == []
    page.context.close()


def test_the_map_reads_without_a_basemap(browser: Browser, live_server: str, tmp_path) -> None:
    """Every tile is blocked (PageWatch): the towns' and the county's names still print on the map."""
    page, watch = open_map(browser, live_server, viewport={"width": 1200, "height": 800})
    names = page.locator(".leaflet-marker-pane .place-name, .leaflet-place-names-pane .place-name")
    texts = names.all_inner_texts()
    with urllib.request.urlopen(f"{live_server}/api/areas?level=town") as response:
        towns = [f["properties"]["name"] for f in json.load(response)["features"]]
    assert sorted(texts) == sorted(towns + ["鹤山市"])
    assert page.locator(".leaflet-place-names-pane .place-name").count() == len(towns) + 1
    assert any(kind == "image" for kind, _ in watch.outside)  # the basemap was asked for and refused
    map_box = page.locator(".folium-map").bounding_box()
    label = page.locator(".place-name", has_text="鹤城镇")
    box = label.bounding_box()
    assert box and map_box["x"] < box["x"] and box["x"] + box["width"] < map_box["x"] + map_box["width"]
    assert map_box["y"] < box["y"] and box["y"] + box["height"] < map_box["y"] + map_box["height"]
    # The name is ink on the map: the picture of its place changes when the place-name overlay goes off.
    clip = {"x": box["x"] - 2, "y": box["y"] - 2, "width": box["width"] + 4, "height": box["height"] + 4}
    page.screenshot(path=str(tmp_path / "offline-map.png"))
    with_names = page.screenshot(clip=clip)
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers-overlays label", has_text="地名").locator("input").uncheck()
    page.mouse.move(600, 700)
    page.wait_for_timeout(300)
    assert page.screenshot(clip=clip) != with_names
    assert watch.errors == [] and watch.csp_violations() == []
    page.context.close()


def fill_colours(page: Page) -> list[tuple[str | None, str]]:
    """Return each drawn point's alert property and fill colour."""
    return [tuple(item) for item in page.evaluate("""() => Object.values(window.heshanMap.layers).flatMap(s =>
        s.points.getLayers().map(l => [l.feature.properties.alert ?? null, l.options.fillColor]))""")]


def test_the_alert_mode_colours_by_alert_and_the_legend_follows(browser: Browser, live_server: str) -> None:
    from heshan_map.mapview import ALERT_COLOURS
    from heshan_map.vocabulary import STAGE_COLOURS
    page, watch = open_map(browser, live_server)
    assert page.locator("#legend-stage").is_visible() and not page.locator("#legend-alert").is_visible()
    stage_fills = page.evaluate("""() => Object.values(window.heshanMap.layers).flatMap(s =>
        s.points.getLayers().map(l => [l.feature.properties.stage, l.options.fillColor]))""")
    assert stage_fills and all(colour == STAGE_COLOURS[stage] for stage, colour in stage_fills)
    page.locator("input[name='map-mode'][value='alert']").check()
    fills = fill_colours(page)
    assert len(fills) == len(stage_fills)
    assert all(colour == ALERT_COLOURS[alert or "none"] for alert, colour in fills)
    assert page.locator("#legend-alert").is_visible() and not page.locator("#legend-stage").is_visible()
    assert "mode=alert" in page.url
    page.locator("input[name='map-mode'][value='stage']").check()
    assert "mode=" not in page.url and page.locator("#legend-stage").is_visible()
    assert watch.errors == []
    page.context.close()
    # A link with mode=alert opens in the alert mode.
    page, watch = open_map(browser, live_server, "?mode=alert")
    assert all(colour == ALERT_COLOURS[alert or "none"] for alert, colour in fill_colours(page))
    assert page.locator("input[name='map-mode'][value='alert']").is_checked()
    page.context.close()


def test_the_header_sits_above_the_map_which_fills_the_rest(browser: Browser, live_server: str) -> None:
    for query in ("", "?lang=en"):
        page, watch = open_map(browser, live_server, query, viewport={"width": 1280, "height": 800})
        nav = page.locator("nav.site-nav").bounding_box()
        assert nav["y"] == 0 and nav["width"] == 1280 and 30 <= nav["height"] <= 50
        wrap = page.locator("#map-wrap").bounding_box()
        assert wrap["y"] == nav["height"] and abs(wrap["y"] + wrap["height"] - 800) <= 1
        assert page.evaluate("document.documentElement.scrollHeight") <= 800  # no page scroll: the map fits
        assert page.locator("nav.site-nav a[aria-current='page']").inner_text() == ("Map" if query else "地图")
        page.context.close()


def test_the_site_page_draws_its_small_map(browser: Browser, live_server: str, session: Session) -> None:
    site_id = session.execute(text("SELECT min(id) FROM sites WHERE geom IS NOT NULL")).scalar_one()
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch(page, live_server)
    page.goto(f"{live_server}/sites/{site_id}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    assert page.locator("#site-map .leaflet-interactive").count() >= 1
    assert page.evaluate("window.heshanSiteMap.map.getBounds().contains("
                         "window.heshanSiteMap.layer.getLatLng ? window.heshanSiteMap.layer.getLatLng()"
                         " : window.heshanSiteMap.layer.getBounds())")
    assert page.locator(".timeline li").count() == 4
    assert watch.errors == [] and watch.csp_violations() == []
    assert all(kind == "image" for kind, _ in watch.outside)
    context.close()
