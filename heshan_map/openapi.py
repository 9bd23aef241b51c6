"""The OpenAPI 3.0 document describing every route of the service; site schemas come from the declaration."""
from __future__ import annotations

from typing import Any

from . import sitefields
from .export import FORMATS
from .vocabulary import KINDS, PRECISIONS, STAGES, TOWNS

ERROR = {"$ref": "#/components/responses/Error"}
BEARER = [{"bearer": []}]


def list_parameter(name: str, values: tuple[str, ...], description: str) -> dict[str, Any]:
    """Return a comma-list query parameter restricted to a vocabulary."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "pattern": "^(" + "|".join(values) + ")(,(" + "|".join(values) + "))*$"},
            "explode": False}


FILTERS: list[dict[str, Any]] = [
    list_parameter("kind", KINDS, "kinds, comma separated"),
    list_parameter("stage", STAGES, "stages, comma separated"),
    list_parameter("town", TOWNS, "towns, comma separated"),
    list_parameter("precision", PRECISIONS, "position precisions, comma separated"),
    {"name": "park", "in": "query", "schema": {"type": "string", "maxLength": 200},
     "description": "park name (a park site's exact name)"},
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}, "description": "text in the name"},
    {"name": "year", "in": "query",
     "schema": {"type": "string", "pattern": r"^(\d{4}|\d{4}\.\.|\.\.\d{4}|\d{4}\.\.\d{4})$"},
     "description": "a stage reached that year, or a range 2022..2024"},
    {"name": "bbox", "in": "query", "style": "form", "explode": False,
     "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
     "description": "minlon,minlat,maxlon,maxlat (WGS84); a site whose place is unknown (county) is in no box"},
    {"name": "datetime", "in": "query", "schema": {"type": "string"},
     "description": "RFC 3339 date or interval (a/b, ../b, a/..) a stage was reached in"},
    {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "the sites as they stood at the end of that day (1990-01-01 to today): stage, stage dates and"
                    " alerts from the stage events; sites that had reached no stage by then are left out"},
    {"name": "reached", "in": "query",
     "schema": {"type": "string", "pattern": "^(" + "|".join(STAGES) + r"):(\d{4}|\d{4}\.\.|\.\.\d{4}|\d{4}\.\.\d{4})"
                "(,(" + "|".join(STAGES) + r"):(\d{4}|\d{4}\.\.|\.\.\d{4}|\d{4}\.\.\d{4}))*$"},
     "description": "sites that reached a stage in those years, whatever their stage now: signed:2024,"
                    " started:2022..2024, comma separated"},
    list_parameter("alert", sitefields.ALERT_LEVELS, "alert levels (yellow, red), comma separated"),
    {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]},
     "description": "label language"},
]
LANG = FILTERS[-1]
PAGING: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 999999999}},
]
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**62}}
KIND = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": list(KINDS)}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
FEATURE_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureInput"}}},
                "required": True}
UPLOAD_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"},
    "kind": {"type": "string", "enum": list(KINDS)},
    "stage": {"type": "string", "enum": list(STAGES)},
    "crs": {"type": "string"},
    "dry_run": {"type": "string", "enum": ["true", "false"]},
    "repair": {"type": "string", "enum": ["true", "false"]}}}
LOGIN_FORM = {"type": "object", "properties": {"name": {"type": "string"}, "token": {"type": "string"},
                                               "csrf_token": {"type": "string"}}}
EXPORT_PARAMETERS: list[dict[str, Any]] = [
    {"name": "fmt", "in": "path", "required": True, "schema": {"type": "string", "enum": list(FORMATS)}},
    {"name": "crs", "in": "query", "schema": {"type": "string"},
     "description": "output CRS for gpkg/shp.zip (EPSG:<code>, GCJ-02)"},
    {"name": "headers", "in": "query", "schema": {"type": "string", "enum": ["en", "zh"]}},
]
BINARY_FILE = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
FEATURE_SCHEMA = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "integer"},
    "geometry": {"type": "object", "nullable": True,
                 "description": "RFC 7946 geometry; null when the place is unknown (precision county)"},
    "properties": {"$ref": "#/components/schemas/SiteProperties"}}}
FIGURE_SCHEMA = {"type": "object", "required": ["year", "stage", "kind", "metric", "value", "unit", "source"],
                 "properties": {
                     "year": {"type": "integer"},
                     "stage": {"type": "string", "enum": [*STAGES, None], "nullable": True},
                     "kind": {"type": "string", "enum": [*KINDS, None], "nullable": True},
                     "metric": {"type": "string"}, "value": {"type": "number"}, "unit": {"type": "string"},
                     "source": {"type": "string", "description": "the document and its verbatim quote"}}}
COLLECTION_SCHEMA = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]},
    "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
    "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"},
    "links": {"type": "array", "items": {"type": "object"}}}}


def geojson_response(description: str, schema: str) -> dict[str, Any]:
    """Return a response in application/geo+json."""
    return {"description": description,
            "content": {"application/geo+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def html_response(description: str) -> dict[str, Any]:
    """Return a response that is an HTML page."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def json_response(description: str) -> dict[str, Any]:
    """Return a JSON response without a detailed schema."""
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def errors(*statuses: int) -> dict[str, Any]:
    """Return the JSON error response of each status."""
    return {str(status): ERROR for status in statuses}


