"""What changed: the `since` parameter, change entries as JSON, their titles and summaries, and the Atom feed."""
from __future__ import annotations

import datetime as dt
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable

from . import sitefields
from .dates import HESHAN_TIMEZONE, format_partial_date
from .errors import InvalidParameter
from .filters import HESHAN_YEARS
from .vocabulary import KIND_LABELS, stage_label

LOGGER = logging.getLogger(__name__)
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
TAG_DATE = "2026"  # the date of the tag: URIs (RFC 4151) naming feeds and entries; never changes
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACED_OFFSET = re.compile(r"(T[\d:.]+) (\d{2}(?::?\d{2})?)$")  # an unencoded '+' in a URL arrives as a space

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "项目动态", "site_title": "鹤山市项目建设一张图", "when": "时间（北京时间）", "who": "操作人",
        "site": "项目", "kind": "类型", "town": "镇街", "what": "变动", "upload": "上传",
        "all_towns": "全部镇街", "all_kinds": "全部类型", "since": "起始日期", "apply": "筛选",
        "newer": "← 较新", "older": "较旧 →", "none": "此筛选下没有变动",
        "feed": "订阅（Atom）", "count": "共 {n} 条", "unknown": "未知", "created": "新增",
        "updated": "修改", "reached": "进入阶段", "date_unknown": "日期不详", "position": "位置",
        "sep": "：", "list_sep": "、", "times_note": "时间均为北京时间（UTC+8）。",
    },
    "en": {
        "title": "What changed", "site_title": "Heshan project map", "when": "When (China Standard Time)",
        "who": "By", "site": "Site", "kind": "Kind", "town": "Town", "what": "Change", "upload": "upload",
        "all_towns": "All towns", "all_kinds": "All kinds", "since": "Since", "apply": "Filter",
        "newer": "← Newer", "older": "Older →", "none": "No change for this filter",
        "feed": "Subscribe (Atom)", "count": "{n} in all", "unknown": "unknown", "created": "Created",
        "updated": "Edited", "reached": "Reached", "date_unknown": "date unknown", "position": "Position",
        "sep": ": ", "list_sep": ", ", "times_note": "Times are China Standard Time (UTC+8).",
    },
}


