"""GET /api/stats equals SQL written here over sites and stage_events, for several filters; zeros for nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from heshan_map.vocabulary import KINDS, STAGES, TOWNS

# The filters of the tests, each as a query string and as a WHERE clause over sites s written independently.
FILTERS = [
    ("", "TRUE"),
    ("kind=project", "s.kind = 'project'"),
    ("town=沙坪街道", "s.town = '沙坪街道'"),
    ("kind=project,green_site&town=共和镇", "s.kind IN ('project', 'green_site') AND s.town = '共和镇'"),
    ("year=2024", "EXISTS (SELECT 1 FROM stage_events y WHERE y.site_id = s.id"
                  " AND y.reached_on BETWEEN '2024-01-01' AND '2024-12-31')"),
]


def stats(client, query: str) -> dict:
    response = client.get(f"/api/stats?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def reached_in_sql(connection, where: str) -> dict[tuple[int, str, str], int]:
    """Return (year, stage, kind) -> sites with an event of the stage dated that year (what reached= selects)."""
    rows = connection.execute(text(f"""
        SELECT CAST(extract(year FROM n.reached_on) AS int), n.stage, s.kind, count(DISTINCT s.id)
        FROM stage_events n JOIN sites s ON s.id = n.site_id
        WHERE n.reached_on IS NOT NULL AND {where} GROUP BY 1, 2, 3""")).all()
    return {(year, stage, kind): count for year, stage, kind, count in rows}


@pytest.mark.parametrize("query,where", FILTERS)
def test_kind_and_stage_figures_equal_sql(client, connection, query: str, where: str) -> None:
    body = stats(client, query)
    rows = connection.execute(text(
        f"SELECT s.kind, s.stage, count(*), COALESCE(sum(s.investment_cny_100m), 0), COALESCE(sum(s.area_ha), 0)"
        f" FROM sites s WHERE {where} GROUP BY 1, 2")).all()
    expected = {(kind, stage): (count, float(invest), float(area)) for kind, stage, count, invest, area in rows}
    got = {(c["kind"], c["stage"]): (c["sites"], c["investment_cny_100m"], c["area_ha"])
           for c in body["by_kind_stage"]}
    assert len(got) == len(KINDS) * len(STAGES)
    for key, value in got.items():
        count, invest, area = expected.get(key, (0, 0.0, 0.0))
        assert value == (count, pytest.approx(invest), pytest.approx(area)), key
    assert body["total"]["sites"] == sum(count for count, _, _ in expected.values())


@pytest.mark.parametrize("query,where", FILTERS)
def test_per_year_figures_come_from_stage_events(client, connection, query: str, where: str) -> None:
    body = stats(client, query)
    got = {(entry["year"], stage, kind): cell["sites"] for entry in body["by_year"]
           for stage, stages in entry["stages"].items() for kind, cell in stages["kinds"].items() if cell["sites"]}
    assert got == reached_in_sql(connection, where)
    if not query:
        assert got, "the seed reaches stages in several years"


@pytest.mark.parametrize("query,where", FILTERS)
def test_town_figures_equal_sql(client, connection, query: str, where: str) -> None:
    body = stats(client, query)
    rows = connection.execute(text(f"SELECT s.town, s.stage, count(*) FROM sites s WHERE {where} GROUP BY 1, 2"))
    expected = {(town, stage): count for town, stage, count in rows}
    got = {(entry["town"], stage): cell["sites"] for entry in body["by_town"]
           for stage, cell in entry["stages"].items() if cell["sites"]}
    assert got == expected
    assert [entry["town"] for entry in body["by_town"]][:len(TOWNS)] == list(TOWNS)


@pytest.mark.parametrize("query,where", FILTERS)
def test_the_funnel_counts_sites_that_ever_reached_a_stage(client, connection, query: str, where: str) -> None:
    body = stats(client, query)
    ranks = " ".join(f"WHEN '{stage}' THEN {rank}" for rank, stage in enumerate(STAGES))
    furthest = dict(connection.execute(text(
        f"SELECT s.id, max(CASE e.stage {ranks} END) FROM sites s JOIN stage_events e ON e.site_id = s.id"
        f" WHERE {where} GROUP BY s.id")).all())
    expected = [sum(1 for rank in furthest.values() if rank >= index) for index in range(len(STAGES))]
    assert [step["sites"] for step in body["funnel"]] == expected
    assert [step["stage"] for step in body["funnel"]] == list(STAGES)
    for before, step in zip(body["funnel"], body["funnel"][1:]):
        share = step["sites"] / before["sites"] if before["sites"] else None
        assert step["conversion"] == (None if share is None else pytest.approx(share, abs=1e-4))


def test_a_site_counts_in_the_year_it_reached_a_stage_whatever_its_stage_now(client, connection) -> None:
    site_id = connection.execute(text(
        "INSERT INTO sites (code, kind, name, stage, precision, town, investment_cny_100m) VALUES"
        " ('STATS-1', 'project', '统计测试项目', 'in_production', 'county', '宅梧镇', 2.5) RETURNING id")).scalar_one()
    connection.execute(text(
        "INSERT INTO stage_events (site_id, stage, reached_on, date_precision) VALUES"
        " (:id, 'signed', '2019-05-01', 'day'), (:id, 'started', '2020-03-01', 'day'),"
        " (:id, 'in_production', '2021-10-01', 'month')"), {"id": site_id})
    body = stats(client, "q=STATS-1")
    years = {(entry["year"], stage): cell["sites"] for entry in body["by_year"]
             for stage, cell in entry["stages"].items() if cell["sites"]}
    assert years == {(2019, "signed"): 1, (2020, "started"): 1, (2021, "in_production"): 1}
    signed = next(entry for entry in body["by_year"] if entry["year"] == 2019)["stages"]["signed"]
    assert signed["investment_cny_100m"] == 2.5 and signed["kinds"]["project"]["sites"] == 1
    change = next(y for y in body["year_over_year"] if y["year"] == 2020 and y["stage"] == "signed")
    assert (change["sites"], change["previous"], change["change"]) == (0, 1, -1)
    assert [step["sites"] for step in body["funnel"]] == [1, 1, 1, 1]


def test_a_filter_that_selects_nothing_gives_zeros(client) -> None:
    body = stats(client, "q=没有这个名称的项目")
    assert body["total"] == {"sites": 0, "investment_cny_100m": 0.0, "area_ha": 0.0}
    assert all(cell["sites"] == 0 and cell["investment_cny_100m"] == 0 for cell in body["by_kind_stage"])
    assert len(body["by_kind_stage"]) == len(KINDS) * len(STAGES)
    assert all(entry["total"]["sites"] == 0 for entry in body["by_town"])
    assert [step["sites"] for step in body["funnel"]] == [0] * len(STAGES)
    assert all(step["conversion"] is None for step in body["funnel"])
    assert body["by_year"] == [] and body["year_over_year"] == []
    assert all(figure["held"] in (0, None) for figure in body["reported"])


def test_reported_figures_stand_beside_what_the_data_holds(client, connection) -> None:
    body = stats(client, "")
    figure = next(f for f in body["reported"] if (f["year"], f["stage"], f["kind"], f["metric"])
                  == (2024, "signed", "project", "projects_over_100m_cny"))
    assert figure["value"] == 107
    expected = reached_in_sql(connection, "TRUE").get((2024, "signed", "project"), 0)
    assert figure["held"] == expected


def test_a_bad_filter_is_a_400_naming_it(client) -> None:
    response = client.get("/api/stats?stage=finished")
    assert response.status_code == 400
    assert "stage" in response.get_json()["error"]["message"]


def test_the_dashboard_and_its_workbook_refuse_a_bad_filter(client) -> None:
    for path in ("/dashboard?stage=finished", "/dashboard.xlsx?kind=castle", "/dashboard?lang=fr"):
        response = client.get(path)
        assert response.status_code == 400, path
    page = client.get("/dashboard?q=没有这个名称的项目")
    assert page.status_code == 200
    assert 'id="table-kind_stage"' in page.get_data(as_text=True)


def test_stats_follow_as_of_reached_and_alert_like_the_features(client) -> None:
    """The totals equal /api/features for as_of, reached and alert; each year's count equals its reached= link."""
    for q in ("as_of=2023-06-30", "as_of=2021-12-31", "reached=signed:2022", "as_of=2023-06-30&alert=red,yellow"):
        r = client.get("/api/stats?" + q)
        assert r.status_code == 200, r.get_data(as_text=True)[:800]
        d = r.get_json()
        n = client.get("/api/features?limit=1&" + q).get_json()["numberMatched"]
        assert d["total"]["sites"] == n, q
    d = client.get("/api/stats").get_json()
    for y in d["by_year"]:
        for s, c in y["stages"].items():
            n = client.get(f"/api/features?limit=1&reached={s}:{y['year']}").get_json()["numberMatched"]
            assert c["sites"] == n, (s, y["year"])
    assert client.get("/dashboard?as_of=2023-06-30&lang=en").status_code == 200
