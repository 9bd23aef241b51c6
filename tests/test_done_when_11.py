"""Issue 11 "Done when", in the browser: the time slider shows a seed site at its stage of the month, and a project
signed 13 months ago and not started is red in the map's alert mode and on /alerts."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from shapely.geometry import Point
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from heshan_map.dates import PartialDate
from heshan_map.records import SiteRecord
from heshan_map.storage.site_writes import upsert_sites
from tests.test_browser import open_map
from tests.test_time_slider import choose_step

LONGI = "隆基绿能"
RED_CODE = "DONEWHEN11-RED"
CHINA = dt.timezone(dt.timedelta(hours=8))

# For a site id: how it is drawn (stage and fill colour of each drawn layer in a group on the map) and how it is
# listed in 位置待定 (the list entry's layer, kind/stage, and its swatch colour).
SITE_STATE_JS = """(id) => {
  const state = window.heshanMap, map = window.heshanLeafletMap;
  const drawn = [];
  for (const s of Object.values(state.layers)) {
    if (!map.hasLayer(s.group)) continue;
    for (const group of [s.points, s.shapes]) {
      group.eachLayer(l => {
        if (!l.feature || l.feature.properties.id !== id) return;
        const parts = [];
        if (l.options && l.options.fillColor) parts.push(l.options.fillColor);
        if (l.eachLayer) l.eachLayer(c => { if (c.options && c.options.fillColor) parts.push(c.options.fillColor); });
        drawn.push({ stage: s.stage, featureStage: l.feature.properties.stage, colours: parts });
      });
    }
  }
  const listed = Array.from(document.querySelectorAll('#unplaced-list li'))
    .filter(li => li.dataset.id === String(id))
    .map(li => ({ layer: li.dataset.layer, hidden: li.hidden,
                  swatch: getComputedStyle(li.querySelector('.swatch')).backgroundColor }));
  return { drawn, listed };
}"""


def rgb(hex_colour: str) -> str:
    """Return a #rrggbb colour as the browser computes it: rgb(r, g, b)."""
    value = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[i:i + 2], 16) for i in (0, 2, 4)))


def site_state(page: Page, site_id: int) -> dict:
    return page.evaluate(SITE_STATE_JS, site_id)


def test_the_slider_shows_longi_signed_in_2023_06_and_absent_in_2021_12(browser: Browser, live_server: str,
                                                                      engine: Engine) -> None:
    with Session(engine) as session:
        rows = session.execute(text("SELECT id, kind FROM sites WHERE name LIKE :n"), {"n": f"%{LONGI}%"}).all()
    assert len(rows) == 1, rows
    site_id, kind = rows[0]
    page, watch = open_map(browser, live_server)
    steps = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).timeSteps")
    labels = [step["label"] for step in steps]
    assert "2023-06" in labels

    choose_step(page, labels.index("2023-06"))
    assert page.locator("#time-label").text_content() == "2023-06-30"
    assert "as_of=2023-06-30" in page.url
    seen = site_state(page, site_id)
    shown = [d["stage"] for d in seen["drawn"]] + [e["layer"].split("/")[1] for e in seen["listed"]
                                                   if not e["hidden"]]
    assert len(shown) == 1, seen  # drawn or listed, once
    # Signed in 2022, in production in 2024: at the end of 2023-06 it was not yet in production.
    assert shown[0] != "in_production", seen
    assert shown[0] == "signed", seen
    for drawn in seen["drawn"]:
        assert drawn["featureStage"] == drawn["stage"]
    for entry in seen["listed"]:
        assert entry["layer"] == f"{kind}/signed"
    assert site_id in page.evaluate("window.heshanMap.features.map(f => f.id)")

    # 2021-12: the slider's first step is the month before the first stage event (2022-01 with the seed), so it
    # can be dragged there, and the site is neither drawn nor listed.
    assert labels[0] == "2021-12"
    choose_step(page, 0)
    assert page.locator("#time-label").text_content() == "2021-12-31"
    assert "as_of=2021-12-31" in page.url
    assert page.evaluate("window.heshanMap.asOf") == "2021-12-31"
    seen = site_state(page, site_id)
    assert seen == {"drawn": [], "listed": []}, seen
    assert site_id not in page.evaluate("window.heshanMap.features.map(f => f.id)")
    assert watch.errors == []
    assert watch.csp_violations() == []
    page.context.close()


def months_before(day: dt.date, months: int) -> dt.date:
    """Return the day that many months before, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in range(day.day, 27, -1) if day.day > 28 else [day.day]:
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    return dt.date(year, month, 28)


@pytest.fixture()
def red_project(engine: Engine) -> Iterator[int]:
    """Store (committed, for the live server) a project signed 13 months before today, not started; remove it after."""
    today = dt.datetime.now(CHINA).date()
    signed_on = months_before(today, 13)
    record = SiteRecord(row=1, code=RED_CODE, kind="project", name="验收红色预警项目", stage="signed",
                        precision="point", geometry=Point(112.95, 22.75),
                        stage_dates={"signed": PartialDate(signed_on, "day")})
    with Session(engine) as session:
        upsert_sites(session, [record], actor="done-when-11")
        session.commit()
        site_id = session.execute(text("SELECT id FROM sites WHERE code = :c"), {"c": RED_CODE}).scalar_one()
    try:
        yield site_id
    finally:
        with Session(engine) as session:
            session.execute(text("DELETE FROM sites WHERE code = :c"), {"c": RED_CODE})
            session.commit()


def test_a_project_signed_13_months_ago_is_red_on_the_alert_map_and_on_alerts(browser: Browser, live_server: str,
                                                                              red_project: int) -> None:
    page, watch = open_map(browser, live_server, "?mode=alert")
    red = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).alertColours.red")
    assert red and red.lower() != page.evaluate(
        "JSON.parse(document.getElementById('map-config').textContent).alertColours.none").lower()
    assert page.evaluate("window.heshanMap.mode") == "alert"
    seen = site_state(page, red_project)
    assert seen["listed"] == [], seen  # it has a position: drawn, not listed
    assert len(seen["drawn"]) == 1, seen
    assert seen["drawn"][0]["stage"] == "signed"
    colours = {c.lower() for c in seen["drawn"][0]["colours"]}
    assert colours == {red.lower()}, (colours, red)
    feature = page.evaluate("(id) => window.heshanMap.features.find(f => f.id === id).properties", red_project)
    assert feature["alert"] == "red"

    page.goto(f"{live_server}/alerts?q={RED_CODE}")
    row = page.locator(f"tr[data-code='{RED_CODE}']")
    assert row.count() == 1
    assert row.get_attribute("data-alert") == "red"
    assert watch.errors == []
    assert watch.csp_violations() == []
    page.context.close()
