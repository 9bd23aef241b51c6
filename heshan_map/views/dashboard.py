"""The dashboard: /dashboard (charts over server-side tables), /api/stats (JSON) and /dashboard.xlsx."""
from __future__ import annotations

import io
import logging
import re
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from openpyxl import Workbook

from .. import stats
from ..db import get_session
from ..filter_text import filter_text
from ..filters import Filter, parse_lang
from ..sitefields import BY_NAME
from ..vocabulary import KIND_LABELS, STAGE_COLOURS, STAGE_LABELS, STAGES, TOWNS
from .common import request_filter

LOGGER = logging.getLogger(__name__)
bp = Blueprint("dashboard", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT: dict[str, dict[str, str]] = {
    "zh": {"title": "项目建设统计", "kind_stage": "按类型与阶段", "towns": "按镇街", "years": "按年份（达到阶段）",
           "funnel": "谋划 → 签约 → 动工 → 投产", "yoy": "同比", "reported": "报告数与已入库数",
           "kind": "类型", "stage": "阶段", "sites": "数量", "town": "镇街", "year": "年份", "total": "合计",
           "no_town": "（镇街未定）", "conversion": "转化率", "previous": "上年", "change": "变化",
           "change_pct": "变化率（%）", "metric": "指标", "reported_value": "报告", "held": "已入库",
           "unit": "单位", "compared": "对比", "download": "下载表格（Excel）", "list": "列表", "filter": "当前筛选",
           "no_filter": "全部", "years_note": "按阶段事件的日期统计：某年达到某阶段的项目，无论现在处于什么阶段。",
           "undated_note": "另有日期不详（资料未写明）的阶段未计入任何年份：{}。",
           "funnel_note": "曾达到该阶段（或其后阶段）的项目数；转化率为占上一阶段的比例。",
           "as_of": "截至", "all_towns": "全部镇街", "apply": "应用", "reset": "重置", "on_map": "在地图上查看",
           "charts_failed": "图表未能加载，下表仍可查看。", "language": "English"},
    "en": {"title": "Pipeline dashboard", "kind_stage": "By kind and stage", "towns": "By town",
           "years": "By year a stage was reached", "funnel": "Planned → signed → started → in production",
           "yoy": "Year over year", "reported": "Reported and held", "kind": "Kind", "stage": "Stage",
           "sites": "Sites", "town": "Town", "year": "Year", "total": "Total", "no_town": "(no town)",
           "conversion": "Conversion", "previous": "Year before", "change": "Change", "change_pct": "Change (%)",
           "metric": "Metric", "reported_value": "Reported", "held": "Held", "unit": "Unit", "compared": "Compared",
           "download": "Download the tables (Excel)", "list": "list", "filter": "Filter", "no_filter": "all",
           "undated_note": " Stages reached on a date the documents do not give are in no year: {}.",
           "years_note": "Counted from stage events: the sites that reached a stage in a year, whatever their "
                         "stage is now.",
           "funnel_note": "Sites that ever reached the stage (or a later one); conversion is the share of the "
                          "stage before.", "as_of": "as of", "all_towns": "All towns", "apply": "Apply",
           "reset": "Reset", "on_map": "Show on the map",
           "charts_failed": "The charts did not load; the tables below still hold every figure.", "language": "中文"},
}


@bp.app_template_filter("dash_number")
def dash_number(value: Any) -> str:
    """Show a number without trailing zeros (12.5, 3, 0), anything else as it is."""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def field_label(name: str, lang: str) -> str:
    """Return a totalled field's label (投资额（亿元）, Area (ha))."""
    field = BY_NAME[name]
    return field.label_zh if lang == "zh" else field.label_en


def metric_label(figure: dict[str, Any], lang: str) -> str:
    """Return how a reported figure is named: in Chinese the document's own words, in English its metric spelt out."""
    quote = re.search(r"「(.+?)」", figure.get("source") or "")
    if lang == "zh" and quote:
        return quote.group(1)
    return str(figure["metric"]).replace("_", " ").replace("cny 100m", "100 million CNY")


class TableMaker:
    """Build the dashboard's tables: each cell a value with links to the map and the list of exactly its sites."""

    def __init__(self, selection: Filter, lang: str) -> None:
        self.selection = selection
        self.lang = lang
        self.text = TEXT[lang]
        self.kinds = KIND_LABELS[lang]
        self.stages = STAGE_LABELS[lang]["project"]

    def cell(self, value: Any, **overrides: str) -> dict[str, Any]:
        """Return a number cell linking to the map and the feature list of the filter with the overrides."""
        query = stats.drill_query(self.selection, self.lang, **overrides)
        return {"value": value, "href": f"/?{query}", "list_href": f"/api/features?{query}"}

    def figure_cells(self, figures: dict[str, Any], **overrides: str) -> list[dict[str, Any]]:
        """Return the count and totals cells of one group of sites."""
        return [self.cell(figures["sites"], **overrides)] + [self.cell(figures[name], **overrides)
                                                             for name in stats.TOTALLED]

    def kind_stage(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the kind × stage table and its stacked bars."""
        rows = [{"label": [self.kinds[c["kind"]], STAGE_LABELS[self.lang][c["kind"]][c["stage"]]],
                 "cells": self.figure_cells(c, kind=c["kind"], stage=c["stage"])} for c in data["by_kind_stage"]]
        rows.append({"label": [self.text["total"], ""], "cells": self.figure_cells(data["total"])})
        chart = {"type": "bar", "categories": [self.kinds[k] for k in KIND_LABELS[self.lang]],
                 "series": [{"name": self.stages[stage], "stage": stage, "data": [
                     c["sites"] for c in data["by_kind_stage"] if c["stage"] == stage]} for stage in STAGES]}
        return {"id": "kind_stage", "title": self.text["kind_stage"], "chart": chart, "rows": rows,
                "columns": [self.text["kind"], self.text["stage"], self.text["sites"]]
                + [field_label(name, self.lang) for name in stats.TOTALLED]}

    def towns(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the per-town table (count per stage, total, totals) and its stacked bars."""
        rows = []
        for entry in data["by_town"]:
            town = entry["town"] or ""
            stage_cells = [self.cell(entry["stages"][s]["sites"], town=town, stage=s) if town else
                           {"value": entry["stages"][s]["sites"]} for s in STAGES]
            totals = self.figure_cells(entry["total"], town=town) if town else \
                [{"value": entry["total"][key]} for key in ("sites", *stats.TOTALLED)]
            rows.append({"label": [town or self.text["no_town"]], "cells": stage_cells + totals})
        chart = {"type": "bar", "categories": [row["label"][0] for row in rows],
                 "series": [{"name": self.stages[s], "stage": s, "data": [e["stages"][s]["sites"]
                                                                           for e in data["by_town"]]} for s in STAGES]}
        return {"id": "towns", "title": self.text["towns"], "chart": chart, "rows": rows,
                "columns": [self.text["town"]] + [self.stages[s] for s in STAGES] + [self.text["total"]]
                + [field_label(name, self.lang) for name in stats.TOTALLED]}

    def years(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the per-year table (sites reaching each stage that year, and their investment) and its lines."""
        invest = stats.TOTALLED[0]
        rows = [{"label": [str(e["year"])], "cells": [
            self.cell(e["stages"][s]["sites"], reached=f"{s}:{e['year']}") for s in STAGES] + [
            self.cell(e["stages"][s][invest], reached=f"{s}:{e['year']}") for s in STAGES]}
            for e in data["by_year"]]
        chart = {"type": "line", "categories": [str(e["year"]) for e in data["by_year"]],
                 "series": [{"name": self.stages[s], "stage": s, "data": [e["stages"][s]["sites"]
                                                                           for e in data["by_year"]]} for s in STAGES]}
        undated = ("、" if self.lang == "zh" else ", ").join(
            f"{self.stages[s]} {data['undated'][s]}" for s in STAGES if data["undated"].get(s))
        note = self.text["years_note"] + (self.text["undated_note"].format(undated) if undated else "")
        return {"id": "years", "title": self.text["years"], "note": note, "chart": chart,
                "rows": rows, "columns": [self.text["year"]] + [self.stages[s] for s in STAGES]
                + [f"{self.stages[s]} · {field_label(invest, self.lang)}" for s in STAGES]}

    def funnel(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the funnel table (sites, conversion) and its funnel chart."""
        rows = [{"label": [self.stages[f["stage"]]], "cells": [
            self.cell(f["sites"], stage=",".join(STAGES[index:])),
            {"value": None if f["conversion"] is None else f"{f['conversion'] * 100:.1f}%"}]}
            for index, f in enumerate(data["funnel"])]
        chart = {"type": "funnel", "categories": [self.stages[f["stage"]] for f in data["funnel"]],
                 "stages": [f["stage"] for f in data["funnel"]],
                 "series": [{"name": self.text["sites"], "data": [f["sites"] for f in data["funnel"]]}]}
        return {"id": "funnel", "title": self.text["funnel"], "note": self.text["funnel_note"], "chart": chart,
                "rows": rows, "columns": [self.text["stage"], self.text["sites"], self.text["conversion"]]}

    def yoy(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the year-over-year table (no chart of its own: the per-year lines show it)."""
        rows = [{"label": [str(y["year"]), self.stages[y["stage"]]], "cells": [
            self.cell(y["sites"], reached=f"{y['stage']}:{y['year']}"),
            self.cell(y["previous"], reached=f"{y['stage']}:{y['year'] - 1}"),
            {"value": y["change"]}, {"value": y["change_pct"]}]} for y in data["year_over_year"]]
        return {"id": "yoy", "title": self.text["yoy"], "chart": None, "rows": rows,
                "columns": [self.text["year"], self.text["stage"], self.text["sites"], self.text["previous"],
                            self.text["change"], self.text["change_pct"]]}

    def reported(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the reported figures beside what the data holds (报告 107 / 已入库 N)."""
        rows = [{"label": [str(f["year"]), STAGE_LABELS[self.lang][f["kind"]][f["stage"]], self.kinds[f["kind"]],
                           metric_label(f, self.lang)],
                 "cells": [{"value": f["value"]}, {"value": f["unit"]},
                           self.cell(f["held"], reached=f"{f['stage']}:{f['year']}", kind=f["kind"])
                           if f["held"] is not None else {"value": None},
                           {"value": f"{self.text['reported_value']} {dash_number(f['value'])} / "
                                     f"{self.text['held']} {'—' if f['held'] is None else dash_number(f['held'])}"}],
                 "source": f["source"]} for f in data["reported"]]
        return {"id": "reported", "title": self.text["reported"], "chart": None, "rows": rows,
                "columns": [self.text["year"], self.text["stage"], self.text["kind"], self.text["metric"],
                            self.text["reported_value"], self.text["unit"], self.text["held"],
                            self.text["compared"]]}

    def all(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Return every table of the dashboard, in page order."""
        return [self.kind_stage(data), self.towns(data), self.years(data), self.funnel(data), self.yoy(data),
                self.reported(data)]


def current_stats() -> tuple[Filter, dict[str, Any]]:
    """Return the request's filter and its figures."""
    selection = request_filter()
    return selection, stats.dashboard_stats(get_session(), selection)


@bp.get("/api/stats")
def get_stats() -> Response:
    """Return the dashboard's figures for the filter as JSON."""
    return jsonify(current_stats()[1])


@bp.get("/dashboard")
def dashboard_page() -> str:
    """Render the dashboard: a chart over each server-side table, every number a link to its sites."""
    lang = parse_lang(request.args)
    selection, data = current_stats()
    tables = TableMaker(selection, lang).all(data)
    charts = {table["id"]: table["chart"] for table in tables if table["chart"]}
    query = stats.drill_query(selection, lang)
    other = stats.drill_query(selection, "zh" if lang == "en" else "en")
    return render_template("dashboard.html", lang=lang, text=TEXT[lang], tables=tables, data=data,
                           filter_words=filter_text(list(data["filter"].items()), lang),
                           selection=selection, kind_labels=KIND_LABELS[lang], towns=TOWNS,
                           query=query, other_lang_url=f"/dashboard?{other}",
                           page_config={"charts": charts, "colours": STAGE_COLOURS, "lang": lang})


def workbook_bytes(tables: list[dict[str, Any]]) -> bytes:
    """Return an XLSX workbook holding each table on its own sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table["id"])
        sheet.append([table["title"]])
        sheet.append(table["columns"])
        for row in table["rows"]:
            sheet.append(list(row["label"]) + [cell["value"] for cell in row["cells"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@bp.get("/dashboard.xlsx")
def dashboard_xlsx() -> Response:
    """Download the dashboard's tables for the filter as an XLSX workbook."""
    lang = parse_lang(request.args)
    selection, data = current_stats()
    body = workbook_bytes(TableMaker(selection, lang).all(data))
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="heshan_dashboard.xlsx"'})
