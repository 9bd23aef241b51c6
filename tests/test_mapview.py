"""The folium declaration of the map, the page config and site page read from sitefields, and the packaged templates."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from heshan_map import mapview, sitefields
from heshan_map.vocabulary import KINDS, STAGE_COLOURS, STAGES
from tests.conftest import TEST_URL

ROOT = Path(__file__).resolve().parent.parent
TILE_URL = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
CONFIG = {"TILE_URL": TILE_URL, "TILE_ATTRIBUTION": "&copy; OpenStreetMap"}
COUNTS = {"project": {"signed": 19, "started": 6}, "park": {"in_production": 3}}


def rendered(config: dict = CONFIG, hidden: set[str] | None = None) -> tuple[dict[str, str], mapview.LayerNames]:
    """Return the rendered parts of a map over COUNTS and the names of its layers."""
    fmap, names = mapview.build_map("zh", config, counts=COUNTS, hidden=hidden)
    return mapview.render_map_parts(fmap, "test-nonce"), names


def control_entries(script: str, block: str = "overlays") -> dict[str, str]:
    """Return one block of the layer control (overlays or base_layers): each layer's JavaScript name by label."""
    entries = script.split(f"{block} :", 1)[1].split("}", 1)[0]
    return {json.loads(label): name for label, name in re.findall(r'^\s*("(?:[^"\\]|\\.)*") : (\w+),$',
                                                                    entries, re.MULTILINE)}


def test_a_group_per_kind_and_a_sub_group_per_stage_each_with_a_cluster():
    parts, names = rendered()
    script = parts["script"]
    sub_groups = dict(re.findall(r"var (feature_group_sub_group_\w+) = L\.featureGroup\.subGroup\(\s*(\w+)\s*\)",
                                 script))
    assert len(sub_groups) == len(KINDS) * len(STAGES)
    assert set(sub_groups.values()) == set(names.kinds.values()) and len(names.kinds) == len(KINDS)
    for site in names.sites:
        assert sub_groups[site.group] == names.kinds[site.kind]
        assert f"var {site.points} = L.markerClusterGroup(" in script
        assert f"{site.points}.addTo({site.group});" in script and f"{site.shapes}.addTo({site.group});" in script
        assert f'clusterIcon(cluster, "{STAGE_COLOURS[site.stage]}")' in script
    assert script.count("L.markerClusterGroup(") == len(KINDS) * len(STAGES)
    assert script.count("L.control.layers(") == 1
    assert '"collapsed": window.innerWidth < 700' in script
    assert [site.key for site in names.sites] == [f"{kind}/{stage}" for kind in KINDS for stage in STAGES]


def test_the_control_lists_the_outlines_and_each_stage_with_sites_counted():
    parts, names = rendered()
    labels = control_entries(parts["script"])
    assert list(labels)[:2] == ["鹤山市界", "镇街范围（近似）"]
    assert list(labels.values())[:2] == list(names.areas.values())
    by_key = {site.key: site for site in names.sites}
    listed = {re.search(r'data-layer="([^"]+)"', label).group(1): (label, name) for label, name in labels.items()
              if "data-layer" in label}
    assert set(listed) == {"project/signed", "project/started", "park/in_production"}
    label, name = listed["project/signed"]
    assert name == by_key["project/signed"].group
    assert "重点项目 · 已签约 (19)" in label and f"background: {STAGE_COLOURS['signed']}" in label
    # Alone, OpenStreetMap is no choice to offer; with Tianditu both basemaps are.
    assert control_entries(parts["script"], "base_layers") == {}
    keyed, _ = rendered({**CONFIG, "TIANDITU_KEY": "k1"})
    assert list(control_entries(keyed["script"], "base_layers")) == ["OpenStreetMap 底图", "天地图", "天地图影像"]


def test_switched_off_layers_start_off_the_map():
    parts, names = rendered(hidden={"project/signed"})
    map_name = re.search(r"var (map_\w+) = L\.map\(", parts["script"]).group(1)
    for site in names.sites:
        shown = f"{site.group}.addTo({map_name});" in parts["script"]
        assert shown == (site.key != "project/signed"), site.key


