"""The upload page in a real headless Chromium: log in, preview with errors, fix, preview on the map, commit."""
from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from heshan_map.auth import create_user
from tests.pagewatch import PageWatch, wait_until

EDITOR = "browser-upload-editor"
CODE_PREFIX = "BROWSER-UP-"
HEADER = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)"]
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_STAGE = "<svg onload=alert(2)>"


def csv_bytes(rows: list[list[str]]) -> bytes:
    """Return a project CSV as Excel saves it (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def committed(engine: Engine, sql: str) -> Any:
    """Return one value from the committed database."""
    with engine.connect() as connection:
        return connection.execute(text(sql), {"prefix": CODE_PREFIX + "%"}).scalar_one()


@pytest.fixture()
def editor_token(engine: Engine) -> Iterator[str]:
    """Create a committed editor for the live server; remove it, its uploads and its sites afterwards."""
    with Session(engine) as session:
        token = create_user(session, EDITOR, "editor")
        session.commit()  # create_user leaves the transaction to its caller
    yield token
    with Session(engine) as session:
        session.execute(text("DELETE FROM sites WHERE code LIKE :prefix"), {"prefix": CODE_PREFIX + "%"})
        session.execute(text("DELETE FROM stage_events WHERE upload_id IN"
                             " (SELECT id FROM uploads WHERE user_name = :name)"), {"name": EDITOR})
        session.execute(text("DELETE FROM site_edits WHERE upload_id IN"
                             " (SELECT id FROM uploads WHERE user_name = :name)"), {"name": EDITOR})
        session.execute(text("DELETE FROM uploads WHERE user_name = :name"), {"name": EDITOR})
        session.execute(text("DELETE FROM users WHERE name = :name"), {"name": EDITOR})
        session.commit()


def log_in(browser: Browser, base_url: str, token: str) -> tuple[Page, PageWatch]:
    """Log the editor in through the login form; return the upload page it lands on."""
    page = browser.new_page(locale="zh-CN")
    watch = PageWatch(page, base_url, console_errors=False)
    page.goto(f"{base_url}/upload")
    assert urlparse(page.url).path == "/login"
    page.fill("input[name=name]", EDITOR)
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/upload")
    wait_until(page, "window.heshanUpload !== undefined")
    return page, watch


def send(page: Page, data: bytes, button: str = "#preview-button", filename: str = "projects.csv") -> dict[str, Any]:
    """Choose a file (when given) and press preview or commit; return the report the page received."""
    if data:
        page.set_input_files("#file", files=[{"name": filename, "mimeType": "text/csv", "buffer": data}])
        page.select_option("select[name=kind]", "project")
    page.evaluate("window.heshanUpload.report = null")
    page.click(button)
    wait_until(page, "window.heshanUpload.report !== null")
    return page.evaluate("window.heshanUpload.report")


def table_rows(page: Page, table_id: str) -> list[list[str]]:
    """Return the cells of a result table's body as text."""
    return page.eval_on_selector_all(f"#{table_id} tbody tr",
                                     "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")


def api_features(base_url: str, query: str) -> list[dict[str, Any]]:
    """Return the Features /api/features selects."""
    with urllib.request.urlopen(f"{base_url}/api/features?{urllib.parse.quote(query, safe='=&')}") as response:
        return json.load(response)["features"]


GOOD_ROWS = [
    ["浏览器测试项目甲", "112.9612", "22.7703", "已签约", CODE_PREFIX + "1", "2.5"],
    ["浏览器测试项目乙", "112.8127", "22.6418", "已动工", CODE_PREFIX + "2", "1"],
]


