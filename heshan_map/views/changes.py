"""What changed: GET /api/changes (JSON), /changes (the page) and /changes.atom (the feed), on the shared filters."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from .. import changes
from ..db import get_session
from ..filters import Filter, parse_lang, parse_paging
from ..i18n import UI
from ..storage import changes as change_store
from ..vocabulary import KIND_LABELS, KINDS, TOWNS
from .common import paging_links, request_filter, town_names

LOGGER = logging.getLogger(__name__)
bp = Blueprint("changes", __name__)
PAGING_KEYS = ("limit", "offset")
FORM_KEYS = ("town", "kind", "since", "lang")  # what the page's form sets itself


@dataclass(frozen=True)
class ChangePage:
    """One page of changes for the current request: what was asked, the entries and how many match."""

    selection: Filter
    since: dt.datetime | None
    lang: str
    limit: int
    offset: int
    entries: list[dict[str, Any]]
    matched: int


def site_page_url(lang: str) -> Callable[[int], str]:
    """Return a function giving a site page's absolute URL in the page language."""
    def url(site_id: int) -> str:
        return url_for("pages.site_page", site_id=site_id, _external=True, **({"lang": "en"} if lang == "en" else {}))
    return url


def change_page() -> ChangePage:
    """Parse the request (filters, since, lang, limit, offset) and read that page of changes."""
    selection = request_filter()
    since = changes.parse_since(request.args.get("since"))
    lang = parse_lang(request.args)
    limit, offset = parse_paging(request.args, changes.DEFAULT_LIMIT, changes.MAX_LIMIT)
    session = get_session()
    rows = change_store.select_changes(session, selection, since, limit, offset)
    entries = [changes.change_entry(row, lang, site_page_url(lang)) for row in rows]
    return ChangePage(selection, since, lang, limit, offset, entries,
                      change_store.count_changes(session, selection, since))


def query_without(*keys: str) -> list[tuple[str, str]]:
    """Return the request's query pairs without some parameters."""
    return [(key, value) for key, value in request.args.items(multi=True) if key not in keys]


def with_query(path: str, pairs: list[tuple[str, str]]) -> str:
    """Return a path with a query string, or the bare path when there is none."""
    return f"{path}?{urlencode(pairs)}" if pairs else path


@bp.get("/api/changes")
def list_changes() -> Response:
    """Return stage events and edits of the selected sites since a moment, newest first, one page at a time."""
    page = change_page()
    links = [{**link, "type": "application/json"}
             for link in paging_links(page.limit, page.offset, len(page.entries), page.matched)]
    return jsonify({"changes": page.entries, "since": changes.local_isoformat(page.since) if page.since else None,
                    "numberMatched": page.matched, "numberReturned": len(page.entries), "links": links})


@bp.get("/changes.atom")
def changes_feed() -> Response:
    """Return the same changes as an Atom feed (RFC 4287)."""
    page = change_page()
    kept = query_without(*PAGING_KEYS)
    next_url = None
    if page.offset + len(page.entries) < page.matched:
        next_url = with_query(request.base_url, kept + [("limit", str(page.limit)),
                                                        ("offset", str(page.offset + len(page.entries)))])
    links = changes.FeedLinks(
        self_url=with_query(request.base_url, query_without()),
        html_url=with_query(url_for("changes.changes_page", _external=True), kept),
        next_url=next_url, authority=request.host.rsplit(":", 1)[0].strip("[]") or "localhost",
        query=urlencode(sorted(query_without(*PAGING_KEYS))))
    body = changes.atom_feed(page.entries, page.lang, links, dt.datetime.now(dt.timezone.utc))
    return Response(body, mimetype=changes.ATOM_TYPE)


def page_link(page: ChangePage, offset: int) -> str:
    """Return the page's URL at another offset, every other parameter kept."""
    return with_query(request.path, query_without(*PAGING_KEYS) + [("offset", str(offset))]
                      + ([("limit", str(page.limit))] if page.limit != changes.DEFAULT_LIMIT else []))


@bp.get("/changes")
def changes_page() -> str:
    """Render the list of changes with a filter form, paging links and the feed's link."""
    page = change_page()
    lang = page.lang
    entries = [{**entry, "what": changes.describe_change(entry, lang)} for entry in page.entries]
    newer = page_link(page, max(0, page.offset - page.limit)) if page.offset > 0 else None
    older = page_link(page, page.offset + len(entries)) if page.offset + len(entries) < page.matched else None
    other_lang = [(k, v) for k, v in query_without("lang")] + ([] if lang == "en" else [("lang", "en")])
    return render_template(
        "changes.html", lang=lang, ui=UI[lang], text=changes.TEXT[lang], entries=entries, matched=page.matched,
        towns=TOWNS, town_names=town_names(lang), kinds=KINDS, kind_labels=KIND_LABELS[lang],
        town=request.args.get("town", ""), kind=request.args.get("kind", ""),
        since=request.args.get("since", ""), hidden=query_without(*FORM_KEYS, *PAGING_KEYS),
        newer=newer, older=older, other_lang_url=with_query(request.path, other_lang),
        feed_url=with_query(url_for("changes.changes_feed"), query_without(*PAGING_KEYS)))
