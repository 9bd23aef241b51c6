// Draws an ECharts chart over each dashboard table; the tables stay the record when the library fails to load.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const state = { charts: {}, error: null };
  window.heshanDashboard = state;

  function option(spec) {
    const colour = (s) => (s.stage ? config.colours[s.stage] : undefined);
    if (spec.type === "funnel") {
      return {
        tooltip: { trigger: "item" },
        series: [{ type: "funnel", sort: "none", minSize: "10%", label: { formatter: "{b}: {c}" },
                   data: spec.categories.map((name, i) => ({ name: name, value: spec.series[0].data[i],
                                                             itemStyle: { color: config.colours[spec.stages[i]] } })) }],
      };
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: spec.series.map((s) => ({
        name: s.name, type: spec.type, data: s.data, stack: spec.type === "bar" ? "stage" : undefined,
        itemStyle: { color: colour(s) }, lineStyle: { color: colour(s) },
      })),
    };
  }

  function draw() {
    if (typeof window.echarts === "undefined") {
      state.error = "echarts not loaded";
      document.getElementById("charts-failed").hidden = false;
      return;
    }
    document.querySelectorAll("[data-chart]").forEach((node) => {
      const chart = window.echarts.init(node, null, { renderer: "canvas" });
      chart.setOption(option(config.charts[node.dataset.chart]));
      state.charts[node.dataset.chart] = chart;
    });
    window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  }

  try {
    draw();
  } catch (error) {
    state.error = String(error);
    document.getElementById("charts-failed").hidden = false;
  }
  document.body.dataset.ready = "true";
})();