def operation(operation_id: str, summary: str, responses: dict[str, Any], **rest: Any) -> dict[str, Any]:
    """Return an operation object: its id, summary, responses and any other members (parameters, security...)."""
    return {"summary": summary, "operationId": operation_id, **rest, "responses": responses}


def feature_paths() -> dict[str, Any]:
    """Return the path items of the sites: list, create, read, update and history."""
    return {
        "/api/features": {
            "get": operation("listFeatures", "Selected sites as a FeatureCollection",
                             {"200": geojson_response("the sites", "FeatureCollection"), **errors(400)},
                             parameters=FILTERS + PAGING),
            "post": operation("createFeature", "Create a site (editor)",
                              {"201": geojson_response("created", "Feature"), **errors(400, 401, 403, 413, 422)},
                              security=BEARER, requestBody=FEATURE_BODY),
        },
        "/api/features/{id}": {
            "get": operation("getFeature", "One site, with an ETag",
                             {"200": geojson_response("the site", "Feature"),
                              "304": {"description": "not modified"}, **errors(404)},
                             parameters=[ID, LANG]),
            "patch": operation("updateFeature", "Update a site (editor); needs If-Match",
                               {"200": geojson_response("updated", "Feature"),
                                **errors(400, 401, 403, 404, 412, 413, 422, 428)},
                               security=BEARER, parameters=[ID, IF_MATCH], requestBody=FEATURE_BODY),
        },
        "/api/features/{id}/history": {
            "get": operation("getHistory", "Stage changes and edits of a site",
                             {"200": json_response("the history"), **errors(404)}, parameters=[ID])},
    }


