// The print layout's map (/print): the selected sites (in the page config, no request needed), fitted to their
// extent, with the county outline, a scale bar and the north arrow the page draws. Text is set as text only.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("print-config").textContent);
  const sites = window.heshanSiteLayers;
  const map = L.map("print-map", { zoomControl: false, attributionControl: true, preferCanvas: false });
  L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  const [west, south, east, north] = config.extent;
  const pad = 0.01;  // a single site still shows its surroundings
  map.fitBounds([[south - pad, west - pad], [north + pad, east + pad]]);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);

  function colourOf(props) {
    if (config.mode === "alert") return config.alertColours[props.alert || "none"];
    return config.stageColours[props.stage];
  }

  const drawn = L.featureGroup().addTo(map);
  for (const feature of config.features) {
    if (feature.geometry === null) continue;  // place unknown: only in the table
    const props = feature.properties;
    const style = sites.styleFor(props, { [props.stage]: colourOf(props) });
    const layer = sites.featureLayer(feature, style);
    layer.bindTooltip(sites.el("span", props.name), { permanent: config.features.length <= 30,
                                                       direction: "right", className: "print-label" });
    drawn.addLayer(layer);
  }
  const outline = L.layerGroup().addTo(map);
  sites.loadAreas(config.areasUrl, "county", outline).finally(function () {
    document.body.dataset.ready = "true";
  });
  document.getElementById("print-now").addEventListener("click", function () { window.print(); });
  window.heshanPrint = { map: map, drawn: drawn };
})();
