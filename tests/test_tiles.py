"""Vector tiles built by ST_AsMVT: read back with GDAL's MVT driver, filtered like every read, cacheable, bounded."""
from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from heshan_map.vocabulary import KINDS


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Return the (x, y) of the WebMercatorQuad tile holding a point."""
    n = 2 ** zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def gdal_layers(body: bytes, zoom: int, x: int, y: int, tmp_path: Path) -> dict[str, dict]:
    """Return per layer GDAL's feature count and the text of its features, reading the tile with the MVT driver."""
    path = tmp_path / str(zoom) / str(x) / f"{y}.pbf"  # the driver reads z/x/y from the path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    listing = subprocess.run(["ogrinfo", "-ro", "-al", str(path)], capture_output=True, text=True, check=True)
    layers: dict[str, dict] = {}
    for block in listing.stdout.split("Layer name: ")[1:]:
        name = block.split("\n", 1)[0].strip()
        count = int(re.search(r"Feature Count: (\d+)", block).group(1))
        layers[name] = {"count": count, "text": block}
    return layers


@pytest.fixture()
def placed(session) -> dict:
    """Return a placed project of the seed with its tile at zoom 12."""
    row = session.execute(text(
        "SELECT id, name, stage, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat"
        " FROM sites WHERE kind = 'project' AND geom IS NOT NULL ORDER BY id LIMIT 1")).mappings().one()
    x, y = tile_of(row["lon"], row["lat"], 12)
    return {**row, "x": x, "y": y}


def test_gdal_reads_a_tile_with_a_layer_per_kind_and_the_declared_properties(client, placed, session,
                                                                              tmp_path) -> None:
    response = client.get(f"/tiles/12/{placed['x']}/{placed['y']}.mvt")
    assert response.status_code == 200 and response.mimetype == "application/vnd.mapbox-vector-tile"
    layers = gdal_layers(response.data, 12, placed["x"], placed["y"], tmp_path)
    assert set(layers) <= set(KINDS) and "project" in layers
    project = layers["project"]["text"]
    assert f"mvt_id (Integer64) = {placed['id']}" in project  # the tile's feature id is the site id
    for field in ("kind", "name", "stage", "precision"):  # alert too, where a site has one (nulls are left out)
        assert re.search(rf"^\s*{field} \(String\)", project, re.M), field
    assert placed["name"] in project
    in_tile = session.execute(text(
        "SELECT count(*) FROM sites WHERE kind = 'project' AND ST_Intersects(geom,"
        " ST_Transform(ST_TileEnvelope(12, :x, :y), 4326))"), {"x": placed["x"], "y": placed["y"]}).scalar_one()
    assert layers["project"]["count"] == in_tile


def test_filters_change_what_a_tile_holds(client, placed, tmp_path) -> None:
    base = f"/tiles/12/{placed['x']}/{placed['y']}.mvt"
    everything = gdal_layers(client.get(base).data, 12, placed["x"], placed["y"], tmp_path)
    other_stage = next(stage for stage in ("planned", "signed", "started", "in_production") if stage != placed["stage"])
    own = client.get(f"{base}?stage={placed['stage']}&kind=project")
    assert placed["name"].encode() in own.data
    assert placed["name"].encode() not in client.get(f"{base}?stage={other_stage}&kind=project").data
    assert client.get(f"{base}?as_of=1990-01-01").data == b""  # nothing had reached a stage then
    assert placed["name"].encode() not in client.get(f"{base}?q=no-such-site-anywhere").data
    red = client.get(f"{base}?alert=red").data
    assert len(red) <= len(client.get(base).data)
    one_kind = client.get(f"/ogc/collections/project/tiles/WebMercatorQuad/12/{placed['y']}/{placed['x']}")
    layers = gdal_layers(one_kind.data, 12, placed["x"], placed["y"], tmp_path / "ogc")
    assert list(layers) == ["project"] and layers["project"]["count"] == everything["project"]["count"]


def test_tiles_carry_an_etag_and_cache_control_and_answer_304(client, placed) -> None:
    url = f"/tiles/12/{placed['x']}/{placed['y']}.mvt"
    first = client.get(url)
    assert "public" in first.headers["Cache-Control"] and "max-age=" in first.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(url + "?stage=planned", headers={"If-None-Match": first.headers["ETag"]}).status_code in (200,)


