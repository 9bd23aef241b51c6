"""Request parsing and response building shared by the views."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, jsonify, request

from .. import repository
from ..db import get_session
from ..features import site_feature
from ..filters import Filter, check_parks, parse_filter


def request_filter() -> Filter:
    """Parse the shared filter of the current request, checking park names against the database."""
    selection = parse_filter(request.args)
    if selection.parks:
        check_parks(selection, repository.park_names(get_session()))
    return selection


GEOJSON = "application/geo+json"


def geojson_response(body: dict, status: int = 200) -> Response:
    """Return a body as application/geo+json."""
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.status_code = status
    return response


def feature_page(selection: Filter, lang: str, limit: int, offset: int) -> dict:
    """Return one page of the selected sites as a FeatureCollection with counts and paging links."""
    session = get_session()
    rows = repository.select_sites(session, selection, limit, offset)
    matched = repository.count_sites(session, selection)
    return {
        "type": "FeatureCollection",
        "features": [site_feature(row, lang) for row in rows],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "links": paging_links(limit, offset, len(rows), matched),
    }


def paging_links(limit: int, offset: int, returned: int, matched: int) -> list[dict[str, str]]:
    """Return the self, next and prev links of a page of the current query (same parameters, moved window)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key not in ("limit", "offset")]

    def page(rel: str, page_offset: int) -> dict[str, str]:
        query = urlencode(args + [("limit", str(limit)), ("offset", str(page_offset))])
        return {"href": f"{request.base_url}?{query}", "rel": rel, "type": GEOJSON}

    links = [page("self", offset)]
    if offset + returned < matched:
        links.append(page("next", offset + limit))
    if offset > 0:
        links.append(page("prev", max(0, offset - limit)))
    return links
