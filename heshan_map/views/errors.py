"""The web edge of errors: the one table from error codes to HTTP statuses, and the handlers rendering them."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .. import db
from ..errors import RetryLater, ServiceError

LOGGER = logging.getLogger(__name__)

# The HTTP status of each domain error code; a code not listed is a 400.
STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400, "invalid_parameter": 400, "invalid_body": 400,
    "unauthorized": 401, "forbidden": 403, "csrf_failed": 403, "not_found": 404, "conflict": 409,
    "precondition_failed": 412, "json_too_deep": 413, "upload_budget_exceeded": 413,
    "invalid_feature": 422, "invalid_file": 422, "invalid_crs": 422, "precondition_required": 428,
    "too_many_exports": 429, "busy": 503, "database_unavailable": 503, "export_too_long": 504,
}
# An unsafe upload's status by its reason (ingest.safety.UnsafeFile.reason).
STATUS_BY_REASON: dict[str, int] = {"refused": 400, "too_large": 413, "unsupported": 415, "invalid": 422}


def status_of(error: ServiceError) -> int:
    """Return the HTTP status of a domain error."""
    if error.reason in STATUS_BY_REASON:
        return STATUS_BY_REASON[error.reason]
    return STATUS_BY_CODE.get(error.code, 400)


def wants_json() -> bool:
    """Tell whether the current request should be answered in JSON."""
    path = request.path
    if path.startswith(("/api", "/ogc", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def error_response(status: int, code: str, message: str, details: object = None) -> Response:
    """Render an error as JSON or HTML, whichever the client wants."""
    if wants_json():
        body: dict[str, object] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        response = jsonify({"error": body})
    else:
        response = Response(render_template("error.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    return response


def retry_later_response(status: int, code: str, message: str) -> Response:
    """Render an error with a Retry-After of RETRY_AFTER_S seconds."""
    response = error_response(status, code, message)
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_S"])
    return response


def init_app(app: Flask) -> None:
    """Register one error handler for service errors, HTTP errors and crashes."""

    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError) -> Response:
        return error_response(status_of(error), error.code, error.message, error.details)

    @app.errorhandler(RetryLater)
    def handle_retry_later(error: RetryLater) -> Response:
        return retry_later_response(status_of(error), error.code, error.message)

    @app.errorhandler(PoolTimeout)
    def handle_pool_timeout(_error: PoolTimeout) -> Response:
        LOGGER.warning("no database connection free for %s %s", request.method, request.path)
        return retry_later_response(503, "busy", "The service is busy; try again shortly / 服务繁忙，请稍后再试")

    @app.errorhandler(OperationalError)
    def handle_database_error(error: OperationalError) -> Response:
        db.rollback_session()
        if isinstance(error.orig, QueryCanceled):
            LOGGER.warning("statement timeout on %s %s", request.method, request.path)
            seconds = current_app.config["STATEMENT_TIMEOUT_MS"] / 1000
            return error_response(504, "query_timeout", f"The database query took longer than {seconds:g} s and "
                                  "was stopped; narrow the filter / 查询超时，请缩小筛选范围")
        if isinstance(error.orig, LockNotAvailable):
            LOGGER.warning("write lock wait timed out on %s %s", request.method, request.path)
            return retry_later_response(503, "write_in_progress", "Another upload or edit is being written; try "
                                        "again shortly / 其他上传或编辑正在写入，请稍后再试")
        LOGGER.error("database error on %s %s: %s", request.method, request.path, error.orig or error)
        return retry_later_response(503, "database_unavailable",
                                    "The database is unavailable; try again shortly / 数据库暂不可用，请稍后再试")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_crash(error: Exception) -> Response:
        LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        db.rollback_session()
        return error_response(500, "internal_error", "Internal server error / 服务器内部错误")