def parse_since(raw: object) -> dt.datetime | None:
    """Parse `since`: a date (from its midnight in Heshan) or an ISO 8601 date-time (Heshan time without offset)."""
    value = _SPACED_OFFSET.sub(r"\1+\2", str(raw or "").strip())
    if not value:
        return None
    problem = f"'{value[:40]}' is not an ISO 8601 date (2026-12-01) or date-time (2026-12-01T08:00:00+08:00)"
    if not (value.isascii() and value[:4].isdigit()) or len(value) > 40:
        raise InvalidParameter("since", problem)
    try:
        moment = (dt.datetime.combine(dt.date.fromisoformat(value), dt.time()) if _DATE_ONLY.match(value)
                  else dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise InvalidParameter("since", problem) from None
    if not HESHAN_YEARS[0] <= moment.year <= HESHAN_YEARS[1]:
        raise InvalidParameter("since", f"the year {moment.year} is outside {HESHAN_YEARS[0]}–{HESHAN_YEARS[1]}")
    return moment if moment.tzinfo else moment.replace(tzinfo=HESHAN_TIMEZONE)


def local_isoformat(moment: dt.datetime) -> str:
    """Return a moment as ISO 8601 with Heshan's offset (+08:00)."""
    return moment.astimezone(HESHAN_TIMEZONE).isoformat()


def field_order(name: str) -> tuple[int, str]:
    """Return the sort key of a changed field: its place in the declaration, undeclared ones (geometry) last."""
    names = [field.name for field in sitefields.FIELDS]
    return (names.index(name) if name in names else len(names), name)


def entry_key(row: dict[str, Any]) -> str:
    """Return a change's stable key: its kind of record and that record's id."""
    record = "stage" if row["type"] == "stage" else ("create" if row["action"] == "create" else "edit")
    return f"{record}-{row['entry_id']}"


def change_entry(row: dict[str, Any], lang: str, site_url: Callable[[int], str]) -> dict[str, Any]:
    """Return one change row as JSON: what, when (ISO 8601 with offset), who, the site and the upload."""
    entry: dict[str, Any] = {
        "id": entry_key(row), "type": row["type"], "at": local_isoformat(row["at"]), "by": row["who"],
        "site": {"id": row["site_id"], "name": row["site_name"], "kind": row["site_kind"],
                 "kind_label": KIND_LABELS[lang][row["site_kind"]], "town": row["site_town"],
                 "url": site_url(row["site_id"])},
        "upload_id": row["upload_id"],
    }
    if row["type"] == "stage":
        entry["stage"] = row["stage"]
        entry["stage_label"] = stage_label(row["site_kind"], row["stage"], lang)
        entry["reached_on"] = format_partial_date(row["reached_on"], row["date_precision"])
    else:
        entry["action"] = row["action"]
        entry["fields"] = sorted(row["changes"] or {}, key=field_order)
    return entry


def field_label(name: str, lang: str) -> str:
    """Return a changed field's label in a language."""
    field = sitefields.BY_NAME.get(name)
    if field is None:
        return TEXT[lang]["position"] if name == "geometry" else name
    return field.label_en if lang == "en" else field.label_zh


def describe_change(entry: dict[str, Any], lang: str) -> str:
    """Return what a change did, as a short phrase: 进入阶段 已签约（2024-03） / 修改 名称、投资额."""
    words = TEXT[lang]
    if entry["type"] == "stage":
        reached = entry["reached_on"] or words["date_unknown"]
        return f"{words['reached']} {entry['stage_label']} ({reached})" if lang == "en" else \
            f"{words['reached']} {entry['stage_label']}（{reached}）"
    if entry["action"] == "create":
        return words["created"]
    labels = words["list_sep"].join(field_label(name, lang) for name in entry["fields"])
    return f"{words['updated']} {labels}".strip()


def change_title(entry: dict[str, Any], lang: str) -> str:
    """Return a change's one-line title: the site's name and what changed."""
    return f"{entry['site']['name']}{TEXT[lang]['sep']}{describe_change(entry, lang)}"


def change_summary(entry: dict[str, Any], lang: str) -> str:
    """Return a change's summary: what, the site's kind and town, who, and the upload."""
    words = TEXT[lang]
    parts = [describe_change(entry, lang), entry["site"]["kind_label"]]
    if entry["site"]["town"]:
        parts.append(entry["site"]["town"])
    parts.append(f"{words['who']}{words['sep']}{entry['by'] or words['unknown']}")
    if entry["upload_id"] is not None:
        parts.append(f"{words['upload']} #{entry['upload_id']}")
    return " · ".join(parts)


@dataclass(frozen=True)
class FeedLinks:
    """Where a feed lives: itself, its page, its next page, and the authority of its tag: URIs."""

    self_url: str
    html_url: str
    next_url: str | None
    authority: str
    query: str  # the filter as a query string: a filtered feed is a feed of its own


def sub(parent: ET.Element, tag: str, content: str | None = None, **attributes: str) -> ET.Element:
    """Append an Atom element with its text and attributes."""
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if content is not None:
        element.text = content
    return element


def tag_uri(authority: str, specific: str) -> str:
    """Return a tag: URI (RFC 4151) of this service's authority."""
    return f"tag:{authority},{TAG_DATE}:{specific}"


def atom_feed(entries: list[dict[str, Any]], lang: str, links: FeedLinks, now: dt.datetime) -> bytes:
    """Return the changes as an Atom feed (RFC 4287), every user's text escaped by ElementTree."""
    ET.register_namespace("", ATOM_NS)
    words = TEXT[lang]
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang":
                                             "en" if lang == "en" else "zh-CN"})
    sub(feed, "id", tag_uri(links.authority, "changes" + (f"?{links.query}" if links.query else "")))
    sub(feed, "title", f"{words['title']} · {words['site_title']}")
    sub(feed, "updated", entries[0]["at"] if entries else local_isoformat(now))
    sub(sub(feed, "author"), "name", words["site_title"])
    sub(feed, "link", rel="self", type=ATOM_TYPE, href=links.self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=links.html_url)
    if links.next_url:
        sub(feed, "link", rel="next", type=ATOM_TYPE, href=links.next_url)
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", tag_uri(links.authority, f"change/{entry['id']}"))
        sub(item, "title", change_title(entry, lang))
        sub(item, "updated", entry["at"])
        sub(sub(item, "author"), "name", entry["by"] or words["unknown"])
        sub(item, "link", rel="alternate", type="text/html", href=entry["site"]["url"])
        sub(item, "summary", change_summary(entry, lang), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
