// Fill the layers folium declared (one sub-group per kind and stage, named in config.layers) with the sites the
// API selects, list the sites with no position (county precision) under "位置待定", and wire the filter panel.
// Every text from the database is set with textContent.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const map = window.heshanLeafletMap;
  const sites = window.heshanSiteLayers;
  const el = sites.el;
  const ui = config.ui;
  const status = document.getElementById("status");
  const text = config.text;
  const steps = config.timeSteps;
  const state = { features: [], layers: {}, unplaced: [], ready: false, error: null, asOf: config.asOf || null,
                  mode: config.mode, generation: 0, loads: 0, alertColours: config.alertColours };
  window.heshanMap = state;

  // Folium's layers are global variables of its script, named in the page config.
  for (const names of config.layers.sites) {
    state.layers[names.key] = { key: names.key, kind: names.kind, stage: names.stage, group: window[names.group],
                                points: window[names.points], shapes: window[names.shapes], ids: [],
                                unplacedIds: [] };
  }

  function popupContent(props) {
    const box = el("div", null, "site-popup");
    box.appendChild(el("h3", props.name));
    const table = el("table");
    const stageLabels = config.stageLabels[props.kind];
    for (const row of config.popupRows) {
      const value = props[row.field];
      if (value === null || value === undefined || value === "") continue;
      const tr = el("tr");
      tr.appendChild(el("th", row.stage ? row.label + " (" + stageLabels[row.stage] + ")" : row.label));
      const td = el("td", row.field === "alert" ? text["alert_" + value] : value);
      if (row.field === "stage_label") {
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
    link.href = siteHref(props.id);
    link.target = "_blank";
    link.rel = "noopener";
    box.appendChild(link);
    return box;
  }

  function addFeature(feature) {
    const props = feature.properties;
    const layerSet = state.layers[props.kind + "/" + props.stage];
    if (!layerSet) return;  // a kind or stage the page declared no layer for
    state.features.push(feature);
    if (feature.geometry === null) {  // place unknown: listed beside the map, never drawn
      layerSet.unplacedIds.push(props.id);
      state.unplaced.push(props);
      return;
    }
    const layer = sites.featureLayer(feature, styleOf(props));
    (feature.geometry.type === "Point" ? layerSet.points : layerSet.shapes).addLayer(layer);
    layer.bindPopup(function () { return popupContent(props); }, { maxWidth: 320 });
    layer.bindTooltip(el("span", props.name + " · " + props.stage_label), { sticky: true });
    layerSet.ids.push(props.id);
  }

  // A site's colour: its stage's, or in the alert mode its alert's (grey when it has none).
  function colourOf(props) {
    if (state.mode === "alert") return config.alertColours[props.alert || "none"];
    return config.stageColours[props.stage];
  }

  function styleOf(props) {
    return sites.styleFor(props, { [props.stage]: colourOf(props) });
  }

  function siteHref(id) {
    return config.siteUrl.replace("{id}", encodeURIComponent(id)) + (config.lang === "en" ? "?lang=en" : "");
  }

  // The 位置待定 list: the unplaced sites in kind order, then by name, each linking to its site page.
  function fillUnplacedList() {
    const list = document.getElementById("unplaced-list");
    const order = function (props) {
      return config.kinds.indexOf(props.kind) * 10 + config.stages.indexOf(props.stage);
    };
    const sorted = state.unplaced.slice().sort(function (a, b) {
      return order(a) - order(b) || a.name.localeCompare(b.name, config.lang === "en" ? "en" : "zh-CN");
    });
    list.replaceChildren();
    for (const props of sorted) {
      const item = el("li");
      item.dataset.id = String(props.id);
      item.dataset.layer = props.kind + "/" + props.stage;
      const swatch = el("span", null, "swatch");
      swatch.style.background = colourOf(props);
      const link = el("a", props.name);
      link.href = siteHref(props.id);
      item.append(swatch, link, el("span", " " + [props.kind_label, props.stage_label, props.town]
        .filter(Boolean).join(" · "), "unplaced-meta"));
      list.appendChild(item);
    }
    showUnplaced();
  }

  // A layer switched off hides its unplaced sites from the list too; the heading counts those shown.
  function showUnplaced() {
    let shown = 0;
    for (const item of document.querySelectorAll("#unplaced-list li")) {
      item.hidden = hidden.has(item.dataset.layer);
      if (!item.hidden) shown += 1;
    }
    document.getElementById("unplaced-count").textContent = String(shown);
    document.getElementById("unplaced-empty").hidden = shown > 0;
  }

  // The API query of the view: the page's filter and the slider's date.
  function apiQuery() {
    return config.query + (state.asOf ? (config.query ? "&" : "") + "as_of=" + state.asOf : "");
  }

  async function fetchAll(generation) {
    let offset = 0;
    const query = apiQuery();
    for (;;) {
      const url = config.featuresUrl + "?" + query + (query ? "&" : "") +
        "limit=" + config.pageSize + "&offset=" + offset;
      const response = await fetch(url, { headers: { Accept: "application/geo+json" } });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      const page = await response.json();
      if (generation !== state.generation) return false;  // a newer date was chosen meanwhile
      page.features.forEach(addFeature);
      status.textContent = ui.loading + " " + state.features.length + " / " + page.numberMatched;
      offset += page.numberReturned;
      if (page.numberReturned === 0 || offset >= page.numberMatched) return true;
    }
  }

  // The counts table and the layer control's counts, from the sites loaded for the current date.
  function updateCounts() {
    const counts = {};
    for (const feature of state.features) {
      const key = feature.properties.kind + "/" + feature.properties.stage;
      counts[key] = (counts[key] || 0) + 1;
    }
    for (const row of document.querySelectorAll("#counts tr[data-kind]")) {
      let total = 0;
      for (const cell of row.querySelectorAll("td[data-stage]")) {
        const n = counts[row.dataset.kind + "/" + cell.dataset.stage] || 0;
        cell.textContent = String(n);
        total += n;
      }
      row.lastElementChild.textContent = String(total);
    }
    for (const label of document.querySelectorAll(".leaflet-control-layers [data-layer]")) {
      const [kind, stage] = label.dataset.layer.split("/");
      label.lastElementChild.textContent = config.kindLabels[kind] + " · " + config.stageLabels[kind][stage] +
        " (" + (counts[label.dataset.layer] || 0) + ")";
    }
  }

  function clearSites() {
    for (const layerSet of Object.values(state.layers)) {
      layerSet.points.clearLayers();
      layerSet.shapes.clearLayers();
      layerSet.ids = [];
      layerSet.unplacedIds = [];
    }
    state.features = [];
    state.unplaced = [];
  }

  // Load the sites of the current date again: layers, counts and the 位置待定 list follow the slider.
  async function reload() {
    const generation = ++state.generation;
    state.ready = false;
    document.body.dataset.ready = "false";
    clearSites();
    status.textContent = ui.loading;
    try {
      if (!await fetchAll(generation)) return;
      state.error = null;
      fillUnplacedList();
      updateCounts();
      status.textContent = ui.loaded.replace("{n}", String(state.features.length));
    } catch (error) {
      state.error = String(error);
      status.textContent = ui.load_failed + ": " + error;
    }
    state.loads += 1;
    state.ready = true;
    document.body.dataset.ready = "true";
  }

  async function loadReferenceLayers() {
    for (const area of config.layers.areas) await sites.loadAreas(config.areasUrl, area.level, window[area.name]);
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
    if (state.asOf) params.set("as_of", state.asOf); else params.delete("as_of");
    if (state.mode === "alert") params.set("mode", "alert"); else params.delete("mode");
    document.getElementById("as-of-input").value = state.asOf || "";
    document.getElementById("mode-input").value = state.mode === "alert" ? "alert" : "";
    const printParams = new URLSearchParams(params);
    printParams.delete("off");
    const printQuery = printParams.toString();
    document.getElementById("print-link").href = config.printUrl + (printQuery ? "?" + printQuery : "");
    // The export links download what the map shows, at the slider's date too.
    for (const link of document.querySelectorAll(".export-links a")) {
      const url = new URL(link.href, location.href);
      if (state.asOf) url.searchParams.set("as_of", state.asOf); else url.searchParams.delete("as_of");
      link.href = url.pathname + url.search;
    }
    const c = map.getCenter();
    const hash = "#map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5);
    const search = params.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : "") + hash);
  }

  function readMapPosition() {
    const match = /^#map=(\d+)\/(-?[\d.]+)\/(-?[\d.]+)$/.exec(location.hash);
    if (match) map.setView([Number(match[2]), Number(match[3])], Number(match[1]));
  }

  // The time slider: one step a month from the first stage event to today; the last step is today (no as_of).
  // The label says the day shown: the URL's as_of until the slider moves, else the step's last day.
  function stepLabel(index) {
    if (index >= steps.length - 1) return text.now;
    return state.asOf && steps[index].label === state.asOf.slice(0, 7) ? state.asOf : steps[index].asOf;
  }

  function bindSlider() {
    const slider = document.getElementById("time-slider");
    const label = document.getElementById("time-label");
    const play = document.getElementById("time-play");
    const index = state.asOf ? steps.findIndex(function (step) { return step.asOf >= state.asOf; }) : -1;
    slider.value = String(index < 0 ? steps.length - 1 : index);
    const show = function () {
      label.textContent = stepLabel(Number(slider.value));
      slider.setAttribute("aria-valuetext", label.textContent);
    };
    show();
    const choose = async function () {
      const i = Number(slider.value);
      state.asOf = i >= steps.length - 1 ? null : steps[i].asOf;
      show();
      writeViewState();
      await reload();
    };
    slider.addEventListener("input", show);
    slider.addEventListener("change", choose);
    let playing = false;
    const stop = function () {
      playing = false;
      play.textContent = text.play;
      play.setAttribute("aria-pressed", "false");
    };
    play.addEventListener("click", async function () {
      if (playing) { stop(); return; }
      playing = true;
      play.textContent = text.pause;
      play.setAttribute("aria-pressed", "true");
      if (Number(slider.value) >= steps.length - 1) slider.value = "0";
      else slider.value = String(Number(slider.value) + 1);
      while (playing) {
        await choose();
        await new Promise(function (resolve) { setTimeout(resolve, 700); });
        if (!playing) break;
        if (Number(slider.value) >= steps.length - 1) { stop(); break; }
        slider.value = String(Number(slider.value) + 1);
      }
    });
    state.stopPlaying = stop;
  }

  // The colour mode: by stage, or by the alert property (mode=alert); the legend follows.
  function bindMode() {
    for (const input of document.querySelectorAll("input[name='map-mode']")) {
      input.addEventListener("change", function () {
        if (!input.checked) return;
        state.mode = input.value;
        for (const layerSet of Object.values(state.layers)) {
          for (const group of [layerSet.points, layerSet.shapes]) {
            group.eachLayer(function (layer) { layer.setStyle(styleOf(layer.feature.properties)); });
          }
          layerSet.points.refreshClusters();
        }
        document.getElementById("legend-stage").hidden = state.mode === "alert";
        document.getElementById("legend-alert").hidden = state.mode !== "alert";
        for (const item of document.querySelectorAll("#unplaced-list li")) {
          const props = state.unplaced.find(function (p) { return String(p.id) === item.dataset.id; });
          if (props) item.querySelector(".swatch").style.background = colourOf(props);
        }
        writeViewState();
      });
    }
  }

  async function start() {
    bindPanel();
    bindSlider();
    bindMode();
    readMapPosition();
    try {
      await loadReferenceLayers();
      // The kinds' groups come off the map while they fill and go back in order, so sites draw at once,
      // kind by kind and stage by stage, shapes under points.
      const kindGroups = config.layers.kinds.map(function (item) { return window[item.name]; });
      kindGroups.forEach(function (group) { map.removeLayer(group); });
      try {
        await fetchAll(state.generation);
      } finally {
        kindGroups.forEach(function (group) { group.addTo(map); });
      }
      fillUnplacedList();
      if (state.asOf) updateCounts();
      status.textContent = ui.loaded.replace("{n}", String(state.features.length));
      map.on("overlayadd overlayremove", function (event) {
        const layerSet = Object.values(state.layers).find(function (s) { return s.group === event.layer; });
        if (!layerSet) return;
        if (event.type === "overlayadd") hidden.delete(layerSet.key); else hidden.add(layerSet.key);
        showUnplaced();
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
