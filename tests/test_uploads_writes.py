"""POST /api/uploads and heshan-map import: all or nothing, idempotence, hostile files, the CLI."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from heshan_map import create_app

from . import test_uploads
from .conftest import TEST_URL
from .test_uploads import (DATA, EDITOR, GOOD_ROW, ONE_PROJECT, PROJECT_HEADER, SAMPLE_PROJECT_POSITIONS, counts,
                           csv_bytes, fixed_sample_csv, post_upload, upload_ok, upload_refused)

editor = test_uploads.editor  # the fixtures of test_uploads, shared
CLI = str(Path(sys.executable).parent / "heshan-map")


# --- 6. all-or-nothing and idempotence -------------------------------------------------------------

def test_dry_run_previews_and_writes_nothing(client, connection, editor) -> None:
    before = counts(connection)
    response = post_upload(client, fixed_sample_csv("projects_utf8.csv", "utf-8"), "p.csv", editor,
                           kind="project", dry_run="true")
    report = response.get_json()
    assert response.status_code == 200, report
    assert report["dry_run"] is True and report["upload_id"] is None
    assert report["created"] == 3  # what a commit would do
    assert len(report["preview"]["features"]) == 3
    assert {f["properties"]["name"] for f in report["preview"]["features"]} == set(SAMPLE_PROJECT_POSITIONS)
    assert counts(connection) == before


def test_one_bad_row_writes_nothing_of_the_good_ones(client, connection, editor) -> None:
    before = counts(connection)
    rows = [["项目甲", "112.96", "22.77", "已签约", "A-1", "", ""],
            ["项目乙", "112.80", "22.64", "已签约", "A-2", "", ""],
            ["项目丙", "113.5", "23.5", "已签约", "A-3", "", ""]]
    report = upload_refused(client, editor, csv_bytes(PROJECT_HEADER, rows), "p.csv", kind="project")
    assert [e["row"] for e in report["errors"]] == [4]
    assert report["created"] == 0
    assert counts(connection) == before


def test_the_same_file_twice_changes_nothing(client, connection, editor) -> None:
    data = fixed_sample_csv("projects_gbk.csv", "gb18030")
    first = upload_ok(client, editor, data, "p.csv", kind="project")
    assert first["created"] == 3
    after_first = counts(connection)
    second = upload_ok(client, editor, data, "p.csv", kind="project")
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    sites, events, edits, uploads = counts(connection)
    assert (sites, events, edits) == after_first[:3]
    assert uploads == after_first[3] + 1


@pytest.mark.parametrize("name,params,rows", [
    ("projects.xlsx", {"kind": "project"}, 2), ("green_sites.kml", {"kind": "green_site"}, 2),
    ("plots.geojson", {"kind": "land_plot", "stage": "signed"}, 3),
    ("plots_4547_shp.zip", {"kind": "land_plot", "stage": "signed"}, 3),
    ("plots_gbk_nocpg_shp.zip", {"kind": "land_plot", "stage": "signed"}, 3),
    ("sites.gpkg", {"stage": "in_production"}, 2), ("land_report_gbk.txt", {}, 2),
    ("land_report_utf8_noprefix.txt", {}, 1),
])
def test_every_format_uploaded_twice_changes_nothing(client, connection, editor, name: str,
                                                     params: dict[str, str], rows: int) -> None:
    data = (DATA / name).read_bytes()
    first = upload_ok(client, editor, data, name, **params)
    assert first["created"] + first["updated"] == rows
    after_first = counts(connection)
    second = upload_ok(client, editor, data, name, **params)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, rows)
    assert counts(connection)[:3] == after_first[:3]


def history_of(client, site_id: int) -> list[dict[str, Any]]:
    """Return a site's history entries."""
    response = client.get(f"/api/features/{site_id}/history")
    assert response.status_code == 200
    return response.get_json()["history"]


def test_updated_sheet_moves_the_stage_with_its_date(client, editor) -> None:
    header = PROJECT_HEADER + ["动工日期"]
    first_rows = [["项目甲", "112.96", "22.77", "已签约", "U-1", "2", "2024-01-15", ""],
                  ["项目乙", "112.80", "22.64", "已签约", "U-2", "3", "2024-02", ""]]
    first = upload_ok(client, editor, csv_bytes(header, first_rows), "sheet.csv", kind="project")
    assert first["created"] == 2
    moved = [first_rows[0][:3] + ["已动工"] + first_rows[0][4:7] + ["2024-09-01"], first_rows[1]]
    second = upload_ok(client, editor, csv_bytes(header, moved), "sheet.csv", kind="project")
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
    site_id = next(s["id"] for s in second["sites"] if s["row"] == 2)
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    assert props["stage"] == "started" and props["started_on"] == "2024-09-01" and props["signed_on"] == "2024-01-15"
    started = [e for e in history_of(client, site_id) if e["type"] == "stage" and e["stage"] == "started"]
    assert len(started) == 1
    assert started[0]["reached_on"] == "2024-09-01"
    assert started[0]["by"] == EDITOR and started[0]["upload_id"] == second["upload_id"]


