"""Each step of the site upsert on its own, against PostGIS, in the test's rolled-back transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from shapely.geometry import Point, Polygon
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from heshan_map.dates import PartialDate
from heshan_map.records import SiteRecord
from heshan_map.sitefields import COLUMN_FIELDS, STAGE_FIELDS
from heshan_map.storage import site_write_steps as steps
from heshan_map.storage.site_writes import upsert_sites

DEFAULT_DATE = dt.date(2026, 1, 15)


def park_inside(session) -> dict[str, Any]:
    """Store a park with an area; return its id, name, and a point inside it with the town and smallest park there.

    The seed has no park polygons (issue 10: no placeholder shapes), so the test draws its own.
    """
    square = Polygon([(112.70, 22.60), (112.71, 22.60), (112.71, 22.61), (112.70, 22.61)])
    upsert_sites(session, [SiteRecord(row=1, code="STEP-PARK", kind="park", name="步骤测试园", stage="signed",
                                      precision="approximate", geometry=square)], actor="test")
    park = session.execute(text(
        "SELECT id, name, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM sites"
        " WHERE code = 'STEP-PARK'")).mappings().one()
    point = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
    smallest = session.execute(text(
        f"SELECT name FROM sites WHERE kind = 'park' AND ST_Intersects(geom, {point}) ORDER BY ST_Area(geom) LIMIT 1"),
        dict(park)).scalar_one()
    town = session.execute(text(
        f"SELECT name FROM admin_areas WHERE level = 'town' AND ST_Intersects(geom, {point}) LIMIT 1"),
        dict(park)).scalar_one()
    return {**park, "smallest_park": smallest, "town": town}


def record(row: int, name: str, lon: float = 112.96, lat: float = 22.76, **fields: Any) -> SiteRecord:
    """Return a project record at a position; `fields` sets named fields, values, dates and request columns."""
    values = {key: fields.pop(key) for key in list(fields) if key in ("industry", "source", "area_ha", "name_en")}
    fields.setdefault("kind", "project")
    fields.setdefault("stage", "signed")
    fields.setdefault("precision", "approximate")
    return SiteRecord(row=row, name=name, geometry=Point(lon, lat), values=values, **fields)


def incoming(session, *columns: str) -> dict[int, dict[str, Any]]:
    """Return the rows of `incoming` by row number, with the columns asked for."""
    rows = session.execute(text(f"SELECT row_no, {', '.join(columns)} FROM incoming ORDER BY row_no")).mappings()
    return {row["row_no"]: dict(row) for row in rows}


def stored_site(session, code: str) -> dict[str, Any]:
    """Return a site's stored columns by code."""
    return dict(session.execute(text("SELECT * FROM sites WHERE code = :code"), {"code": code}).mappings().one())


def test_load_incoming_types_every_column_as_the_declaration_stores_it(session) -> None:
    given = record(1, "载入测试", code="STEP-LOAD", area_ha=1.25, industry="装备", attributes={"用途": "工业"},
                   stage="started", stage_dates={"signed": PartialDate(dt.date(2024, 5, 1), "month")},
                   clear=("industry", "source"), expected_version=3)
    steps.load_incoming(session, [given])
    columns = session.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'incoming'"
        " AND table_schema = pg_my_temp_schema()::regnamespace::text ORDER BY ordinal_position")).all()
    types = dict(columns)
    assert [name for name, _ in columns][:len(steps.INCOMING_COLUMNS)] == list(steps.INCOMING_COLUMNS)
    assert all(types[field.name] == field.sql_type for field in COLUMN_FIELDS)
    assert all(types[f"{field.stage}_on"] == "date" for field in STAGE_FIELDS)
    row = incoming(session, "code", "area_ha", "industry", "attributes", "signed_on", "signed_precision",
                   "started_on", "clear_fields", "expected_version", "ST_X(geom) AS lon", "site_id")[1]
    assert row == {"row_no": 1, "code": "STEP-LOAD", "area_ha": Decimal("1.25"), "industry": "装备",
                   "attributes": {"用途": "工业"}, "signed_on": dt.date(2024, 5, 1), "signed_precision": "month",
                   "started_on": None, "clear_fields": "industry,source", "expected_version": 3, "lon": 112.96,
                   "site_id": None}


