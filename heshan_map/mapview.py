"""Declare the folium map of a filter: basemaps, place names, area and site layers per kind and stage, clusters,
control, legend.

The page script (static/map.js with static/sitelayers.js) only fills the declared layers with the API's data:
`layer_names` tells it the JavaScript name folium gave each layer.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
import json
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy
import shapely
from branca.element import MacroElement
from folium.plugins import FeatureGroupSubGroup, MarkerCluster
from folium.utilities import JsCode
from jinja2 import Template
from markupsafe import Markup, escape
from shapely.geometry import shape

from .i18n import UI
from .security import add_nonce, csp_nonce
from .vocabulary import HESHAN_BOUNDS, HESHAN_CENTRE, KIND_LABELS, KINDS, STAGE_COLOURS, STAGE_LABELS, STAGES

LOGGER = logging.getLogger(__name__)
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T=%s_w&x={x}&y={y}&l={z}&tk=%s"
# Tianditu's basemaps, each a picture layer with its annotation (place names) over it: vector, then imagery.
TIANDITU_BASEMAPS = (("basemap_tianditu", ("vec", "cva")), ("basemap_tianditu_img", ("img", "cia")))
TIANDITU_ATTRIBUTION = "&copy; 天地图 Tianditu"
LABEL_PANE = "place-names"  # town and county names: over the basemap, under outlines and sites, never clickable
VENDOR = "/static/vendor"
AREA_LEVELS = ("county", "town")  # the reference layers, outline first
# Below this window width the layer control starts folded into its button, as on phones.
CONTROL_COLLAPSED = JsCode("window.innerWidth < 700")
# Clusters are neutral grey with a ring in their stage's colour (sitelayers.js draws it).
CLUSTER_ICON = "function (cluster) {{ return window.heshanSiteLayers.clusterIcon(cluster, {colour}); }}"
CLUSTER_OPTIONS = {"maxClusterRadius": 40, "showCoverageOnHover": False, "disableClusteringAtZoom": 15}
# The alert colour mode (mode=alert) colours a site by its `alert` property instead of its stage.
ALERT_COLOURS = {"none": "#9e9e9e", "yellow": "#e8b500", "red": "#d62728"}
MAP_MODES = ("stage", "alert")
# The strings of the time slider, the alert mode, the print page and the site timeline (issue 11).
TEXT = {
    "zh": {"as_of": "时间", "now": "至今", "play": "播放", "pause": "暂停", "mode": "着色",
           "mode_stage": "按阶段", "mode_alert": "按预警", "alert_legend": "预警",
           "alert_none": "无预警", "alert_yellow": "黄色预警", "alert_red": "红色预警", "print": "打印",
           "print_size": "纸张", "printed_on": "制图日期", "as_of_date": "数据截至", "sites": "项目清单",
           "north": "北", "no_sites": "没有符合条件的项目", "timeline": "阶段进程",
           "days_in_stage": "本阶段已 {n} 天", "alert": "预警", "site_map": "位置", "print_now": "打印本页",
           "selection": "筛选条件", "all_sites": "全部", "name": "名称"},
    "en": {"as_of": "Date", "now": "today", "play": "Play", "pause": "Pause", "mode": "Colour",
           "mode_stage": "by stage", "mode_alert": "by alert", "alert_legend": "Alerts",
           "alert_none": "no alert", "alert_yellow": "yellow alert", "alert_red": "red alert", "print": "Print",
           "print_size": "Paper", "printed_on": "Printed", "as_of_date": "Data as of", "sites": "Sites",
           "north": "N", "no_sites": "No site matches", "timeline": "Stages",
           "days_in_stage": "{n} days in this stage", "alert": "Alert", "site_map": "Position",
           "print_now": "Print this page", "selection": "Filter", "all_sites": "all", "name": "Name"},
}


class OfflineMap(folium.Map):
    """A folium Map whose scripts and styles are served by this service, never a CDN."""

    default_js = [("leaflet", f"{VENDOR}/leaflet/leaflet.js")]
    default_css = [("leaflet_css", f"{VENDOR}/leaflet/leaflet.css")]


class OfflineMarkerCluster(MarkerCluster):
    """folium's MarkerCluster on the vendored Leaflet.markercluster."""

    default_js = [("markercluster", f"{VENDOR}/markercluster/leaflet.markercluster.js")]
    default_css = [("markercluster_css", f"{VENDOR}/markercluster/MarkerCluster.css"),
                   ("markercluster_default_css", f"{VENDOR}/markercluster/MarkerCluster.Default.css")]


