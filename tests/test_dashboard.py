"""The dashboard in a real headless Chromium (outside hosts blocked, CSP violations fail), and its XLSX."""
from __future__ import annotations

import io
import json
import re
import urllib.parse
import urllib.request

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from heshan_map.vocabulary import KINDS, STAGES
from tests.pagewatch import PageWatch

CHARTS = ("kind_stage", "towns", "years", "funnel")


def fetch(base_url: str, path: str) -> bytes:
    with urllib.request.urlopen(base_url + urllib.parse.quote(path, safe="/?=&,.:")) as response:
        return response.read()


def api_stats(base_url: str, query: str) -> dict:
    return json.loads(fetch(base_url, f"/api/stats?{query}"))


def open_dashboard(browser: Browser, base_url: str, query: str = "",
                   block_charts: bool = False) -> tuple[Page, PageWatch]:
    page = browser.new_context().new_page()
    watch = PageWatch(page, base_url)
    if block_charts:
        page.route("**/vendor/echarts/**", lambda route: route.abort())
    page.goto(f"{base_url}/dashboard?{query}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    return page, watch


def table_numbers(page: Page, table: str, column: int) -> list[str]:
    """Return the text of one cell column (0: the first cell after the row labels) of a table's rows."""
    return page.evaluate("""([table, column]) => [...document.querySelectorAll(`#table-${table} tbody tr`)]
        .map(tr => tr.querySelectorAll('td')[column].querySelector('a.map-link, a') ?
             tr.querySelectorAll('td')[column].querySelector('a').textContent :
             tr.querySelectorAll('td')[column].textContent)""", [table, column])


def number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


@pytest.mark.parametrize("query", ["", "kind=project", "town=沙坪街道", "kind=project&year=2024"])
def test_charts_render_and_tables_match_the_api(browser: Browser, live_server: str, query: str) -> None:
    page, watch = open_dashboard(browser, live_server, query)
    assert page.evaluate("window.heshanDashboard.error") is None
    for chart in CHARTS:
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
    body = api_stats(live_server, query)
    cells = body["by_kind_stage"]
    assert table_numbers(page, "kind_stage", 0) == [str(c["sites"]) for c in cells] + [str(body["total"]["sites"])]
    assert table_numbers(page, "kind_stage", 1) == [number(c["investment_cny_100m"]) for c in cells] + [
        number(body["total"]["investment_cny_100m"])]
    assert table_numbers(page, "towns", len(STAGES)) == [str(t["total"]["sites"]) for t in body["by_town"]]
    assert table_numbers(page, "funnel", 0) == [str(step["sites"]) for step in body["funnel"]]
    for index, stage in enumerate(STAGES):
        assert table_numbers(page, "years", index) == [str(y["stages"][stage]["sites"]) for y in body["by_year"]]
    # The chart draws the same numbers as the table beneath it.
    series = page.evaluate("window.heshanDashboard.charts.kind_stage.getOption().series.map(s => s.data)")
    assert series == [[c["sites"] for c in cells if c["stage"] == stage] for stage in STAGES]
    assert watch.errors == [] and watch.outside == []
    assert watch.csp_violations() == []
    page.context.close()


def link_query(page: Page, selector: str) -> dict[str, list[str]]:
    href = page.locator(selector).first.get_attribute("href")
    return urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)


def test_every_number_links_to_its_sites_with_the_filter(browser: Browser, live_server: str) -> None:
    page, watch = open_dashboard(browser, live_server, "town=共和镇&kind=park,project,land_plot,green_site")
    kind_stage = link_query(page, "#table-kind_stage tbody tr:nth-child(2) a.map-link")
    assert kind_stage == {"kind": [KINDS[0]], "town": ["共和镇"], "stage": [STAGES[1]]}
    year_link = page.locator("#table-years tbody tr a.map-link").first
    assert year_link.count() == 1
    year = page.locator("#table-years tbody tr th").first.inner_text()
    assert link_query(page, "#table-years tbody tr a.map-link") == {
        "kind": [",".join(KINDS)], "town": ["共和镇"], "reached": [f"{STAGES[0]}:{year}"]}
    list_href = page.locator("#table-kind_stage a.list-link").first.get_attribute("href")
    assert list_href.startswith("/api/features?") and "town=" in list_href
    # A number's link opens the map of exactly those sites: its count there is the number.
    total = page.locator("#table-kind_stage tbody tr:last-child a.map-link").first
    assert link_query(page, "#table-kind_stage tbody tr:last-child a.map-link") == {
        "kind": [",".join(KINDS)], "town": ["共和镇"]}
    matched = json.loads(fetch(live_server, "/api/features?limit=1&town=共和镇"))["numberMatched"]
    assert total.inner_text() == str(matched)
    xlsx = page.locator("#xlsx-link").get_attribute("href")
    assert xlsx.startswith("/dashboard.xlsx?") and "town=" in xlsx
    assert watch.csp_violations() == []
    page.context.close()


