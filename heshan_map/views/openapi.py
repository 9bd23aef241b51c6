"""Serve the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..openapi import build_openapi

bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
def openapi_document() -> Response:
    """Return the OpenAPI 3.0 document of the API."""
    return jsonify(build_openapi(request.host_url.rstrip("/")))
