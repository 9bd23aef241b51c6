// Shared by the map page (map.js) and the upload preview (upload.js): elements made as text, the precision
// styles of sites, a site's geometry as a Leaflet layer, cluster icons, the reference outlines and local times.
// Every text from the database is set with textContent: nothing is parsed as HTML.
(function () {
  "use strict";
  const OUTLINE_STYLE = { color: "#444", weight: 2, fill: false };
  const TOWN_STYLE = { color: "#888", weight: 1, dashArray: "4 4", fill: false };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  // Solid for surveyed or picked positions, hollow dashed for approximate ones, hollow dotted for town-only.
  function styleFor(props, colours) {
    const colour = colours[props.stage] || "#777";
    const exact = props.precision === "surveyed" || props.precision === "point";
    return {
      color: exact ? "#222" : colour,
      weight: 2,
      fillColor: colour,
      fillOpacity: exact ? 0.75 : 0.12,
      dashArray: exact ? null : (props.precision === "town" ? "2 4" : "6 4"),
      radius: props.kind === "project" ? 7 : 6,
    };
  }

  // A neutral grey disc with the child count and a ring in the colour of the cluster's stage.
  // In the map's alert mode (map.js sets alertColours) the ring takes the most urgent alert among the children.
  function clusterIcon(cluster, colour) {
    const n = cluster.getChildCount();
    const view = window.heshanMap;
    if (view && view.mode === "alert" && view.alertColours) {
      const alerts = cluster.getAllChildMarkers().map(function (m) { return m.feature && m.feature.properties.alert; });
      colour = view.alertColours[alerts.includes("red") ? "red" : alerts.includes("yellow") ? "yellow" : "none"];
    }
    const box = el("div", String(n), "site-cluster");
    box.style.borderColor = colour || "#777";
    const size = n < 10 ? 28 : n < 100 ? 34 : 40;
    return L.divIcon({ html: box, className: "site-cluster-icon", iconSize: L.point(size, size) });
  }

  // A point as a circle marker (clusterable), any other geometry as a GeoJSON layer; both keep the feature.
  function featureLayer(feature, style) {
    let layer;
    if (feature.geometry.type === "Point") {
      const [lon, lat] = feature.geometry.coordinates;
      layer = L.circleMarker([lat, lon], style);
    } else {
      layer = L.geoJSON(feature.geometry, {
        style: function () { return style; },
        pointToLayer: function (item, latlng) { return L.circleMarker(latlng, style); },
      });
    }
    layer.feature = feature;
    return layer;
  }

  // Fill a layer with the outlines of one level of /api/areas (county or town); town names show on hover.
  async function loadAreas(areasUrl, level, target) {
    const response = await fetch(areasUrl + "?level=" + level);
    if (!response.ok) return false;
    const data = await response.json();
    const town = level === "town";
    const outlines = L.geoJSON(data, { style: town ? TOWN_STYLE : OUTLINE_STYLE, interactive: town });
    if (town) outlines.eachLayer(function (item) { item.bindTooltip(el("span", item.feature.properties.name)); });
    outlines.addTo(target);
    return true;
  }

  // A moment from the API (ISO 8601 with an offset) as people in Heshan read it: 2026-12-02 08:29 (UTC+8,
  // China Standard Time, which keeps no summer time).
  function localTime(iso) {
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) return "";
    return new Date(moment.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16).replace("T", " ");
  }

  window.heshanSiteLayers = { el: el, styleFor: styleFor, clusterIcon: clusterIcon, featureLayer: featureLayer,
                              loadAreas: loadAreas, localTime: localTime };
})();
