"""Uploads: the API for programs and the page for editors."""
from __future__ import annotations

import logging

from flask import (Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for)
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import auth, uploads
from ..storage import uploads as upload_store
from ..db import get_session
from ..errors import InvalidParameter, NotFound, ServiceError
from ..filters import parse_lang
from ..i18n import UI
from ..vocabulary import HESHAN_CENTRE, KIND_LABELS, KINDS, STAGE_LABELS, STAGES

LOGGER = logging.getLogger(__name__)
bp = Blueprint("uploads", __name__)
CRS_CHOICES = ("EPSG:4326", "GCJ-02", "BD-09", "EPSG:4490", "EPSG:4547", "EPSG:4526", "EPSG:4546", "EPSG:4525")


def parse_flag(name: str) -> bool:
    """Return a boolean form or query parameter (true/false/1/0)."""
    raw = (request.form.get(name) or request.args.get(name) or "false").strip().lower()
    if raw not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise InvalidParameter(name, "expected true or false")
    return raw in ("true", "1", "yes", "on")


@bp.post("/api/uploads")
@auth.require_role("editor")
def create_upload() -> tuple[Response, int]:
    """Validate an uploaded file; unless it has errors or is a dry run, write it all in one transaction."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidParameter("file", "send the file as multipart/form-data field 'file'")
    user = auth.current_user()
    session = get_session()
    outcome = uploads.process_upload(session, uploads.UploadRequest(
        data=upload.read(), filename=upload.filename, user=user["name"],
        kind=(request.form.get("kind") or request.args.get("kind") or None),
        crs=(request.form.get("crs") or request.args.get("crs") or None),
        stage=(request.form.get("stage") or request.args.get("stage") or None),
        dry_run=parse_flag("dry_run"), repair=parse_flag("repair"),
        **uploads.limits_from_config(current_app.config)))
    if not outcome.accepted:
        return jsonify(outcome.report), 422
    session.commit()  # a dry run wrote only in a savepoint it rolled back: nothing to commit
    return jsonify(outcome.report), 200


@bp.get("/api/uploads/<int:upload_id>")
@auth.require_role("viewer")
def get_upload(upload_id: int) -> Response:
    """Return an upload record: who, when, the file's hash, its format and CRS, and the counts."""
    row = upload_store.get_upload(get_session(), upload_id)
    if row is None:
        raise NotFound(f"no upload with id {upload_id}")
    row["uploaded_at"] = row["uploaded_at"].isoformat()
    return jsonify(row)


@bp.get("/upload")
def upload_page() -> str | WerkzeugResponse:
    """Show the upload page to a logged-in editor: choose, preview on the map, then commit."""
    lang = parse_lang(request.args)
    user = auth.current_user()
    if user is None:
        return redirect(url_for("login.login", lang=lang if lang != "zh" else None))
    if not auth.has_role(user, "editor"):
        raise ServiceError(UI[lang]["editors_only"], code="forbidden")
    return render_template("upload.html", ui=UI[lang], lang=lang, user=user, kinds=KINDS, stages=STAGES,
                           stage_labels=STAGE_LABELS[lang], kind_labels=KIND_LABELS[lang], crs_choices=CRS_CHOICES,
                           centre=HESHAN_CENTRE, csrf=auth.csrf_token(),
                           max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
