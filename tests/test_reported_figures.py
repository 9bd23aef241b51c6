"""The county totals the documents report: loaded from a CSV by the seed, idempotently, and read at /api/reported-figures."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import text

from heshan_map.seed import FIGURES_FILE, SeedError, load_reported_figures, read_reported_figures, seed_database

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["year", "stage", "kind", "metric", "value", "unit", "source"]
ROWS = [
    ["2024", "signed", "project", "projects_over_100m_cny", "107", "个", "seeds/a.txt: 「新引进超亿元项目107个」"],
    ["2024", "", "", "planned_investment", "1029.19", "亿元", "seeds/a.txt: 「计划总投资1029.19亿元，同比增长」"],
    ["2025", "", "land_plot", "land_supply", "66.7", "公顷", "seeds/b.txt: 「供应土地66.7公顷」"],
]


def write_figures(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """Write a reported-figures CSV; return its path."""
    path = tmp_path / "reported_figures.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stored(session) -> list[tuple]:
    """Return the stored figures with their ids."""
    return session.execute(text("SELECT id, year, stage, kind, metric, value, unit, source FROM reported_figures"
                                " ORDER BY id")).all()


def test_loading_twice_changes_nothing_and_the_api_lists_them(session, client, tmp_path: Path) -> None:
    session.execute(text("DELETE FROM reported_figures"))
    path = write_figures(tmp_path, ROWS)
    assert load_reported_figures(session, path) == 3
    first = stored(session)
    assert load_reported_figures(session, path) == 3
    assert stored(session) == first
    session.commit()
    body = client.get("/api/reported-figures").get_json()
    assert body == [
        {"year": 2024, "stage": None, "kind": None, "metric": "planned_investment", "value": 1029.19, "unit": "亿元",
         "source": "seeds/a.txt: 「计划总投资1029.19亿元，同比增长」"},
        {"year": 2024, "stage": "signed", "kind": "project", "metric": "projects_over_100m_cny", "value": 107.0,
         "unit": "个", "source": "seeds/a.txt: 「新引进超亿元项目107个」"},
        {"year": 2025, "stage": None, "kind": "land_plot", "metric": "land_supply", "value": 66.7, "unit": "公顷",
         "source": "seeds/b.txt: 「供应土地66.7公顷」"},
    ]


def test_a_changed_file_updates_and_removes_figures_in_place(session, tmp_path: Path) -> None:
    session.execute(text("DELETE FROM reported_figures"))
    load_reported_figures(session, write_figures(tmp_path, ROWS))
    ids = {row.metric: row.id for row in stored(session)}
    changed = [ROWS[0][:4] + ["108"] + ROWS[0][5:], ROWS[1]]
    load_reported_figures(session, write_figures(tmp_path, changed))
    rows = {row.metric: row for row in stored(session)}
    assert set(rows) == {"projects_over_100m_cny", "planned_investment"}
    assert rows["projects_over_100m_cny"].id == ids["projects_over_100m_cny"]
    assert float(rows["projects_over_100m_cny"].value) == 108


@pytest.mark.parametrize("row, expected", [
    (["20x4", "", "", "m", "1", "个", "s"], "line 3: year '20x4'"),
    (["2024", "finished", "", "m", "1", "个", "s"], "line 3: unknown stage 'finished'"),
    (["2024", "", "plaza", "m", "1", "个", "s"], "line 3: unknown kind 'plaza'"),
    (["2024", "", "", "m", "about 3", "个", "s"], "line 3: value 'about 3' is not a number"),
    (["2024", "", "", "m", "1", "个", ""], "line 3: source is empty"),
    (["2024", "", "", "planned_investment", "2", "亿元", "s"], "line 3: the same year, metric, stage and kind as line 2"),
])
def test_a_bad_row_refuses_the_file(session, tmp_path: Path, row: list[str], expected: str) -> None:
    before = stored(session)
    with pytest.raises(SeedError) as caught:
        load_reported_figures(session, write_figures(tmp_path, [ROWS[1], row]))
    assert expected in caught.value.message
    assert stored(session) == before


def test_a_missing_column_or_file_is_refused(session, tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="missing column"):
        read_reported_figures(write_figures(tmp_path, [r[:6] for r in ROWS], HEADER[:6]))
    with pytest.raises(SeedError, match="no such reported figures file"):
        load_reported_figures(session, tmp_path / "none.csv")


def test_seed_database_loads_the_figures_it_is_given(session, tmp_path: Path) -> None:
    session.execute(text("DELETE FROM reported_figures"))
    seed_database(session, figures_path=write_figures(tmp_path, ROWS))
    assert len(stored(session)) == 3


def test_openapi_describes_the_figures_and_the_answer_conforms(client, session, tmp_path: Path) -> None:
    load_reported_figures(session, write_figures(tmp_path, ROWS))
    session.commit()
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/reported-figures"]["get"]
    assert operation["operationId"] == "listReportedFigures"
    validator = OAS30Validator(document["components"]["schemas"]["ReportedFigure"])
    figures = client.get("/api/reported-figures").get_json()
    assert figures
    for figure in figures:
        validator.validate(figure)


@pytest.mark.skipif(not FIGURES_FILE.exists(), reason="geodata/reported_figures.csv is not there yet")
def test_the_seed_figures_are_loaded_and_quote_their_documents(client) -> None:
    figures = read_reported_figures(FIGURES_FILE)
    assert len(client.get("/api/reported-figures").get_json()) == len(figures) > 0
    for figure in figures:
        for line in figure["source"].splitlines():
            match = re.match(r"^seeds/(\S+\.txt): 「(.+)」$", line)
            assert match, figure
            assert match.group(2) in (ROOT / "seeds" / match.group(1)).read_text(encoding="utf-8"), line
