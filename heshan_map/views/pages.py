"""The map page, its print layout (/print) and the site page."""
from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for
from shapely.geometry import shape

from .. import mapview, sitefields
from ..dates import format_local_time, today_in_heshan
from ..storage import areas as area_store
from ..storage import site_reads
from ..db import get_session
from ..errors import InvalidParameter, NotFound
from ..features import history_entry, site_feature, site_properties
from ..filter_text import filter_text
from ..filters import Filter
from ..filters import parse_lang
from ..i18n import UI
from ..vocabulary import (HESHAN_BOUNDS, KIND_LABELS, KINDS, PRECISION_LABELS, STAGE_COLOURS, STAGE_LABELS, STAGES,
                          TOWNS)
from .common import request_filter

LOGGER = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)
SITE_ZOOM = 15  # the map's zoom when a site page links to its position
PAPER_SIZES = ("a4", "a3")


@bp.app_template_filter("local_time")
def local_time(value: Any) -> str:
    """Show a moment (ISO 8601 with an offset, or an aware datetime) as 2026-12-02 08:29, China Standard Time."""
    return format_local_time(value)


def switched_off_layers() -> set[str]:
    """Return the kind/stage layers the off= parameter switches off."""
    return {key for key in request.args.get("off", "").split(",") if key}