def test_preview_with_an_error_then_fix_and_commit(browser: Browser, live_server: str, engine: Engine,
                                                   editor_token: str) -> None:
    page, watch = log_in(browser, live_server, editor_token)
    sites_before = committed(engine, "SELECT count(*) FROM sites")
    bad = [GOOD_ROWS[0], GOOD_ROWS[1][:2] + ["95"] + GOOD_ROWS[1][3:]]
    report = send(page, csv_bytes(bad))
    assert report["errors"] and report["upload_id"] is None
    assert table_rows(page, "error-table") == [["3", "纬度", "纬度超出范围 / latitude 95.0 is outside -90…90"]]
    assert page.locator("#commit-button").is_disabled()
    assert page.locator("#upload-status").inner_text() == "有错误，未写入任何数据。"
    assert committed(engine, "SELECT count(*) FROM sites") == sites_before
    assert committed(engine, "SELECT count(*) FROM sites WHERE code LIKE :prefix") == 0

    report = send(page, csv_bytes(GOOD_ROWS))
    assert report["errors"] == [] and report["dry_run"] is True and report["created"] == 2
    assert table_rows(page, "error-table") == []
    assert page.locator("#upload-status").inner_text() == "检查通过，可以写入。"
    assert page.locator("#preview-map path.leaflet-interactive").count() == 2
    previewed = []
    for index in range(2):
        page.locator("#preview-map path.leaflet-interactive").nth(index).hover()
        previewed.append(page.locator(".leaflet-tooltip").inner_text())
        page.mouse.move(0, 0)
        page.locator(".leaflet-tooltip").wait_for(state="detached")
    previewed.sort()
    assert previewed == ["2: 浏览器测试项目甲", "3: 浏览器测试项目乙"]
    assert committed(engine, "SELECT count(*) FROM sites WHERE code LIKE :prefix") == 0

    report = send(page, b"", button="#commit-button")
    assert report["created"] == 2 and report["upload_id"]
    # The page gives the upload's time as people read it in Heshan (issue 10), the API keeps ISO 8601.
    page.locator("#upload-status time").wait_for()
    uploaded_at = committed(engine, "SELECT uploaded_at FROM uploads WHERE id = %d" % report["upload_id"])
    shown = uploaded_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert page.locator("#upload-status").inner_text() == f"已写入：新建 2，更新 0，未变 0。 写入时间 {shown}"
    assert datetime.fromisoformat(page.locator("#upload-status time").get_attribute("datetime")) == uploaded_at
    assert page.locator("#commit-button").is_disabled()  # no second commit of the same preview
    assert committed(engine, "SELECT count(*) FROM sites WHERE code LIKE :prefix") == 2
    stored = {f["properties"]["code"]: f for f in api_features(live_server, f"q={CODE_PREFIX}")}
    assert set(stored) == {CODE_PREFIX + "1", CODE_PREFIX + "2"}
    assert stored[CODE_PREFIX + "2"]["properties"]["stage"] == "started"
    lon, lat = stored[CODE_PREFIX + "1"]["geometry"]["coordinates"]
    assert abs(lon - 112.9612) < 1e-6 and abs(lat - 22.7703) < 1e-6
    assert watch.errors == [] and watch.dialogs == []
    assert watch.csp_violations() == []
    page.close()


def test_changing_the_file_after_a_preview_needs_a_new_preview(browser: Browser, live_server: str,
                                                               editor_token: str) -> None:
    page, watch = log_in(browser, live_server, editor_token)
    send(page, csv_bytes(GOOD_ROWS))
    assert page.locator("#commit-button").is_enabled()
    page.set_input_files("#file", files=[{"name": "other.csv", "mimeType": "text/csv",
                                          "buffer": csv_bytes(GOOD_ROWS[:1])}])
    assert page.locator("#commit-button").is_disabled()
    assert watch.csp_violations() == []
    page.close()


def test_hostile_text_stays_text_in_tooltip_and_error_table(browser: Browser, live_server: str, engine: Engine,
                                                             editor_token: str) -> None:
    page, watch = log_in(browser, live_server, editor_token)
    rows = [[HOSTILE_NAME, "112.9612", "22.7703", "已签约", CODE_PREFIX + "X1", ""],
            ["另一个项目", "112.8127", "22.6418", HOSTILE_STAGE, CODE_PREFIX + "X2", ""]]
    report = send(page, csv_bytes(rows))
    assert [e["row"] for e in report["errors"]] == [3]
    [[row, column, message]] = table_rows(page, "error-table")
    assert (row, column) == ("3", "状态") and HOSTILE_STAGE in message
    marker = page.locator("#preview-map path.leaflet-interactive")
    assert marker.count() == 1  # the good row is previewed even though the file has an error
    marker.first.hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text() == f"2: {HOSTILE_NAME}"
    assert page.locator("img[src='x'], svg[onload]").count() == 0
    assert watch.dialogs == [] and watch.errors == []
    assert committed(engine, "SELECT count(*) FROM sites WHERE code LIKE :prefix") == 0
    assert watch.csp_violations() == []
    page.close()


def test_the_stage_choices_are_the_four_stages(browser: Browser, live_server: str, editor_token: str) -> None:
    page, watch = log_in(browser, live_server, editor_token)
    options = page.locator("select[name=stage] option").all_inner_texts()
    assert options == ["按文件中的阶段列", "谋划中 (planned)", "已签约 / 已立项 / 已获批 (signed)",
                       "已动工 / 施工中 / 建设中 (started)", "已投产 / 已完成 / 已建成 / 已运营 (in_production)"]
    assert watch.csp_violations() == []
    page.close()


def test_the_upload_page_carries_the_one_header(browser: Browser, live_server: str, editor_token: str) -> None:
    page, watch = log_in(browser, live_server, editor_token)
    nav = page.locator("nav.site-nav")
    assert nav.count() == 1
    assert nav.locator("a").all_inner_texts() == ["地图", "统计", "预警", "动态", "上传", "登录"]
    assert nav.locator("a[aria-current='page']").inner_text() == "上传"
    # The header spans the page above the upload form, in the one header style.
    box = nav.bounding_box()
    assert box["y"] == 0 and box["width"] == page.viewport_size["width"]
    assert page.evaluate("getComputedStyle(document.querySelector('.site-nav')).backgroundColor") == "rgb(31, 78, 121)"
    assert page.locator("#upload-form").bounding_box()["y"] > box["y"] + box["height"]
    assert watch.csp_violations() == []
    page.close()