def test_the_legend_is_a_declared_element_of_its_own():
    parts, _ = rendered()
    legend = parts["legend"]
    assert legend.strip().startswith('<section id="legend">') and "<h2>图例</h2>" in legend
    for stage in STAGES:
        assert f'<span class="swatch" style="background: {STAGE_COLOURS[stage]}"></span>' in legend
    assert "已签约 / 已立项 / 已获批" in legend
    assert all(f'class="swatch {style}"' in legend for style in ("solid", "hollow", "dotted"))
    assert 'id="legend"' not in parts["html"]  # the page places it in the panel, not over the map


def test_no_script_or_stylesheet_comes_from_outside():
    parts, _ = rendered({**CONFIG, "TIANDITU_KEY": "k1"})
    page = parts["header"] + parts["html"] + parts["script"]
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page) + re.findall(r'<link[^>]*\shref="([^"]+)"', page)
    assert sources and all(source.startswith("/static/vendor/") for source in sources), sources
    for source in sources:
        assert (ROOT / "heshan_map" / source.lstrip("/")).is_file(), source
    outside = {json.loads(f'"{url}"') for url in re.findall(r"https?://[^\s\"'<>]+", page)}
    assert outside <= {TILE_URL} | mapview.tianditu_urls("k1"), outside
    assert all('<script nonce="test-nonce"' in tag for tag in re.findall(r"<script(?![^>]*src)[^>]*>",
                                                                             parts["header"]))


def test_the_page_config_carries_the_declared_rows_and_layer_names(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="map-config"[^>]*>(.*?)</script>', html,
                                  re.DOTALL).group(1))
    assert config["popupRows"] == sitefields.row_labels("en")
    assert [row["field"] for row in config["popupRows"]] == [field.name for field in sitefields.POPUP]
    names = config["layers"]
    assert [item["kind"] for item in names["kinds"]] == list(KINDS)
    assert [item["level"] for item in names["areas"]] == ["county", "town"]
    for site in names["sites"]:
        for role in ("group", "points", "shapes"):
            assert f"var {site[role]} = " in html
    assert html.index('id="legend"') < html.index('id="map-wrap"')