def test_match_sites_by_id_then_code_then_kind_and_name(session) -> None:
    upsert_sites(session, [record(1, "匹配甲", code="STEP-M1"), record(2, "匹配乙")], actor="test")
    by_code = stored_site(session, "STEP-M1")["id"]
    by_name = session.execute(text("SELECT id FROM sites WHERE name = '匹配乙'")).scalar_one()
    steps.load_incoming(session, [
        record(1, "改名", site_id=by_name, code="STEP-M1"),  # the id wins over the code
        record(2, "随便", code="STEP-M1"),
        record(3, "匹配乙"),
        record(4, "匹配乙", kind="green_site"),  # another kind: a new site
        record(5, "匹配乙", code="STEP-NEW"),  # a code matches by code only
    ])
    steps.match_sites(session)
    assert {row: values["site_id"] for row, values in incoming(session, "site_id").items()} == {
        1: by_name, 2: by_code, 3: by_name, 4: None, 5: None}


def test_lock_and_check_versions_refuses_a_stale_row(session) -> None:
    upsert_sites(session, [record(1, "版本", code="STEP-V")], actor="test")
    site = stored_site(session, "STEP-V")
    steps.load_incoming(session, [record(1, "版本", code="STEP-V", expected_version=site["version"]),
                                  record(2, "版本", code="STEP-V", expected_version=site["version"] + 1)])
    steps.match_sites(session)
    with pytest.raises(steps.StaleVersion) as caught:
        steps.lock_and_check_versions(session)
    assert caught.value.message == "the site changed since it was read (rows 2)"
    assert caught.value.code == "precondition_failed"
    assert "status" not in vars(steps.StaleVersion)


def test_lock_and_check_versions_locks_the_matched_sites(session, engine) -> None:
    seed = session.execute(text("SELECT id, code, name, version FROM sites WHERE code IS NOT NULL ORDER BY id LIMIT 1"))
    seed = seed.mappings().one()
    steps.load_incoming(session, [record(1, seed["name"], code=seed["code"], expected_version=seed["version"])])
    steps.match_sites(session)
    steps.lock_and_check_versions(session)
    with engine.connect() as other:
        with pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(text("SELECT 1 FROM sites WHERE id = :id FOR UPDATE NOWAIT"), {"id": seed["id"]})


def test_derive_town_and_park_from_the_position(session) -> None:
    park = park_inside(session)
    upsert_sites(session, [record(1, "原位", code="STEP-KEEP", town="址山镇", lon=park["lon"], lat=park["lat"])],
                 actor="test")
    steps.load_incoming(session, [
        record(1, "园内", lon=park["lon"], lat=park["lat"]),
        record(2, "给定", lon=park["lon"], lat=park["lat"], town="给定镇", park="给定园"),
        record(3, "只知镇", lon=park["lon"], lat=park["lat"], precision="town"),
        record(4, "按名放置", code="STEP-KEEP", lon=112.5, lat=22.5, keep_geometry=True, precision="town"),
    ])
    steps.match_sites(session)
    steps.derive_town_and_park(session)
    rows = incoming(session, "town", "park", "park_derived", "precision", "ST_X(geom) AS lon")
    assert (rows[1]["town"], rows[1]["park"], rows[1]["park_derived"]) == (park["town"], park["smallest_park"], True)
    assert (rows[2]["town"], rows[2]["park"], rows[2]["park_derived"]) == ("给定镇", "给定园", False)
    assert (rows[3]["town"], rows[3]["park"]) == (None, None)
    # A row placed from a name keeps the stored position and its precision, then derives from it.
    assert (rows[4]["lon"], rows[4]["precision"]) == (pytest.approx(park["lon"]), "approximate")
    assert rows[4]["park"] == park["smallest_park"]


def test_keep_stored_values_of_empty_fields_unless_cleared(session) -> None:
    upsert_sites(session, [record(1, "保留", code="STEP-K", industry="纺织", source="文件甲", name_en="Keep",
                                  attributes={"a": 1})], actor="test")
    steps.load_incoming(session, [record(1, "保留", code="STEP-K", clear=("source",)),
                                  record(2, "新的", code="STEP-K2")])
    steps.match_sites(session)
    steps.derive_town_and_park(session)
    steps.keep_stored_values(session)
    rows = incoming(session, "industry", "source", "name_en", "attributes")
    assert rows[1] == {"row_no": 1, "industry": "纺织", "source": None, "name_en": "Keep", "attributes": {"a": 1}}
    assert rows[2] == {"row_no": 2, "industry": None, "source": None, "name_en": None, "attributes": None}


