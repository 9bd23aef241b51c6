"""Exceptions that carry an HTTP status and a message safe to show, and their handlers."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

LOGGER = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error with an HTTP status, a machine code and a message safe to show users."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: object = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class InvalidParameter(ServiceError):
    """A query parameter that cannot be understood."""

    code = "invalid_parameter"

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"parameter '{parameter}': {reason}")
        self.parameter = parameter


class NotFound(ServiceError):
    """A resource that does not exist."""

    status = 404
    code = "not_found"


class DatabaseUnavailable(ServiceError):
    """The database cannot be reached or lacks what the service needs."""

    status = 503
    code = "database_unavailable"


class RetryLater(ServiceError):
    """A refusal the client may retry after RETRY_AFTER_S seconds; the answer carries Retry-After."""

    status = 503
    code = "busy"


class TooManyExports(RetryLater):
    """More exports at once than one client or the process may run."""

    status = 429
    code = "too_many_exports"


class ExportTooLong(ServiceError):
    """An export that ran past its wall-clock budget (EXPORT_BUDGET_S)."""

    status = 504
    code = "export_too_long"


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
    from . import db

    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError) -> Response:
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(RetryLater)
    def handle_retry_later(error: RetryLater) -> Response:
        return retry_later_response(error.status, error.code, error.message)

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
