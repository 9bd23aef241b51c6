"""The map at any date: the month slider, its play button and as_of in the URL and the layer requests."""
from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request

from playwright.sync_api import Browser, Page

from tests.pagewatch import wait_until
from tests.test_browser import open_map


def api_features(base_url: str, query: str) -> list[dict]:
    """Return every feature the API selects for a query."""
    quoted = urllib.parse.quote(query, safe="=&,.-")
    with urllib.request.urlopen(f"{base_url}/api/features?limit=10000&{quoted}") as response:
        return json.load(response)["features"]


def feature_requests(page: Page) -> list[str]:
    """Start recording the page's requests to /api/features; return the live list of their URLs."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/api/features" in request.url else None)
    return seen


def choose_step(page: Page, index: int) -> None:
    """Move the slider to a step as a user would (input, then change) and wait for the sites of that date."""
    loads = page.evaluate("window.heshanMap.loads")
    page.evaluate("""(i) => { const s = document.getElementById('time-slider'); s.value = String(i);
        s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""", index)
    wait_until(page, f"window.heshanMap.loads > {loads} && window.heshanMap.ready")


def test_the_slider_runs_by_month_from_the_first_stage_event_to_today(client, session) -> None:
    from sqlalchemy import text
    first = session.execute(text("SELECT min(reached_on) FROM stage_events")).scalar_one()
    response = client.get("/")
    html = response.get_data(as_text=True)
    config = json.loads(html.split('id="map-config"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    steps = config["timeSteps"]
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    before = dt.date(first.year, first.month, 1) - dt.timedelta(days=1)  # the month before anything was reached
    assert steps[0]["label"] == f"{before.year}-{before.month:02d}"
    assert steps[-1]["label"] == f"{today.year}-{today.month:02d}"
    months = [(int(s["label"][:4]), int(s["label"][5:])) for s in steps]
    assert len(months) == (today.year - before.year) * 12 + today.month - before.month + 1
    assert all((b[0] * 12 + b[1]) - (a[0] * 12 + a[1]) == 1 for a, b in zip(months, months[1:]))
    # Each step is the last day of its month.
    for step in steps:
        day = dt.date.fromisoformat(step["asOf"])
        assert (day + dt.timedelta(days=1)).day == 1 and step["asOf"].startswith(step["label"])
    assert f'type="range" id="time-slider" min="0" max="{len(steps) - 1}"' in html


def test_the_slider_reaches_back_to_an_earlier_as_of_and_labels_it(client) -> None:
    html = client.get("/?as_of=2019-03-15").get_data(as_text=True)
    config = json.loads(html.split('id="map-config"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert config["timeSteps"][0] == {"label": "2019-03", "asOf": "2019-03-31"}
    assert config["asOf"] == "2019-03-15"


def test_a_bad_as_of_is_refused(client) -> None:
    for value in ("2024-13-01", "2024-6-30", "yesterday"):
        response = client.get(f"/?as_of={value}")
        assert response.status_code == 400, value
        assert "as_of" in response.get_data(as_text=True)


def test_moving_the_slider_reloads_the_layers_counts_and_list_for_that_date(browser: Browser,
                                                                           live_server: str) -> None:
    page, watch = open_map(browser, live_server, "?kind=project,park")
    requests = feature_requests(page)
    steps = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).timeSteps")
    index = len(steps) // 2
    as_of = steps[index]["asOf"]
    choose_step(page, index)
    assert requests and all(f"as_of={as_of}" in url and "kind=project%2Cpark" in url for url in requests)
    assert f"as_of={as_of}" in page.url and "kind=project" in page.url
    assert page.locator("#time-label").text_content() == as_of
    # What the map holds is what the API answers for the same filter at that date.
    features = api_features(live_server, f"kind=project,park&as_of={as_of}")
    assert sorted(page.evaluate("window.heshanMap.features.map(f => f.id)")) == sorted(f["id"] for f in features)
    unplaced = [f for f in features if f["geometry"] is None]
    assert page.locator("#unplaced-count").text_content() == str(len(unplaced))
    for kind in ("project", "park"):
        for stage in ("planned", "started"):
            expected = sum(1 for f in features if f["properties"]["kind"] == kind and f["properties"]["stage"] == stage)
            cell = page.locator(f"#counts tr[data-kind='{kind}'] td[data-stage='{stage}']")
            assert cell.text_content() == str(expected)
    # The filter form keeps the date, and so does the print link.
    assert page.locator("#as-of-input").input_value() == as_of
    assert f"as_of={as_of}" in page.locator("#print-link").get_attribute("href")
    exports = page.locator(".export-links a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert exports and all(f"as_of={as_of}" in href and "kind=project%2Cpark" in href for href in exports)
    # Back at the last step the map is today's again: as_of leaves the URL and the requests.
    requests.clear()
    choose_step(page, len(steps) - 1)
    assert "as_of" not in page.url and requests and all("as_of" not in url for url in requests)
    assert "as_of" not in page.locator(".export-links a").first.get_attribute("href")
    assert watch.errors == []
    page.context.close()


def test_a_link_with_as_of_opens_at_that_month(browser: Browser, live_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    requests = feature_requests(page)
    page.goto(f"{live_server}/?as_of=2024-06-30")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    steps = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).timeSteps")
    index = int(page.locator("#time-slider").input_value())
    assert steps[index]["label"] == "2024-06"
    assert page.locator("#time-label").text_content() == "2024-06-30"
    assert requests and all("as_of=2024-06-30" in url for url in requests)
    # Applying the filter panel keeps the date.
    page.locator("#filter-form input[name='kind'][value='park']").check()
    with page.expect_navigation():
        page.locator("#filter-form button[type='submit']").click()
    assert "as_of=2024-06-30" in page.url and "kind=park" in page.url
    context.close()


def test_the_play_button_steps_month_by_month_and_pauses(browser: Browser, live_server: str) -> None:
    page, watch = open_map(browser, live_server, "?kind=park")
    requests = feature_requests(page)
    page.locator("#time-play").click()
    assert page.locator("#time-play").get_attribute("aria-pressed") == "true"
    wait_until(page, "window.heshanMap.loads >= 3", 20_000)
    page.locator("#time-play").click()
    assert page.locator("#time-play").get_attribute("aria-pressed") == "false"
    dates = list(dict.fromkeys(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["as_of"][0]
                               for url in requests))
    steps = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).timeSteps")
    # From the end it starts over at the first month and walks on one month a step.
    assert dates[:3] == [step["asOf"] for step in steps[:3]]
    value = int(page.locator("#time-slider").input_value())
    page.wait_for_timeout(1500)
    assert int(page.locator("#time-slider").input_value()) == value  # paused: it moves no more
    assert watch.errors == []
    page.context.close()


def test_layers_the_slider_can_bring_back_are_in_the_layer_control(client, session) -> None:
    from sqlalchemy import text

    from heshan_map.storage import site_reads
    from heshan_map.filters import Filter

    # A kind × stage no site is at today but some site passed through: its layer must still be switchable.
    reached = site_reads.stages_ever_reached(session, Filter())
    now = {(kind, stage) for kind, stage in session.execute(text("SELECT DISTINCT kind, stage FROM sites"))}
    passed_only = sorted(reached - now)
    assert passed_only, "the seed has a stage every site has left"
    html = client.get("/").get_data(as_text=True)
    for kind, stage in passed_only:  # the layer control's overlay names, as folium writes them (JSON-escaped)
        assert f'data-layer=\\"{kind}/{stage}\\"' in html, (kind, stage)
