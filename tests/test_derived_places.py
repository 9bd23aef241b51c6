"""A town or park derived from a site's position is derived again when the parks or towns change; a given one stays."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shapely.geometry import Point, Polygon, box, mapping, shape
from sqlalchemy import text

from heshan_map.records import SiteRecord
from heshan_map.seed import TOWNS_FILE, load_admin_areas, read_geojson, seed_database
from heshan_map.storage import areas as area_store
from heshan_map.storage.site_writes import rederive_towns, upsert_sites

# Squares in 宅梧镇, far from every seed site: a park, a smaller park inside it, and a point inside both.
PARK = Polygon([(112.595, 22.634), (112.605, 22.634), (112.605, 22.644), (112.595, 22.644)])
SUB_PARK = Polygon([(112.599, 22.638), (112.601, 22.638), (112.601, 22.640), (112.599, 22.640)])
ELSEWHERE = Polygon([(112.90, 22.59), (112.91, 22.59), (112.91, 22.60), (112.90, 22.60)])  # in 共和镇
INSIDE = Point(112.6000, 22.6390)


def park(code: str, name: str, geometry: Any, row: int = 1, precision: str = "approximate") -> SiteRecord:
    """Return a park record."""
    return SiteRecord(row=row, code=code, kind="park", name=name, stage="signed", precision=precision,
                      geometry=geometry)


def project(code: str, row: int = 1, point: Point = INSIDE, **fields: Any) -> SiteRecord:
    """Return a project record at a point; `fields` sets precision, town, park."""
    fields.setdefault("precision", "point")
    return SiteRecord(row=row, code=code, kind="project", name=f"派生测试 {code}", stage="signed", geometry=point,
                      **fields)


def site(session, code: str) -> dict[str, Any]:
    """Return a site's stored columns by code."""
    return dict(session.execute(text("SELECT * FROM sites WHERE code = :code"), {"code": code}).mappings().one())


def last_change(session, code: str) -> dict[str, Any]:
    """Return the changes of a site's latest edit."""
    return session.execute(text("SELECT x.changes FROM site_edits x JOIN sites s ON s.id = x.site_id"
                                " WHERE s.code = :code ORDER BY x.id DESC LIMIT 1"), {"code": code}).scalar_one()


def stored_sites(session) -> None:
    """Store, before any park is there: a derived project, one with a given park, one known only by its town,
    and one whose place is unknown."""
    upsert_sites(session, [
        project("DP-DERIVED", 1),
        project("DP-GIVEN", 2, park="给定园区"),
        project("DP-TOWN", 3, precision="town", town="宅梧镇"),
        SiteRecord(row=4, code="DP-COUNTY", kind="project", name="派生测试 待定", stage="signed", precision="county",
                   geometry=None),
    ], actor="test")


def test_a_new_park_takes_in_the_derived_sites_it_covers_and_only_those(session) -> None:
    stored_sites(session)
    assert (site(session, "DP-DERIVED")["park"], site(session, "DP-DERIVED")["park_derived"]) == (None, True)
    version = site(session, "DP-DERIVED")["version"]
    result = upsert_sites(session, [park("DP-PARK", "派生测试园", PARK)], actor="park-editor")
    assert result.rederived == 1
    derived = site(session, "DP-DERIVED")
    assert (derived["park"], derived["park_derived"], derived["version"]) == ("派生测试园", True, version + 1)
    assert last_change(session, "DP-DERIVED") == {"park": [None, "派生测试园"]}
    # A park the owner gave wins; a site known only by its town is never in a park; nor one of unknown place.
    assert (site(session, "DP-GIVEN")["park"], site(session, "DP-GIVEN")["park_derived"]) == ("给定园区", False)
    assert site(session, "DP-TOWN")["park"] is None
    assert site(session, "DP-COUNTY")["park"] is None and site(session, "DP-COUNTY")["town"] is None


def test_the_smallest_park_wins_and_a_moved_or_renamed_park_is_followed(session) -> None:
    stored_sites(session)
    upsert_sites(session, [park("DP-PARK", "派生测试园", PARK)], actor="test")
    upsert_sites(session, [park("DP-SUB", "派生测试分园", SUB_PARK)], actor="test")
    assert site(session, "DP-DERIVED")["park"] == "派生测试分园"
    upsert_sites(session, [park("DP-SUB", "派生测试分园（更名）", SUB_PARK)], actor="test")
    assert site(session, "DP-DERIVED")["park"] == "派生测试分园（更名）"
    upsert_sites(session, [park("DP-SUB", "派生测试分园（更名）", ELSEWHERE)], actor="test")  # moved away
    assert site(session, "DP-DERIVED")["park"] == "派生测试园"
    upsert_sites(session, [park("DP-PARK", "派生测试园", ELSEWHERE.buffer(-0.001))], actor="test")
    assert site(session, "DP-DERIVED")["park"] is None
    assert site(session, "DP-GIVEN")["park"] == "给定园区"


def test_a_park_turned_into_another_kind_releases_its_sites(session) -> None:
    stored_sites(session)
    upsert_sites(session, [park("DP-PARK", "派生测试园", PARK)], actor="test")
    turned = SiteRecord(row=1, code="DP-PARK", kind="project", name="派生测试园", stage="signed",
                        precision="approximate", geometry=PARK)
    upsert_sites(session, [turned], actor="test")
    assert site(session, "DP-DERIVED")["park"] is None


