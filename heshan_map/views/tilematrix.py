"""The documents of OGC API – Tiles: the WebMercatorQuad tile matrix set and a collection's tile set."""
from __future__ import annotations

import logging

from flask import url_for

from ..vocabulary import HESHAN_BOUNDS, KIND_LABELS

LOGGER = logging.getLogger(__name__)
WMQ_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ORIGIN_M = 20037508.3427892  # half the width of EPSG:3857
CELL_AT_ZERO_M = 2 * ORIGIN_M / 256  # one pixel of the single tile at zoom 0
TILES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]


def web_mercator_quad(max_zoom: int) -> dict:
    """Return the WebMercatorQuad tile matrix set, zoom 0 to max_zoom (OGC 17-083r4 JSON encoding)."""
    matrices = []
    for zoom in range(max_zoom + 1):
        cell = CELL_AT_ZERO_M / 2 ** zoom
        matrices.append({"id": str(zoom), "scaleDenominator": cell / 0.00028, "cellSize": cell,
                         "cornerOfOrigin": "topLeft", "pointOfOrigin": [-ORIGIN_M, ORIGIN_M],
                         "tileWidth": 256, "tileHeight": 256, "matrixWidth": 2 ** zoom, "matrixHeight": 2 ** zoom})
    return {"id": "WebMercatorQuad", "title": "Google Maps Compatible for the World", "uri": WMQ_URI,
            "crs": EPSG_3857, "orderedAxes": ["X", "Y"], "wellKnownScaleSet":
            "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible", "tileMatrices": matrices}


def matrix_set_link() -> dict:
    """Return the entry of WebMercatorQuad in the list of tile matrix sets."""
    return {"id": "WebMercatorQuad", "title": "WebMercatorQuad", "uri": WMQ_URI, "links": [
        {"href": url_for("tiles.web_mercator_quad", _external=True), "rel": "self", "type": "application/json"}]}


def tileset_summary(kind: str, template: str) -> dict:
    """Return a collection's tile set as listed: vector tiles in WebMercatorQuad, with its links."""
    return {"title": KIND_LABELS["zh"][kind], "dataType": "vector", "crs": EPSG_3857, "tileMatrixSetURI": WMQ_URI,
            "links": [
                {"href": url_for("tiles.collection_tileset", kind=kind, _external=True), "rel": "self",
                 "type": "application/json"},
                {"href": url_for("tiles.web_mercator_quad", _external=True),
                 "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json"},
                {"href": template, "rel": "item", "type": "application/vnd.mapbox-vector-tile", "templated": True},
            ]}


def tileset(kind: str, template: str, lang: str) -> dict:
    """Return a collection's tile set metadata: its layer, the bounding box and the limits of each zoom."""
    document = tileset_summary(kind, template)
    document["title"] = KIND_LABELS[lang][kind]
    document["boundingBox"] = {"lowerLeft": list(HESHAN_BOUNDS[:2]), "upperRight": list(HESHAN_BOUNDS[2:]),
                               "crs": CRS84}
    document["layers"] = [{"id": kind, "dataType": "vector", "geometryDimension": 2,
                           "title": KIND_LABELS[lang][kind]}]
    document["links"].append({"href": url_for("tiles.collection_tilejson", kind=kind, _external=True),
                              "rel": "describedby", "type": "application/json", "title": "TileJSON"})
    return document
