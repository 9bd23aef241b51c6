"""Small uploads cannot buy unbounded CPU (columns, views, triggers, budgets), and malformed GIS files are 422s."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time

import pyogrio
import pytest

from heshan_map.views.errors import STATUS_BY_REASON

from . import test_hardening_uploads
from .test_hardening_uploads import DATA, KML_NS, app_with, geojson_with, gpkg_after, shapefile_zip_with_prj
from .test_uploads import PROJECT_HEADER, counts, csv_bytes, post_upload

editor = test_hardening_uploads.editor  # the fixture of test_hardening_uploads, shared


# --- small files, unbounded CPU ---------------------------------------------------------------

def assert_quick_cap(response, started: float, *words: str) -> None:
    """Assert a 413/422 answer naming the cap, given within two seconds."""
    assert time.monotonic() - started < 2, "too slow"
    assert response.status_code in (413, 422), response.get_json()
    message = response.get_json()["error"]["message"]
    for word in words:
        assert word in message, message


def test_csv_with_60000_columns_is_refused_quickly(client, editor) -> None:
    data = csv_bytes(["名称"] * 60_000, [["x"] * 60_000])
    started = time.monotonic()
    assert_quick_cap(post_upload(client, data, "wide.csv", editor, kind="project"), started,
                     "MAX_UPLOAD_COLUMNS", "500", "列数")


def test_csv_with_a_million_columns_is_refused_quickly(client, editor) -> None:
    data = (",".join(f"h{i}" for i in range(1_000_000)) + "\r\n").encode()
    assert len(data) < 8 * 1024 * 1024
    started = time.monotonic()
    assert_quick_cap(post_upload(client, data, "wider.csv", editor, kind="project"), started, "1,000,000")


def test_row_and_vertex_caps_come_from_the_app_config(connection, editor) -> None:
    rows = [["项目" + str(i), "112.96", "22.77", "已签约", f"CAP-{i}", "1", "2024-03"] for i in range(3)]
    client = app_with(connection, MAX_UPLOAD_ROWS=2)
    response = post_upload(client, csv_bytes(PROJECT_HEADER, rows), "rows.csv", editor, kind="project")
    assert response.status_code == 413 and "MAX_UPLOAD_ROWS" in response.get_json()["error"]["message"]
    client = app_with(connection, MAX_FILE_VERTICES=3)
    polygon = (DATA / "plots.geojson").read_bytes()
    response = post_upload(client, polygon, "plots.geojson", editor, kind="land_plot")
    message = response.get_json()["error"]["message"]
    assert response.status_code == 413 and "MAX_FILE_VERTICES" in message and "3 allowed" in message


def test_gpkg_whose_layer_is_a_view_is_refused_quickly(client, editor, tmp_path) -> None:
    data = gpkg_after(tmp_path, """
        CREATE VIEW endless AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 60000000)
            SELECT max(x) AS fid, '鹤山' AS 项目名称 FROM n;
        DELETE FROM gpkg_contents;
        INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('endless', 'attributes', 'endless');
    """)
    started = time.monotonic()
    assert_quick_cap(post_upload(client, data, "view.gpkg", editor, kind="project"), started, "GeoPackage")


@pytest.mark.parametrize("table", ["gpkg_contents", "gpkg_spatial_ref_sys", "gpkg_geometry_columns"])
def test_gpkg_whose_metadata_table_is_an_endless_view_is_refused_quickly(client, editor, tmp_path,
                                                                         table: str) -> None:
    # The inspection itself must not read a view: this one never ends.
    data = gpkg_after(tmp_path, f"""
        ALTER TABLE {table} RENAME TO {table}_old;
        CREATE VIEW {table} AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)
            SELECT * FROM {table}_old, n;
    """)
    started = time.monotonic()
    assert_quick_cap(post_upload(client, data, "meta.gpkg", editor, kind="project"), started, "GeoPackage")


def test_gpkg_with_a_trigger_is_refused(client, editor, tmp_path) -> None:
    data = gpkg_after(tmp_path, "CREATE TRIGGER surprise AFTER UPDATE ON sites BEGIN DELETE FROM plots; END;")
    response = post_upload(client, data, "trigger.gpkg", editor, kind="project", dry_run="true")
    assert response.status_code == 422, response.get_json()
    assert "surprise" in response.get_json()["error"]["message"]


def test_upload_over_its_budget_is_a_413_naming_it(connection, editor) -> None:
    before = counts(connection)
    client = app_with(connection, UPLOAD_BUDGET_S=0)
    row = ["鹤山预算项目", "112.9612", "22.7703", "已签约", "T-BUDGET-1", "1.5", "2024-03"]
    response = post_upload(client, csv_bytes(PROJECT_HEADER, [row]), "p.csv", editor, kind="project")
    assert response.status_code == 413, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "upload_budget_exceeded" and "Retry-After" not in response.headers
    assert "UPLOAD_BUDGET_S = 0 s" in error["message"] and "split the file" in error["message"], error
    assert "heshan-map import" in error["message"] and "拆分文件" in error["message"], error
    assert counts(connection) == before


def test_cli_import_keeps_the_configured_upload_limits(engine, tmp_path, monkeypatch) -> None:
    from .test_uploads_writes import committed_site_count, run_cli
    rows = [["命令行项目" + str(i), "112.96", "22.77", "已签约", f"CLI-CAP-{i}", "1", "2024-03"] for i in range(3)]
    path = tmp_path / "rows.csv"
    path.write_bytes(csv_bytes(PROJECT_HEADER, rows))
    before = committed_site_count(engine)
    monkeypatch.setenv("MAX_UPLOAD_ROWS", "2")
    result = run_cli("import", str(path), "--kind", "project")
    assert result.returncode == 1 and "MAX_UPLOAD_ROWS" in result.stderr, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert committed_site_count(engine) == before


# --- malformed GeoJSON, KML columns, GeoPackage schema, Shapefile .prj -------------------------

@pytest.mark.parametrize("crs", [{"type": "name", "properties": []}, {"type": "name", "properties": "EPSG:4326"}])
def test_geojson_crs_of_the_wrong_shape_is_a_422(client, connection, editor, crs: object) -> None:
    before = counts(connection)
    response = post_upload(client, geojson_with(crs=crs), "a.geojson", editor, kind="project", stage="signed")
    assert response.status_code == 422, response.get_json()
    assert "crs" in response.get_json()["error"]["message"]
    assert counts(connection) == before


def test_geojson_with_a_lone_surrogate_is_a_422_naming_it(client, connection, editor) -> None:
    before = counts(connection)
    data = geojson_with().replace("鹤山测试点".encode(), b"\\ud800")
    assert b"\\ud800" in data and json.loads(data)["features"][0]["properties"]["项目名称"] == "\ud800"
    response = post_upload(client, data, "a.geojson", editor, kind="project", stage="signed")
    assert response.status_code == 422, response.get_json()
    assert "lone surrogate" in response.get_json()["error"]["message"]
    assert counts(connection) == before


def kml_folders(folders: int, fields: int) -> bytes:
    """Return a KML document whose folders each hold a placemark with its own ExtendedData fields."""
    body = ""
    for folder in range(folders):
        data = "".join(f'<Data name="f{folder}_{field}"><value>v</value></Data>' for field in range(fields))
        body += (f"<Folder><name>folder {folder}</name><Placemark><name>点{folder}</name>"
                 f"<ExtendedData>{data}</ExtendedData><Point><coordinates>112.96,22.7{folder}</coordinates>"
                 f"</Point></Placemark></Folder>")
    return f"<kml {KML_NS}><Document>{body}</Document></kml>".encode()


def test_kml_columns_of_all_folders_and_extended_data_count_against_the_cap(connection, editor) -> None:
    client = app_with(connection, MAX_UPLOAD_COLUMNS=5)
    response = post_upload(client, kml_folders(5, 3), "folders.kml", editor, kind="project", dry_run="true")
    assert response.status_code == 413, response.get_json()
    assert "MAX_UPLOAD_COLUMNS" in response.get_json()["error"]["message"]


def test_kml_with_50000_extended_data_names_is_refused_in_linear_time(client, editor) -> None:
    started = time.monotonic()
    placemarks = "".join(
        f"<Placemark><name>点{index}</name><ExtendedData>"
        + "".join(f'<Data name="f{index}_{field}"><value>v</value></Data>' for field in range(10))
        + f"</ExtendedData><Point><coordinates>112.96,22.7{index % 10}</coordinates></Point></Placemark>"
        for index in range(5000))
    data = f"<kml {KML_NS}><Document>{placemarks}</Document></kml>".encode()
    response = post_upload(client, data, "wide.kml", editor, kind="project", dry_run="true")
    # Parsing 2.2 MB of KML twice (safety check, ExtendedData) is linear, ≈ 3 s here; quadratic was minutes.
    assert time.monotonic() - started < 15
    assert response.status_code == 413 and "MAX_UPLOAD_COLUMNS" in response.get_json()["error"]["message"]


def test_merged_kml_folders_are_capped_on_the_union_of_their_columns() -> None:
    from heshan_map.ingest.gis import Layer, merge_layers
    from heshan_map.ingest.safety import Limits, UnsafeFile
    layers = [Layer([f"c{index}_{n}" for n in range(3)], [{}], [None], None) for index in range(5)]
    with pytest.raises(UnsafeFile) as caught:
        merge_layers(layers, Limits(max_columns=5))
    assert STATUS_BY_REASON[caught.value.reason] == 413 and "MAX_UPLOAD_COLUMNS" in caught.value.message
    merged = merge_layers(layers[:1] * 2, Limits(max_columns=5))
    assert merged.columns == ["c0_0", "c0_1", "c0_2"] and len(merged.rows) == 2


GPKG_BYPASSES = {
    "fts5_with_rtree_in_a_comment": "CREATE VIRTUAL TABLE rtree_sites_geom USING fts5(a /* USING rtree( */);",
    "fts5_after_rtree_in_a_comment": "CREATE VIRTUAL TABLE rtree_sites_geom /* USING rtree( */ USING fts5(a);",
    "trigger_named_like_the_standard": "CREATE TRIGGER gpkg_surprise AFTER UPDATE ON sites BEGIN "
                                       "DELETE FROM plots; END;",
    "standard_trigger_name_on_another_table": "CREATE TRIGGER gpkg_tile_matrix_zoom_level_insert_x "
                                              "AFTER INSERT ON sites BEGIN DELETE FROM plots; END;",
    "rtree_trigger_of_no_index": "CREATE TRIGGER rtree_sites_nothing_insert AFTER INSERT ON sites BEGIN "
                                 "DELETE FROM plots; END;",
}


@pytest.mark.parametrize("case", sorted(GPKG_BYPASSES))
def test_gpkg_schema_bypasses_are_refused_and_gdal_spatial_index_is_read(client, editor, tmp_path,
                                                                         case: str) -> None:
    response = post_upload(client, gpkg_after(tmp_path, GPKG_BYPASSES[case]), "odd.gpkg", editor, dry_run="true")
    assert response.status_code == 422, response.get_json()
    assert "GeoPackage holds views, triggers or virtual tables" in response.get_json()["error"]["message"]
    indexed = tmp_path / "indexed.gpkg"
    shutil.copy(DATA / "sites.gpkg", indexed)
    pyogrio.write_dataframe(pyogrio.read_dataframe(DATA / "sites.gpkg"), indexed, layer="indexed copy",
                            driver="GPKG", append=True, SPATIAL_INDEX="YES")
    assert sqlite3.connect(indexed).execute(
        "SELECT count(*) FROM sqlite_master WHERE name LIKE 'rtree_indexed copy_%'").fetchone()[0] > 4
    response = post_upload(client, indexed.read_bytes(), "indexed.gpkg", editor, dry_run="true", stage="signed")
    assert response.status_code in (200, 422) and response.get_json().get("rows"), response.get_json()


def test_shapefile_prj_is_refused_before_gdal_reads_the_layer(monkeypatch) -> None:
    from heshan_map.ingest import gis
    from heshan_map.ingest.readers import read_table
    from heshan_map.ingest.safety import Limits, UnsafeFile

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("GDAL read the layer before the .prj was checked")

    monkeypatch.setattr(gis, "read_layer", no_read)
    with pytest.raises(UnsafeFile) as caught:
        read_table(shapefile_zip_with_prj(b"/vsicurl/http://127.0.0.1:9/x.prj"), "a.zip", Limits())
    assert STATUS_BY_REASON[caught.value.reason] == 422 and ".prj" in caught.value.message
