"""The alerts page (/alerts) and its workbook (/alerts.xlsx): sites overdue in their stage, most overdue first."""
from __future__ import annotations

import io
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from openpyxl import Workbook

from ..db import get_session
from ..filters import Filter, parse_lang
from ..sitefields import ALERT_LEVELS
from ..storage import alerts as alert_store
from ..storage import site_reads
from ..vocabulary import KIND_LABELS, KINDS, STAGE_LABELS, STAGES, TOWNS
from .common import request_filter, town_names

LOGGER = logging.getLogger(__name__)
bp = Blueprint("alerts", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEXT: dict[str, dict[str, str]] = {
    "zh": {"title": "预警", "heading": "项目推进预警", "name": "名称", "kind": "类型", "town": "镇街", "park": "园区",
           "stage": "阶段", "entered": "进入本阶段日期", "days": "本阶段天数", "overdue": "超期天数", "alert": "预警",
           "rule": "规则", "yellow": "黄色", "red": "红色", "as_of": "截至日期", "all": "全部", "filter": "筛选",
           "none": "没有预警。", "xlsx": "下载 Excel（会议用）", "count": "共 {n} 个",
           "rule_text": "{stage}超过 {yellow} 个月黄色预警", "rule_red": "，超过 {red} 个月红色预警",
           "note": "只知道年份或月份的日期按该年或该月的最后一天计算（如“2024”从 2024-12-31 起算）。"
                   "超期天数为超过黄色预警期限的天数。",
           "today": "今天", "other_lang": "English"},
    "en": {"title": "Alerts", "heading": "Pipeline alerts", "name": "Name", "kind": "Kind", "town": "Town",
           "park": "Park", "stage": "Stage", "entered": "Entered stage", "days": "Days in stage",
           "overdue": "Days overdue", "alert": "Alert", "rule": "Rule", "yellow": "Yellow", "red": "Red",
           "as_of": "As of", "all": "All", "filter": "Filter", "none": "No alerts.",
           "xlsx": "Download Excel (for the meeting)", "count": "{n} sites",
           "rule_text": "{stage} over {yellow} months: yellow", "rule_red": "; over {red} months: red",
           "note": "A date known only to the year or the month counts from its last day (\"2024\" from 2024-12-31). "
                   "Days overdue are the days past the yellow threshold.",
           "today": "today", "other_lang": "中文"},
}


def months(value: float | None) -> str:
    """Return a rule's months without a trailing .0."""
    return "" if value is None else f"{value:g}"


def alert_rows(selection: Filter, lang: str) -> list[dict[str, Any]]:
    """Return the flagged sites with their labels and rule text in a language."""
    text = TEXT[lang]
    rows = []
    for row in alert_store.select_alerts(get_session(), selection):
        stage_label = STAGE_LABELS[lang][row["kind"]][row["stage"]]
        rule = text["rule_text"].format(stage=stage_label, yellow=months(row["yellow_months"]))
        if row["red_months"] is not None:
            rule += text["rule_red"].format(red=months(row["red_months"]))
        rows.append({**row, "kind_label": KIND_LABELS[lang][row["kind"]], "stage_label": stage_label,
                     "alert_label": text[row["alert"]], "rule": rule})
    return rows


@bp.get("/alerts")
def alerts_page() -> str:
    """Render the overdue sites for the filter in the URL, most overdue first."""
    selection = request_filter()
    lang = parse_lang(request.args)
    query = selection.query_items()
    other = query + ([] if lang == "en" else [("lang", "en")])
    return render_template(
        "alerts.html", lang=lang, text=TEXT[lang], rows=alert_rows(selection, lang), selection=selection,
        kinds=KINDS, stages=STAGES, towns=TOWNS, town_names=town_names(lang), levels=ALERT_LEVELS,
        parks=site_reads.park_names(get_session()),
        kind_labels=KIND_LABELS[lang], stage_labels=STAGE_LABELS[lang]["project"],
        xlsx_query=urlencode(query + ([("lang", lang)] if lang == "en" else [])),
        other_lang_url="/alerts?" + urlencode(other))


@bp.get("/alerts.xlsx")
def alerts_workbook() -> Response:
    """Return the overdue sites of the filter as an Excel workbook, one row each, most overdue first."""
    selection = request_filter()
    lang = parse_lang(request.args)
    text = TEXT[lang]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = text["title"]
    sheet.append([text[key] for key in ("alert", "name", "kind", "town", "park", "stage", "entered", "days",
                                        "overdue", "rule")])
    for row in alert_rows(selection, lang):
        sheet.append([row["alert_label"], row["name"], row["kind_label"], row["town"], row["park"],
                      row["stage_label"], row["entered_on"], row["days_in_stage"], row["days_overdue"], row["rule"]])
    sheet.append([])
    sheet.append([text["note"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    day = selection.as_of.isoformat() if selection.as_of else "today"
    return Response(buffer.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="heshan_alerts_{day}.xlsx"'})