class OfflineSubGroup(FeatureGroupSubGroup):
    """folium's FeatureGroupSubGroup on the vendored Leaflet.FeatureGroup.SubGroup."""

    default_js = [("featuregroup_subgroup",
                   f"{VENDOR}/featuregroup-subgroup/leaflet.featuregroup.subgroup.js")]


class MapName(MacroElement):
    """Expose the Leaflet map object to the page script under a fixed name."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.heshanLeafletMap = {{ this._parent.get_name() }};
        {% endmacro %}
    """)


class Legend(MacroElement):
    """The legend: each stage's colour with its label per kind, the precision styles and where unplaced sites are."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <section id="legend">
          <h2>{{ this.title|e }}</h2>
          <ul id="legend-stage" {% if this.mode == 'alert' %}hidden{% endif %}>
            {% for colour, labels in this.stages -%}
            <li><span class="swatch" style="background: {{ colour|e }}"></span>{{ labels|join(' / ')|e }}</li>
            {%- endfor %}
            <li><span class="swatch solid"></span><span class="swatch hollow"></span><span class="swatch dotted"></span>
              {{- this.precision_note|e }}</li>
            <li><span class="swatch unplaced"></span>{{ this.unplaced_note|e }}</li>
          </ul>
          <ul id="legend-alert" {% if this.mode != 'alert' %}hidden{% endif %}>
            {% for colour, label in this.alerts -%}
            <li><span class="swatch" style="background: {{ colour|e }}"></span>{{ label|e }}</li>
            {%- endfor %}
          </ul>
        </section>
        {% endmacro %}
    """)
    # The kinds in the order the legend names each stage's labels.
    LABEL_ORDER = ("project", "land_plot", "green_site", "park")

    def __init__(self, lang: str, mode: str = "stage") -> None:
        super().__init__()
        self._name = "Legend"
        self.mode = mode
        self.alerts = alert_legend(lang)
        self.title = UI[lang]["legend"]
        self.precision_note = UI[lang]["precision_note"]
        self.unplaced_note = UI[lang]["unplaced_note"]
        # A label two kinds share (谋划中, 建设中) is named once.
        self.stages = [(STAGE_COLOURS[stage], list(dict.fromkeys(STAGE_LABELS[lang][kind][stage]
                                                                for kind in self.LABEL_ORDER)))
                       for stage in STAGES]


@dataclass
class SiteLayerNames:
    """The JavaScript names of one kind and stage's layers: the control's sub-group, its cluster and shapes."""

    key: str
    kind: str
    stage: str
    group: str
    points: str
    shapes: str


@dataclass
class LayerNames:
    """The JavaScript names folium gave the declared layers, for the page script to fill."""

    areas: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    sites: list[SiteLayerNames] = field(default_factory=list)

    def as_config(self) -> dict[str, Any]:
        """Return the names as the page config carries them, as lists (JSON would sort a mapping's keys)."""
        return {"areas": [{"level": level, "name": name} for level, name in self.areas.items()],
                "kinds": [{"kind": kind, "name": name} for kind, name in self.kinds.items()],
                "sites": [vars(site) for site in self.sites]}


def add_basemaps(fmap: folium.Map, config: dict[str, Any], lang: str) -> None:
    """Add OpenStreetMap, and with a Tianditu key its vector and imagery maps (never offset Amap/Baidu tiles)."""
    # With Tianditu the three are the control's base layers, Tianditu's vector map shown; alone, OpenStreetMap
    # is no choice. Each Tianditu basemap is a group of its picture tiles and the annotation tiles over them.
    key = config.get("TIANDITU_KEY")
    folium.TileLayer(tiles=config["TILE_URL"], attr=config["TILE_ATTRIBUTION"], name=UI[lang]["basemap_osm"],
                     max_zoom=19, overlay=False, control=bool(key), show=not key).add_to(fmap)
    if not key:
        return
    for index, (label, layers) in enumerate(TIANDITU_BASEMAPS):
        group = folium.FeatureGroup(name=UI[lang][label], overlay=False, control=True, show=index == 0)
        group.add_to(fmap)
        for layer in layers:
            folium.TileLayer(tiles=TIANDITU_URL % (layer, key), attr=TIANDITU_ATTRIBUTION, subdomains="01234567",
                             max_zoom=18, overlay=True, control=False).add_to(group)