def test_the_site_page_shows_the_declared_rows(client, session):
    site_id = session.execute(text("SELECT id FROM sites WHERE investment_cny_100m IS NOT NULL"
                                   " AND area_ha IS NULL ORDER BY id LIMIT 1")).scalar_one()
    html = client.get(f"/sites/{site_id}?lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr data-field="([^"]+)"><th>([^<]*)</th><td>([^<]*)</td></tr>', html)
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    # Rows shown only when set (investment, area, industry) are left out for a site without them.
    expected = [field for field in sitefields.SHOWN
                if field.name not in sitefields.PAGE_ROWS_ONLY_WHEN_SET or props[field.name] is not None]
    assert "area_ha" not in [field.name for field in expected]
    assert [name for name, _, _ in rows] == [field.name for field in expected]
    labels = {name: label for name, label, _ in rows}
    assert labels["investment_cny_100m"] == "Investment (100M CNY)"
    assert labels["signed_on"].startswith("Signed / approved (")
    assert all(value for _, _, value in rows)  # an empty value reads "—"


def test_the_renderers_name_no_field():
    for path in ("heshan_map/static/map.js", "heshan_map/static/sitelayers.js", "templates/site.html"):
        assert "investment_cny_100m" not in (ROOT / path).read_text(encoding="utf-8"), path


def test_the_built_package_carries_the_templates_and_renders_from_them(tmp_path, engine):
    """Lay out the package as the wheel does (setuptools build_py), then serve pages from that copy alone."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("heshan_map", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                    "--build-lib", str(built)], cwd=source, check=True, capture_output=True, timeout=120)
    package = built / "heshan_map"
    assert sorted(path.name for path in (package / "templates").glob("*.html")) == \
        sorted(path.name for path in (ROOT / "templates").glob("*.html"))
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "heshan_map").rglob("*.py")}
    assert modules <= {path.relative_to(built).as_posix() for path in package.rglob("*.py")}
    assert (package / "static/vendor/featuregroup-subgroup/leaflet.featuregroup.subgroup.js").is_file()
    site_id = engine.connect().execute(text("SELECT min(id) FROM sites")).scalar_one()
    probe = f"""
import json, heshan_map
app = heshan_map.create_app({{"TESTING": True, "DATABASE_URL": {TEST_URL!r}, "SECRET_KEY": "t"}})
client = app.test_client()
pages = [client.get(url) for url in ("/", "/sites/{site_id}", "/login",
                                     "/static/vendor/featuregroup-subgroup/leaflet.featuregroup.subgroup.js")]
print(json.dumps([heshan_map.__file__, app.jinja_loader.searchpath[0],
                  [page.status_code for page in pages], 'id="legend"' in pages[0].get_data(as_text=True)]))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(built), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    module, templates, statuses, has_legend = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(module).is_relative_to(built) and Path(templates) == package / "templates"
    assert statuses == [200, 200, 200, 200] and has_legend


def tile_layers_in(script: str, parent: str) -> list[str]:
    """Return the tile URL templates of the tile layers the script adds to a parent layer, in order."""
    layers = dict(re.findall(r'var (tile_layer_\w+) = L\.tileLayer\(\s*"([^"]+)"', script))
    return [json.loads(f'"{layers[name]}"') for name in re.findall(rf"(tile_layer_\w+)\.addTo\({parent}\);", script)]


def test_tianditu_basemaps_are_pictures_with_their_annotation_over_them():
    parts, _ = rendered({**CONFIG, "TIANDITU_KEY": "k1"})
    script = parts["script"]
    bases = control_entries(script, "base_layers")
    map_name = re.search(r"var (map_\w+) = L\.map\(", script).group(1)
    assert tile_layers_in(script, bases["天地图"]) == [mapview.TIANDITU_URL % ("vec", "k1"),
                                                      mapview.TIANDITU_URL % ("cva", "k1")]
    assert tile_layers_in(script, bases["天地图影像"]) == [mapview.TIANDITU_URL % ("img", "k1"),
                                                        mapview.TIANDITU_URL % ("cia", "k1")]
    assert "T=cva_w" in mapview.TIANDITU_URL % ("cva", "k1") and "tk=k1" in mapview.TIANDITU_URL % ("cia", "k1")
    # The vector map with its annotation is the basemap shown; imagery and OpenStreetMap are choices.
    assert f"{bases['天地图']}.addTo({map_name});" in script
    assert f"{bases['天地图影像']}.addTo({map_name});" not in script
    assert f"{bases['OpenStreetMap 底图']}.addTo({map_name});" not in script
    # Without a key no Tianditu tile is asked for.
    plain, _ = rendered()
    assert "tianditu" not in plain["script"]


PLACES = [mapview.PlaceName("town", "共和镇", 22.597, 112.903), mapview.PlaceName("town", "<b>鹤城</b>", 22.67, 112.80),
          mapview.PlaceName("county", "鹤山市", 22.64, 112.72)]


def js_object(body: str) -> dict:
    """Return an object literal folium wrote (JSON with trailing commas) as a dict."""
    return json.loads("{" + re.sub(r",\s*$", "", body.strip()) + "}")


def test_place_names_are_a_declared_overlay_of_text_in_their_own_pane():
    fmap, names = mapview.build_map("zh", CONFIG, counts=COUNTS, places=PLACES)
    script = mapview.render_map_parts(fmap, "test-nonce")["script"]
    labels = control_entries(script)
    assert list(labels)[:3] == ["鹤山市界", "镇街范围（近似）", "地名（镇街、市）"]
    markers = re.findall(r"var (marker_\w+) = L\.marker\(\s*\[([\d.]+), ([\d.]+)\],\s*\{(.*?)\}\s*\)"
                         r"\.addTo\((\w+)\);", script, re.DOTALL)
    assert [(float(lat), float(lon)) for _, lat, lon, _, _ in markers] == [(p.lat, p.lon) for p in PLACES]
    assert {group for *_, group in markers} == {labels["地名（镇街、市）"]}
    assert all(js_object(options) == {"interactive": False, "keyboard": False, "pane": mapview.LABEL_PANE}
               for _, _, _, options, _ in markers)
    pane = re.search(r'var (pane_\w+) = map_\w+\.createPane\(\s*"([^"]+)"\);', script)
    assert pane.group(2) == mapview.LABEL_PANE and f"{pane.group(1)}.style.pointerEvents = 'none';" in script
    assert script.index("createPane(") < script.index("L.marker(")
    icons = [json.loads(f'"{html}"') for html in re.findall(r'L\.divIcon\(\{\s*"html": "((?:[^"\\]|\\.)*)"', script)]
    assert icons == ['<span class="place-name town-name">共和镇</span>',
                     '<span class="place-name town-name">&lt;b&gt;鹤城&lt;/b&gt;</span>',  # a name is text
                     '<span class="place-name county-name">鹤山市</span>']
    # Without places (an empty database) there is no place-name layer at all.
    assert "地名（镇街、市）" not in control_entries(rendered()[0]["script"])


def test_place_names_sit_inside_their_towns_and_the_county_name_clear_of_them(session):
    from shapely.geometry import Point, shape

    from heshan_map.storage import areas

    towns, counties = areas.select_admin_areas(session, "town"), areas.select_admin_areas(session, "county")
    places = mapview.place_names(towns, counties, "zh")
    assert [p.name for p in places] == [row["name"] for row in towns] + ["鹤山市"]
    for place, row in zip(places, towns):
        assert place.level == "town" and shape(json.loads(row["geometry"])).contains(Point(place.lon, place.lat))
    county = places[-1]
    assert county.level == "county"
    assert shape(json.loads(counties[0]["geometry"])).contains(Point(county.lon, county.lat))
    # At least ~4 km from every town's name at Heshan's latitude, so the two never print over each other.
    assert min(Point(county.lon, county.lat).distance(Point(p.lon, p.lat)) for p in places[:-1]) > 0.04
    english = mapview.place_names(towns, counties, "en")
    assert [p.name for p in english][:2] == ["Shaping Subdistrict", "Longkou Town"] and english[-1].name == "Heshan"


def test_four_stages_in_the_control_the_legend_the_panel_and_the_upload_choices(client):
    counts = {"project": {"planned": 4, "signed": 2}, "green_site": {"planned": 1}}
    fmap, names = mapview.build_map("zh", CONFIG, counts=counts)
    parts = mapview.render_map_parts(fmap, "n")
    listed = {re.search(r'data-layer="([^"]+)"', label).group(1): label for label in control_entries(parts["script"])
              if "data-layer" in label}
    assert set(listed) == {"project/planned", "project/signed", "green_site/planned"}
    assert "重点项目 · 谋划中 (4)" in listed["project/planned"]
    assert f"background: {STAGE_COLOURS['planned']}" in listed["project/planned"]
    assert [s.stage for s in names.sites if s.kind == "park"] == ["planned", "signed", "started", "in_production"]
    assert f'<span class="swatch" style="background: {STAGE_COLOURS["planned"]}"></span>谋划中</li>' in parts["legend"]
    assert "位置待定" in parts["legend"]
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'name="stage" value="planned"\s*>\s*<span class="swatch" style="background: #9467bd"></span>谋划中',
                     html)
    assert [stage for stage in re.findall(r'<th data-stage="(\w+)"', html)] == list(STAGES)
    assert re.findall(r'<tr data-kind="project">(.*?)</tr>', html, re.DOTALL)[0].count("<td data-stage=") == 4
    assert 'data-stage="planned" title="谋划中"' in html


def test_the_legend_and_the_mode_switch_follow_mode_alert(client):
    stage_html = client.get("/").get_data(as_text=True)
    assert re.search(r'<ul id="legend-stage" >', stage_html) and '<ul id="legend-alert" hidden>' in stage_html
    assert re.search(r'value="stage" checked', stage_html)
    alert_html = client.get("/?mode=alert").get_data(as_text=True)
    assert '<ul id="legend-stage" hidden>' in alert_html and re.search(r'<ul id="legend-alert" >', alert_html)
    assert re.search(r'value="alert" checked', alert_html)
    legend = alert_html.split('id="legend-alert"', 1)[1].split("</ul>", 1)[0]
    for level, colour in mapview.ALERT_COLOURS.items():
        assert colour in legend and mapview.TEXT["zh"][f"alert_{level}"] in legend
    assert client.get("/?mode=rainbow").status_code == 400


def site_with_a_position(session, placed: bool) -> int:
    """Return a seed site with (or without) a geometry."""
    return session.execute(text(f"SELECT min(id) FROM sites WHERE geom IS {'NOT ' if placed else ''}NULL")).scalar_one()


def test_the_site_page_draws_its_stages_on_a_timeline_with_dates(client, session):
    site_id = session.execute(text("SELECT min(s.id) FROM sites s JOIN stage_events e ON e.site_id = s.id"
                                   " WHERE s.stage = 'started' AND e.reached_on IS NOT NULL")).scalar_one()
    props = client.get(f"/api/features/{site_id}").get_json()["properties"]
    html = client.get(f"/sites/{site_id}").get_data(as_text=True)
    steps = re.findall(r'<li data-stage="([a-z_]+)" class="([a-z ]+)"( aria-current="step")?>', html)
    assert [stage for stage, _, _ in steps] == list(STAGES)
    assert [cls for _, cls, _ in steps] == ["reached", "reached", "reached current", "ahead"]
    assert [bool(current) for _, _, current in steps] == [False, False, True, False]
    dates = re.findall(r'<time class="stage-date"(?: datetime="([^"]+)")?>', html)
    assert dates[2] == props["started_on"]


def test_days_in_the_current_stage_count_from_its_full_date(client, session):
    row = session.execute(text("SELECT s.id, e.reached_on FROM sites s JOIN stage_events e ON e.site_id = s.id"
                               " AND e.stage = s.stage WHERE e.date_precision = 'day' AND e.reached_on IS NOT NULL"
                               " ORDER BY s.id LIMIT 1")).first()
    if row is None:  # the seed has none: give one site a full date inside the test's transaction
        row = session.execute(text("UPDATE stage_events e SET reached_on = DATE '2024-03-15', date_precision = 'day'"
                                   " FROM sites s WHERE s.id = e.site_id AND e.stage = s.stage"
                                   " AND s.id = (SELECT min(id) FROM sites) RETURNING s.id, e.reached_on")).first()
    html = client.get(f"/sites/{row.id}").get_data(as_text=True)
    days = int(re.search(r'<span id="days-in-stage" data-days="(-?\d+)">', html).group(1))
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert days == (today - row.reached_on).days


def test_the_site_page_has_a_small_map_only_when_the_site_has_a_position(client, session):
    placed = client.get(f"/sites/{site_with_a_position(session, True)}").get_data(as_text=True)
    assert '<div id="site-map"' in placed and "vendor/leaflet/leaflet.js" in placed and "sitemap.js" in placed
    county = client.get(f"/sites/{site_with_a_position(session, False)}").get_data(as_text=True)
    assert "site-map" not in county and "leaflet.js" not in county
    assert 'class="timeline"' in county


def test_every_page_carries_the_one_header(client):
    for path, status in (("/", 200), ("/?lang=en", 200), ("/login", 200), ("/print", 200), ("/sites/1", 200),
                         ("/no-such-page", 404), ("/?year=abc", 400)):
        response = client.get(path)
        assert response.status_code == status, path
        html = response.get_data(as_text=True)
        assert html.count('<nav class="site-nav"') == 1, path
        assert "/static/header.css" in html
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<a href="/dashboard?lang=en">Dashboard</a>' in english
    assert '<a href="/login?lang=en" aria-current="page">Log in</a>' in english
