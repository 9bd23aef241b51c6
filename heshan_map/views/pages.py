"""The map page and the site page."""
from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for
from shapely.geometry import shape

from .. import mapview, sitefields
from ..dates import format_local_time
from ..storage import areas as area_store
from ..storage import site_reads
from ..db import get_session
from ..errors import NotFound
from ..features import history_entry, site_properties
from ..filters import parse_lang
from ..i18n import UI
from ..vocabulary import (KIND_LABELS, KINDS, PRECISION_LABELS, STAGE_COLOURS, STAGE_LABELS, STAGES,
                          TOWNS)
from .common import request_filter

LOGGER = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)
SITE_ZOOM = 15  # the map's zoom when a site page links to its position


@bp.app_template_filter("local_time")
def local_time(value: Any) -> str:
    """Show a moment (ISO 8601 with an offset, or an aware datetime) as 2026-12-02 08:29, China Standard Time."""
    return format_local_time(value)


def switched_off_layers() -> set[str]:
    """Return the kind/stage layers the off= parameter switches off."""
    return {key for key in request.args.get("off", "").split(",") if key}


@bp.get("/")
def map_page() -> str:
    """Render the layered map for the filter in the URL."""
    selection = request_filter()
    lang = parse_lang(request.args)
    session = get_session()
    counts = site_reads.count_by_kind_and_stage(session, selection)
    places = mapview.place_names(area_store.select_admin_areas(session, "town"),
                                 area_store.select_admin_areas(session, "county"), lang)
    fmap, layer_names = mapview.build_map(lang, current_app.config, selection.bbox, counts=counts,
                                          hidden=switched_off_layers(), places=places)
    query = selection.query_items() + ([("lang", lang)] if lang != "zh" else [])
    other_lang = [(k, v) for k, v in query if k != "lang"] + ([] if lang == "en" else [("lang", "en")])
    page_config = {
        "lang": lang,
        "featuresUrl": url_for("api.list_features"),
        "areasUrl": url_for("api.list_areas"),
        "siteUrl": url_for("pages.site_page", site_id=0).replace("/0", "/{id}"),
        "query": urlencode(selection.query_items() + [("lang", lang)]),
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
        map_parts=mapview.render_map_parts(fmap), page_config=page_config,
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
    return render_template("site.html", lang=lang, ui=UI[lang], site=site_properties(row, lang),
                           rows=sitefields.row_labels(lang, sitefields.SHOWN),
                           only_when_set=sitefields.PAGE_ROWS_ONLY_WHEN_SET, map_link=site_map_link(row, lang),
                           history=history, stage_labels=STAGE_LABELS[lang][row["kind"]])


def site_map_link(row: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Return the map link of a site's position (a point on it, lat/lon), or None for a site with no geometry."""
    if row["geometry"] is None:
        return None
    point = shape(json.loads(row["geometry"])).representative_point()
    query = "?lang=en" if lang == "en" else ""
    return {"href": f"{url_for('pages.map_page')}{query}#map={SITE_ZOOM}/{point.y:.5f}/{point.x:.5f}",
            "lat": round(point.y, 5), "lon": round(point.x, 5)}
