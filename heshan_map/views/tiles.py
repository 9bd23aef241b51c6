"""Vector tiles: OGC API – Tiles on each collection (WebMercatorQuad), one endpoint for all kinds, TileJSON."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from ..db import get_session
from ..errors import InvalidParameter, NotFound
from ..filters import FILTER_PARAMETERS, Filter, parse_lang
from ..sitefields import TILED
from ..storage import tiles as tile_store
from ..storage.site_sql import property_labels
from ..vocabulary import HESHAN_BOUNDS, HESHAN_CENTRE, KIND_LABELS, KINDS
from . import tilematrix
from .common import refuse_unknown_parameters, request_filter
from .ogc import check_kind

LOGGER = logging.getLogger(__name__)
bp = Blueprint("tiles", __name__)
MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
TILE_PARAMETERS = frozenset(FILTER_PARAMETERS) | {"lang", "f"}


def parse_tile_index(name: str, raw: str, upper: int) -> int:
    """Return a tile matrix, row or column as a number; malformed is a 400, outside the matrix a 404 (OGC)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidParameter(name, f"'{raw}' is not a whole number")
    value = int(raw)
    if value > upper:
        raise NotFound(f"{name} {value} is outside the tile matrix set (at most {upper})")
    return value


def tile_address(z_raw: str, x_raw: str, y_raw: str) -> tuple[int, int, int]:
    """Return (zoom, column, row) of a tile request, checked against WebMercatorQuad's limits."""
    zoom = parse_tile_index("tileMatrix", z_raw, MAX_ZOOM)
    last = 2 ** zoom - 1
    return zoom, parse_tile_index("tileCol", x_raw, last), parse_tile_index("tileRow", y_raw, last)


def tile_response(selection: Filter, zoom: int, x: int, y: int) -> Response:
    """Return one tile of the selection with an ETag and Cache-Control a proxy can cache by; 304 when unchanged."""
    refuse_unknown_parameters(TILE_PARAMETERS)
    kinds = selection.kinds or KINDS
    labels = json.dumps(property_labels(parse_lang(request.args)), ensure_ascii=False)
    body = tile_store.select_tile(get_session(), selection, zoom, x, y, tuple(kinds), labels,
                                  int(current_app.config["TILE_TIMEOUT_MS"]))
    response = Response(body, mimetype=MVT)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['TILE_MAX_AGE_S'])}"
    response.headers["Vary"] = "Accept-Encoding"
    return response.make_conditional(request)


@bp.get("/tiles/<z>/<x>/<y>.mvt")
def all_kinds_tile(z: str, x: str, y: str) -> Response:
    """Return a tile of every kind (a layer each), the shared filters applied."""
    zoom, column, row = tile_address(z, x, y)
    return tile_response(request_filter(), zoom, column, row)


@bp.get("/ogc/collections/<kind>/tiles/WebMercatorQuad/<z>/<y>/<x>")
def collection_tile(kind: str, z: str, y: str, x: str) -> Response:
    """Return a tile of one collection (OGC API – Tiles: tileMatrix/tileRow/tileCol)."""
    check_kind(kind)
    zoom, column, row = tile_address(z, x, y)
    return tile_response(dataclasses.replace(request_filter(), kinds=(kind,)), zoom, column, row)


def passed_query() -> str:
    """Return the request's filter parameters, to carry into tile URL templates."""
    items = [(k, v) for k, v in request.args.items(multi=True) if k in TILE_PARAMETERS and k != "f"]
    return ("?" + urlencode(items)) if items else ""


def tilejson(name: str, template: str, kinds: tuple[str, ...]) -> dict:
    """Return a TileJSON 3.0.0 document for a tile URL template and the layers (kinds) its tiles hold."""
    lang = parse_lang(request.args)
    fields = {field.name: field.label_en if lang == "en" else field.label_zh for field in TILED}
    return {"tilejson": "3.0.0", "name": name, "tiles": [template], "minzoom": 0, "maxzoom": MAX_ZOOM,
            "bounds": list(HESHAN_BOUNDS), "center": [HESHAN_CENTRE[0], HESHAN_CENTRE[1], 11],
            "vector_layers": [{"id": kind, "description": KIND_LABELS[lang][kind], "fields": fields,
                               "minzoom": 0, "maxzoom": MAX_ZOOM} for kind in kinds]}


@bp.get("/tiles/tilejson.json")
def all_kinds_tilejson() -> Response:
    """Return the TileJSON of the all-kinds tiles, the request's filters kept in the template."""
    base = url_for("tiles.all_kinds_tile", z="0", x="0", y="0", _external=True).replace("/0/0/0.mvt", "")
    return jsonify(tilejson("鹤山市项目建设一张图", base + "/{z}/{x}/{y}.mvt" + passed_query(), KINDS))


@bp.get("/ogc/collections/<kind>/tiles/WebMercatorQuad/tilejson.json")
def collection_tilejson(kind: str) -> Response:
    """Return the TileJSON of one collection's tiles."""
    check_kind(kind)
    return jsonify(tilejson(KIND_LABELS["zh"][kind], tile_template(kind) + passed_query(), (kind,)))


def tile_template(kind: str) -> str:
    """Return the OGC tile URL template of a collection."""
    base = url_for("tiles.collection_tile", kind=kind, z="0", y="0", x="0", _external=True)
    return base[: -len("/0/0/0")] + "/{tileMatrix}/{tileRow}/{tileCol}"


@bp.get("/ogc/collections/<kind>/tiles")
def collection_tilesets(kind: str) -> Response:
    """Return the list of a collection's tile sets (one: vector tiles in WebMercatorQuad)."""
    check_kind(kind)
    return jsonify({"tilesets": [tilematrix.tileset_summary(kind, tile_template(kind))]})


@bp.get("/ogc/collections/<kind>/tiles/WebMercatorQuad")
def collection_tileset(kind: str) -> Response:
    """Return a collection's tile set metadata."""
    check_kind(kind)
    return jsonify(tilematrix.tileset(kind, tile_template(kind), parse_lang(request.args)))


@bp.get("/ogc/tileMatrixSets")
def tile_matrix_sets() -> Response:
    """Return the tile matrix sets offered (WebMercatorQuad)."""
    return jsonify({"tileMatrixSets": [tilematrix.matrix_set_link()]})


@bp.get("/ogc/tileMatrixSets/WebMercatorQuad")
def web_mercator_quad() -> Response:
    """Return the definition of WebMercatorQuad (OGC 17-083r4)."""
    return jsonify(tilematrix.web_mercator_quad(MAX_ZOOM))
