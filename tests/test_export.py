"""Exports: each format opens in GDAL with exactly the features the map shows for the same filter."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from shapely.geometry import shape

QUERY = "kind=project,park&stage=signed,started"


def api_ids(client, query: str) -> set[int]:
    return {f["id"] for f in client.get(f"/api/features?limit=10000&{query}").get_json()["features"]}


def ogr_feature_count(path: Path | str) -> int:
    """Return the number of features GDAL's ogrinfo reads from every layer of a file."""
    output = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True,
                            check=True).stdout
    return sum(int(line.split(":")[1]) for line in output.splitlines() if line.startswith("Feature Count"))


def test_geojson_is_rfc7946_and_matches_the_api(client) -> None:
    response = client.get(f"/api/export.geojson?{QUERY}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "kind-project%2Cpark" in disposition and "stage-signed" in disposition
    body = json.loads(response.data)
    assert "crs" not in body
    assert {f["id"] for f in body["features"]} == api_ids(client, QUERY)
    for feature in body["features"]:
        geometry = feature["geometry"]
        if geometry is None:  # a site whose place is unknown (RFC 7946 3.2)
            assert feature["properties"]["precision"] == "county"
            continue
        if geometry["type"] == "Polygon":
            ring = geometry["coordinates"][0]
            signed_area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))
            assert signed_area > 0, "exterior ring must be counter-clockwise"
        for value in json.dumps(geometry["coordinates"]).replace("[", "").replace("]", "").split(","):
            assert len(value.strip().split(".")[-1]) <= 7


@pytest.mark.parametrize("fmt", ["geojson", "csv", "xlsx", "gpkg", "kml", "shp.zip"])
def test_every_format_opens_in_gdal_with_the_same_features(client, tmp_path: Path, fmt: str) -> None:
    response = client.get(f"/api/export.{fmt}?{QUERY}")
    assert response.status_code == 200, response.data[:300]
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(response.data)
    expected = len(api_ids(client, QUERY))
    if fmt == "shp.zip":
        assert ogr_feature_count(f"/vsizip/{path}") == expected
    elif fmt == "xlsx":
        rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
        assert len(rows) - 1 == expected
    else:
        assert ogr_feature_count(path) == expected


def test_gpkg_and_shapefile_in_a_chosen_crs(client, tmp_path: Path) -> None:
    for fmt in ("gpkg", "shp.zip"):
        path = tmp_path / f"x.{fmt}"
        path.write_bytes(client.get(f"/api/export.{fmt}?kind=park&crs=EPSG:4547").data)
        target = f"/vsizip/{path}" if fmt == "shp.zip" else str(path)
        info = subprocess.run(["ogrinfo", "-ro", "-al", "-so", target], capture_output=True, text=True).stdout
        assert "CGCS2000 / 3-degree Gauss-Kruger CM 114E" in info
    assert client.get("/api/export.geojson?crs=EPSG:4547").status_code == 400


def test_shapefile_keeps_chinese_names(client, tmp_path: Path) -> None:
    path = tmp_path / "x.shp.zip"
    path.write_bytes(client.get("/api/export.shp.zip?kind=park").data)
    names = zipfile.ZipFile(path).namelist()
    assert any(name.endswith(".cpg") for name in names) and any(name.endswith(".prj") for name in names)
    output = subprocess.run(["ogrinfo", "-ro", "-al", f"/vsizip/{path}"], capture_output=True, text=True).stdout
    assert "鹤山" in output