def tianditu_urls(key: str) -> set[str]:
    """Return the tile URL templates of every Tianditu layer a map with this key declares."""
    return {TIANDITU_URL % (layer, key) for _, layers in TIANDITU_BASEMAPS for layer in layers}


@dataclass(frozen=True)
class PlaceName:
    """A name drawn on the map without a basemap: a town at its outline's point on surface, or the county."""

    level: str  # "county" | "town"
    name: str
    lat: float
    lon: float


def place_names(towns: list[dict[str, Any]], counties: list[dict[str, Any]], lang: str) -> list[PlaceName]:
    """Return the towns' names at a point inside each outline and the county's name clear of them.

    The rows are admin areas as storage.areas.select_admin_areas returns them (GeoJSON text geometry);
    with lang=en an area's English name is used when it has one.
    """
    names: list[PlaceName] = []
    for row in towns:
        point = shape(json.loads(row["geometry"])).representative_point()
        names.append(PlaceName("town", area_name(row, lang), point.y, point.x))
    for row in counties:
        point = clear_point(shape(json.loads(row["geometry"])), [(name.lon, name.lat) for name in names])
        names.append(PlaceName("county", area_name(row, lang), point.y, point.x))
    return names


def area_name(row: dict[str, Any], lang: str) -> str:
    """Return an area's name in the page's language (its Chinese name when it has no English one)."""
    return (row.get("name_en") if lang == "en" else None) or row["name"]


def clear_point(area: Any, taken: list[tuple[float, float]], steps: int = 24) -> Any:
    """Return the point of a grid over the area farthest both from its edge and from the points already labelled."""
    west, south, east, north = area.bounds
    grid = shapely.points([(west + (east - west) * (i + 0.5) / steps, south + (north - south) * (j + 0.5) / steps)
                           for i in range(steps) for j in range(steps)])
    inside = grid[shapely.contains(area, grid)]
    if not len(inside) or not taken:
        return area.representative_point()
    # The edge counts double: a name near the boundary reads as the neighbour's.
    room = numpy.minimum(shapely.distance(area.boundary, inside) * 2,
                         numpy.min([shapely.distance(shapely.Point(x, y), inside) for x, y in taken], axis=0))
    return inside[int(numpy.argmax(room))]


def add_place_names(fmap: folium.Map, lang: str, names: list[PlaceName]) -> None:
    """Declare the place-name overlay: each town's and the county's name as text on the map."""
    if not names:
        return
    folium.map.CustomPane(LABEL_PANE, z_index=350, pointer_events=False).add_to(fmap)
    group = folium.FeatureGroup(name=str(escape(UI[lang]["place_names"])), overlay=True, control=True, show=True)
    group.add_to(fmap)
    for place in names:
        html = str(Markup('<span class="place-name {}-name">{}</span>').format(place.level, place.name))
        folium.Marker([place.lat, place.lon], icon=folium.DivIcon(html=html, icon_size=(0, 0),
                                                                 class_name="place-name-icon"),
                      interactive=False, keyboard=False, pane=LABEL_PANE).add_to(group)


def layer_key(kind: str, stage: str) -> str:
    """Return the key of a kind and stage's layer, as the off= parameter and the control's labels name it."""
    return f"{kind}/{stage}"


def layer_label(lang: str, kind: str, stage: str, count: int) -> str:
    """Return a layer-control label: the stage's swatch, kind and stage, and the count (markup, text escaped)."""
    text = f"{KIND_LABELS[lang][kind]} · {STAGE_LABELS[lang][kind][stage]} ({count})"
    return str(Markup('<span data-layer="{}"><span class="swatch" style="background: {}"></span>'
                      '<span>{}</span></span>').format(layer_key(kind, stage), STAGE_COLOURS[stage], text))


def add_area_layers(fmap: folium.Map, lang: str, names: LayerNames) -> None:
    """Declare the county outline and the town outlines, each an overlay the script fills from /api/areas."""
    for level, label in zip(AREA_LEVELS, (UI[lang]["boundary"], UI[lang]["towns"])):
        group = folium.FeatureGroup(name=str(escape(label)), overlay=True, control=True, show=True)
        group.add_to(fmap)
        names.areas[level] = group.get_name()