def data_paths() -> dict[str, Any]:
    """Return the path items of areas, counts, exports and uploads."""
    return {
        "/api/areas": {"get": operation(
            "listAreas", "County boundary or approximate towns",
            {"200": geojson_response("areas", "FeatureCollection"), **errors(400)},
            parameters=[{"name": "level", "in": "query", "schema": {"type": "string", "enum": ["county", "town"]}}])},
        "/api/counts": {"get": operation("getCounts", "Counts per kind and stage",
                                         {"200": json_response("counts"), **errors(400)}, parameters=FILTERS)},
        "/api/stats": {"get": operation("getStats", "Dashboard figures: kind × stage, towns, years reached, funnel",
                                        {"200": json_response("the figures"), **errors(400)}, parameters=FILTERS)},
        "/api/reported-figures": {"get": operation(
            "listReportedFigures", "County totals the source documents report (reported vs mapped)",
            {"200": {"description": "the figures, by year, metric, stage and kind", "content": {"application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/ReportedFigure"}}}}}})},
        "/api/export.{fmt}": {"get": operation(
            "export", "Download what the filters select",
            {"200": {"description": "the file", "content": BINARY_FILE}, **errors(400, 429, 503, 504)},
            parameters=EXPORT_PARAMETERS + FILTERS)},
        "/api/uploads": {"post": operation(
            "upload", "Upload a file of sites (editor)",
            {"200": json_response("the report"), **errors(400, 401, 403, 413, 415, 422, 503)},
            security=BEARER,
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": UPLOAD_FORM}}})},
        "/api/uploads/{id}": {"get": operation("getUpload", "An upload record",
                                               {"200": json_response("the upload"), **errors(401, 404)},
                                               security=BEARER, parameters=[ID])},
    }


def service_paths() -> dict[str, Any]:
    """Return the path items of this document and the health checks."""
    return {
        "/api/openapi.json": {"get": operation("openapi", "This document", {"200": json_response("OpenAPI 3.0")})},
        "/healthz": {"get": operation("healthz", "Liveness", {"200": json_response("alive")})},
        "/readyz": {"get": operation("readyz", "Readiness with the database",
                                     {"200": json_response("ready"), "503": json_response("not ready")})},
    }


def page_paths() -> dict[str, Any]:
    """Return the path items of the HTML pages and of logging in and out."""
    off = {"name": "off", "in": "query", "schema": {"type": "string"},
           "description": "layers switched off, kind/stage comma list"}
    no_csrf = html_response("no CSRF token")
    return {
        "/": {"get": operation("mapPage", "The layered map page (HTML); the filters select what it shows",
                               {"200": html_response("the map"), "400": html_response("a bad filter")},
                               parameters=FILTERS + [off])},
        "/sites/{id}": {"get": operation("sitePage", "A site's page with its history (HTML)",
                                         {"200": html_response("the site"), "404": html_response("none")},
                                         parameters=[ID, LANG])},
        "/alerts": {"get": operation("alertsPage", "Sites overdue in their stage at as_of (today), most overdue first"
                                     " (HTML)", {"200": html_response("the alerts"),
                                                 "400": html_response("a bad filter")}, parameters=FILTERS)},
        "/alerts.xlsx": {"get": operation(
            "alertsWorkbook", "The alerts as an Excel workbook",
            {"200": {"description": "the workbook", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}}}}, **errors(400)}, parameters=FILTERS)},
        "/dashboard": {"get": operation("dashboardPage", "The dashboard: charts and tables (HTML)",
                                        {"200": html_response("the dashboard"), "400": html_response("a bad filter")},
                                        parameters=FILTERS)},
        "/dashboard.xlsx": {"get": operation("dashboardXlsx", "The dashboard's tables as XLSX",
                                             {"200": {"description": "the workbook", "content": BINARY_FILE},
                                              "400": html_response("a bad filter")}, parameters=FILTERS)},
        "/upload": {"get": operation("uploadPage", "The upload page for logged-in editors (HTML)",
                                     {"200": html_response("the page"), "302": {"description": "to /login"},
                                      "403": html_response("not an editor")})},
        "/login": {
            "get": operation("loginForm", "The login form (HTML)", {"200": html_response("the form")}),
            "post": operation("login", "Log in with a user name and API token",
                              {"302": {"description": "logged in"}, "401": html_response("wrong"), "403": no_csrf},
                              requestBody={"content": {"application/x-www-form-urlencoded": {"schema": LOGIN_FORM}}}),
        },
        "/logout": {"post": operation("logout", "Log out", {"302": {"description": "logged out"}, "403": no_csrf})},
    }


def ogc_paths() -> dict[str, Any]:
    """Return the path items of OGC API – Features."""
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/ogc": {"get": operation("ogcLanding", "OGC API landing page", {"200": json_response("landing page")})},
        "/ogc/conformance": {"get": operation("ogcConformance", "Conformance classes",
                                              {"200": json_response("conformance")})},
        "/ogc/collections": {"get": operation("ogcCollections", "The four collections",
                                              {"200": json_response("collections")})},
        "/ogc/collections/{kind}": {"get": operation("ogcCollection", "One collection",
                                                     {"200": json_response("collection"), **errors(404)},
                                                     parameters=[KIND])},
        "/ogc/collections/{kind}/items": {"get": operation(
            "ogcItems", "Features of a collection",
            {"200": geojson_response("features", "FeatureCollection"), **errors(400, 404)},
            parameters=[KIND] + [p for p in FILTERS if p["name"] != "kind"] + PAGING)},
        "/ogc/collections/{kind}/items/{featureId}": {"get": operation(
            "ogcItem", "One feature", {"200": geojson_response("feature", "Feature"), **errors(404)},
            parameters=[KIND, feature_id])},
    }