def test_the_dashboard_in_english(browser: Browser, live_server: str) -> None:
    page, watch = open_dashboard(browser, live_server, "kind=project&lang=en")
    assert page.locator("h1").inner_text() == "Pipeline dashboard"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".site-nav a").first.inner_text() == "Map"
    assert page.locator("#table-kind_stage tbody tr th").first.inner_text() == "Industrial park"
    for chart in CHARTS:
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
    assert "lang=en" in page.locator("#table-kind_stage a.map-link").first.get_attribute("href")
    assert "lang=en" not in page.locator("#lang-switch").get_attribute("href")
    assert watch.errors == [] and watch.csp_violations() == []
    page.context.close()


def test_tables_stay_readable_when_the_chart_library_fails(browser: Browser, live_server: str) -> None:
    page, watch = open_dashboard(browser, live_server, "", block_charts=True)
    assert page.evaluate("window.heshanDashboard.error") == "echarts not loaded"
    assert page.locator("#charts-failed").is_visible()
    assert page.locator("#chart-kind_stage canvas").count() == 0
    body = api_stats(live_server, "")
    assert table_numbers(page, "funnel", 0) == [str(step["sites"]) for step in body["funnel"]]
    assert watch.csp_violations() == []
    page.context.close()


def test_the_xlsx_holds_the_tables(live_server: str) -> None:
    workbook = load_workbook(io.BytesIO(fetch(live_server, "/dashboard.xlsx?kind=project")))
    assert workbook.sheetnames == ["kind_stage", "towns", "years", "funnel", "yoy", "reported"]
    body = api_stats(live_server, "kind=project")
    sheet = workbook["kind_stage"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("按类型与阶段",) + (None,) * (len(rows[1]) - 1)
    assert rows[1][:3] == ("类型", "阶段", "数量")
    assert [row[2] for row in rows[2:]] == [c["sites"] for c in body["by_kind_stage"]] + [body["total"]["sites"]]
    funnel = list(workbook["funnel"].iter_rows(values_only=True))[2:]
    assert [row[1] for row in funnel] == [step["sites"] for step in body["funnel"]]
    reported = list(workbook["reported"].iter_rows(values_only=True))[2:]
    assert len(reported) == len(body["reported"]) > 0


def test_reported_figures_read_beside_the_data(browser: Browser, live_server: str) -> None:
    page, watch = open_dashboard(browser, live_server, "")
    body = api_stats(live_server, "")
    figure = next(f for f in body["reported"] if f["metric"] == "projects_over_100m_cny" and f["year"] == 2024)
    metric = page.locator("th", has_text=re.compile("^全年新引进福建友谊等超亿元项目107个$"))
    row = page.locator("#table-reported tbody tr", has=metric).filter(
        has=page.locator("th", has_text=re.compile("^2024$"))).first
    assert f"报告 107 / 已入库 {figure['held']}" in row.inner_text()
    assert "reached=signed%3A2024" in row.locator("a.map-link").get_attribute("href")
    assert watch.csp_violations() == []
    page.context.close()


def test_the_filter_form_applies_a_filter(browser: Browser, live_server: str) -> None:
    page, watch = open_dashboard(browser, live_server, "")
    page.locator("#dashboard-filter input[value='project']").check()
    page.locator("#dashboard-filter select[name='town']").select_option("共和镇")
    page.locator("#dashboard-filter button[type='submit']").click()
    page.wait_for_selector("body[data-ready='true']", state="attached")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["kind"] == ["project"] and query["town"] == ["共和镇"]
    body = api_stats(live_server, "kind=project&town=共和镇")
    assert table_numbers(page, "funnel", 0) == [str(step["sites"]) for step in body["funnel"]]
    assert "town=" in page.locator("#map-link").get_attribute("href")
    assert watch.errors == [] and watch.csp_violations() == []
    page.context.close()
