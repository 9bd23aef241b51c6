"""Alert rules, the alert and days_in_stage properties, the alert filter and the /alerts page and workbook."""
from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from shapely.geometry import Point

from heshan_map.alerts import ALERT_RULE_DEFAULTS, AlertRulesError, parse_rules
from heshan_map.dates import PartialDate
from heshan_map.records import SiteRecord
from heshan_map.storage.site_writes import upsert_sites

AS_OF = "2025-03-15"


def overdue_records() -> list[SiteRecord]:
    """Return a project signed 13 months before AS_OF, one signed 7 months before, one signed in 2024 (year only)."""
    return [
        SiteRecord(row=1, code="ALERT-RED", kind="project", name="预警红色项目", stage="signed", precision="point",
                   geometry=Point(112.95, 22.75),
                   stage_dates={"signed": PartialDate(dt.date(2024, 2, 15), "day")}),
        SiteRecord(row=2, code="ALERT-YELLOW", kind="project", name="预警黄色项目", stage="signed",
                   precision="point", geometry=Point(112.96, 22.76),
                   stage_dates={"signed": PartialDate(dt.date(2024, 8, 10), "day")}),
        SiteRecord(row=3, code="ALERT-YEAR", kind="project", name="预警年份项目", stage="signed", precision="point",
                   geometry=Point(112.97, 22.77), stage_dates={"signed": PartialDate(dt.date(2024, 1, 1), "year")}),
    ]


@pytest.fixture()
def overdue_sites(session) -> None:
    """Store the alert test sites in the test's transaction."""
    upsert_sites(session, overdue_records(), actor="alert-test")
    session.commit()


def properties_by_code(client, query: str) -> dict[str, dict]:
    """Return the properties of the alert test sites by code for a query."""
    body = client.get(f"/api/features?q=ALERT-&limit=100&{query}").get_json()
    return {f["properties"]["code"]: f["properties"] for f in body["features"]}


def test_defaults_are_the_issue_rules() -> None:
    project = ALERT_RULE_DEFAULTS["project"]
    assert project["signed"] == {"yellow": 6, "red": 12}
    assert project["started"] == {"yellow": 24, "red": 36}
    assert project["planned"] == {"yellow": 12}
    assert parse_rules(None) == ALERT_RULE_DEFAULTS


def test_an_override_changes_one_entry_only() -> None:
    rules = parse_rules('{"project": {"signed": {"red": 9}}}')
    assert rules["project"]["signed"] == {"yellow": 6, "red": 9}
    assert rules["park"] == ALERT_RULE_DEFAULTS["park"]


@pytest.mark.parametrize("raw", ['{"project": {"signed": {"red": 0}}}', '{"project": {"signed": {"yellow": "six"}}}',
                                 '{"project": {"signed": {"yellow": -3}}}', '{"farm": {}}', "not json",
                                 '{"project": {"signed": {"yellow": 12, "red": 6}}}'])
def test_a_bad_rule_is_refused_in_one_sentence(raw: str) -> None:
    with pytest.raises(AlertRulesError) as caught:
        parse_rules(raw)
    message = str(caught.value)
    assert message.startswith("ALERT_RULES") and message.endswith(".") and "\n" not in message


def test_a_bad_rule_stops_start_up() -> None:
    environment = {**os.environ, "ALERT_RULES": '{"project": {"signed": {"red": 0}}}'}
    result = subprocess.run([sys.executable, "-c", "from heshan_map import create_app; create_app()"],
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "ALERT_RULES project.signed.red must be a positive number of months, not 0."


def test_alert_and_days_in_stage_at_the_as_of_day(client, overdue_sites) -> None:
    sites = properties_by_code(client, f"as_of={AS_OF}")
    assert sites["ALERT-RED"]["alert"] == "red"
    assert sites["ALERT-RED"]["days_in_stage"] == (dt.date(2025, 3, 15) - dt.date(2024, 2, 15)).days
    assert sites["ALERT-YELLOW"]["alert"] == "yellow"
    # Known only to the year 2024: counts from 31 December 2024, so not yet six months.
    assert sites["ALERT-YEAR"]["alert"] is None
    assert sites["ALERT-YEAR"]["days_in_stage"] == (dt.date(2025, 3, 15) - dt.date(2024, 12, 31)).days
    early = properties_by_code(client, "as_of=2024-03-01")
    assert early["ALERT-RED"]["alert"] is None and set(early) == {"ALERT-RED", "ALERT-YEAR"}


def test_alert_filter_everywhere(client, overdue_sites) -> None:
    assert set(properties_by_code(client, f"as_of={AS_OF}&alert=red")) == {"ALERT-RED"}
    assert set(properties_by_code(client, f"as_of={AS_OF}&alert=yellow,red")) == {"ALERT-RED", "ALERT-YELLOW"}
    counts = client.get(f"/api/counts?q=ALERT-&as_of={AS_OF}&alert=red").get_json()
    assert counts == {"project": {"signed": 1}}
    items = client.get(f"/ogc/collections/project/items?q=ALERT-&as_of={AS_OF}&alert=yellow").get_json()
    assert [f["properties"]["code"] for f in items["features"]] == ["ALERT-YELLOW"]


def test_a_project_signed_13_months_before_as_of_is_red_on_the_alerts_page(client, overdue_sites) -> None:
    response = client.get(f"/alerts?as_of={AS_OF}&q=ALERT-")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<tr data-alert="red" data-code="ALERT-RED">' in page
    assert '<tr data-alert="yellow" data-code="ALERT-YELLOW">' in page
    assert "ALERT-YEAR" not in page  # known only to 2024: counts from 2024-12-31
    assert page.index("ALERT-RED") < page.index("ALERT-YELLOW")  # most overdue first
    assert "预警" in page and "最后一天" in page and 'class="site-nav"' in page
    assert "2024-02-15" in page and str((dt.date(2025, 3, 15) - dt.date(2024, 2, 15)).days) in page
    english = client.get(f"/alerts?as_of={AS_OF}&q=ALERT-&lang=en").get_data(as_text=True)
    assert "Days overdue" in english and "its last day" in english


def test_alerts_page_takes_the_shared_filters(client, overdue_sites) -> None:
    page = client.get(f"/alerts?as_of={AS_OF}&q=ALERT-&alert=yellow").get_data(as_text=True)
    assert "ALERT-YELLOW" in page and "ALERT-RED" not in page
    assert client.get("/alerts?as_of=2999-01-01").status_code == 400


def test_alerts_workbook_lists_the_same_sites(client, overdue_sites) -> None:
    response = client.get(f"/alerts.xlsx?as_of={AS_OF}&q=ALERT-")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [row for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ("预警", "名称")
    assert [row[1] for row in rows[1:3]] == ["预警红色项目", "预警黄色项目"]
    assert rows[1][0] == "红色" and rows[1][6] == "2024-02-15"
    assert rows[1][8] == (dt.date(2025, 3, 15) - dt.date(2024, 8, 15)).days
