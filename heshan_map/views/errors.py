"""The web edge of errors: the one table from error codes to HTTP statuses, and the handlers rendering them."""
from __future__ import annotations

import logging
from typing import Any, Callable

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
    "too_many_exports": 429, "busy": 503, "tile_timeout": 503, "database_unavailable": 503, "export_too_long": 504,
    "seed_invalid": 400, "unsafe_file": 400,  # an unsafe file's status is its reason's, below
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
    if path.startswith(("/api", "/ogc", "/tiles", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


# The one sentence over an error page, in the page's language; the message below it names what was wrong.
ERROR_HEADINGS = {
    "zh": {400: "请求参数有误", 401: "需要登录", 403: "没有权限", 404: "没有找到", 409: "与现有数据冲突",
           412: "数据已被他人修改，请刷新后再试", 413: "文件太大", 415: "不支持的文件类型", 422: "数据无法接受",
           428: "缺少版本标记（If-Match）", 429: "请求过多，请稍后再试", 500: "服务出错了", 503: "服务暂时不可用，请稍后再试",
           504: "查询超时"},
    "en": {400: "The request has a bad parameter", 401: "Please log in", 403: "Not allowed", 404: "Not found",
           409: "Conflicts with data already held", 412: "Changed by someone else; reload and try again",
           413: "File too large", 415: "File type not supported", 422: "The data cannot be accepted",
           428: "If-Match required", 429: "Too many requests; try again shortly", 500: "Something went wrong",
           503: "Service unavailable for a moment; try again shortly", 504: "The query took too long"},
}


def error_response(status: int, code: str, message: str, details: object = None) -> Response:
    """Render an error as JSON or HTML, whichever the client wants."""
    if wants_json():
        body: dict[str, object] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        response = jsonify({"error": body})
    else:
        lang = "en" if request.args.get("lang") == "en" else "zh"
        heading = ERROR_HEADINGS[lang].get(status, ERROR_HEADINGS[lang][500])
        response = Response(render_template("error.html", status=status, message=message, lang=lang,
                                            heading=heading), mimetype="text/html")
    response.status_code = status
    return response


def retry_later_response(status: int, code: str, message: str) -> Response:
    """Render an error with a Retry-After of RETRY_AFTER_S seconds."""
    response = error_response(status, code, message)
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_S"])
    return response


def handle_service_error(error: ServiceError) -> Response:
    """Render a domain error with the status of its code."""
    return error_response(status_of(error), error.code, error.message, error.details)


def handle_retry_later(error: RetryLater) -> Response:
    """Render a refusal the client may retry, with Retry-After."""
    return retry_later_response(status_of(error), error.code, error.message)


def handle_pool_timeout(_error: PoolTimeout) -> Response:
    """Answer 503 busy when no database connection came free in time."""
    LOGGER.warning("no database connection free for %s %s", request.method, request.path)
    return retry_later_response(503, "busy", "The service is busy; try again shortly / 服务繁忙，请稍后再试")


def handle_database_error(error: OperationalError) -> Response:
    """Roll the request's session back and answer a timeout, a lock wait or a lost database for what it is."""
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


def handle_http_error(error: HTTPException) -> Response:
    """Render an HTTP error (404, 405, 413 ...) in the service's error format."""
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(error.code or 500, code, error.description or error.name)


def handle_crash(_error: Exception) -> Response:
    """Log an unexpected error with its traceback, roll the session back and answer 500."""
    LOGGER.exception("unhandled error on %s %s", request.method, request.path)
    db.rollback_session()
    return error_response(500, "internal_error", "Internal server error / 服务器内部错误")


# Flask picks the handler of the most specific class, whatever the order here.
HANDLERS: tuple[tuple[type[BaseException], Callable[[Any], Response]], ...] = (
    (ServiceError, handle_service_error),
    (RetryLater, handle_retry_later),
    (PoolTimeout, handle_pool_timeout),
    (OperationalError, handle_database_error),
    (HTTPException, handle_http_error),
    (Exception, handle_crash),
)


def init_app(app: Flask) -> None:
    """Register one error handler for service errors, database errors, HTTP errors and crashes."""
    for error_class, handler in HANDLERS:
        app.register_error_handler(error_class, handler)
