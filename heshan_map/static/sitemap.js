// The site page's small map: the site's geometry in its stage's colour and precision style, fitted to it.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("site-config").textContent);
  const sites = window.heshanSiteLayers;
  const map = L.map("site-map", { scrollWheelZoom: false });
  L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  const feature = { type: "Feature", geometry: config.geometry, properties: {} };
  const props = { stage: "site", precision: config.precision, kind: "site" };
  const layer = sites.featureLayer(feature, sites.styleFor(props, { site: config.colour })).addTo(map);
  if (config.geometry.type === "Point") map.setView(layer.getLatLng(), 15);
  else map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [20, 20] });
  L.control.scale({ imperial: false }).addTo(map);
  window.heshanSiteMap = { map: map, layer: layer };
  document.body.dataset.ready = "true";
})();
