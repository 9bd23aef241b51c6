"""Login and logout of the editors' web session."""
from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import auth
from ..filters import parse_lang
from ..i18n import UI

LOGGER = logging.getLogger(__name__)
bp = Blueprint("login", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WerkzeugResponse:
    """Log an editor in with the name and API token made by `heshan-map users create`."""
    lang = parse_lang(request.args)
    message = None
    if request.method == "POST":
        auth.refuse_without_csrf_token()
        if auth.log_in(request.form.get("name", ""), request.form.get("token", "")):
            return redirect(url_for("uploads.upload_page", lang=lang if lang != "zh" else None))
        message = UI[lang]["login_failed"]
    return render_template("login.html", ui=UI[lang], lang=lang, message=message, csrf=auth.csrf_token()), \
        (401 if message else 200)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    """End the web session."""
    auth.refuse_without_csrf_token()
    auth.log_out()
    return redirect(url_for("pages.map_page"))
