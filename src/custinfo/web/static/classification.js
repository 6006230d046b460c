/* Classification pages: the level-1 × level-2 heat map (ECharts) and the rule editor's changed-field marks.
   A file, not inline script, because the CSP forbids inline script. */
(function () {
  "use strict";

  function heatmap() {
    var el = document.getElementById("report-heatmap");
    if (!el || !window.echarts) {
      return;
    }
    var chart = JSON.parse(el.getAttribute("data-chart") || "{}");
    var max = 0;
    (chart.data || []).forEach(function (d) {
      max = Math.max(max, d[2]);
    });
    // One readable band per level-1 class: the chart grows with the report instead of squeezing labels.
    el.style.height = Math.max(320, (chart.rows || []).length * 26 + 190) + "px";
    var instance = window.echarts.init(el, null, { renderer: "svg" });
    instance.setOption({
      animation: false,
      tooltip: { position: "top" },
      grid: { left: 10, right: 20, top: 50, bottom: 10, containLabel: true },
      xAxis: { type: "category", data: chart.cols, axisLabel: { rotate: 35, interval: 0 }, splitArea: { show: true } },
      yAxis: { type: "category", data: chart.rows, axisLabel: { interval: 0 }, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(max, 1), calculable: true, orient: "horizontal", right: 20, top: 0,
        itemHeight: 120, inRange: { color: ["#eff6ff", "#1d4ed8"] } },
      series: [{ name: el.getAttribute("data-label-count") || "", type: "heatmap", data: chart.data,
        label: { show: true, formatter: function (p) { return p.value[2] ? String(p.value[2]) : ""; } } }]
    });
    window.addEventListener("resize", function () {
      instance.resize();
    });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input && input.hasAttribute && input.hasAttribute("data-original")) {
      input.classList.toggle("is-changed", input.value.trim() !== input.getAttribute("data-original"));
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", heatmap);
  } else {
    heatmap();
  }
})();
