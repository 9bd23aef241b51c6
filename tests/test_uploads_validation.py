"""POST /api/uploads refused with 422: every row error, at the row as the spreadsheet counts it, nothing written."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from . import test_uploads
from .test_uploads import (GOOD_ROW, PROJECT_HEADER, counts, csv_bytes, error_at, feature, features_by_name,
                           geojson_bytes, upload_ok, upload_refused)

editor = test_uploads.editor  # the fixtures of test_uploads, shared


# --- 5. validation: 422, row as the spreadsheet counts it, the column, nothing written -------------

def refused_csv(client, connection, editor, bad_row: list[str], extra_rows: list[list[str]] | None = None,
                header: list[str] = PROJECT_HEADER) -> dict[str, Any]:
    """Upload a good row, then a bad one (spreadsheet row 3); check nothing was written; return the report."""
    before = counts(connection)
    report = upload_refused(client, editor, csv_bytes(header, [GOOD_ROW, bad_row, *(extra_rows or [])]),
                            "bad.csv", kind="project")
    assert counts(connection) == before
    return report


def test_missing_name(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["", "112.9", "22.7", "已签约", "V-1", "", ""])
    assert "name" in error_at(report, 3, "项目名称")["message"]


def test_unknown_stage(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "快好了", "V-1", "", ""])
    assert "快好了" in error_at(report, 3, "状态")["message"]


@pytest.mark.parametrize("value", ["十二亿", "NaN", "inf", "-Infinity", "1.2.3"])
def test_unparseable_or_non_finite_investment(client, connection, editor, value: str) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "已签约", "V-1", value, ""])
    assert value in error_at(report, 3, "投资额(亿元)")["message"]


def test_latitude_out_of_range(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目", "112.9", "95", "已签约", "V-1", "", ""])
    assert "95" in error_at(report, 3, "纬度")["message"]


def test_point_outside_heshan(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["广州项目", "113.2644", "23.1291", "已签约", "V-1", "", ""])
    error = [e for e in report["errors"] if e["row"] == 3]
    assert len(error) == 1 and "outside Heshan" in error[0]["message"]
    assert error[0]["column"] == "经度, 纬度"


def test_several_errors_are_all_reported(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["", "112.9", "22.7", "快好了", "V-1", "abc", ""],
                         extra_rows=[["项目", "112.9", "95", "已签约", "V-2", "", ""]])
    assert {(e["row"], e["column"]) for e in report["errors"]} == {
        (3, "项目名称"), (3, "状态"), (3, "投资额(亿元)"), (4, "纬度")}


def test_duplicate_codes_within_the_file(client, connection, editor) -> None:
    report = refused_csv(client, connection, editor, ["项目二", "112.9", "22.7", "已签约", "V-OK", "", ""])
    assert "row 2" in error_at(report, 3, "项目代码")["message"]


def test_same_name_twice_without_codes(client, connection, editor) -> None:
    """Rows without a code are found again by kind and name; two of them would flip one site back and forth."""
    report = refused_csv(client, connection, editor, ["好项目", "112.80", "22.64", "已签约", "", "", ""],
                         extra_rows=[["好项目", "112.85", "22.70", "已签约", "", "", ""]])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "项目名称")]
    assert "row 3" in report["errors"][0]["message"]


def test_date_for_a_stage_not_reached(client, connection, editor) -> None:
    header = PROJECT_HEADER + ["投产日期"]
    report = refused_csv(client, connection, editor, ["项目", "112.9", "22.7", "已签约", "V-1", "", "", "2024-06"],
                         header=header)
    assert "in_production" in error_at(report, 3, "投产日期")["message"]


BOWTIE = {"type": "Polygon", "coordinates": [[[112.95, 22.76], [112.97, 22.78], [112.97, 22.76],
                                               [112.95, 22.78], [112.95, 22.76]]]}


def test_self_intersecting_polygon_is_refused_with_the_geos_reason(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "好地块", "编号": "G-1"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}),
                         feature({"名称": "蝴蝶地块", "编号": "G-2"}, BOWTIE))
    before = counts(connection)
    report = upload_refused(client, editor, data, "bowtie.geojson", kind="land_plot", stage="signed")
    assert "Self-intersection" in error_at(report, 2, "geometry")["message"]  # GIS features count from 1
    assert counts(connection) == before


def test_self_intersecting_polygon_is_repaired_when_asked(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "蝴蝶地块", "编号": "G-2"}, BOWTIE))
    report = upload_ok(client, editor, data, "bowtie.geojson", kind="land_plot", stage="signed", repair="true")
    assert report["created"] == 1
    notes = [n for n in report["notes"] if "repaired" in n["message"]]
    assert len(notes) == 1 and notes[0]["row"] == 1
    message = notes[0]["message"]
    assert "Self-intersection" in message and "MultiPolygon of 2 parts" in message
    before_ha, after_ha = (float(v) for v in re.findall(r"([\d.]+) ha", message))
    # Two triangles, each 0.01° of longitude by 0.02° of latitude (about 1.03 km by 2.21 km) / 2: 227 ha in all.
    assert after_ha == pytest.approx(227, rel=0.01) and before_ha < after_ha
    stored = features_by_name(client, report)["蝴蝶地块"]
    assert stored["geometry"]["type"] == "MultiPolygon"
    assert connection.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM sites WHERE code = 'G-2'")).scalar()


def test_linestring_is_no_project(client, connection, editor) -> None:
    data = geojson_bytes(feature({"名称": "道路项目", "编号": "L-1", "状态": "已签约"},
                                 {"type": "LineString", "coordinates": [[112.95, 22.76], [112.96, 22.77]]}))
    before = counts(connection)
    report = upload_refused(client, editor, data, "road.geojson", kind="project")
    assert "LineString" in error_at(report, 1, "geometry")["message"]
    assert counts(connection) == before


def test_feature_rows_count_as_gis_attribute_tables_do(client, connection, editor) -> None:
    """GeoJSON features have no header row: they are numbered as a GIS attribute table shows them, from 1."""
    data = geojson_bytes(feature({"名称": "好", "编号": "F-1", "状态": "已签约"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}),
                         feature({"名称": "", "编号": "F-2", "状态": "已签约"},
                                 {"type": "Point", "coordinates": [112.96, 22.77]}))
    report = upload_refused(client, editor, data, "rows.geojson", kind="project")
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "名称")]
