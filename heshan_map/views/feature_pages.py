"""Feature pages (/api/features, OGC items) as bytes PostGIS built, with a weak ETag a reverse proxy can use."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Iterator

from flask import Response, current_app, request

from ..alerts import active_rules_json
from ..db import get_session
from ..filters import Filter
from ..storage import site_pages
from .common import GEOJSON, paging_links

LOGGER = logging.getLogger(__name__)
# Caches may keep a page but must ask again (If-None-Match) before using it: an edit shows at once.
PAGE_CACHE_CONTROL = "public, no-cache"


def page_etag() -> str:
    """Return the (weak) ETag value of the current page request: the data version, the alert rules and the query."""
    key = "\n".join([site_pages.data_version(get_session()), active_rules_json(), request.path,
                     request.query_string.decode("latin-1")])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def not_modified(etag: str) -> Response | None:
    """Return a 304 when the client (or proxy) already holds this version of the page, else None."""
    if not request.if_none_match.contains_weak(etag):
        return None
    response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return response


def page_body(page: site_pages.FeaturePage, links: list[dict[str, str]], stamp: bool) -> Iterator[bytes]:
    """Yield a FeatureCollection around the features PostGIS joined: O(1) Python per page."""
    tail: dict[str, object] = {}
    if page.matched is not None:
        tail["numberMatched"] = page.matched
    tail["numberReturned"] = page.returned
    tail["links"] = links
    if stamp:
        tail["timeStamp"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield b'{"type":"FeatureCollection","features":['
    yield page.features
    yield b"]," + json.dumps(tail, ensure_ascii=False, separators=(",", ":"))[1:].encode("utf-8") + b"\n"


def feature_page_response(selection: Filter, lang: str, limit: int, offset: int,
                          extra_links: tuple[dict[str, str], ...] = (), stamp: bool = False) -> Response:
    """Return one page of the selected sites as a FeatureCollection built by one SQL statement, or a 304."""
    # A page stops early when its features would pass MAX_PAGE_BYTES; `numberReturned` and the `next` link
    # say where the following page starts. numberMatched is left out when more than FEATURE_COUNT_CAP match.
    etag = page_etag()
    cached = not_modified(etag)
    if cached is not None:
        return cached
    page = site_pages.select_feature_page(
        get_session(), selection, lang, limit, offset, budget=int(current_app.config["MAX_PAGE_BYTES"]),
        cap=int(current_app.config["FEATURE_COUNT_CAP"]))
    links = paging_links(limit, offset, page.returned, page.matched, more=page.more) + list(extra_links)
    response = Response(page_body(page, links, stamp), mimetype=GEOJSON)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return response
