"""The dashboard's figures for a filter: kind × stage, towns, stages reached per year, the funnel, year over year."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from .filters import Filter
from .storage import figures as figure_store
from .storage import stats as stat_store
from .vocabulary import KINDS, STAGES, TOWNS

LOGGER = logging.getLogger(__name__)
TOTALLED = stat_store.TOTALLED
# What a reported figure's unit counts: sites, or the sum of a totalled field (亿元 investment, 公顷 area).
COUNT_UNITS = ("个", "项", "宗", "块")
UNIT_TOTALS = {"亿元": TOTALLED[0], "公顷": TOTALLED[1]}
NO_TOWN = ""  # the key of the sites without a town


def zero() -> dict[str, Any]:
    """Return the figures of no site."""
    return {"sites": 0, **{name: 0.0 for name in TOTALLED}}


def figures_of(row: dict[str, Any]) -> dict[str, Any]:
    """Return the count and totals of a grouped row, totals rounded to 4 places (the columns' scale)."""
    return {"sites": int(row["sites"]), **{name: round(float(row[name]), 4) for name in TOTALLED}}


def add(total: dict[str, Any], part: dict[str, Any]) -> None:
    """Add a part's count and totals to a running total."""
    total["sites"] += part["sites"]
    for name in TOTALLED:
        total[name] = round(total[name] + part[name], 4)


def kind_stage_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return every kind × stage with its figures, zeros where no site is."""
    found = {(row["kind"], row["stage"]): figures_of(row) for row in rows}
    return [{"kind": kind, "stage": stage, **found.get((kind, stage), zero())} for kind in KINDS for stage in STAGES]


def town_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return every town (and the sites without one, when there are) with its figures per stage and in all."""
    towns: dict[str, dict[str, Any]] = {town: {} for town in TOWNS}
    for row in rows:
        towns.setdefault(row["town"] or NO_TOWN, {})[row["stage"]] = figures_of(row)
    table = []
    for town, stages in towns.items():
        total = zero()
        for part in stages.values():
            add(total, part)
        if town == NO_TOWN and not total["sites"]:
            continue
        table.append({"town": town or None, "total": total,
                      "stages": {stage: stages.get(stage, zero()) for stage in STAGES}})
    return table


def year_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return per year a stage was reached the figures per stage, all kinds and per kind."""
    years: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = years.setdefault(row["year"], {"year": row["year"], "stages": {
            stage: {**zero(), "kinds": {kind: zero() for kind in KINDS}} for stage in STAGES}})
        cell = entry["stages"][row["stage"]]
        add(cell, figures_of(row))
        cell["kinds"][row["kind"]] = figures_of(row)
    return [years[year] for year in sorted(years)]


def funnel_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the funnel 谋划 → 签约 → 动工 → 投产 with each stage's share of the stage before it."""
    counts = {row["stage"]: int(row["sites"]) for row in rows}
    table = []
    for index, stage in enumerate(STAGES):
        previous = counts.get(STAGES[index - 1], 0) if index else None
        sites = counts.get(stage, 0)
        conversion = round(sites / previous, 4) if previous else None
        table.append({"stage": stage, "sites": sites, "conversion": conversion})
    return table


def year_over_year(years: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return per year and stage the sites that reached it, the year before's and the change."""
    table = []
    by_year = {entry["year"]: entry for entry in years}
    for entry in years:
        for stage in STAGES:
            sites = entry["stages"][stage]["sites"]
            before = by_year.get(entry["year"] - 1)
            previous = before["stages"][stage]["sites"] if before else 0
            table.append({"year": entry["year"], "stage": stage, "sites": sites, "previous": previous,
                          "change": sites - previous,
                          "change_pct": round((sites - previous) / previous * 100, 1) if previous else None})
    return table


def held_for(figure: dict[str, Any], years: list[dict[str, Any]]) -> float | int | None:
    """Return what the data holds for a reported figure: sites, or their investment or area; None if not comparable."""
    unit = figure["unit"]
    measure = "sites" if unit in COUNT_UNITS else UNIT_TOTALS.get(unit)
    if measure is None or not figure["stage"]:
        return None
    cell = next((entry["stages"][figure["stage"]] for entry in years if entry["year"] == figure["year"]), None)
    if cell is None:
        return 0
    return (cell["kinds"][figure["kind"]] if figure["kind"] else cell)[measure]


def reported_beside_held(session: Session, years: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the reported figures that name a year, stage and kind, each with what the data holds beside it."""
    return [{**figure, "held": held_for(figure, years)} for figure in figure_store.select_reported_figures(session)
            if figure["stage"] and figure["kind"]]


def dashboard_stats(session: Session, selection: Filter) -> dict[str, Any]:
    """Return every figure of the dashboard for a filter (zeros when it selects nothing)."""
    kind_stage = kind_stage_table(stat_store.by_kind_and_stage(session, selection))
    total = zero()
    for cell in kind_stage:
        add(total, cell)
    years = year_table(stat_store.reached_by_year(session, selection))
    as_of = selection.as_of
    return {
        "filter": dict(selection.query_items()),
        "as_of": as_of.isoformat() if as_of else None,
        "totalled": list(TOTALLED),
        "total": total,
        "by_kind_stage": kind_stage,
        "by_town": town_table(stat_store.by_town_and_stage(session, selection)),
        "by_year": years,
        "undated": stat_store.undated_by_stage(session, selection),
        "funnel": funnel_table(stat_store.funnel(session, selection)),
        "year_over_year": year_over_year(years),
        "reported": reported_beside_held(session, years),
    }


def drill_query(selection: Filter, lang: str = "zh", **overrides: str) -> str:
    """Return the query string of the filter with some parameters replaced (kind, stage, town, reached …)."""
    items = [(key, value) for key, value in selection.query_items() if key not in overrides]
    items += [(key, value) for key, value in overrides.items() if value]
    if lang != "zh":
        items.append(("lang", lang))
    return urlencode(items)
