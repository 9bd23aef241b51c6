// Load the selected sites from the API and draw them as layers per kind and stage.
// Every text from the database is set with textContent: nothing is parsed as HTML.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const map = window.heshanLeafletMap;
  const ui = config.ui;
  const status = document.getElementById("status");
  const state = { features: [], layers: {}, ready: false, error: null };
  window.heshanMap = state;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function popupContent(props) {
    const box = el("div", null, "site-popup");
    box.appendChild(el("h3", props.name));
    const table = el("table");
    const stageLabels = config.stageLabels[props.kind];
    const rows = [
      [config.ui.kind, props.kind_label],
      [config.ui.stage, props.stage_label],
      [ui.signed_on + " (" + stageLabels.signed + ")", props.signed_on],
      [ui.started_on + " (" + stageLabels.started + ")", props.started_on],
      [ui.in_production_on + " (" + stageLabels.in_production + ")", props.in_production_on],
      [ui.town, props.town],
      [ui.park, props.park],
      [ui.investment, props.investment_cny_100m],
      [ui.area, props.area_ha],
      [ui.industry, props.industry],
      [ui.precision, props.precision_label],
      [ui.source, props.source],
    ];
    for (const [label, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      const tr = el("tr");
      tr.appendChild(el("th", label));
      const td = el("td", value);
      if (label === config.ui.stage) {
        const swatch = el("span", null, "swatch");
        swatch.style.background = config.stageColours[props.stage];
        td.prepend(swatch);
      }
      tr.appendChild(td);
      table.appendChild(tr);
    }
    box.appendChild(table);
    if (props.description) box.appendChild(el("p", props.description));
    const link = el("a", ui.history);
    link.href = config.siteUrl.replace("{id}", encodeURIComponent(props.id)) +
      (config.lang === "en" ? "?lang=en" : "");
    link.target = "_blank";
    link.rel = "noopener";
    box.appendChild(link);
    return box;
  }

  function styleFor(props) {
    const colour = config.stageColours[props.stage] || "#777";
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

  // Clusters are neutral grey with a ring in the stage colour, so they never read as another stage.
  function clusterIcon(cluster) {
    const n = cluster.getChildCount();
    const first = cluster.getAllChildMarkers()[0];
    const colour = first ? config.stageColours[first.feature.properties.stage] : "#777";
    const box = el("div", String(n), "site-cluster");
    box.style.borderColor = colour;
    const size = n < 10 ? 28 : n < 100 ? 34 : 40;
    return L.divIcon({ html: box, className: "site-cluster-icon", iconSize: L.point(size, size) });
  }

  function groupFor(kind, stage) {
    const key = kind + "/" + stage;
    if (!state.layers[key]) {
      const points = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false,
                                            disableClusteringAtZoom: 15, iconCreateFunction: clusterIcon });
      const shapes = L.featureGroup();
      state.layers[key] = { key: key, kind: kind, stage: stage, points: points, shapes: shapes,
                            group: L.layerGroup([shapes, points]), ids: [] };
    }
    return state.layers[key];
  }

  function addFeature(feature) {
    const props = feature.properties;
    const layerSet = groupFor(props.kind, props.stage);
    const style = styleFor(props);
    const tooltip = el("span", props.name + " · " + props.stage_label);
    let layer;
    if (feature.geometry.type === "Point") {
      const [lon, lat] = feature.geometry.coordinates;
      layer = L.circleMarker([lat, lon], style);
      layerSet.points.addLayer(layer);
    } else {
      layer = L.geoJSON(feature.geometry, { style: function () { return style; } });
      layerSet.shapes.addLayer(layer);
    }
    layer.feature = feature;
    layer.bindPopup(function () { return popupContent(props); }, { maxWidth: 320 });
    layer.bindTooltip(tooltip, { sticky: true });
    layerSet.ids.push(props.id);
    state.features.push(feature);
  }

  async function fetchAll() {
    let offset = 0;
    for (;;) {
      const url = config.featuresUrl + "?" + config.query + (config.query ? "&" : "") +
        "limit=" + config.pageSize + "&offset=" + offset;
      const response = await fetch(url, { headers: { Accept: "application/geo+json" } });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      const page = await response.json();
      page.features.forEach(addFeature);
      status.textContent = ui.loading + " " + state.features.length + " / " + page.numberMatched;
      offset += page.numberReturned;
      if (page.numberReturned === 0 || offset >= page.numberMatched) return;
    }
  }

  async function addReferenceLayers(control) {
    const outline = { color: "#444", weight: 2, fill: false };
    const townStyle = { color: "#888", weight: 1, dashArray: "4 4", fill: false };
    for (const [level, label, style] of [["county", ui.boundary, outline], ["town", ui.towns, townStyle]]) {
      const response = await fetch(config.areasUrl + "?level=" + level);
      if (!response.ok) continue;
      const data = await response.json();
      const layer = L.geoJSON(data, { style: style, interactive: level === "town" });
      if (level === "town") {
        layer.eachLayer(function (item) { item.bindTooltip(el("span", item.feature.properties.name)); });
      }
      layer.addTo(map);
      control.addOverlay(layer, label);
    }
  }

  function overlayLabel(layerSet) {
    const span = el("span", config.kindLabels[layerSet.kind] + " · " +
      config.stageLabels[layerSet.kind][layerSet.stage] + " (" + layerSet.ids.length + ")");
    const swatch = el("span", null, "swatch");
    swatch.style.background = config.stageColours[layerSet.stage];
    const wrap = el("span");
    wrap.dataset.layer = layerSet.key;
    wrap.appendChild(swatch);
    wrap.appendChild(span);
    return wrap.outerHTML;
  }

  function bindPanel() {
    const toggle = document.getElementById("panel-toggle");
    const panel = document.getElementById("panel");
    toggle.addEventListener("click", function () {
      const open = panel.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      setTimeout(function () { map.invalidateSize(); }, 50);
    });
    document.getElementById("use-view").addEventListener("click", function () {
      const b = map.getBounds();
      document.getElementById("bbox-input").value = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (v) { return v.toFixed(5); }).join(",");
      document.getElementById("filter-form").submit();
    });
    document.getElementById("filter-form").addEventListener("submit", function (event) {
      // Drop empty fields so the URL holds only the real filter.
      for (const input of event.target.querySelectorAll("input, select")) {
        if (!input.value) input.disabled = true;
      }
      if (hidden.size) {
        const off = el("input");
        off.type = "hidden";
        off.name = "off";
        off.value = Array.from(hidden).sort().join(",");
        event.target.appendChild(off);
      }
    });
  }

  // The view's state beyond the filter lives in the URL too: hidden layers (off=) and the map position (#map=).
  const hidden = new Set((new URLSearchParams(location.search).get("off") || "").split(",").filter(Boolean));

  function writeViewState() {
    const params = new URLSearchParams(location.search);
    if (hidden.size) params.set("off", Array.from(hidden).sort().join(","));
    else params.delete("off");
    const c = map.getCenter();
    const hash = "#map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5);
    const search = params.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : "") + hash);
  }

  function readMapPosition() {
    const match = /^#map=(\d+)\/(-?[\d.]+)\/(-?[\d.]+)$/.exec(location.hash);
    if (match) map.setView([Number(match[2]), Number(match[3])], Number(match[1]));
  }

  async function start() {
    bindPanel();
    readMapPosition();
    const control = L.control.layers(null, null, { collapsed: window.innerWidth < 700 }).addTo(map);
    try {
      await addReferenceLayers(control);
      await fetchAll();
      for (const kind of config.kinds) {
        for (const stage of config.stages) {
          const layerSet = state.layers[kind + "/" + stage];
          if (!layerSet) continue;
          if (!hidden.has(layerSet.key)) layerSet.group.addTo(map);
          // Labels are built from text nodes and serialised, so any markup in them is escaped.
          control.addOverlay(layerSet.group, overlayLabel(layerSet));
        }
      }
      status.textContent = ui.loaded.replace("{n}", String(state.features.length));
      map.on("overlayadd overlayremove", function (event) {
        const layerSet = Object.values(state.layers).find(function (s) { return s.group === event.layer; });
        if (!layerSet) return;
        if (event.type === "overlayadd") hidden.delete(layerSet.key); else hidden.add(layerSet.key);
        writeViewState();
      });
      map.on("moveend", writeViewState);
    } catch (error) {
      state.error = String(error);
      status.textContent = ui.load_failed + ": " + error;
    }
    state.ready = true;
    document.body.dataset.ready = "true";
  }

  start();
})();
