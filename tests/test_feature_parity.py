"""The GeoJSON export, the features API and the OGC items carry the same properties and geometry for each site."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from shapely.geometry import Point, Polygon

from heshan_map.dates import PartialDate
from heshan_map.records import SiteRecord
from heshan_map.sitefields import COLUMN_FIELDS
from heshan_map.storage.site_writes import upsert_sites

# The stored numbers (investment, area), read from the declaration: the first a fraction, the second whole.
FRACTION_FIELD, WHOLE_FIELD = (field.name for field in COLUMN_FIELDS if field.type == "number")
# A clockwise exterior with a counter-clockwise hole: every output turns it to RFC 7946's orientation.
CLOCKWISE_WITH_HOLE = Polygon([(112.90, 22.70), (112.90, 22.72), (112.92, 22.72), (112.92, 22.70)],
                              [[(112.905, 22.705), (112.915, 22.705), (112.915, 22.715), (112.905, 22.715)]])


def parity_records() -> list[SiteRecord]:
    """Return sites with attributes and dates of each precision, one with nothing optional, and a polygon."""
    return [
        SiteRecord(row=1, code="PARITY-1", kind="project", name="一致性项目", stage="in_production",
                   precision="surveyed", geometry=CLOCKWISE_WITH_HOLE, town="沙坪街道",
                   values={FRACTION_FIELD: 12.5, WHOLE_FIELD: 3.0, "industry": "装备", "name_en": "Parity"},
                   attributes={"用途": "工业", "层数": 2},
                   stage_dates={"signed": PartialDate(dt.date(2023, 1, 1), "year"),
                                "started": PartialDate(dt.date(2024, 5, 1), "month"),
                                "in_production": PartialDate(dt.date(2025, 6, 1), "day")}),
        SiteRecord(row=2, code="PARITY-2", kind="green_site", name="一致性空白", stage="signed", precision="town",
                   geometry=Point(112.95, 22.75)),
        SiteRecord(row=3, code="PARITY-3", kind="project", name="一致性点", stage="started", precision="point",
                   geometry=Point(112.96, 22.76), values={FRACTION_FIELD: 0.0375},
                   stage_dates={"started": PartialDate(dt.date(2024, 12, 31), "day")}),
        SiteRecord(row=4, code="PARITY-4", kind="project", name="一致性待定", stage="planned", precision="county",
                   geometry=None, town="鹤城镇", stage_dates={"planned": PartialDate(dt.date(2025, 3, 1), "month")}),
    ]


@pytest.fixture()
def parity_sites(session) -> dict[str, int]:
    """Store the parity sites in the test's transaction; return their ids by code."""
    result = upsert_sites(session, parity_records(), actor="parity-test")
    session.commit()
    return {record.code or "": result.actions[record.row][1] for record in parity_records()}


def by_id(features: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Return features by their id."""
    return {feature["id"]: feature for feature in features}


def get_json(client, url: str) -> dict[str, Any]:
    """Return the JSON of a successful GET."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assert_same_features(expected: dict[int, dict[str, Any]], actual: dict[int, dict[str, Any]], what: str) -> None:
    """Assert two sets of features carry the same ids, geometry and properties, property by property."""
    assert actual.keys() == expected.keys(), what
    for site_id, feature in expected.items():
        other = actual[site_id]
        assert other["geometry"] == feature["geometry"], f"{what}: geometry of site {site_id}"
        assert other["properties"].keys() == feature["properties"].keys(), f"{what}: property names of {site_id}"
        for name, value in feature["properties"].items():
            assert other["properties"][name] == value, f"{what}: site {site_id} property {name}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_features_and_ogc_items_agree(client, parity_sites: dict[str, int], lang: str) -> None:
    exported = by_id(get_json(client, f"/api/export.geojson?q=PARITY&lang={lang}")["features"])
    listed = by_id(get_json(client, f"/api/features?q=PARITY&lang={lang}")["features"])
    assert set(exported) == set(parity_sites.values())
    assert_same_features(exported, listed, "/api/features")
    for kind in ("project", "green_site"):
        items = by_id(get_json(client, f"/ogc/collections/{kind}/items?q=PARITY&lang={lang}")["features"])
        assert_same_features({key: value for key, value in exported.items()
                              if value["properties"]["kind"] == kind}, items, f"/ogc/collections/{kind}/items")
    for site_id, feature in exported.items():
        one = get_json(client, f"/api/features/{site_id}?lang={lang}")
        item = get_json(client, f"/ogc/collections/{feature['properties']['kind']}/items/{site_id}?lang={lang}")
        assert_same_features({site_id: feature}, {site_id: one}, f"/api/features/{site_id}")
        assert_same_features({site_id: feature}, {site_id: item}, "/ogc/collections/…/items/{id}")


def test_whole_seed_agrees_between_export_and_features(client) -> None:
    exported = by_id(get_json(client, "/api/export.geojson")["features"])
    listed = by_id(get_json(client, "/api/features?limit=10000")["features"])
    assert len(exported) >= 50
    assert_same_features(exported, listed, "/api/features")


def test_property_values_keep_their_formats(client, parity_sites: dict[str, int]) -> None:
    exported = by_id(get_json(client, "/api/export.geojson?q=PARITY")["features"])
    full = exported[parity_sites["PARITY-1"]]
    props = full["properties"]
    assert (props["signed_on"], props["started_on"], props["in_production_on"]) == ("2023", "2024-05", "2025-06-01")
    assert (props[FRACTION_FIELD], props[WHOLE_FIELD]) == (12.5, 3)
    assert isinstance(props[WHOLE_FIELD], int)
    assert props["attributes"] == {"用途": "工业", "层数": 2}
    assert (props["kind_label"], props["stage_label"]) == ("重点项目", "已投产")
    assert props["updated_at"].endswith("Z") and dt.datetime.fromisoformat(props["updated_at"][:-1])
    exterior = full["geometry"]["coordinates"][0]
    assert Polygon(exterior).exterior.is_ccw and len(full["geometry"]["coordinates"]) == 2
    empty = exported[parity_sites["PARITY-2"]]["properties"]
    assert "attributes" not in empty
    assert all(empty[name] is None for name in ("name_en", "signed_on", "started_on", "in_production_on", "town",
                                                "park", FRACTION_FIELD, WHOLE_FIELD, "industry", "source"))
    small = exported[parity_sites["PARITY-3"]]["properties"]
    assert (small[FRACTION_FIELD], small["started_on"], small["signed_on"]) == (0.0375, "2024-12-31", None)
    unplaced = exported[parity_sites["PARITY-4"]]
    assert unplaced["geometry"] is None
    assert (unplaced["properties"]["planned_on"], unplaced["properties"]["town"]) == ("2025-03", "鹤城镇")