def tile_paths() -> dict[str, Any]:
    """Return the path items of the vector tiles (OGC API – Tiles and the all-kinds endpoint)."""
    def index(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"}}

    tile = {"200": {"description": "a Mapbox Vector Tile (empty body: no site in it); ETag, Cache-Control",
                    "content": {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string",
                                                                                    "format": "binary"}}}},
            "304": {"description": "not modified"}, **errors(400, 404, 503)}
    filters = [p for p in FILTERS if p["name"] != "kind"]
    return {
        "/tiles/{z}/{x}/{y}.mvt": {"get": operation(
            "allKindsTile", "A vector tile of every kind (a layer per kind), the shared filters applied", tile,
            parameters=[index("z"), index("x"), index("y")] + FILTERS)},
        "/tiles/tilejson.json": {"get": operation("allKindsTileJSON", "TileJSON 3.0.0 of the all-kinds tiles",
                                                  {"200": json_response("TileJSON")}, parameters=FILTERS)},
        "/ogc/collections/{kind}/tiles": {"get": operation(
            "ogcTilesets", "The tile sets of a collection", {"200": json_response("tile sets"), **errors(404)},
            parameters=[KIND])},
        "/ogc/collections/{kind}/tiles/WebMercatorQuad": {"get": operation(
            "ogcTileset", "A collection's vector tile set", {"200": json_response("tile set"), **errors(404)},
            parameters=[KIND])},
        "/ogc/collections/{kind}/tiles/WebMercatorQuad/tilejson.json": {"get": operation(
            "ogcTileJSON", "TileJSON of a collection's tiles", {"200": json_response("TileJSON"), **errors(404)},
            parameters=[KIND] + filters)},
        "/ogc/collections/{kind}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}": {"get": operation(
            "ogcTile", "A vector tile of a collection", tile,
            parameters=[KIND, index("tileMatrix"), index("tileRow"), index("tileCol")] + filters)},
        "/ogc/tileMatrixSets": {"get": operation("ogcTileMatrixSets", "The tile matrix sets",
                                                 {"200": json_response("tile matrix sets")})},
        "/ogc/tileMatrixSets/WebMercatorQuad": {"get": operation(
            "ogcWebMercatorQuad", "WebMercatorQuad", {"200": json_response("tile matrix set")})},
    }


def site_properties_schema() -> dict[str, Any]:
    """Return the schema of a site Feature's properties: every declared field with its type."""
    return {"type": "object", "required": list(sitefields.REQUIRED),
            "properties": {field.name: property_schema(field) for field in sitefields.FIELDS}}


def property_schema(field: sitefields.SiteField) -> dict[str, Any]:
    """Return a property's schema; a nullable enum lists null among its values (OpenAPI 3.0 asks for it)."""
    schema = field.json_schema()
    if field.nullable and "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def input_schema(field: sitefields.SiteField) -> dict[str, Any]:
    """Return the schema of an editable field's value in a request body, with its accepted range."""
    schema = field.json_schema()
    if field.low is not None:
        schema["minimum"] = field.low
    if field.high is not None:
        schema["maximum"] = field.high
    return schema


def feature_input_schema() -> dict[str, Any]:
    """Return the schema of a created or updated Feature: the editable fields; read-only ones are ignored."""
    editable = {name: input_schema(sitefields.BY_NAME[name]) for name in sitefields.EDITABLE}
    return {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "properties": editable,
                       "description": "the fields to set; null clears a field. The read-only properties of "
                                      "SiteProperties may be sent back and are ignored."}}}


def components() -> dict[str, Any]:
    """Return the security schemes, shared responses and schemas."""
    return {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "token from `heshan-map users create`"}},
        "responses": {"Error": {"description": "an error", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}},
        "schemas": {"Error": ERROR_SCHEMA, "Feature": FEATURE_SCHEMA, "FeatureCollection": COLLECTION_SCHEMA,
                    "SiteProperties": site_properties_schema(), "FeatureInput": feature_input_schema(),
                    "ReportedFigure": FIGURE_SCHEMA},
    }


# --- what changed (/api/changes, /changes, /changes.atom) ---
SINCE = {"name": "since", "in": "query", "schema": {"type": "string"},
         "description": "changes recorded since: an ISO 8601 date (from its midnight, China Standard Time) or "
                        "date-time (without an offset: China Standard Time)"}
CHANGE_PAGING: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    PAGING[1],
]


def change_paths() -> dict[str, Any]:
    """Return the path items of what changed: the JSON list, the page and the Atom feed."""
    parameters = FILTERS + [SINCE] + CHANGE_PAGING
    return {
        "/api/changes": {"get": operation(
            "listChanges", "Stage events and edits of the selected sites, newest first, paged",
            {"200": json_response("the changes, numberMatched, numberReturned and next/prev links"),
             **errors(400)}, parameters=parameters)},
        "/changes": {"get": operation("changesPage", "What changed (HTML)",
                                      {"200": html_response("the list"), "400": html_response("a bad parameter")},
                                      parameters=parameters)},
        "/changes.atom": {"get": operation(
            "changesFeed", "What changed as an Atom feed (RFC 4287)",
            {"200": {"description": "the feed", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
             "400": html_response("a bad parameter")}, parameters=parameters)},
    }


def build_openapi(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of the service."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Heshan project map API / 鹤山市项目建设一张图", "version": "1.0.0",
                 "description": "Sites of Heshan (parks, projects, land plots, 绿美 sites) as GeoJSON, "
                                "uploads, exports and OGC API – Features."},
        "servers": [{"url": server_url}],
        "paths": {**feature_paths(), **data_paths(), **service_paths(), **page_paths(), **ogc_paths(),
                  **change_paths(), **tile_paths()},
        "components": components(),
    }
