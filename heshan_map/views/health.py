"""Liveness and readiness."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..storage import site_reads
from ..db import get_session, read_primary, replica_state, rollback_session

LOGGER = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer that the process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Answer whether the primary database answers with PostGIS and the schema in place; say if reads use a replica."""
    read_primary()
    try:
        details = site_reads.ping(get_session())
    except SQLAlchemyError as error:
        rollback_session()
        LOGGER.warning("not ready: %s", error.__class__.__name__)
        return jsonify({"status": "unavailable", "database": "unreachable or not migrated"}), 503
    replica = replica_state()
    return jsonify({"status": "ready", **details, **({"replica": replica} if replica is not None else {})}), 200