def test_stage_change_without_a_date_gets_today(client, editor) -> None:
    row = ["项目丁", "112.96", "22.77", "已签约", "U-9", "", "2023"]
    first = upload_ok(client, editor, csv_bytes(PROJECT_HEADER, [row]), "s.csv", kind="project")
    site_id = first["sites"][0]["id"]
    second = upload_ok(client, editor, csv_bytes(PROJECT_HEADER, [row[:3] + ["已投产"] + row[4:]]), "s.csv",
                       kind="project")
    assert second["updated"] == 1
    events = [e for e in history_of(client, site_id) if e["type"] == "stage"]
    assert [(e["stage"], e["reached_on"]) for e in events] == [
        ("signed", "2023"), ("in_production", dt.date.today().isoformat())]
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    assert props["in_production_on"] == dt.date.today().isoformat() and props["started_on"] is None


# --- 7. hostile files ---------------------------------------------------------------------------

def assert_json_error(response, status: int) -> dict[str, Any]:
    """Check a response is a JSON error of the contract's shape with that status; return its error."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_size_limit_is_a_413_json_error(connection, editor) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "DB_CONNECTION": connection,
                      "SECRET_KEY": "test", "MAX_CONTENT_LENGTH": 1000})
    client = app.test_client()
    before = counts(connection)
    big = csv_bytes(PROJECT_HEADER, [GOOD_ROW[:4] + [f"BIG-{i}"] + GOOD_ROW[5:] for i in range(60)])
    assert len(big) > 1000
    assert_json_error(post_upload(client, big, "big.csv", editor, kind="project"), 413)
    assert counts(connection) == before
    small = post_upload(client, ONE_PROJECT, "p.csv", editor, kind="project")
    assert small.status_code == 200, small.get_json()


@pytest.mark.parametrize("name,status", [
    ("zip_bomb.zip", 413), ("traversal.zip", 400), ("symlink.zip", 400), ("xxe.kml", 400),
    ("xxe.xlsx", 400), ("vrt_as.geojson", 415), ("not_really.xlsx", 415),
])
def test_hostile_files_are_refused(client, connection, editor, name: str, status: int) -> None:
    before = counts(connection)
    error = assert_json_error(post_upload(client, (DATA / name).read_bytes(), name, editor, kind="project",
                                          stage="signed"), status)
    assert "root:" not in json.dumps(error)
    assert counts(connection) == before


def test_unsupported_extension_and_missing_file(client, connection, editor) -> None:
    assert_json_error(post_upload(client, b"MZ\x90\x00", "tool.exe", editor), 415)
    response = client.post("/api/uploads", data={"kind": "project"}, headers={"Authorization": f"Bearer {editor}"},
                           content_type="multipart/form-data")
    assert "file" in assert_json_error(response, 400)["message"]


# --- 8. CLI ---------------------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run heshan-map as a user runs it, on the test database."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": TEST_URL})


def committed_site_count(engine) -> int:
    """Return the committed number of sites."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sites")).scalar_one()


def test_cli_dry_run_prints_the_counts(engine, tmp_path: Path) -> None:
    path = tmp_path / "projects_gbk.csv"
    path.write_bytes(fixed_sample_csv("projects_gbk.csv", "gb18030"))
    before = committed_site_count(engine)
    result = run_cli("import", str(path), "--kind", "project", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "created 3, updated 0, unchanged 0" in result.stdout
    assert "dry run" in result.stdout
    assert committed_site_count(engine) == before


def test_cli_bad_file_lists_every_error_without_a_traceback(engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(PROJECT_HEADER, [GOOD_ROW, ["", "112.9", "22.7", "快好了", "C-1", "NaN", ""]]))
    before = committed_site_count(engine)
    result = run_cli("import", str(path), "--kind", "project")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "row 3 [项目名称]" in result.stderr
    assert "row 3 [状态]" in result.stderr
    assert "row 3 [投资额(亿元)]" in result.stderr
    assert committed_site_count(engine) == before
    # The GBK sample with its 谋划 (now the planned stage) turned into a word no stage has: the error names the
    # spreadsheet row after the blank one.
    gbk = tmp_path / "projects_gbk_unknown_stage.csv"
    gbk.write_bytes((DATA / "projects_gbk.csv").read_bytes().replace("谋划".encode("gb18030"), "快好了".encode("gb18030")))
    sample = run_cli("import", str(gbk), "--kind", "project", "--dry-run")
    assert sample.returncode == 1 and "row 5 [状态]" in sample.stderr and "Traceback" not in sample.stderr


def test_cli_hostile_file_is_one_sentence(engine) -> None:
    result = run_cli("import", str(DATA / "traversal.zip"), "--kind", "land_plot")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "refused" in result.stderr