@pytest.mark.parametrize("url,status", [
    ("/tiles/23/0/0.mvt", 404), ("/tiles/3/8/0.mvt", 404), ("/tiles/3/0/8.mvt", 404), ("/tiles/a/0/0.mvt", 400),
    ("/tiles/3/-1/0.mvt", 400), ("/ogc/collections/nothing/tiles/WebMercatorQuad/1/0/0", 404),
    ("/ogc/collections/project/tiles/WebMercatorQuad/23/0/0", 404), ("/tiles/3/0/0.mvt?colour=red", 400),
    ("/tiles/3/0/0.mvt?as_of=2099-01-01", 400),
])
def test_tiles_outside_the_matrix_or_malformed_are_refused(client, url: str, status: int) -> None:
    assert client.get(url).status_code == status


def test_a_tile_past_its_statement_timeout_is_a_503_with_a_message(app, session) -> None:
    # Enough polygons that the county-wide tile cannot be built in a millisecond.
    session.execute(text("""
        INSERT INTO sites (code, kind, name, stage, precision, geom)
        SELECT 'TT' || i, 'land_plot', '超时地块 ' || i, 'signed', 'surveyed',
               ST_Buffer(ST_SetSRID(ST_MakePoint(112.6 + (i % 100) * 0.003, 22.6 + (i / 100) * 0.002), 4326), 0.0008)
        FROM generate_series(1, 4000) AS i"""))
    app.config["TILE_TIMEOUT_MS"] = 1
    response = app.test_client().get("/tiles/9/416/222.mvt")
    assert response.status_code == 503, response.status_code
    assert response.get_json()["error"]["code"] == "tile_timeout"
    assert "zoom in" in response.get_json()["error"]["message"]


def test_tile_documents(client) -> None:
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    tilesets = client.get("/ogc/collections/project/tiles").get_json()["tilesets"]
    template = next(link["href"] for link in tilesets[0]["links"] if link["rel"] == "item")
    assert template.endswith("/ogc/collections/project/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").get_json()
    assert tms["tileMatrices"][0]["matrixWidth"] == 1 and tms["tileMatrices"][22]["matrixWidth"] == 2 ** 22
    tilejson = client.get("/tiles/tilejson.json?stage=signed").get_json()
    assert tilejson["tilejson"] == "3.0.0" and tilejson["tiles"][0].endswith("/tiles/{z}/{x}/{y}.mvt?stage=signed")
    assert {layer["id"] for layer in tilejson["vector_layers"]} == set(KINDS)
    collection = client.get("/ogc/collections/park").get_json()
    assert any("tilesets-vector" in link["rel"] for link in collection["links"])


def test_alert_filter_and_property_in_tiles(client, tmp_path) -> None:
    late = [f for f in client.get("/api/features?alert=red&limit=1000").get_json()["features"] if f["geometry"]]
    assert late, "the seed has a placed site that is late"
    lon, lat = late[0]["geometry"]["coordinates"][:2] if late[0]["geometry"]["type"] == "Point" else (None, None)
    assert lon is not None
    x, y = tile_of(lon, lat, 12)
    layers = gdal_layers(client.get(f"/tiles/12/{x}/{y}.mvt?alert=red").data, 12, x, y, tmp_path)
    listed = "".join(layer["text"] for layer in layers.values())
    assert "alert (String) = red" in listed and "alert (String) = yellow" not in listed
    assert late[0]["properties"]["name"] in listed


def test_a_parcel_smaller_than_a_pixel_is_a_point_when_zoomed_out_and_its_shape_when_zoomed_in(client, session,
                                                                                                 tmp_path) -> None:
    session.execute(text(
        "INSERT INTO sites (code, kind, name, stage, precision, geom) VALUES ('PIX-1', 'land_plot', '像素地块',"
        " 'signed', 'surveyed', ST_Buffer(ST_SetSRID(ST_MakePoint(112.9012, 22.7034), 4326), 0.0003, 'quad_segs=3'))"))
    session.execute(text("INSERT INTO stage_events (site_id, stage, reached_on, date_precision, recorded_by)"
                         " SELECT id, 'signed', DATE '2025-01-01', 'day', 'test' FROM sites WHERE code = 'PIX-1'"))
    for zoom, shape in ((10, "POINT"), (17, "POLYGON")):
        x, y = tile_of(112.9012, 22.7034, zoom)
        body = client.get(f"/tiles/{zoom}/{x}/{y}.mvt?kind=land_plot&q=像素地块").data
        listed = gdal_layers(body, zoom, x, y, tmp_path / str(zoom))["land_plot"]["text"]
        assert f"\n  {shape} (" in listed, (zoom, listed[-300:])
