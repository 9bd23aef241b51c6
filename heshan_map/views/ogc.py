"""OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0): one collection per kind, over the storage package."""
from __future__ import annotations

import dataclasses
import logging

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from ..storage import site_reads
from ..db import get_session
from ..errors import InvalidParameter, NotFound
from ..features import site_feature
from ..filters import FILTER_PARAMETERS, Filter, parse_lang, parse_paging
from ..vocabulary import HESHAN_BOUNDS, KIND_LABELS, KINDS
from .tilematrix import TILES_CONFORMANCE
from .common import GEOJSON, geojson_response, refuse_unknown_parameters, request_as_of, request_filter
from .feature_pages import feature_page_response

LOGGER = logging.getLogger(__name__)
bp = Blueprint("ogc", __name__, url_prefix="/ogc")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
OGC_DEFAULT_LIMIT = 100


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """Return an OGC link object."""
    item = {"href": href, "rel": rel, "type": media_type}
    if title:
        item["title"] = title
    return item


def absolute(endpoint: str, **values: object) -> str:
    """Return the absolute URL of an endpoint."""
    return url_for(endpoint, _external=True, **values)


# The collection is the kind, so `kind` is not a parameter of its items.
ITEMS_PARAMETERS = (frozenset(FILTER_PARAMETERS) - {"kind"}) | {"limit", "offset", "lang", "f"}


def check_item_parameters() -> None:
    """Refuse query parameters the items endpoint does not define (OGC API – Features /req/core/query-param-unknown)."""
    refuse_unknown_parameters(ITEMS_PARAMETERS)
    if request.args.get("f", "json") not in ("json", "geojson"):
        raise InvalidParameter("f", "only json/geojson is offered")


def check_kind(kind: str) -> None:
    """Refuse an unknown collection."""
    if kind not in KINDS:
        raise NotFound(f"no collection '{kind}'; the collections are {', '.join(KINDS)}")


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """Return the landing page with links to the API definition, conformance and collections."""
    return jsonify({
        "title": "鹤山市项目建设一张图 · Heshan project map",
        "description": "Industrial parks, key projects, land-consolidation plots and 绿美 sites of Heshan (WGS84).",
        "links": [
            link(absolute("ogc.landing"), "self", "application/json", "this document"),
            link(absolute("openapi.openapi_document"), "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                 "the API definition"),
            link(absolute("ogc.conformance"), "conformance", "application/json", "conformance classes"),
            link(absolute("ogc.collections"), "data", "application/json", "the collections"),
        ],
    })


@bp.get("/conformance")
def conformance() -> Response:
    """Return the conformance classes implemented (Features and Tiles)."""
    return jsonify({"conformsTo": CONFORMANCE + TILES_CONFORMANCE})


def collection_document(kind: str, lang: str) -> dict:
    """Return the description of one kind's collection with its spatial and temporal extent."""
    session = get_session()
    selection = Filter(kinds=(kind,))
    bbox = site_reads.extent_of_sites(session, selection) or HESHAN_BOUNDS
    first, last = site_reads.temporal_extent(session, selection)
    return {
        "id": kind,
        "title": KIND_LABELS[lang][kind],
        "description": f"{KIND_LABELS['zh'][kind]} / {KIND_LABELS['en'][kind]}",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [list(bbox)], "crs": CRS84},
            "temporal": {"interval": [[f"{first}T00:00:00Z" if first else None,
                                       f"{last}T23:59:59Z" if last else None]],
                         "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
        },
        "links": [
            link(absolute("ogc.collection", kind=kind), "self", "application/json"),
            link(absolute("ogc.items", kind=kind), "items", GEOJSON, "the features"),
            link(absolute("tiles.collection_tilesets", kind=kind), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                 "application/json", "vector tiles"),
        ],
    }


@bp.get("/collections")
def collections() -> Response:
    """Return the four collections, one per kind."""
    lang = parse_lang(request.args)
    return jsonify({
        "links": [link(absolute("ogc.collections"), "self", "application/json")],
        "collections": [collection_document(kind, lang) for kind in KINDS],
    })


@bp.get("/collections/<kind>")
def collection(kind: str) -> Response:
    """Return one collection."""
    check_kind(kind)
    return jsonify(collection_document(kind, parse_lang(request.args)))


@bp.get("/collections/<kind>/items")
def items(kind: str) -> Response:
    """Return a page of a collection's features; bbox, datetime and the shared filters select them."""
    check_kind(kind)
    check_item_parameters()
    selection = dataclasses.replace(request_filter(), kinds=(kind,))
    lang = parse_lang(request.args)
    limit, offset = parse_paging(request.args, OGC_DEFAULT_LIMIT, current_app.config["API_MAX_LIMIT"])
    collection_link = link(absolute("ogc.collection", kind=kind), "collection", "application/json")
    return feature_page_response(selection, lang, limit, offset, extra_links=(collection_link,), stamp=True)


@bp.get("/collections/<kind>/items/<feature_id>")
def item(kind: str, feature_id: str) -> Response:
    """Return one feature of a collection."""
    check_kind(kind)
    if not (feature_id.isascii() and feature_id.isdigit()) or len(feature_id) > 18:
        raise NotFound(f"no feature '{feature_id}' in {kind}")
    row = site_reads.get_site(get_session(), int(feature_id), request_as_of())
    if row is None or row["kind"] != kind:
        raise NotFound(f"no feature {feature_id} in {kind}")
    feature = site_feature(row, parse_lang(request.args))
    feature["links"] = [link(absolute("ogc.item", kind=kind, feature_id=feature_id), "self", GEOJSON),
                        link(absolute("ogc.collection", kind=kind), "collection", "application/json")]
    return geojson_response(feature)
