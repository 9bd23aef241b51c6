"""Downloads of exactly what the filters select."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request

from .. import export
from ..db import take_session
from ..errors import InvalidParameter
from ..filters import parse_lang
from ..streams import OwnedStream, slots_for
from .common import request_filter

LOGGER = logging.getLogger(__name__)
bp = Blueprint("export", __name__, url_prefix="/api")


def parse_export_request(fmt: str) -> export.ExportRequest:
    """Return what the current request asks to export, with its wall-clock deadline."""
    selection = request_filter()
    if request.args.get("headers") not in (None, "", "en", "zh"):
        raise InvalidParameter("headers", "expected en or zh")
    return export.ExportRequest(
        selection=selection, fmt=fmt, lang=parse_lang(request.args),
        crs=export.parse_export_crs(fmt, request.args.get("crs")),
        chinese_headers=(request.args.get("headers") or "en") == "zh",
        deadline=time.monotonic() + current_app.config["EXPORT_BUDGET_S"])


@bp.get("/export.<path:fmt>")
def download(fmt: str) -> Response:
    """Send the selected sites in a format, streamed in chunks over a connection the response owns."""
    fmt = export.parse_export_format(fmt)
    export_request = parse_export_request(fmt)
    headers = {"Content-Disposition": export.content_disposition(export.download_name(export_request.selection, fmt))}
    if request.method == "HEAD":  # the headers a GET would send, without running the export
        return Response(content_type=export.FORMATS[fmt][0], headers=headers)
    release = slots_for(current_app).acquire(request.remote_addr or "unknown")
    stream = OwnedStream(take_session(), release)
    body = stream.start(export.export_chunks(stream.session, export_request),
                        done_with_database=fmt in export.FILE_WRITERS)
    response = Response(body, content_type=export.FORMATS[fmt][0], headers=headers)
    response.call_on_close(stream.close)
    return response
