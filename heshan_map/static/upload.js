// The upload page: preview (dry run) with the report and a map, then commit. Text is set as text only.
// The preview map draws with the map page's shared helpers (sitelayers.js).
(function () {
  "use strict";
  const sites = window.heshanSiteLayers;
  const config = JSON.parse(document.getElementById("upload-config").textContent);
  const ui = config.ui;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const form = document.getElementById("upload-form");
  const status = document.getElementById("upload-status");
  const commitButton = document.getElementById("commit-button");
  const map = L.map("preview-map").setView([config.centre[1], config.centre[0]], 10);  // centre is lon, lat
  L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  // The county outline gives the preview a frame even when the basemap tiles are out of reach.
  sites.loadAreas("/api/areas", "county", map).catch(function () {});
  let previewLayer = null;
  window.heshanUpload = { report: null };

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
  }

  function fillTable(id, items, keys) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    for (const item of items) {
      const tr = document.createElement("tr");
      for (const key of keys) cell(tr, item[key]);
      body.appendChild(tr);
    }
  }

  // Each previewed row as a plain circle (points) or outline in Leaflet's default blue, its row and name on hover.
  function showPreview(collection) {
    if (previewLayer) map.removeLayer(previewLayer);
    // A row with no position (precision county, 位置待定) has nothing to draw; the notes say so.
    const placed = collection ? collection.features.filter(function (f) { return f.geometry; }) : [];
    if (!placed.length) return;
    previewLayer = L.featureGroup();
    for (const feature of placed) {
      const layer = sites.featureLayer(feature, { radius: 6 });
      layer.bindTooltip(sites.el("span", feature.properties.row + ": " + feature.properties.name));
      previewLayer.addLayer(layer);
    }
    previewLayer.addTo(map);
    map.fitBounds(previewLayer.getBounds(), { maxZoom: 15 });
  }

  // After a commit, the upload record's time in China Standard Time (the API gives ISO 8601 with an offset).
  async function showWrittenAt(uploadId) {
    if (uploadId === null || uploadId === undefined) return;
    const response = await fetch("/api/uploads/" + encodeURIComponent(uploadId), { credentials: "same-origin" });
    if (!response.ok) return;
    const record = await response.json();
    const time = sites.el("time", sites.localTime(record.uploaded_at));
    time.dateTime = record.uploaded_at;
    status.append(" " + ui.written_at + " ", time);
  }

  async function send(dryRun) {
    const data = new FormData(form);
    if (!data.get("repair")) data.set("repair", "false");
    data.set("dry_run", dryRun ? "true" : "false");
    status.textContent = ui.uploading;
    commitButton.disabled = true;
    let response;
    try {
      response = await fetch("/api/uploads", { method: "POST", body: data, headers: { "X-CSRF-Token": csrf },
                                               credentials: "same-origin" });
    } catch (error) {  // the server closed the connection (a file over the size limit) or is unreachable
      window.heshanUpload.report = { error: { message: String(error) } };
      status.textContent = ui.nothing_written + " " + String(error);
      return;
    }
    let report;
    try { report = await response.json(); } catch (e) { report = { error: { message: response.statusText } }; }
    window.heshanUpload.report = report;
    if (report.error) {
      status.textContent = response.status + ": " + report.error.message;
      fillTable("error-table", report.error.details || [], ["row", "column", "message"]);
      fillTable("note-table", [], []);
      return;
    }
    fillTable("error-table", report.errors, ["row", "column", "message"]);
    fillTable("note-table", report.notes, ["row", "message"]);
    if (report.preview) showPreview(report.preview);
    if (report.errors.length) {
      status.textContent = ui.nothing_written;
    } else if (dryRun) {
      status.textContent = ui.preview_ok;
      commitButton.disabled = false;
    } else {
      status.textContent = ui.written.replace("{created}", report.created).replace("{updated}", report.updated)
        .replace("{unchanged}", report.unchanged);
      await showWrittenAt(report.upload_id);
    }
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); send(true); });
  // A changed file or option needs a new preview before it can be committed.
  form.addEventListener("change", function () { commitButton.disabled = true; });
  commitButton.addEventListener("click", function () { send(false); });
})();
