"""Build the folium map of a filter: basemaps, and a client layer that loads sites from the API."""
from __future__ import annotations

import logging
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from .i18n import UI
from .vocabulary import HESHAN_BOUNDS, HESHAN_CENTRE
from .security import add_nonce, csp_nonce

LOGGER = logging.getLogger(__name__)
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T=%s_w&x={x}&y={y}&l={z}&tk=%s"


class OfflineMap(folium.Map):
    """A folium Map whose scripts and styles are served by this service, never a CDN."""

    default_js = [("leaflet", "/static/vendor/leaflet/leaflet.js"),
                  ("markercluster", "/static/vendor/markercluster/leaflet.markercluster.js")]
    default_css = [("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
                   ("markercluster_css", "/static/vendor/markercluster/MarkerCluster.css"),
                   ("markercluster_default_css", "/static/vendor/markercluster/MarkerCluster.Default.css")]


class MapName(MacroElement):
    """Expose the Leaflet map object to the page script under a fixed name."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.heshanLeafletMap = {{ this._parent.get_name() }};
        {% endmacro %}
    """)


def add_basemaps(fmap: folium.Map, config: dict[str, Any], lang: str) -> None:
    """Add OpenStreetMap, and Tianditu when a key is configured (never offset Amap/Baidu tiles)."""
    folium.TileLayer(tiles=config["TILE_URL"], attr=config["TILE_ATTRIBUTION"], name=UI[lang]["basemap_osm"],
                     max_zoom=19, overlay=False, control=True).add_to(fmap)
    key = config.get("TIANDITU_KEY")
    if key:
        folium.TileLayer(tiles=TIANDITU_URL % ("vec", key), attr="&copy; 天地图 Tianditu",
                         name=UI[lang]["basemap_tianditu"], subdomains="01234567", max_zoom=18,
                         overlay=False, control=True).add_to(fmap)


def build_map(lang: str, config: dict[str, Any],
              bounds: tuple[float, float, float, float] | None = None) -> folium.Map:
    """Return the map, fitted to the filter's box or to Heshan; the page fetches the sites from the API."""
    fmap = OfflineMap(location=[HESHAN_CENTRE[1], HESHAN_CENTRE[0]], zoom_start=11, tiles=None, control_scale=True,
                      prefer_canvas=True)
    add_basemaps(fmap, config, lang)
    if bounds:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    else:
        west, south, east, north = HESHAN_BOUNDS
        fmap.fit_bounds([[south, west], [north, east]])
    fmap.add_child(MapName())
    return fmap


def render_map_parts(fmap: folium.Map, nonce: str | None = None) -> dict[str, str]:
    """Render the map into the header, body and script parts a page template places, nonces on inline scripts."""
    root = fmap.get_root()
    root.render()
    # folium's header holds inline scripts of its own; the template puts the nonce on the script part.
    header = add_nonce(root.header.render(), nonce or csp_nonce())
    return {"header": header, "html": root.html.render(), "script": root.script.render()}