def test_derive_stage_events_adds_only_new_or_changed_dates(session) -> None:
    year_2024 = PartialDate(dt.date(2024, 1, 1), "year")
    upsert_sites(session, [record(1, "事件", code="STEP-E", stage_dates={"signed": year_2024})], actor="test")
    steps.load_incoming(session, [
        record(1, "事件", code="STEP-E", stage_dates={"signed": year_2024}),  # nothing new
        record(2, "新建", code="STEP-E2", stage="started", stage_dates={"signed": year_2024}),
        record(3, "改期", code="STEP-E", stage_dates={"signed": PartialDate(dt.date(2024, 3, 1), "month")}),
    ])
    steps.match_sites(session)
    steps.derive_stage_events(session, DEFAULT_DATE)
    events = session.execute(text(
        "SELECT row_no, stage, reached_on, date_precision FROM incoming_events ORDER BY row_no, stage")).all()
    assert [tuple(event) for event in events] == [
        (2, "signed", dt.date(2024, 1, 1), "year"), (2, "started", DEFAULT_DATE, "day"),
        (3, "signed", dt.date(2024, 3, 1), "month")]
    assert {row: values["new_events"] for row, values in incoming(session, "new_events").items()} == {
        1: False, 2: True, 3: True}


def run_through_classify(session, records: list[SiteRecord], default_source: str | None = None) -> None:
    """Run the steps before classify_rows, then it."""
    steps.load_incoming(session, records)
    steps.match_sites(session)
    steps.lock_and_check_versions(session)
    steps.derive_town_and_park(session)
    steps.keep_stored_values(session)
    steps.derive_stage_events(session, DEFAULT_DATE)
    steps.classify_rows(session, default_source)


def test_classify_rows_create_update_unchanged(session) -> None:
    first = record(1, "分类", code="STEP-C", industry="电子")
    upsert_sites(session, [first], actor="test")
    site_id = stored_site(session, "STEP-C")["id"]
    run_through_classify(session, [
        record(1, "分类", code="STEP-C"),  # empty fields keep the stored values: unchanged
        record(2, "分类", code="STEP-C", industry="光伏"),
        record(3, "分类", code="STEP-C", lon=112.97),
        record(4, "另一个", code="STEP-C3"),
    ], default_source="上传文件")
    rows = incoming(session, "action", "site_id", "source", "attributes")
    assert [rows[row]["action"] for row in (1, 2, 3, 4)] == ["unchanged", "update", "update", "create"]
    assert rows[1]["site_id"] == rows[2]["site_id"] == site_id
    assert rows[4]["site_id"] > site_id and (rows[4]["source"], rows[4]["attributes"]) == ("上传文件", {})
    assert session.execute(text("SELECT count(*) FROM incoming_events WHERE site_id IS NULL")).scalar_one() == 0


def test_write_changes_inserts_updates_and_records(session) -> None:
    upsert_sites(session, [record(1, "写入", code="STEP-W", industry="电子")], actor="test")
    before = stored_site(session, "STEP-W")
    run_through_classify(session, [record(1, "写入", code="STEP-W", industry="光伏", stage="started"),
                                   record(2, "写入新", code="STEP-W2")])
    steps.write_changes(session, actor="step-test", upload_id=None)
    after, created = stored_site(session, "STEP-W"), stored_site(session, "STEP-W2")
    assert (after["industry"], after["stage"], after["version"]) == ("光伏", "started", before["version"] + 1)
    assert (created["name"], created["created_by"], created["version"]) == ("写入新", "step-test", 1)
    changes = session.execute(text("SELECT changes FROM site_edits WHERE site_id = :id AND edited_by = 'step-test'"),
                              {"id": before["id"]}).scalar_one()
    assert changes == {"industry": ["电子", "光伏"], "stage": ["signed", "started"]}
    events = session.execute(text(
        "SELECT s.code, e.stage, e.reached_on FROM stage_events e JOIN sites s ON s.id = e.site_id"
        " WHERE e.recorded_by = 'step-test' ORDER BY s.code")).all()
    assert [tuple(event) for event in events] == [("STEP-W", "started", DEFAULT_DATE),
                                                  ("STEP-W2", "signed", DEFAULT_DATE)]


def test_collect_actions_returns_each_row_and_drops_the_temp_tables(session) -> None:
    run_through_classify(session, [record(7, "收集", code="STEP-A")])
    steps.write_changes(session, actor="test", upload_id=None)
    actions = steps.collect_actions(session)
    site_id = stored_site(session, "STEP-A")["id"]
    assert actions == {7: ("create", site_id)}
    left = session.execute(text("SELECT count(*) FROM pg_class WHERE relname = ANY(:names)"
                                " AND relpersistence = 't'"), {"names": list(steps.TEMP_TABLES)}).scalar_one()
    assert left == 0
