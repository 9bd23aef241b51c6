"""The OpenAPI 3.0 document describing every route of the service."""
from __future__ import annotations

from typing import Any

from .export import FORMATS
from .vocabulary import KINDS, PRECISIONS, STAGES, TOWNS

ERROR = {"$ref": "#/components/responses/Error"}


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
    {"name": "year", "in": "query", "schema": {"type": "string", "pattern": r"^(\d{4}|\d{4}\.\.|\.\.\d{4}|\d{4}\.\.\d{4})$"},
     "description": "a stage reached that year, or a range 2022..2024"},
    {"name": "bbox", "in": "query", "style": "form", "explode": False,
     "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
     "description": "minlon,minlat,maxlon,maxlat (WGS84)"},
    {"name": "datetime", "in": "query", "schema": {"type": "string"},
     "description": "RFC 3339 date or interval (a/b, ../b, a/..) a stage was reached in"},
    {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]}, "description": "label language"},
]
PAGING: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 999999999}},
]
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**62}}
KIND = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": list(KINDS)}}


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


def build_openapi(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of the service."""
    feature_body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureInput"}}},
                    "required": True}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Heshan project map API / 鹤山市项目建设一张图", "version": "1.0.0",
                 "description": "Sites of Heshan (parks, projects, land plots, 绿美 sites) as GeoJSON, "
                                "uploads, exports and OGC API – Features."},
        "servers": [{"url": server_url}],
        "paths": {
            "/api/features": {
                "get": {"summary": "Selected sites as a FeatureCollection", "operationId": "listFeatures",
                        "parameters": FILTERS + PAGING,
                        "responses": {"200": geojson_response("the sites", "FeatureCollection"), "400": ERROR}},
                "post": {"summary": "Create a site (editor)", "operationId": "createFeature",
                         "security": [{"bearer": []}], "requestBody": feature_body,
                         "responses": {"201": geojson_response("created", "Feature"), "400": ERROR, "401": ERROR,
                                       "403": ERROR, "413": ERROR, "422": ERROR}},
            },
            "/api/features/{id}": {
                "get": {"summary": "One site, with an ETag", "operationId": "getFeature",
                        "parameters": [ID, FILTERS[-1]],
                        "responses": {"200": geojson_response("the site", "Feature"), "304": {"description": "not modified"},
                                      "404": ERROR}},
                "patch": {"summary": "Update a site (editor); needs If-Match", "operationId": "updateFeature",
                          "security": [{"bearer": []}],
                          "parameters": [ID, {"name": "If-Match", "in": "header", "required": True,
                                              "schema": {"type": "string"}}],
                          "requestBody": feature_body,
                          "responses": {"200": geojson_response("updated", "Feature"), "400": ERROR, "401": ERROR,
                                        "403": ERROR, "404": ERROR, "412": ERROR, "413": ERROR, "422": ERROR,
                                        "428": ERROR}},
            },
            "/api/features/{id}/history": {
                "get": {"summary": "Stage changes and edits of a site", "operationId": "getHistory",
                        "parameters": [ID], "responses": {"200": json_response("the history"), "404": ERROR}}},
            "/api/areas": {
                "get": {"summary": "County boundary or approximate towns", "operationId": "listAreas",
                        "parameters": [{"name": "level", "in": "query",
                                        "schema": {"type": "string", "enum": ["county", "town"]}}],
                        "responses": {"200": geojson_response("areas", "FeatureCollection"), "400": ERROR}}},
            "/api/counts": {
                "get": {"summary": "Counts per kind and stage", "operationId": "getCounts", "parameters": FILTERS,
                        "responses": {"200": json_response("counts"), "400": ERROR}}},
            "/api/export.{fmt}": {
                "get": {"summary": "Download what the filters select", "operationId": "export",
                        "parameters": [{"name": "fmt", "in": "path", "required": True,
                                        "schema": {"type": "string", "enum": list(FORMATS)}},
                                       {"name": "crs", "in": "query", "schema": {"type": "string"},
                                        "description": "output CRS for gpkg/shp.zip (EPSG:<code>, GCJ-02)"},
                                       {"name": "headers", "in": "query", "schema": {"type": "string", "enum": ["en", "zh"]}}]
                        + FILTERS,
                        "responses": {"200": {"description": "the file", "content": {
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                            "400": ERROR, "429": ERROR, "503": ERROR, "504": ERROR}}},
            "/api/uploads": {
                "post": {"summary": "Upload a file of sites (editor)", "operationId": "upload",
                         "security": [{"bearer": []}],
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"], "properties": {
                                 "file": {"type": "string", "format": "binary"},
                                 "kind": {"type": "string", "enum": list(KINDS)},
                                 "stage": {"type": "string", "enum": list(STAGES)},
                                 "crs": {"type": "string"},
                                 "dry_run": {"type": "string", "enum": ["true", "false"]},
                                 "repair": {"type": "string", "enum": ["true", "false"]}}}}}},
                         "responses": {"200": json_response("the report"), "400": ERROR, "401": ERROR, "403": ERROR,
                                       "413": ERROR, "415": ERROR, "422": ERROR, "503": ERROR}}},
            "/api/uploads/{id}": {
                "get": {"summary": "An upload record", "operationId": "getUpload", "security": [{"bearer": []}],
                        "parameters": [ID], "responses": {"200": json_response("the upload"), "401": ERROR,
                                                          "404": ERROR}}},
            "/api/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                          "responses": {"200": json_response("OpenAPI 3.0")}}},
            "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz",
                                 "responses": {"200": json_response("alive")}}},
            "/readyz": {"get": {"summary": "Readiness with the database", "operationId": "readyz",
                                "responses": {"200": json_response("ready"), "503": json_response("not ready")}}},
            "/": {"get": {"summary": "The layered map page (HTML); the filters select what it shows",
                          "operationId": "mapPage",
                          "parameters": FILTERS + [{"name": "off", "in": "query", "schema": {"type": "string"},
                                                    "description": "layers switched off, kind/stage comma list"}],
                          "responses": {"200": html_response("the map"), "400": html_response("a bad filter")}}},
            "/sites/{id}": {"get": {"summary": "A site's page with its history (HTML)", "operationId": "sitePage",
                                    "parameters": [ID, FILTERS[-1]],
                                    "responses": {"200": html_response("the site"), "404": html_response("none")}}},
            "/upload": {"get": {"summary": "The upload page for logged-in editors (HTML)", "operationId": "uploadPage",
                                "responses": {"200": html_response("the page"),
                                              "302": {"description": "to /login"},
                                              "403": html_response("not an editor")}}},
            "/login": {
                "get": {"summary": "The login form (HTML)", "operationId": "loginForm",
                        "responses": {"200": html_response("the form")}},
                "post": {"summary": "Log in with a user name and API token", "operationId": "login",
                         "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "properties": {"name": {"type": "string"}, "token": {"type": "string"},
                                                              "csrf_token": {"type": "string"}}}}}},
                         "responses": {"302": {"description": "logged in"}, "401": html_response("wrong"),
                                       "403": html_response("no CSRF token")}}},
            "/logout": {"post": {"summary": "Log out", "operationId": "logout",
                                 "responses": {"302": {"description": "logged out"},
                                               "403": html_response("no CSRF token")}}},
            "/ogc": {"get": {"summary": "OGC API landing page", "operationId": "ogcLanding",
                             "responses": {"200": json_response("landing page")}}},
            "/ogc/conformance": {"get": {"summary": "Conformance classes", "operationId": "ogcConformance",
                                         "responses": {"200": json_response("conformance")}}},
            "/ogc/collections": {"get": {"summary": "The four collections", "operationId": "ogcCollections",
                                         "responses": {"200": json_response("collections")}}},
            "/ogc/collections/{kind}": {"get": {"summary": "One collection", "operationId": "ogcCollection",
                                                "parameters": [KIND],
                                                "responses": {"200": json_response("collection"), "404": ERROR}}},
            "/ogc/collections/{kind}/items": {
                "get": {"summary": "Features of a collection", "operationId": "ogcItems",
                        "parameters": [KIND] + [p for p in FILTERS if p["name"] != "kind"] + PAGING,
                        "responses": {"200": geojson_response("features", "FeatureCollection"), "400": ERROR,
                                      "404": ERROR}}},
            "/ogc/collections/{kind}/items/{featureId}": {
                "get": {"summary": "One feature", "operationId": "ogcItem",
                        "parameters": [KIND, {"name": "featureId", "in": "path", "required": True,
                                              "schema": {"type": "string"}}],
                        "responses": {"200": geojson_response("feature", "Feature"), "404": ERROR}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "token from `heshan-map users create`"}},
            "responses": {"Error": {"description": "an error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Feature": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
                    "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "integer"},
                    "geometry": {"type": "object"}, "properties": {"$ref": "#/components/schemas/SiteProperties"}}},
                "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                    "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"},
                    "links": {"type": "array", "items": {"type": "object"}}}},
                "SiteProperties": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "code": {"type": "string", "nullable": True},
                    "kind": {"type": "string", "enum": list(KINDS)}, "name": {"type": "string"},
                    "stage": {"type": "string", "enum": list(STAGES)}, "stage_label": {"type": "string"},
                    "signed_on": {"type": "string", "nullable": True},
                    "started_on": {"type": "string", "nullable": True},
                    "in_production_on": {"type": "string", "nullable": True},
                    "town": {"type": "string", "nullable": True}, "park": {"type": "string", "nullable": True},
                    "precision": {"type": "string", "enum": list(PRECISIONS)},
                    "source": {"type": "string", "nullable": True},
                    "investment_cny_100m": {"type": "number", "nullable": True},
                    "area_ha": {"type": "number", "nullable": True},
                    "updated_at": {"type": "string"}, "version": {"type": "integer"}}},
                "FeatureInput": {"type": "object", "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object"}}},
            },
        },
    }
