"""Heshan project map: a Flask service over PostGIS."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

LOGGER = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent
# An installed package holds the templates itself (the wheel maps the top-level templates/ into it);
# a source checkout keeps them beside the package.
TEMPLATE_FOLDERS = (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates")


def template_folder() -> Path:
    """Return the package's templates folder when installed, else the project's top-level one."""
    return next((folder for folder in TEMPLATE_FOLDERS if folder.is_dir()), TEMPLATE_FOLDERS[-1])


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the application: configuration, database, blueprints, error handlers, CLI."""
    from . import cli, db, logsafe, security
    from .views import errors as web_errors
    from .config import load_config
    from .views import alerts, api, changes, dashboard, export, health, login, ogc, openapi, pages, tiles, uploads

    app = Flask(__name__, template_folder=str(template_folder()))
    app.config.update(load_config())
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)
    web_errors.init_app(app)
    for blueprint in (health.bp, api.bp, export.bp, ogc.bp, openapi.bp, pages.bp, uploads.bp, login.bp, alerts.bp,
                      changes.bp, dashboard.bp, tiles.bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    security.init_app(app)
    logsafe.install_on_server_loggers()
    return app
