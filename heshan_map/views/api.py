"""The REST API over sites: GeoJSON features, one feature, its history, areas, counts, reported figures."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from .. import auth, editing
from ..storage import areas as area_store
from ..storage import figures as figure_store
from ..storage import site_reads
from ..db import get_session
from ..errors import InvalidParameter, NotFound, ServiceError
from ..features import area_feature, history_entry, site_feature
from ..filters import parse_lang, parse_paging
from ..ingest.bounds import input_limits
from .common import geojson_response, json_body, request_as_of, request_filter
from .feature_pages import feature_page_response

LOGGER = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")
@bp.get("/features")
def list_features() -> Response:
    """Return the selected sites as a GeoJSON FeatureCollection, one page at a time."""
    selection = request_filter()
    lang = parse_lang(request.args)
    limit, offset = parse_paging(request.args, current_app.config["API_DEFAULT_LIMIT"],
                                 current_app.config["API_MAX_LIMIT"])
    return feature_page_response(selection, lang, limit, offset)


def version_tag(row: dict) -> str:
    """Return the tag of a site's stored version: what If-Match compares, whatever the day or language."""
    return hashlib.sha256(f"{row['id']}:{row['version']}:{row['updated_at'].isoformat()}".encode()).hexdigest()[:32]


def representation_tag(row: dict, body: bytes) -> str:
    """Return the entity tag of one representation: the version's tag and a digest of the body.

    The body holds what changes without an edit (alert and days in stage move with the day, the language, as_of),
    so a cache revalidating tomorrow gets the new days rather than a stale 304.
    """
    return f"{version_tag(row)}.{hashlib.sha256(body).hexdigest()[:12]}"


def matches_version(row: dict) -> bool:
    """Return whether the request's If-Match names the site's current version (any representation of it)."""
    if request.if_match.star_tag:
        return True
    return any(tag.split(".", 1)[0] == version_tag(row) for tag in request.if_match.as_set())


def load_site(site_id: int, as_of: dt.date | None = None) -> dict:
    """Return a site row (as it stood at the end of `as_of` when given) or raise NotFound."""
    row = site_reads.get_site(get_session(), site_id, as_of)
    if row is None:
        detail = f" on {as_of.isoformat()} (it had reached no stage by then)" if as_of else ""
        raise NotFound(f"no feature with id {site_id}{detail}")
    return row


def feature_response(site_id: int, status: int = 200, as_of: dt.date | None = None) -> Response:
    """Return a site as a GeoJSON Feature with the ETag of this representation."""
    row = load_site(site_id, as_of)
    response = geojson_response(site_feature(row, parse_lang(request.args)), status)
    response.set_etag(representation_tag(row, response.get_data()))
    return response


@bp.get("/features/<int:site_id>")
def get_feature(site_id: int) -> Response:
    """Return one site as a GeoJSON Feature with an ETag."""
    return feature_response(site_id, as_of=request_as_of()).make_conditional(request)


@bp.post("/features")
@auth.require_role("editor")
def create_feature() -> Response:
    """Create a site from a GeoJSON Feature (editor)."""
    site_id = editing.create_feature(get_session(), json_body(), auth.current_user()["name"],
                                     input_limits(current_app.config))
    get_session().commit()
    response = feature_response(site_id, 201)
    response.headers["Location"] = url_for("api.get_feature", site_id=site_id)
    return response


@bp.patch("/features/<int:site_id>")
@auth.require_role("editor")
def update_feature(site_id: int) -> Response:
    """Update a site from a partial Feature; If-Match must carry the current ETag (428 without, 412 stale)."""
    row = load_site(site_id)
    if not request.if_match:
        raise ServiceError("If-Match with the feature's ETag is required", code="precondition_required")
    if not matches_version(row):
        raise ServiceError("the feature changed since you read it; GET it again", code="precondition_failed")
    editing.update_feature(get_session(), row, json_body(), auth.current_user()["name"],
                           input_limits(current_app.config))
    get_session().commit()
    return feature_response(site_id)


@bp.get("/features/<int:site_id>/history")
def get_history(site_id: int) -> Response:
    """Return a site's stage changes and edits, oldest first, each with date and who."""
    load_site(site_id)
    entries = [history_entry(row) for row in site_reads.select_history(get_session(), site_id)]
    return jsonify({"id": site_id, "history": entries,
                    "feature": url_for("api.get_feature", site_id=site_id)})


@bp.get("/areas")
def list_areas() -> Response:
    """Return the county boundary (level=county) or the approximate towns (level=town)."""
    level = request.args.get("level", "town")
    if level not in ("county", "town"):
        raise InvalidParameter("level", "expected county or town")
    rows = area_store.select_admin_areas(get_session(), level)
    return geojson_response({"type": "FeatureCollection", "features": [area_feature(row) for row in rows]})


@bp.get("/counts")
def get_counts() -> Response:
    """Return the number of selected sites per kind and stage."""
    return jsonify(site_reads.count_by_kind_and_stage(get_session(), request_filter()))


@bp.get("/reported-figures")
def list_reported_figures() -> Response:
    """Return the county totals the source documents report, each with its year, stage, kind, unit and source."""
    return jsonify(figure_store.select_reported_figures(get_session()))
