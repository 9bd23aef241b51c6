"""Pages in English say town names and reported figures in English; in Chinese the figures in the documents' words."""
from __future__ import annotations


def test_changes_and_alerts_name_towns_in_english(client) -> None:
    for url in ("/changes?lang=en", "/alerts?lang=en"):
        html = client.get(url).get_data(as_text=True)
        assert "Shaping" in html, url
        assert ">沙坪街道</option>" not in html, url
    assert ">沙坪街道</option>" in client.get("/changes").get_data(as_text=True)


def test_reported_figures_are_named_in_words_not_keys(client) -> None:
    zh = client.get("/dashboard").get_data(as_text=True)
    assert "全年新引进福建友谊等超亿元项目107个" in zh
    assert "projects_over_100m_cny" not in zh
    en = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "projects over 100m cny" in en and "projects_over_100m_cny" not in en


def test_the_dashboard_says_how_many_stages_have_no_date(client, session) -> None:
    from sqlalchemy import text

    undated = dict(session.execute(text(
        "SELECT e.stage, count(DISTINCT e.site_id) FROM stage_events e WHERE e.reached_on IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM stage_events x WHERE x.site_id = e.site_id AND x.stage = e.stage"
        " AND x.reached_on IS NOT NULL) GROUP BY e.stage")).all())
    assert undated, "the seed has stages the documents give no date for"
    assert client.get("/api/stats").get_json()["undated"] == undated
    html = client.get("/dashboard").get_data(as_text=True)
    assert "另有日期不详" in html
    assert f"已投产 {undated['in_production']}" in html


def test_error_pages_speak_the_page_language(client) -> None:
    zh = client.get("/dashboard?as_of=2099-01-01", headers={"Accept": "text/html"})
    assert zh.status_code == 400
    html = zh.get_data(as_text=True)
    assert "请求参数有误" in html and "返回地图" in html and "as_of" in html and "Back to the map" not in html
    en = client.get("/alerts?as_of=2023-13-45&lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "The request has a bad parameter" in en and "Back to the map" in en and "返回地图" not in en
    assert client.get("/sites/999999999", headers={"Accept": "text/html"}).status_code == 404


def test_the_filter_is_said_in_words_on_the_dashboard_and_the_printed_map(client) -> None:
    zh = client.get("/dashboard?reached=signed:2019&kind=project").get_data(as_text=True)
    assert "达到阶段：已签约 2019" in zh and "类型：重点项目" in zh and "reached=signed:2019" not in zh
    en = client.get("/dashboard?reached=signed:2019&lang=en").get_data(as_text=True)
    assert "reached: Signed 2019" in en
    printed = client.get("/print?stage=started&alert=red").get_data(as_text=True)
    assert "阶段：已动工" in printed and "预警：红色" in printed