def parse_choice(args: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return a one-value parameter from its choices, the first by default."""
    value = str(args.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise InvalidParameter(name, f"expected one of {', '.join(choices)}")
    return value


@bp.get("/")
def map_page() -> str:
    """Render the layered map for the filter in the URL."""
    selection = request_filter()
    lang = parse_lang(request.args)
    mode = parse_choice(request.args, "mode", mapview.MAP_MODES)
    items = selection.query_items()
    session = get_session()
    counts = site_reads.count_by_kind_and_stage(session, selection)
    places = mapview.place_names(area_store.select_admin_areas(session, "town"),
                                 area_store.select_admin_areas(session, "county"), lang)
    fmap, layer_names = mapview.build_map(lang, current_app.config, selection.bbox, counts=counts,
                                          hidden=switched_off_layers(), places=places, mode=mode,
                                          reached=site_reads.stages_ever_reached(session, selection))
    query = items + ([("lang", lang)] if lang != "zh" else [])
    other_lang = [(k, v) for k, v in query if k != "lang"] + ([] if lang == "en" else [("lang", "en")])
    page_config = {
        "lang": lang,
        "featuresUrl": url_for("api.list_features"),
        "areasUrl": url_for("api.list_areas"),
        "siteUrl": url_for("pages.site_page", site_id=0).replace("/0", "/{id}"),
        "query": urlencode([item for item in items if item[0] != "as_of"] + [("lang", lang)]),
        "asOf": str(request.args.get("as_of") or "").strip() or None,
        "timeSteps": mapview.month_steps(site_reads.temporal_extent(session, Filter())[0], today_in_heshan(),
                                         selection.as_of),
        "mode": mode,
        "alertColours": mapview.ALERT_COLOURS,
        "printUrl": url_for("pages.print_page"),
        "text": mapview.TEXT[lang],
        "pageSize": current_app.config["API_MAX_LIMIT"],
        "kinds": list(KINDS),
        "stages": list(STAGES),
        "kindLabels": KIND_LABELS[lang],
        "stageLabels": STAGE_LABELS[lang],
        "precisionLabels": PRECISION_LABELS[lang],
        "stageColours": STAGE_COLOURS,
        "ui": UI[lang],
        "layers": layer_names.as_config(),
        "popupRows": sitefields.row_labels(lang),
    }
    return render_template(
        "map.html", lang=lang, ui=UI[lang], selection=selection, counts=counts,
        kinds=KINDS, stages=STAGES, towns=TOWNS, parks=site_reads.park_names(session),
        kind_labels=KIND_LABELS[lang], stage_labels=STAGE_LABELS[lang], stage_colours=STAGE_COLOURS,
        map_parts=mapview.render_map_parts(fmap), page_config=page_config, text=mapview.TEXT[lang], mode=mode,
        print_url="/print?" + urlencode(query + ([("mode", mode)] if mode != "stage" else [])),
        other_lang_url="/?" + urlencode(other_lang),
        export_query=urlencode(query + ([("headers", "zh")] if lang == "zh" else [])),
        export_formats=[("geojson", "GeoJSON"), ("csv", "CSV"), ("xlsx", "Excel"), ("gpkg", "GeoPackage"),
                        ("kml", "KML"), ("shp.zip", "Shapefile")],
    )


@bp.get("/sites/<int:site_id>")
def site_page(site_id: int) -> str:
    """Render one site with its stage dates and its full history of stage changes and edits."""
    lang = parse_lang(request.args)
    session = get_session()
    row = site_reads.get_site(session, site_id)
    if row is None:
        raise NotFound(f"no site with id {site_id} / 没有编号为 {site_id} 的要素")
    history = [history_entry(item) for item in site_reads.select_history(session, site_id)]
    site = site_properties(row, lang)
    return render_template("site.html", lang=lang, ui=UI[lang], site=site, text=mapview.TEXT[lang],
                           rows=sitefields.row_labels(lang, sitefields.SHOWN),
                           only_when_set=sitefields.PAGE_ROWS_ONLY_WHEN_SET, map_link=site_map_link(row, lang),
                           history=history, stage_labels=STAGE_LABELS[lang][row["kind"]],
                           timeline=stage_timeline(site), days_in_stage=site.get("days_in_stage"),
                           stage_colours=STAGE_COLOURS, alert_colours=mapview.ALERT_COLOURS,
                           site_config={"geometry": json.loads(row["geometry"]) if row["geometry"] else None,
                                        "colour": STAGE_COLOURS.get(row["stage"], "#777"),
                                        "precision": row["precision"],
                                        "tileUrl": current_app.config["TILE_URL"],
                                        "tileAttribution": current_app.config["TILE_ATTRIBUTION"]})


def stage_timeline(site: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the site's stages in pipeline order, each with its date, whether reached and whether current."""
    current = STAGES.index(site["stage"]) if site["stage"] in STAGES else -1
    return [{"stage": stage, "date": site.get(sitefields.STAGE_DATE_FIELD[stage]),
             "reached": index <= current, "current": index == current} for index, stage in enumerate(STAGES)]


@bp.get("/print")
def print_page() -> str:
    """Render the filtered map laid out for an A4 or A3 landscape page, with its legend and table of sites."""
    selection = request_filter()
    lang = parse_lang(request.args)
    mode = parse_choice(request.args, "mode", mapview.MAP_MODES)
    size = parse_choice(request.args, "size", PAPER_SIZES)
    items = selection.query_items()
    session = get_session()
    features = [site_feature(row, lang) for row in site_reads.select_sites(session, selection)]
    extent = site_reads.extent_of_sites(session, selection) or HESHAN_BOUNDS
    query = items + ([("lang", lang)] if lang != "zh" else []) + ([("mode", mode)] if mode != "stage" else [])
    legend = (mapview.alert_legend(lang) if mode == "alert" else
              [(STAGE_COLOURS[stage], " / ".join(dict.fromkeys(STAGE_LABELS[lang][kind][stage]
                                                               for kind in mapview.Legend.LABEL_ORDER)))
               for stage in STAGES])
    config = {"features": features, "extent": list(extent), "mode": mode, "stageColours": STAGE_COLOURS,
              "alertColours": mapview.ALERT_COLOURS, "areasUrl": url_for("api.list_areas"),
              "tileUrl": current_app.config["TILE_URL"], "tileAttribution": current_app.config["TILE_ATTRIBUTION"],
              "north": mapview.TEXT[lang]["north"]}
    return render_template(
        "print.html", lang=lang, ui=UI[lang], text=mapview.TEXT[lang], size=size, mode=mode, legend=legend,
        sites=[feature["properties"] for feature in features], printed_on=today_in_heshan().isoformat(),
        as_of=selection.as_of, selection_text=filter_text(items, lang, skip=("as_of",)), print_config=config,
        size_urls={other: "/print?" + urlencode(query + [("size", other)]) for other in PAPER_SIZES},
        back_url="/?" + urlencode(query))


def site_map_link(row: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Return the map link of a site's position (a point on it, lat/lon), or None for a site with no geometry."""
    if row["geometry"] is None:
        return None
    point = shape(json.loads(row["geometry"])).representative_point()
    query = "?lang=en" if lang == "en" else ""
    return {"href": f"{url_for('pages.map_page')}{query}#map={SITE_ZOOM}/{point.y:.5f}/{point.x:.5f}",
            "lat": round(point.y, 5), "lon": round(point.x, 5)}
