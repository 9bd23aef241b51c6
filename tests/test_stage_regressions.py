"""An upload that sets a stage earlier than one the stored site already reached is a row error naming both dates."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from heshan_map.auth import create_user
from heshan_map.dates import today_in_heshan

from .test_uploads import counts, csv_bytes, post_upload, upload_ok, upload_refused

HEADER = ["项目名称", "项目代码", "经度", "纬度", "状态", "谋划日期", "签约日期", "动工日期", "投产日期"]
STARTED = ["倒退测试项目", "REG-1", "112.9612", "22.7703", "已动工", "", "2023-11", "2024-05-01", ""]


@pytest.fixture()
def editor(session) -> str:
    """Return the API token of a new editor."""
    return create_user(session, "regression-editor", "editor")


def stored_stage(connection, code: str) -> str:
    """Return the stored stage of a site by code."""
    return connection.execute(text("SELECT stage FROM sites WHERE code = :code"), {"code": code}).scalar_one()


def started_site(client, editor: str) -> None:
    """Upload a project that reached `started` on 2024-05-01."""
    upload_ok(client, editor, csv_bytes(HEADER, [STARTED]), "started.csv", kind="project")


def test_planned_after_started_is_a_row_error_naming_both_dates(client, connection, editor) -> None:
    started_site(client, editor)
    before = counts(connection)
    good = ["另一个项目", "REG-2", "112.9612", "22.7703", "已签约", "", "2024-02", "", ""]
    back = ["倒退测试项目", "REG-1", "112.9612", "22.7703", "谋划", "2025-03", "", "", ""]
    report = upload_refused(client, editor, csv_bytes(HEADER, [good, back]), "back.csv", kind="project")
    assert [(error["row"], error["column"]) for error in report["errors"]] == [(3, "stage")]
    message = report["errors"][0]["message"]
    assert "2025-03" in message and "2024-05-01" in message
    assert "阶段不能倒退" in message and "谋划中" in message and "已动工" in message
    assert "planned" in message and "started" in message
    # All or nothing: the good row is not written either.
    assert counts(connection) == before
    assert stored_stage(connection, "REG-1") == "started"


def test_a_row_without_a_date_names_the_date_it_would_record(client, connection, editor) -> None:
    started_site(client, editor)
    back = ["倒退测试项目", "REG-1", "112.9612", "22.7703", "已签约", "", "", "", ""]
    report = upload_refused(client, editor, csv_bytes(HEADER, [back]), "back.csv", kind="project")
    message = report["errors"][0]["message"]
    assert report["errors"][0]["row"] == 2
    assert today_in_heshan().isoformat() in message and "no date given" in message and "2024-05-01" in message


def test_a_dry_run_reports_the_regression_too(client, connection, editor) -> None:
    started_site(client, editor)
    back = ["倒退测试项目", "REG-1", "112.9612", "22.7703", "谋划", "2025-03", "", "", ""]
    response = post_upload(client, csv_bytes(HEADER, [back]), "back.csv", editor, kind="project", dry_run="true")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["column"] == "stage"


def test_a_site_matched_by_kind_and_name_is_checked_as_well(client, connection, editor) -> None:
    header = ["项目名称", "经度", "纬度", "状态", "投产日期"]
    upload_ok(client, editor, csv_bytes(header, [["无代码倒退", "112.9612", "22.7703", "已投产", "2025-06"]]),
              "done.csv", kind="project")
    report = upload_refused(client, editor, csv_bytes(header, [["无代码倒退", "112.9612", "22.7703", "已动工", ""]]),
                            "back.csv", kind="project")
    assert "2025-06" in report["errors"][0]["message"] and "in_production" in report["errors"][0]["message"]


def test_the_same_or_a_later_stage_is_accepted(client, connection, editor) -> None:
    started_site(client, editor)
    again = upload_ok(client, editor, csv_bytes(HEADER, [STARTED]), "again.csv", kind="project")
    assert again["unchanged"] == 1
    done = ["倒退测试项目", "REG-1", "112.9612", "22.7703", "已投产", "", "2023-11", "2024-05-01", "2025-10"]
    assert upload_ok(client, editor, csv_bytes(HEADER, [done]), "done.csv", kind="project")["updated"] == 1
    assert stored_stage(connection, "REG-1") == "in_production"
    # A new site may start at any stage.
    fresh = ["新谋划项目", "REG-NEW", "112.9612", "22.7703", "谋划", "2025-01", "", "", ""]
    assert upload_ok(client, editor, csv_bytes(HEADER, [fresh]), "fresh.csv", kind="project")["created"] == 1
