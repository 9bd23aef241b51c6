"""Domain errors: a machine code, a message safe to show, details; the web edge (views/errors.py) gives the status."""
from __future__ import annotations


class ServiceError(Exception):
    """An error with a machine code, a message safe to show users, and optional details and reason."""

    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, reason: str | None = None,
                 details: object = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.reason = reason  # a finer cause within the code (an unsafe file's: refused, too_large, ...)
        self.details = details


class InvalidParameter(ServiceError):
    """A query parameter that cannot be understood."""

    code = "invalid_parameter"

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"parameter '{parameter}': {reason}")
        self.parameter = parameter


class NotFound(ServiceError):
    """A resource that does not exist."""

    code = "not_found"


class DatabaseUnavailable(ServiceError):
    """The database cannot be reached or lacks what the service needs."""

    code = "database_unavailable"


class RetryLater(ServiceError):
    """A refusal the client may retry after a while (the answer carries Retry-After)."""

    code = "busy"


class TooManyExports(RetryLater):
    """More exports at once than one client or the process may run."""

    code = "too_many_exports"


class ExportTooLong(ServiceError):
    """An export that ran past its wall-clock budget (EXPORT_BUDGET_S)."""

    code = "export_too_long"


class TileTimeout(ServiceError):
    """A vector tile took longer than its statement timeout (too many sites for the filter at this zoom)."""

    code = "tile_timeout"