def add_site_layers(fmap: folium.Map, lang: str, counts: dict[str, dict[str, int]], hidden: set[str],
                    names: LayerNames, reached: set[tuple[str, str]]) -> None:
    """Declare a group per kind and a sub-group per stage holding a group for shapes and a cluster for points."""
    # A stage's sub-group is in the layer control when the filter selects any of its sites, or when a selected
    # site ever reached that stage (`reached`), so the time slider never draws a layer that cannot be switched
    # off; one named in `hidden` (the off= parameter) starts switched off.
    for kind in KINDS:
        kind_group = folium.FeatureGroup(name=KIND_LABELS[lang][kind], control=False, show=True).add_to(fmap)
        names.kinds[kind] = kind_group.get_name()
        for stage in STAGES:
            count = counts.get(kind, {}).get(stage, 0)
            key = layer_key(kind, stage)
            sub_group = OfflineSubGroup(kind_group, name=layer_label(lang, kind, stage, count),
                                        control=count > 0 or (kind, stage) in reached,
                                        show=key not in hidden).add_to(fmap)
            # Shapes first, so that points draw over them.
            shapes = folium.FeatureGroup(control=False).add_to(sub_group)
            icon = CLUSTER_ICON.format(colour=json.dumps(STAGE_COLOURS[stage]))
            points = OfflineMarkerCluster(control=False, options=CLUSTER_OPTIONS, icon_create_function=icon)
            points.add_to(sub_group)
            names.sites.append(SiteLayerNames(key=key, kind=kind, stage=stage, group=sub_group.get_name(),
                                              points=points.get_name(), shapes=shapes.get_name()))


def build_map(lang: str, config: dict[str, Any], bounds: tuple[float, float, float, float] | None = None,
              counts: dict[str, dict[str, int]] | None = None, hidden: set[str] | None = None,
              places: list[PlaceName] | None = None, mode: str = "stage",
              reached: set[tuple[str, str]] | None = None) -> tuple[folium.Map, LayerNames]:
    """Return the map, fitted to the filter's box or to Heshan, and the names of the layers it declares."""
    fmap = OfflineMap(location=[HESHAN_CENTRE[1], HESHAN_CENTRE[0]], zoom_start=11, tiles=None, control_scale=True,
                      prefer_canvas=True)
    add_basemaps(fmap, config, lang)
    names = LayerNames()
    add_area_layers(fmap, lang, names)
    add_place_names(fmap, lang, places or [])
    add_site_layers(fmap, lang, counts or {}, hidden or set(), names, reached or set())
    folium.LayerControl(collapsed=CONTROL_COLLAPSED).add_to(fmap)
    if bounds:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    else:
        west, south, east, north = HESHAN_BOUNDS
        fmap.fit_bounds([[south, west], [north, east]])
    fmap.add_child(MapName())
    fmap.add_child(Legend(lang, mode), name="legend")
    return fmap, names


def render_map_parts(fmap: folium.Map, nonce: str | None = None) -> dict[str, str]:
    """Render the map into the header, body, legend and script parts a page template places."""
    # The legend is a child of the map but the page shows it in the side panel, so it is a part of its own.
    root = fmap.get_root()
    root.render()
    legend = fmap._children.get("legend")
    legend_html = root.html._children.pop(legend.get_name()).render() if legend is not None else ""
    # folium's header holds inline scripts of its own; the template puts the nonce on the script part.
    header = add_nonce(root.header.render(), nonce or csp_nonce())
    return {"header": header, "html": root.html.render(), "legend": legend_html, "script": root.script.render()}


def alert_legend(lang: str) -> list[tuple[str, str]]:
    """Return the alert mode's legend: each alert level's colour and label (no alert first)."""
    return [(colour, TEXT[lang][f"alert_{level}"]) for level, colour in ALERT_COLOURS.items()]


def month_end(year: int, month: int) -> dt.date:
    """Return the last day of a month."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month_steps(first: dt.date | None, today: dt.date, as_of: dt.date | None = None) -> list[dict[str, str]]:
    """Return the time slider's steps, a month each with its last day, up to today's month.

    The first step is the month before the first stage event (the map before anything was reached), or the
    month of `as_of` when that is earlier, so the slider can always show the day the URL asks for.
    """
    start = today
    if first is not None and first <= today:
        start = dt.date(first.year - 1, 12, 1) if first.month == 1 else dt.date(first.year, first.month - 1, 1)
    if as_of is not None and as_of < start:
        start = as_of
    steps: list[dict[str, str]] = []
    year, month = start.year, start.month
    while (year, month) <= (today.year, today.month):
        steps.append({"label": f"{year}-{month:02d}", "asOf": month_end(year, month).isoformat()})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return steps
