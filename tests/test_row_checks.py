"""The one row check uploads and REST edits share (ingest.rows.check_records), called directly with records."""
from __future__ import annotations

import logging

import pytest
from shapely.geometry import Point, Polygon

from heshan_map.ingest.checks import InputRecord, Options, SourceColumns
from heshan_map.ingest.columns import ColumnMatch
from heshan_map.ingest.crs import WGS84
from heshan_map.ingest.places import NamedPlaces, Place, Reference
from heshan_map.ingest.rows import check_records
from heshan_map.ingest.table import RawTable
from heshan_map.ingest.validate import validate_table
from heshan_map.uploads import load_reference

LOGGER = logging.getLogger(__name__)
# A square around central Heshan, standing in for the county in the checks that need no database.
SQUARE_COUNTY = Polygon([(112.5, 22.5), (113.05, 22.5), (113.05, 22.9), (112.5, 22.9)])
LAISU = Place("来苏村", Point(112.93, 22.71), "approximate", "共和镇")
NO_PLACES = Reference(NamedPlaces({}, {}, {}), SQUARE_COUNTY)
SITE = {"name": "行检查项目", "kind": "project", "stage": "signed", "lon": "112.9612", "lat": "22.7703"}


def one(values: dict[str, object], reference: Reference = NO_PLACES, **options: object):
    """Return the Validation of one record of field values."""
    return check_records([InputRecord(row=1, values=values)], Options(**options), reference, WGS84)


def test_a_record_with_lon_lat_becomes_a_wgs84_site_record() -> None:
    result = one({**SITE, "stage": "已动工", "area_ha": "3.5", "signed_on": "2023-05", "started_on": "2024-01-10",
                  "source": "'=今日"})
    assert result.errors == [] and result.crs_used == "EPSG:4326"
    [record] = result.records
    assert (record.row, record.kind, record.name, record.stage, record.precision) == (
        1, "project", "行检查项目", "started", "point")
    assert (record.geometry.x, record.geometry.y) == pytest.approx((112.9612, 22.7703))
    assert record.value("area_ha") == 3.5
    assert record.value("source") == "'=今日"  # not a spreadsheet: the apostrophe is the editor's own
    assert sorted(record.stage_dates) == ["signed", "started"]
    assert record.keep_geometry is False


def test_errors_name_the_columns_the_fields_came_from_and_units_scale() -> None:
    columns = SourceColumns({"name": ColumnMatch("项目名称", "name"), "kind": ColumnMatch("类型", "kind"),
                             "stage": ColumnMatch("状态", "stage"), "lon": ColumnMatch("经度", "lon"),
                             "lat": ColumnMatch("纬度", "lat"), "area_ha": ColumnMatch("面积(亩)", "area_ha", 1 / 15)})
    records = [InputRecord(2, {**SITE, "area_ha": "15"}),
               InputRecord(3, {**SITE, "name": "乙", "stage": "快好了"}),
               InputRecord(4, {**SITE, "name": "丙", "lat": None})]
    result = check_records(records, Options(), NO_PLACES, WGS84, columns)
    assert [record.value("area_ha") for record in result.records] == [pytest.approx(1.0)]
    assert [(error["row"], error["column"]) for error in result.errors] == [(3, "状态"), (4, "纬度")]
    assert "longitude and latitude come in pairs" in result.errors[1]["message"]


def test_a_record_without_coordinates_is_placed_by_the_gazetteer_it_is_given() -> None:
    reference = Reference(NamedPlaces({}, {"来苏村": LAISU}, {}), SQUARE_COUNTY)
    result = one({"name": "村里项目", "kind": "project", "stage": "signed", "village": "来苏"}, reference)
    [record] = result.records
    assert record.geometry.equals(LAISU.point) and record.precision == "approximate"
    assert record.town == "共和镇" and record.keep_geometry is True
    assert result.notes == [{"row": 1, "message": "placed at 来苏村 (approximate: no coordinates given)"}]
    # Issue 10: a village the gazetteer does not know leaves the place unknown: county, no geometry, a note.
    unplaced = one({"name": "村里项目", "kind": "project", "stage": "signed", "village": "来苏"})
    [county] = unplaced.records
    assert unplaced.errors == [] and (county.precision, county.geometry, county.town) == ("county", None, None)
    assert "no known park, village or town" in unplaced.notes[0]["message"]
    assert "village '来苏' is not in the gazetteer" in unplaced.notes[0]["message"]


