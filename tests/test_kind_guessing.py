"""Uploads guess the kind the way a person would: a kind column, else the headers or the format, else ask."""
from __future__ import annotations

import json
import logging

from sqlalchemy import text

from heshan_map.ingest.kinds import guess_kind

from . import test_uploads
from .test_uploads import DATA, csv_bytes, features_by_name, upload_ok, upload_refused
from .test_uploads_writes import committed_site_count, run_cli

LOGGER = logging.getLogger(__name__)
editor = test_uploads.editor  # the fixtures of test_uploads, shared
KIND_MISSING = "kind missing: add a 类型/kind column or choose the kind of the upload"


def test_headers_name_the_kind_a_person_would_read_from_them() -> None:
    project = guess_kind(["项目名称", "经度", "纬度", "投资额(亿元)"], "项目名称", "csv", None)
    assert (project.kind, project.because) == ("project", "headers 项目名称, 投资额(亿元)")
    assert guess_kind(["名称", "地块编号", "用地面积(亩)"], "名称", "xlsx", None).kind == "land_plot"
    assert guess_kind(["园区名称", "镇街"], "园区名称", "csv", None).kind == "park"
    assert guess_kind(["示范点名称", "村"], "示范点名称", "geojson", None).kind == "green_site"
    assert guess_kind(["名称", "绿美类型"], "名称", "csv", None).kind == "green_site"
    # The format speaks first: a land report's plots are land plots.
    report = guess_kind(["地块号", "地块名称"], "地块名称", "land_report", "land_plot")
    assert report.kind == "land_plot" and report.because.startswith("format land report")


def test_headers_of_two_kinds_are_settled_by_the_name_column_else_ambiguous() -> None:
    # A project sheet that gives each project's land area: its name column says what a row is.
    settled = guess_kind(["项目名称", "用地面积"], "项目名称", "csv", None)
    assert (settled.kind, settled.because) == ("project", "name column 项目名称")
    ambiguous = guess_kind(["名称", "投资额", "地类"], "名称", "csv", None)
    assert ambiguous.kind is None and "project (投资额)" in ambiguous.because and "land_plot (地类)" in ambiguous.because
    assert guess_kind(["名称", "经度", "纬度"], "名称", "csv", None) is None


def test_the_gbk_project_sheet_uploads_as_projects_without_a_kind(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "projects_gbk.csv").read_bytes(), "projects_gbk.csv")
    assert report["created"] == 3
    assert report["kind_assumed"] == {"kind": "project", "because": "headers 项目名称, 项目代码, 投资额(亿元), 签约日期"}
    assert {"row": None, "message": "类型推断为重点项目 / kind assumed to be project "
                                    "(headers 项目名称, 项目代码, 投资额(亿元), 签约日期)"} in report["notes"]
    stored = features_by_name(client, report)
    assert {feature["properties"]["kind"] for feature in stored.values()} == {"project"}


def test_the_cli_imports_the_gbk_sheet_as_projects_without_a_kind(engine) -> None:
    before = committed_site_count(engine)
    result = run_cli("import", str(DATA / "projects_gbk.csv"), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert report["kind_assumed"]["kind"] == "project" and report["valid_rows"] == 3
    assert "kind assumed to be project" in result.stdout
    assert committed_site_count(engine) == before  # a dry run


def test_a_kind_column_wins_and_its_empty_cells_take_the_assumed_kind(client, connection, editor) -> None:
    data = csv_bytes(["名称", "类型", "经度", "纬度", "状态", "用地面积"],
                     [["某园区", "园区", "112.9612", "22.7703", "已获批", "80"],
                      ["某地块", "", "112.9712", "22.7603", "施工中", "5"]])
    report = upload_ok(client, editor, data, "mixed.csv")
    assert report["kind_assumed"] == {"kind": "land_plot", "because": "headers 用地面积"}
    kinds = dict(connection.execute(text("SELECT name, kind FROM sites WHERE name IN ('某园区', '某地块')")).all())
    assert kinds == {"某园区": "park", "某地块": "land_plot"}
    # Every row naming its kind: nothing is assumed.
    full = upload_ok(client, editor, csv_bytes(["名称", "类型", "经度", "纬度", "状态", "用地面积"],
                                               [["某园区", "园区", "112.9612", "22.7703", "已获批", "80"]]), "full.csv")
    assert full["kind_assumed"] is None
    assert not any("kind assumed" in note["message"] for note in full["notes"])


def test_the_upload_kind_parameter_wins_over_the_headers(client, connection, editor) -> None:
    data = csv_bytes(["项目名称", "经度", "纬度", "状态"], [["其实是绿美点", "112.9612", "22.7703", "建设中"]])
    report = upload_ok(client, editor, data, "given.csv", kind="green_site")
    assert report["kind_assumed"] is None
    assert connection.execute(text("SELECT kind FROM sites WHERE name = '其实是绿美点'")).scalar_one() == "green_site"


def test_a_land_report_says_its_format_made_its_plots_land_plots(client, editor) -> None:
    report = upload_ok(client, editor, (DATA / "land_report_gbk.txt").read_bytes(), "land_report_gbk.txt")
    assert report["kind_assumed"]["kind"] == "land_plot"
    assert report["kind_assumed"]["because"] == "format land report / 报备坐标 txt"


def test_without_a_clue_or_with_clues_of_two_kinds_the_kind_is_asked_for(client, connection, editor) -> None:
    plain = upload_refused(client, editor, csv_bytes(["名称", "经度", "纬度", "状态"],
                                                     [["无从判断", "112.9612", "22.7703", "已签约"]]), "plain.csv")
    assert KIND_MISSING in plain["errors"][0]["message"] and plain["kind_assumed"] is None
    mixed = upload_refused(client, editor, csv_bytes(["名称", "投资额", "地类", "经度", "纬度", "状态"],
                                                     [["两可", "1", "0601", "112.9612", "22.7703", "已签约"]]),
                           "mixed.csv")
    assert KIND_MISSING in mixed["errors"][0]["message"] and mixed["kind_assumed"] is None
    [note] = [note for note in mixed["notes"] if note["row"] is None]
    assert "the kind cannot be assumed" in note["message"] and "more than one kind" in note["message"]
    assert connection.execute(text("SELECT count(*) FROM sites WHERE name IN ('无从判断', '两可')")).scalar_one() == 0