def test_a_park_known_only_by_its_town_places_no_site(session) -> None:
    stored_sites(session)
    assert upsert_sites(session, [park("DP-PARK", "派生测试园", PARK, precision="town")], actor="test").rederived == 0
    assert site(session, "DP-DERIVED")["park"] is None


def test_a_park_and_the_sites_in_it_in_one_upload_join_in_one_pass(session) -> None:
    result = upsert_sites(session, [project("DP-SAME", 1), park("DP-PARK", "派生测试园", PARK, row=2)], actor="test")
    assert result.rederived == 0 and result.created == 2
    assert site(session, "DP-SAME")["park"] == "派生测试园"
    assert session.execute(text("SELECT count(*) FROM site_edits x JOIN sites s ON s.id = x.site_id"
                                " WHERE s.code = 'DP-SAME'")).scalar_one() == 0


def test_a_given_park_stays_until_a_row_moves_the_site(session) -> None:
    upsert_sites(session, [park("DP-PARK", "派生测试园", PARK)], actor="test")
    upsert_sites(session, [project("DP-FLAG", park="给定园区")], actor="test")
    assert (site(session, "DP-FLAG")["park"], site(session, "DP-FLAG")["park_derived"]) == ("给定园区", False)
    # A row that leaves the park empty and the site where it was keeps the given one.
    assert upsert_sites(session, [project("DP-FLAG")], actor="test").actions[1][0] == "unchanged"
    assert (site(session, "DP-FLAG")["park"], site(session, "DP-FLAG")["park_derived"]) == ("给定园区", False)
    # One that moves the site derives its park (and town) from the new position.
    upsert_sites(session, [project("DP-FLAG", point=Point(INSIDE.x + 0.0001, INSIDE.y))], actor="test")
    assert (site(session, "DP-FLAG")["park"], site(session, "DP-FLAG")["park_derived"]) == ("派生测试园", True)


def moved_towns(tmp_path: Path) -> Path:
    """Write the towns with a square around INSIDE taken from 宅梧镇 and given to 双合镇; return the file."""
    collection = read_geojson(TOWNS_FILE)
    square = box(INSIDE.x - 0.002, INSIDE.y - 0.002, INSIDE.x + 0.002, INSIDE.y + 0.002)
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        if feature["properties"]["name"] == "宅梧镇":
            feature["geometry"] = mapping(geometry.difference(square))
        elif feature["properties"]["name"] == "双合镇":
            feature["geometry"] = mapping(geometry.union(square))
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def test_seeding_changed_towns_derives_the_derived_towns_again(session, tmp_path: Path) -> None:
    upsert_sites(session, [project("DP-T-DERIVED", 1), project("DP-T-GIVEN", 2, town="宅梧镇"),
                           project("DP-T-TOWN", 3, precision="town", town="宅梧镇")], actor="test")
    assert (site(session, "DP-T-DERIVED")["town"], site(session, "DP-T-DERIVED")["town_derived"]) == ("宅梧镇", True)
    assert site(session, "DP-T-GIVEN")["town_derived"] is False
    assert load_admin_areas(session) is False  # the same towns again: nothing written, nothing derived
    seed_database(session, towns_path=moved_towns(tmp_path))
    assert site(session, "DP-T-DERIVED")["town"] == "双合镇"
    assert last_change(session, "DP-T-DERIVED") == {"town": ["宅梧镇", "双合镇"]}
    assert site(session, "DP-T-GIVEN")["town"] == "宅梧镇"
    assert site(session, "DP-T-TOWN")["town"] == "宅梧镇"


def test_rederive_towns_after_writing_an_area_directly(session) -> None:
    upsert_sites(session, [project("DP-A", 1)], actor="test")
    square = box(INSIDE.x - 0.002, INSIDE.y - 0.002, INSIDE.x + 0.002, INSIDE.y + 0.002)
    for name, operation in (("宅梧镇", "ST_Difference"), ("双合镇", "ST_Union")):
        changed = session.execute(text(f"SELECT ST_AsBinary({operation}(geom, ST_GeomFromText(:wkt, 4326)))"
                                       " FROM admin_areas WHERE name = :name"), {"wkt": square.wkt, "name": name})
        assert area_store.upsert_admin_area(session, "town", name, None, "approximate", "test",
                                            bytes(changed.scalar_one()))
    assert rederive_towns(session, actor="test") >= 1
    assert site(session, "DP-A")["town"] == "双合镇"
    assert rederive_towns(session, actor="test") == 0


def test_reseeding_records_given_or_derived_without_an_edit(session) -> None:
    given = session.execute(text("SELECT code FROM sites WHERE created_by = 'seed' AND town IS NOT NULL"
                                 " AND NOT town_derived ORDER BY id LIMIT 1")).scalar_one()
    derived = session.execute(text("SELECT code FROM sites WHERE created_by = 'seed' AND town_derived"
                                   " ORDER BY id LIMIT 1")).scalar_one()
    session.execute(text("UPDATE sites SET town_derived = true WHERE code = :code"), {"code": given})
    edits = session.execute(text("SELECT count(*) FROM site_edits")).scalar_one()
    versions = session.execute(text("SELECT sum(version) FROM sites")).scalar_one()
    assert seed_database(session).unchanged > 0
    assert (site(session, given)["town_derived"], site(session, derived)["town_derived"]) == (False, True)
    assert session.execute(text("SELECT count(*) FROM site_edits")).scalar_one() == edits
    assert session.execute(text("SELECT sum(version) FROM sites")).scalar_one() == versions