def test_the_gazetteer_the_service_builds_places_by_village_and_town(session) -> None:
    reference = load_reference(session)
    assert reference.county is not None and reference.county.covers(Point(112.9612, 22.7703))
    result = check_records([InputRecord(1, {"name": "五星村项目", "kind": "project", "stage": "signed", "village": "五星村"}),
                            InputRecord(2, {"name": "双合项目", "kind": "project", "stage": "signed", "town": "双合"})],
                           Options(), reference, WGS84)
    assert result.errors == []
    assert [(record.town, record.precision) for record in result.records] == [("鹤城镇", "approximate"),
                                                                             ("双合镇", "town")]


def test_without_a_name_field_there_is_one_error_and_no_row_is_read() -> None:
    result = one({"kind": "project", "stage": "signed", "lon": "112.96", "lat": "22.77"})
    assert result.errors == [{"row": None, "column": None, "message": "缺少名称列 / no name column (name/名称/项目名称)"}]
    assert result.records == []


def test_a_code_or_a_kind_and_name_used_twice_is_an_error_of_the_later_record() -> None:
    records = [InputRecord(1, {**SITE, "code": "RC-1"}), InputRecord(2, {**SITE, "name": "另一个", "code": "RC-1"}),
               InputRecord(3, {**SITE, "name": "无代码"}), InputRecord(4, {**SITE, "name": "无代码"})]
    result = check_records(records, Options(), NO_PLACES, WGS84)
    assert [record.row for record in result.records] == [1, 3]
    assert [(error["row"], error["column"]) for error in result.errors] == [(2, "code"), (4, "name")]
    assert "already used in row 1" in result.errors[0]["message"]
    assert "is also in row 3 and neither has a code" in result.errors[1]["message"]


def test_a_position_outside_the_county_is_refused_naming_its_columns(session) -> None:
    columns = SourceColumns({"name": ColumnMatch("名称", "name"), "kind": ColumnMatch("kind", "kind"),
                             "stage": ColumnMatch("stage", "stage"), "lon": ColumnMatch("经度", "lon"),
                             "lat": ColumnMatch("纬度", "lat")})
    records = [InputRecord(1, SITE), InputRecord(2, {**SITE, "name": "佛山", "lon": "113.2", "lat": "23.1"})]
    result = check_records(records, Options(), load_reference(session), WGS84, columns)
    assert [record.name for record in result.records] == ["行检查项目"]
    [error] = result.errors
    assert (error["row"], error["column"]) == (2, "经度, 纬度") and "outside Heshan" in error["message"]


def test_a_bad_cell_is_reported_once_fields_before_other_columns() -> None:
    columns = SourceColumns({name: ColumnMatch(name, name) for name in SITE}, attributes=("企业数",))
    record = InputRecord(1, {**SITE, "name": "坏\x00名"}, attributes={"企业数": "十\x00"})
    result = check_records([record], Options(), NO_PLACES, WGS84, columns)
    assert [error["column"] for error in result.errors] == ["name", "企业数"]
    assert all("NUL" in error["message"] for error in result.errors)


def test_cells_of_other_columns_are_kept_as_attributes_without_an_exports_apostrophe() -> None:
    columns = SourceColumns({name: ColumnMatch(name, name) for name in SITE}, attributes=("企业数", "空"),
                            spreadsheet=True)
    record = InputRecord(1, SITE, attributes={"企业数": "'=12", "空": " "})
    [site] = check_records([record], Options(), NO_PLACES, WGS84, columns).records
    assert site.attributes == {"企业数": "=12"}


