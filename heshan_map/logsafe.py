"""Log lines that user text cannot forge: control characters are escaped, tracebacks are indented."""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

LOGGER = logging.getLogger(__name__)
# C0 and C1 controls, DEL, the line and paragraph separators and the bidirectional overrides and isolates
# (U+202A–U+202E, U+2066–U+2069), which reorder how a log line reads.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Loggers whose handlers a server may have set up before create_app: root, gunicorn, werkzeug, the app.
SERVER_LOGGERS = ("", "gunicorn.error", "gunicorn.access", "werkzeug", "heshan_map")


def escape_control(text: str) -> str:
    """Return the text with every control character written as an escape (\\n, \\r, \\t, \\x1b, \\u2028)."""
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in NAMED:
            return NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return CONTROL.sub(escape, text)


def indent_block(text: str) -> str:
    """Return a traceback with its control characters escaped and every line indented under its record."""
    return "\n".join("  " + escape_control(line) for line in text.splitlines())


class EscapingFilter(logging.Filter):
    """Render each record's message once with control characters escaped, so it stays one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Escape the message and indent the traceback of the record; never drop it."""
        if getattr(record, "heshan_escaped", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep what was given, escaped
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = escape_control(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = indent_block(record.exc_text)
        if record.stack_info:
            record.stack_info = indent_block(record.stack_info)
        record.heshan_escaped = True
        return True


ESCAPING_FILTER = EscapingFilter()


def install(handlers: Iterable[logging.Handler]) -> None:
    """Put the escaping filter on each handler (once)."""
    for handler in handlers:
        if not any(isinstance(f, EscapingFilter) for f in handler.filters):
            handler.addFilter(ESCAPING_FILTER)


def install_on_server_loggers() -> None:
    """Put the escaping filter on the handlers of the root, gunicorn and app loggers, whoever made them."""
    from flask.logging import default_handler

    # Library warnings quote user text (GDAL's "Value '…' truncated"): send them through logging, escaped.
    logging.captureWarnings(True)

    install([default_handler])
    for name in SERVER_LOGGERS:
        install(logging.getLogger(name).handlers)


def configure_logging(level: int = logging.INFO) -> None:
    """Log to standard error, one escaped line per record."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    logging.captureWarnings(True)
    install(logging.getLogger().handlers)


def gunicorn_logger_class() -> type:
    """Return a gunicorn logger class whose error and access handlers escape like the service's."""
    from gunicorn.glogging import Logger

    class EscapingGunicornLogger(Logger):
        """Gunicorn's logger with the escaping filter on its handlers."""

        def setup(self, cfg: object) -> None:
            """Set gunicorn's handlers up, then put the filter on them."""
            super().setup(cfg)
            install(self.error_log.handlers)
            install(self.access_log.handlers)

    return EscapingGunicornLogger
