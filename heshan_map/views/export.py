"""Downloads of exactly what the filters select."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Blueprint, Response, request, stream_with_context

from .. import export
from ..db import get_session
from ..errors import InvalidParameter
from ..filters import parse_lang
from .common import request_filter

LOGGER = logging.getLogger(__name__)
bp = Blueprint("export", __name__, url_prefix="/api")


@bp.get("/export.<path:fmt>")
def download(fmt: str) -> Response:
    """Send the selected sites in a format: GeoJSON and CSV streamed, the others from a temporary file."""
    fmt = export.parse_export_format(fmt)
    selection = request_filter()
    if request.args.get("headers") not in (None, "", "en", "zh"):
        raise InvalidParameter("headers", "expected en or zh")
    export_request = export.ExportRequest(
        selection=selection, fmt=fmt, lang=parse_lang(request.args),
        crs=export.parse_export_crs(fmt, request.args.get("crs")),
        chinese_headers=(request.args.get("headers") or "en") == "zh")
    mimetype = export.FORMATS[fmt][0]
    headers = {"Content-Disposition": export.content_disposition(export.download_name(selection, fmt))}
    session = get_session()
    if fmt in export.STREAM_WRITERS:
        body = stream_with_context(export.STREAM_WRITERS[fmt](session, export_request))
        return Response(body, mimetype=mimetype, headers=headers)
    with tempfile.TemporaryDirectory(prefix="heshan-export-") as folder:
        target = Path(folder) / f"export.{export.FORMATS[fmt][1]}"
        export.FILE_WRITERS[fmt](session, export_request, target)
        data = target.read_bytes()
    return Response(data, mimetype=mimetype, headers=headers)
