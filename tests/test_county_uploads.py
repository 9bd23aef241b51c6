"""Sites whose place is unknown: upload rows and REST edits without a position or a known place are county."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from heshan_map import editing
from heshan_map.errors import ServiceError
from heshan_map.ingest.bounds import default_limits
from heshan_map.ingest.checks import InputRecord, Options
from heshan_map.ingest.crs import WGS84
from heshan_map.ingest.rows import check_records
from heshan_map.storage import site_reads

from . import test_uploads
from .test_row_checks import NO_PLACES
from .test_uploads import csv_bytes, upload_ok, upload_refused

LOGGER = logging.getLogger(__name__)
editor = test_uploads.editor  # the fixtures of test_uploads, shared
HEADER = ["项目名称", "项目代码", "镇街", "经度", "纬度", "状态", "位置精度"]


def stored(connection, code: str) -> tuple:
    """Return a site's precision, whether it has no geometry, its town and its park."""
    return tuple(connection.execute(text("SELECT precision, geom IS NULL, town, park FROM sites WHERE code = :code"),
                                    {"code": code}).one())


def test_a_record_without_position_or_place_is_a_county_record_without_geometry() -> None:
    result = check_records([InputRecord(1, {"name": "某县级项目", "kind": "project", "stage": "谋划"})], Options(),
                           NO_PLACES, WGS84)
    [record] = result.records
    assert result.errors == [] and (record.precision, record.geometry, record.stage) == ("county", None, "planned")
    assert record.keep_geometry is True  # an existing site keeps a position it has
    [note] = result.notes
    assert note["row"] == 1 and "place unknown (county)" in note["message"]


def test_an_upload_row_without_a_place_is_county_and_a_town_only_row_is_at_its_town(client, connection,
                                                                                    editor) -> None:
    data = csv_bytes(HEADER, [["县里统筹项目", "CU-1", "", "", "", "谋划", ""],
                              # 雅瑶镇's seat lies inside 中欧雅瑶新兴产业园: a town-only site is never in a park.
                              ["雅瑶某项目", "CU-2", "雅瑶", "", "", "已签约", ""],
                              ["说明待定的项目", "CU-3", "", "", "", "已签约", "位置待定"]])
    report = upload_ok(client, editor, data, "county.csv", kind="project")
    assert report["created"] == 3
    assert [note["row"] for note in report["notes"] if "place unknown (county)" in note["message"]] == [2]
    # (A county site's town is the storage side's to leave empty: only precision and geometry are pinned here.)
    assert stored(connection, "CU-1")[:2] == ("county", True)
    assert stored(connection, "CU-2") == ("town", False, "雅瑶镇", None)
    assert stored(connection, "CU-3")[:2] == ("county", True)
    preview = upload_ok(client, editor, data, "county.csv", kind="project", dry_run="true")["preview"]
    geometries = {feature["properties"]["code"]: feature["geometry"] for feature in preview["features"]}
    assert geometries["CU-1"] is None and geometries["CU-2"]["type"] == "Point"


def test_county_with_coordinates_and_an_unknown_precision_are_row_errors(client, connection, editor) -> None:
    data = csv_bytes(HEADER, [["有坐标的待定项目", "CU-4", "", "112.9612", "22.7703", "已签约", "county"],
                              ["精度不明项目", "CU-5", "", "112.9612", "22.7703", "已签约", "大概"]])
    report = upload_refused(client, editor, data, "bad_county.csv", kind="project")
    errors = {error["row"]: error for error in report["errors"]}
    assert errors[2]["column"] == "位置精度" and "precision county (place unknown) but the row has a position (经度, 纬度)" \
        in errors[2]["message"]
    assert errors[3]["column"] == "位置精度" and "unknown precision '大概'" in errors[3]["message"]
    assert connection.execute(text("SELECT count(*) FROM sites WHERE code IN ('CU-4', 'CU-5')")).scalar_one() == 0


def test_a_site_with_a_position_keeps_it_when_a_sheet_without_one_updates_it(client, connection, editor) -> None:
    upload_ok(client, editor, csv_bytes(HEADER, [["有位置的项目", "CU-6", "", "112.9612", "22.7703", "已签约", ""]]),
              "placed.csv", kind="project")
    report = upload_ok(client, editor, csv_bytes(HEADER, [["有位置的项目", "CU-6", "", "", "", "已动工", ""]]),
                       "unplaced.csv", kind="project")
    assert report["updated"] == 1
    assert stored(connection, "CU-6")[:2] == ("point", False)


