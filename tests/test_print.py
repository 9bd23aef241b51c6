"""The print layout (/print): the filtered map on one A4 or A3 landscape sheet, its legend and table of sites."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

from playwright.sync_api import Browser

from heshan_map.vocabulary import STAGE_LABELS
from tests.pagewatch import PageWatch
from tests.test_browser import open_map

QUERY = "kind=park,green_site"


def api_features(base_url: str, query: str) -> list[dict]:
    """Return every feature the API selects for a query."""
    quoted = urllib.parse.quote(query, safe="=&,.-")
    with urllib.request.urlopen(f"{base_url}/api/features?limit=10000&{quoted}") as response:
        return json.load(response)["features"]


def test_the_page_is_sized_for_its_paper_and_lists_every_selected_site(client) -> None:
    names = [f["properties"]["name"] for f in client.get(f"/api/features?limit=1000&{QUERY}").get_json()["features"]]
    assert names
    html = client.get(f"/print?{QUERY}").get_data(as_text=True)
    assert "@page { size: A4 landscape;" in html
    rows = re.findall(r'<tr data-id="(\d+)">', html)
    assert len(rows) == len(names)
    for name in names:
        assert f"<td>{name}</td>" in html
    assert "@page { size: A3 landscape;" in client.get(f"/print?{QUERY}&size=a3").get_data(as_text=True)
    assert client.get("/print?size=a5").status_code == 400
    assert client.get("/print?mode=rainbow").status_code == 400


def test_the_date_and_as_of_are_printed_and_the_header_stays_off_paper(client) -> None:
    html = client.get("/print?as_of=2024-06-30").get_data(as_text=True)
    assert 'id="print-as-of" datetime="2024-06-30"' in html
    assert 'id="printed-on"' in html
    assert re.search(r'<div class="no-print">\s*<link rel="stylesheet"[^>]*>\s*<nav class="site-nav"', html)
    assert 'id="print-as-of"' not in client.get("/print").get_data(as_text=True)


def test_the_alert_mode_prints_the_alert_legend(client) -> None:
    html = client.get("/print?mode=alert").get_data(as_text=True)
    legend = html.split('id="legend"', 1)[1].split("</aside>", 1)[0]
    assert "红色预警" in legend and "黄色预警" in legend and "无预警" in legend
    assert STAGE_LABELS["zh"]["project"]["signed"] not in legend


def test_the_printed_pdf_holds_the_title_legend_and_every_site(browser: Browser, live_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch(page, live_server)
    page.goto(f"{live_server}/print?{QUERY}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    features = api_features(live_server, QUERY)
    placed = [f for f in features if f["geometry"] is not None]
    # The map is fitted to the selection: every drawn site lies inside the map's view.
    assert page.evaluate("window.heshanPrint.drawn.getLayers().length") == len(placed)
    assert page.evaluate("window.heshanPrint.map.getBounds().contains(window.heshanPrint.drawn.getBounds())")
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".north-arrow").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".site-nav").is_visible()  # the header is not printed
    texts = {"title": page.locator(".print-title h1").text_content(),
             "legend": page.locator("#legend").inner_text()}
    assert texts["title"] == "鹤山市项目建设一张图"
    for stage in ("planned", "started", "in_production"):
        assert STAGE_LABELS["zh"]["project"][stage] in texts["legend"]
    table = page.locator("#print-sites").inner_text()
    for feature in features:
        assert feature["properties"]["name"] in table
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 2  # the map sheet, then the table
    # make test installs poppler-utils: the PDF itself holds the title, the legend and every selected site's name.
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed to read the printed PDF"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert texts["title"] in text and STAGE_LABELS["zh"]["project"]["started"] in text
    for feature in features:
        assert feature["properties"]["name"] in text
    assert watch.errors == []
    assert watch.csp_violations() == []
    context.close()


def test_the_map_print_button_links_to_print_with_the_current_filter(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server, "?kind=park&town=共和镇")
    href = page.locator("#print-link").get_attribute("href")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
    assert urllib.parse.urlsplit(href).path == "/print"
    assert query["kind"] == ["park"] and query["town"] == ["共和镇"]
    page.locator("input[name='map-mode'][value='alert']").check()
    assert "mode=alert" in page.locator("#print-link").get_attribute("href")
    page.context.close()
