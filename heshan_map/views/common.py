"""Request parsing and response building shared by the views."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

import numpy as np
from flask import Response, current_app, jsonify, request

from ..storage import areas as area_store
from ..storage import site_reads
from ..db import get_session
from ..errors import InvalidParameter, ServiceError
from ..filters import Filter, check_parks, parse_as_of, parse_filter

LOGGER = logging.getLogger(__name__)
_JSON_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_JSON_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_BRACKET_STEPS = np.zeros(256, dtype=np.int8)
_BRACKET_STEPS[list(b"[{")] = 1
_BRACKET_STEPS[list(b"]}")] = -1


def json_depth(data: bytes, cap: int | None = None) -> int:
    """Return how deeply the arrays and objects of UTF-8 JSON nest (at most `cap` when fewer brackets), linearly."""
    if cap is not None and data.count(b"[") + data.count(b"{") <= cap:
        return data.count(b"[") + data.count(b"{")  # an upper bound that is already within the cap
    # Escapes go first, so strings hold no quote and each is removed by one scan without backtracking.
    brackets = _JSON_STRING.sub(b"", _JSON_ESCAPE.sub(b"", data)).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return int(np.cumsum(_BRACKET_STEPS[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int64).max())


def refuse_json_constant(name: str) -> None:
    """Refuse NaN and Infinity, which Python's JSON reader takes but JSON (RFC 8259) does not have."""
    raise ServiceError(f"JSON 不允许 {name} / {name} is not a JSON number", code="invalid_body")


def json_body() -> Any:
    """Return the request's JSON body (None when it is not JSON), refusing one nested deeper than MAX_JSON_DEPTH."""
    if not request.is_json:
        return None
    data = request.get_data(cache=True)
    try:
        text = data.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8; UTF-16 would hide brackets
    except UnicodeDecodeError:
        raise ServiceError("请求体不是 UTF-8 编码的 JSON / the JSON body is not UTF-8", code="invalid_body") from None
    cap = current_app.config["MAX_JSON_DEPTH"]
    depth = json_depth(data, cap)
    if depth > cap:
        raise ServiceError(f"JSON 嵌套过深（上限 {cap} 层，MAX_JSON_DEPTH） / the JSON body nests {depth} deep, "
                           f"over the cap MAX_JSON_DEPTH = {cap}", code="json_too_deep")
    try:
        return json.loads(text, parse_constant=refuse_json_constant)
    except ValueError:
        return None


def request_filter() -> Filter:
    """Parse the shared filter of the current request, checking park names against the database."""
    selection = parse_filter(request.args)
    if selection.parks:
        check_parks(selection, site_reads.park_names(get_session()))
    return selection


def refuse_unknown_parameters(known: frozenset[str]) -> None:
    """Refuse a query parameter the endpoint does not define (OGC: /req/core/query-param-unknown), naming it."""
    for name in request.args:
        if name not in known:
            raise InvalidParameter(name, f"unknown parameter; known: {', '.join(sorted(known))}")


def request_as_of() -> dt.date | None:
    """Return the request's as_of day (the end of which a single site is seen at), or None."""
    raw = str(request.args.get("as_of") or "").strip()
    return parse_as_of(raw) if raw else None


def town_names(lang: str) -> dict[str, str]:
    """Return each town's name in a language (Chinese names map to themselves; English from the town areas)."""
    if lang == "zh":
        return {}
    return {row["name"]: row["name_en"] for row in area_store.select_admin_areas(get_session(), "town")
            if row.get("name_en")}


GEOJSON = "application/geo+json"


def geojson_response(body: dict, status: int = 200) -> Response:
    """Return a body as application/geo+json."""
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.status_code = status
    return response


def paging_links(limit: int, offset: int, returned: int, matched: int | None,
                 more: bool | None = None) -> list[dict[str, str]]:
    """Return the self, next and prev links of a page of the current query (same parameters, moved window).

    `more` says whether sites follow the page; without it, they follow while offset + returned < matched.
    """
    args = [(key, value) for key, value in request.args.items(multi=True) if key not in ("limit", "offset")]

    def page(rel: str, page_offset: int) -> dict[str, str]:
        query = urlencode(args + [("limit", str(limit)), ("offset", str(page_offset))])
        return {"href": f"{request.base_url}?{query}", "rel": rel, "type": GEOJSON}

    links = [page("self", offset)]
    if (more if more is not None else offset + returned < (matched or 0)):
        links.append(page("next", offset + returned))
    if offset > 0:
        links.append(page("prev", max(0, offset - limit)))
    return links
