"""as_of and reached: the sites as they stood at the end of a day, and the stages reached in given years."""
from __future__ import annotations

import datetime as dt

import pytest


def features(client, query: str) -> list[dict]:
    """Return the features of /api/features for a query (one page of up to 10,000)."""
    response = client.get(f"/api/features?limit=10000&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["features"]


def longi(client, query: str) -> list[dict]:
    """Return the features named 隆基 for a query."""
    return [f for f in features(client, f"q=隆基&{query}") if "隆基" in f["properties"]["name"]]


def test_longi_is_signed_in_mid_2023_and_absent_before_2022(client) -> None:
    # The seed: 隆基绿能 signed in 2022 (year only), in production in 2024.
    today = longi(client, "")
    assert [f["properties"]["stage"] for f in today] == ["in_production"]
    mid_2023 = longi(client, "as_of=2023-06-30")
    assert [f["properties"]["stage"] for f in mid_2023] == ["signed"]
    properties = mid_2023[0]["properties"]
    assert properties["signed_on"] == "2022"
    assert properties["in_production_on"] is None
    assert properties["stage_label"] == "已签约"
    assert longi(client, "as_of=2021-12-31") == []


def test_as_of_applies_to_counts_ogc_and_exports(client) -> None:
    counts_2021 = client.get("/api/counts?as_of=2021-12-31").get_json()
    counts_now = client.get("/api/counts").get_json()
    assert counts_2021 != counts_now
    items = client.get("/ogc/collections/project/items?q=隆基&as_of=2023-06-30").get_json()
    assert [f["properties"]["stage"] for f in items["features"]] == ["signed"]
    exported = client.get("/api/export.geojson?q=隆基&as_of=2021-12-31").get_json()
    assert exported["features"] == []


def test_as_of_leaves_out_sites_with_no_stage_by_then(client) -> None:
    every_site = features(client, "")
    early = features(client, "as_of=1990-01-01")
    assert len(early) < len(every_site)


@pytest.mark.parametrize("value", ["2023-13-01", "2023-6-30", "yesterday", "1989-12-31",
                                   (dt.date.today() + dt.timedelta(days=1)).isoformat()])
def test_bad_as_of_is_a_400_naming_it(client, value: str) -> None:
    response = client.get(f"/api/features?as_of={value}")
    assert response.status_code == 400
    assert "as_of" in response.get_json()["error"]["message"]


def test_reached_selects_by_stage_and_year_whatever_the_stage_now(client) -> None:
    signed_2022 = longi(client, "reached=signed:2022")
    assert [f["properties"]["stage"] for f in signed_2022] == ["in_production"]
    assert longi(client, "reached=signed:2023..2024") == []
    assert len(longi(client, "reached=signed:2023,in_production:2024")) == 1
    assert longi(client, "reached=in_production:2024&as_of=2023-06-30") == []


@pytest.mark.parametrize("value", ["finished:2024", "signed", "signed:20x4", "signed:2025..2022"])
def test_bad_reached_is_a_400_naming_it(client, value: str) -> None:
    response = client.get(f"/api/features?reached={value}")
    assert response.status_code == 400
    assert "reached" in response.get_json()["error"]["message"]


def test_map_page_counts_as_of_the_day(client) -> None:
    response = client.get("/?as_of=2021-12-31&kind=project")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "as_of=2021-12-31" in page  # the features the page loads are read as of that day too
    assert client.get("/?as_of=2021-02-29").status_code == 400


def test_an_event_without_a_date_counts_from_the_day_it_was_recorded(client, session) -> None:
    from shapely.geometry import Point

    from heshan_map.dates import today_in_heshan
    from heshan_map.records import SiteRecord
    from heshan_map.storage.site_writes import upsert_sites

    record = SiteRecord(row=1, code="ASOF-UNDATED", kind="project", name="无日期项目", stage="started",
                        precision="point", geometry=Point(112.95, 22.75))
    upsert_sites(session, [record], actor="as-of-test")
    session.commit()
    today = today_in_heshan()
    yesterday = today - dt.timedelta(days=1)
    assert [f["properties"]["stage"] for f in features(client, f"q=ASOF-UNDATED&as_of={today}")] == ["started"]
    assert features(client, f"q=ASOF-UNDATED&as_of={yesterday}") == []


def test_features_ogc_and_export_agree_as_of_a_day(client) -> None:
    query = "q=隆基&as_of=2023-06-30"
    api = features(client, query)
    ogc = client.get(f"/ogc/collections/project/items?{query}").get_json()["features"]
    exported = client.get(f"/api/export.geojson?{query}").get_json()["features"]
    assert len(api) == 1
    assert api[0]["properties"] == ogc[0]["properties"] == exported[0]["properties"]
    assert api[0]["properties"]["alert"] == "yellow"  # signed 2022 counts from 2022-12-31: over six months