def test_a_table_row_and_a_record_of_the_same_site_get_the_same_result() -> None:
    # What an upload of one row and a REST Feature with the same fields are told must not differ.
    values = {"name": "同一个", "kind": "project", "stage": "signed", "lon": "112.9612", "lat": "22.7703",
              "started_on": "2024-01", "precision": "精确到米", "area_ha": "-1"}
    table = RawTable(format="geojson", columns=list(values), rows=[values], geometries=[None], crs_wkt=None,
                     row_numbers=[1], encoding=None)
    from_table = validate_table(table, Options(), NO_PLACES, WGS84)
    from_record = one(values)
    assert from_table.errors == from_record.errors and len(from_record.errors) == 3
    assert [error["column"] for error in from_record.errors] == ["area_ha", "started_on", "precision"]


def test_the_planned_stage_and_its_date_are_read_from_the_sheets_words() -> None:
    columns = SourceColumns({"name": ColumnMatch("项目名称", "name"), "kind": ColumnMatch("类型", "kind"),
                             "stage": ColumnMatch("状态", "stage"), "lon": ColumnMatch("经度", "lon"),
                             "lat": ColumnMatch("纬度", "lat"), "planned_on": ColumnMatch("谋划日期", "planned_on"),
                             "signed_on": ColumnMatch("签约日期", "signed_on")})
    records = [InputRecord(2, {**SITE, "name": word, "stage": word, "planned_on": "2023-04"})
               for word in ("谋划", "储备", "拟建", "规划中")]
    records.append(InputRecord(6, {**SITE, "name": "已签约的", "stage": "已签约", "planned_on": "2023",
                                   "signed_on": "2023-09-01"}))
    result = check_records(records, Options(), NO_PLACES, WGS84, columns)
    assert result.errors == []
    assert [record.stage for record in result.records] == ["planned"] * 4 + ["signed"]
    assert result.records[0].stage_dates["planned"].isoformat() == "2023-04"
    assert sorted(result.records[-1].stage_dates) == ["planned", "signed"]


def test_stage_dates_out_of_order_are_an_error_naming_both_dates() -> None:
    columns = SourceColumns({name: ColumnMatch(header, name) for name, header in (
        ("name", "项目名称"), ("kind", "类型"), ("stage", "状态"), ("lon", "经度"), ("lat", "纬度"),
        ("planned_on", "谋划日期"), ("signed_on", "签约日期"), ("started_on", "开工日期"))})
    records = [InputRecord(2, {**SITE, "name": "甲", "stage": "在建", "planned_on": "2024-06", "started_on": "2024-03"}),
               InputRecord(3, {**SITE, "name": "乙", "stage": "在建", "signed_on": "2024-05-02",
                               "started_on": "2024-05-01"}),
               # Known to different precisions, 2024 and 2024-03 agree.
               InputRecord(4, {**SITE, "name": "丙", "stage": "在建", "planned_on": "2024", "started_on": "2024-03"}),
               # The existing rule: a date for a stage the row has not reached.
               InputRecord(5, {**SITE, "name": "丁", "stage": "谋划", "signed_on": "2024-03"})]
    result = check_records(records, Options(), NO_PLACES, WGS84, columns)
    assert [record.name for record in result.records] == ["丙"]
    errors = {error["row"]: error for error in result.errors}
    assert errors[2]["column"] == "谋划日期, 开工日期"
    assert "谋划日期 2024-06 晚于 开工日期 2024-03" in errors[2]["message"]
    assert "planned_on 2024-06 is after started_on 2024-03" in errors[2]["message"]
    assert errors[3]["column"] == "签约日期, 开工日期" and "signed_on 2024-05-02 is after started_on 2024-05-01" \
        in errors[3]["message"]
    assert errors[5]["column"] == "签约日期" and "a date for signed but the stage is only planned" in errors[5]["message"]


def test_a_patch_orders_only_the_stage_dates_it_sends() -> None:
    # A PATCH merges the stored dates (a signed_on may be the day the site was entered) with the ones it sends.
    merged = {**SITE, "stage": "started", "signed_on": "2026-01-05", "started_on": "2025-06-01"}
    sent_only_start = one(merged, ordered_dates=frozenset({"started_on"}))
    assert sent_only_start.errors == [] and sorted(sent_only_start.records[0].stage_dates) == ["signed", "started"]
    sent_both = one(merged, ordered_dates=frozenset({"signed_on", "started_on"}))
    assert sent_both.records == [] and sent_both.errors[0]["column"] == "signed_on, started_on"