def test_a_county_site_a_later_sheet_names_a_town_for_is_placed_at_the_town(client, connection, editor) -> None:
    upload_ok(client, editor, csv_bytes(HEADER, [["后来知道镇街的项目", "CU-7", "", "", "", "谋划", ""]]),
              "unknown.csv", kind="project")
    assert stored(connection, "CU-7")[:2] == ("county", True)
    upload_ok(client, editor, csv_bytes(HEADER, [["后来知道镇街的项目", "CU-7", "址山", "", "", "谋划", ""]]),
              "known.csv", kind="project")
    assert stored(connection, "CU-7") == ("town", False, "址山镇", None)


def rest_site(session, body: dict) -> dict:
    """Create a site through the REST edit path and return its stored row."""
    site_id = editing.create_feature(session, body, "county-editor", default_limits())
    return site_reads.get_site(session, site_id)


def test_a_rest_post_without_geometry_or_place_is_county(session) -> None:
    row = rest_site(session, {"type": "Feature", "geometry": None,
                              "properties": {"name": "接口待定项目", "kind": "project", "stage": "planned",
                                             "code": "CU-R1"}})
    assert (row["precision"], row["geometry"]) == ("county", None)
    with pytest.raises(ServiceError) as refused:
        rest_site(session, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]},
                            "properties": {"name": "接口矛盾项目", "kind": "project", "stage": "signed",
                                           "precision": "county", "code": "CU-R2"}})
    assert refused.value.code == "invalid_feature" and refused.value.details[0]["column"] == "precision"


def test_a_rest_patch_with_null_geometry_removes_the_position_and_absent_geometry_keeps_it(session) -> None:
    row = rest_site(session, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]},
                              "properties": {"name": "接口定位项目", "kind": "project", "stage": "signed",
                                             "code": "CU-R3"}})
    assert row["precision"] == "point" and row["town"] is not None
    editing.update_feature(session, row, {"properties": {"stage": "started"}}, "county-editor", default_limits())
    kept = site_reads.get_site(session, row["id"])
    assert (kept["precision"], kept["geometry"], kept["stage"]) == ("point", row["geometry"], "started")
    editing.update_feature(session, kept, {"geometry": None}, "county-editor", default_limits())
    removed = site_reads.get_site(session, row["id"])
    assert (removed["precision"], removed["geometry"], removed["town"], removed["park"]) == ("county", None, None, None)
    # A county site given a place is placed there; given a geometry it is a point and joins its town again.
    editing.update_feature(session, removed, {"properties": {"town": "双合镇"}}, "county-editor", default_limits())
    at_town = site_reads.get_site(session, row["id"])
    assert (at_town["precision"], at_town["town"]) == ("town", "双合镇") and at_town["geometry"] is not None
    editing.update_feature(session, at_town, {"geometry": None}, "county-editor", default_limits())
    editing.update_feature(session, site_reads.get_site(session, row["id"]),
                           {"geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]}}, "county-editor",
                           default_limits())
    placed = site_reads.get_site(session, row["id"])
    assert (placed["precision"], placed["town"]) == ("point", row["town"])


def test_a_rest_patch_with_null_geometry_and_a_town_is_placed_at_the_town_not_kept(session) -> None:
    row = rest_site(session, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]},
                              "properties": {"name": "接口搬家项目", "kind": "project", "stage": "signed",
                                             "code": "CU-R4"}})
    editing.update_feature(session, row, {"geometry": None, "properties": {"town": "宅梧镇"}}, "county-editor",
                           default_limits())
    moved = site_reads.get_site(session, row["id"])
    assert (moved["precision"], moved["town"]) == ("town", "宅梧镇") and moved["geometry"] != row["geometry"]


def test_a_rest_patch_naming_another_town_moves_a_site_drawn_only_at_its_town(session) -> None:
    row = rest_site(session, {"type": "Feature", "geometry": None,
                              "properties": {"name": "接口镇街项目", "kind": "project", "stage": "signed",
                                             "town": "共和镇", "code": "CU-R5"}})
    assert (row["precision"], row["town"]) == ("town", "共和镇")
    editing.update_feature(session, row, {"properties": {"town": "鹤城镇"}}, "county-editor", default_limits())
    moved = site_reads.get_site(session, row["id"])
    assert (moved["precision"], moved["town"]) == ("town", "鹤城镇") and moved["geometry"] != row["geometry"]
    editing.update_feature(session, moved, {"properties": {"name": "接口镇街项目（改名）"}}, "county-editor",
                           default_limits())
    assert site_reads.get_site(session, row["id"])["geometry"] == moved["geometry"]