def test_csv_is_excel_friendly_and_neutralises_formulas(client, session) -> None:
    from sqlalchemy import text

    session.execute(text("UPDATE sites SET name = '=HYPERLINK(\"http://x\")', description = '+1+2' "
                         "WHERE id = (SELECT min(id) FROM sites WHERE kind = 'project')"))
    response = client.get("/api/export.csv?kind=project&headers=zh")
    assert response.data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["要素ID", "代码", "类型代码", "类型", "名称"]
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'+1+2" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    xlsx = load_workbook(io.BytesIO(client.get("/api/export.xlsx?kind=project").data), read_only=True)
    values = [cell for row in xlsx.worksheets[0].iter_rows(values_only=True) for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in values


def test_export_refuses_bad_input(client) -> None:
    for url in ("/api/export.exe", "/api/export.geojson?stage=done", "/api/export.csv?headers=fr",
                "/api/export.gpkg?crs=EPSG:99999999"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "error" in response.get_json()


def test_export_cli_writes_what_the_filter_selects(engine, tmp_path: Path) -> None:
    from .test_cli import run_cli

    target = tmp_path / "out.geojson"
    result = run_cli("export", "--format", "geojson", "--kind", "project", "--stage", "in_production", "-o", str(target))
    assert result.returncode == 0, result.stderr
    features = json.loads(target.read_text(encoding="utf-8"))["features"]
    assert features and all(f["properties"]["stage"] == "in_production" for f in features)
    assert all(shape(f["geometry"]).is_valid for f in features if f["properties"]["precision"] != "county")
    assert all(f["geometry"] is None for f in features if f["properties"]["precision"] == "county")


def csv_header(client, query: str) -> list[str]:
    """Return the header row of a CSV export."""
    return next(csv.reader(io.StringIO(client.get(f"/api/export.csv?{query}").data.decode("utf-8-sig"))))


def test_table_columns_and_headers_come_from_the_declaration(client) -> None:
    from heshan_map.sitefields import EXPORTED

    assert csv_header(client, "kind=park") == [field.name for field in EXPORTED] + ["lon", "lat", "wkt"]
    assert csv_header(client, "kind=park&headers=zh") == [field.header_zh for field in EXPORTED] + ["经度", "纬度", "WKT"]
    assert all(field.header_zh for field in EXPORTED)
    xlsx = load_workbook(io.BytesIO(client.get("/api/export.xlsx?kind=park&headers=zh").data), read_only=True)
    assert list(next(xlsx.worksheets[0].iter_rows(values_only=True))) == csv_header(client, "kind=park&headers=zh")


def test_gis_fields_and_types_come_from_the_declaration(client, tmp_path: Path) -> None:
    import pyogrio

    from heshan_map.sitefields import EXPORTED

    assert all(len(field.shapefile_name) <= 10 and field.shapefile_name.isascii() for field in EXPORTED)
    assert len({field.shapefile_name for field in EXPORTED}) == len(EXPORTED)
    gpkg, shp = tmp_path / "x.gpkg", tmp_path / "x.shp.zip"
    gpkg.write_bytes(client.get("/api/export.gpkg?kind=project").data)
    shp.write_bytes(client.get("/api/export.shp.zip?kind=project").data)
    gpkg_info = pyogrio.read_info(gpkg)
    assert list(gpkg_info["fields"]) == [field.name for field in EXPORTED]
    types = dict(zip(gpkg_info["fields"], gpkg_info["dtypes"]))
    assert all(types[field.name] == "float64" for field in EXPORTED if field.type == "number")
    assert types["id"] == "int64"
    layer = next(name for name, _ in pyogrio.list_layers(f"/vsizip/{shp}") if name.endswith("points"))
    assert list(pyogrio.read_info(f"/vsizip/{shp}", layer=layer)["fields"]) == [field.shapefile_name
                                                                                 for field in EXPORTED]


def test_kml_extended_data_holds_the_declared_fields(client) -> None:
    import xml.etree.ElementTree as ET

    from heshan_map.sitefields import EXPORTED

    namespace = "{http://www.opengis.net/kml/2.2}"
    properties = {f["id"]: f["properties"] for f in client.get("/api/features?limit=10000").get_json()["features"]}
    placemarks = ET.fromstring(client.get("/api/export.kml").data).findall(f".//{namespace}Placemark")
    assert len(placemarks) == len(properties)
    for placemark in placemarks:
        props = properties[int(placemark.get("id").removeprefix("site-"))]
        data = {item.get("name"): item.find(f"{namespace}value").text for item in placemark.iter(f"{namespace}Data")}
        expected = [field.name for field in EXPORTED
                    if field.name not in ("name", "description") and props[field.name] is not None]
        assert list(data) == expected
        assert all(data[name] == str(props[name]) for name in expected)
        assert placemark.find(f"{namespace}name").text == props["name"]


def test_upload_skips_exactly_the_declared_read_only_export_headers() -> None:
    from heshan_map import sitefields
    from heshan_map.ingest.columns import EXPORT_ONLY_HEADERS, match_header

    skipped = sitefields.export_only_headers()
    assert skipped == EXPORT_ONLY_HEADERS
    for field in sitefields.EXPORTED:
        for header in (field.name, field.header_zh):
            assert (header.lower() in skipped) != (match_header(header) is not None), header
        if field.editable:
            assert match_header(field.name).field == field.name


def test_export_cli_takes_the_time_filters(engine, tmp_path: Path) -> None:
    from .test_cli import run_cli

    def exported(*options: str) -> list[dict]:
        target = tmp_path / "time.geojson"
        result = run_cli("export", "--format", "geojson", "--q", "隆基", *options, "-o", str(target))
        assert result.returncode == 0, result.stderr
        return json.loads(target.read_text(encoding="utf-8"))["features"]

    assert [f["properties"]["stage"] for f in exported("--as-of", "2023-06-30")] == ["signed"]
    assert exported("--as-of", "2021-12-31") == []
    assert [f["properties"]["stage"] for f in exported("--reached", "signed:2022")] == ["in_production"]
    assert exported("--reached", "signed:2025") == []
    assert all(f["properties"]["alert"] == "red" for f in exported("--alert", "red"))
    bad = run_cli("export", "--format", "geojson", "--as-of", "2023-02-30", "-o", str(tmp_path / "x.geojson"))
    assert bad.returncode != 0 and "as_of" in bad.stderr and "Traceback" not in bad.stderr
