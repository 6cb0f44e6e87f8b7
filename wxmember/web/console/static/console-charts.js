// The console's charts: every element with data-chart="<key>" is drawn with ECharts
// (vendored, static/vendor/) from the page's JSON block #chart-data:
//   {"<key>": {"kind": "bars", "x": [days], "series": [{"name", "data", "line"?, "group"?}]},
//    "<key>": {"kind": "pie", "series": [{"name", "data": [{"name", "value"}]}]}}
// Own file, no inline script: the console's CSP allows scripts of this site only; the
// tooltips are drawn in the canvas (renderMode richText): HTML ones carry inline styles,
// which the CSP blocks.
(function () {
  "use strict";

  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) { return; }
  var specs = JSON.parse(source.textContent);
  var palette = ["#1f5fa8", "#e07b39", "#1e824c", "#c0392b", "#8e44ad", "#16a085",
                 "#d4a017", "#7f8c8d", "#2c3e50", "#e84393", "#00a8cc", "#6ab04c"];
  var text = {fontFamily: "PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif"};

  function shortDay(day) { return day.slice(5); }  // 2026-05-29 → 05-29

  function bars(spec) {
    return {
      color: palette,
      textStyle: text,
      tooltip: {trigger: "axis", renderMode: "richText"},
      legend: {type: "scroll", top: 0},
      grid: {left: 8, right: 16, top: 40, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: spec.x, axisLabel: {formatter: shortDay}},
      yAxis: {type: "value", minInterval: 1},
      series: spec.series.map(function (one) {
        var drawn = {
          name: one.name,
          type: one.line ? "line" : "bar",
          data: one.data,
          smooth: false,
          symbolSize: 6,
          barMaxWidth: 18,
          emphasis: {focus: "series"}
        };
        if (one.group != null) {  // the series of one activity share its colour
          drawn.itemStyle = {color: palette[one.group % palette.length]};
          if (one.line) { drawn.lineStyle = {width: 2, type: "dashed"}; drawn.symbol = "circle"; }
        }
        return drawn;
      })
    };
  }

  function pie(spec) {
    var one = spec.series[0];
    return {
      color: palette,
      textStyle: text,
      tooltip: {trigger: "item", renderMode: "richText", formatter: "{b}：{c} 人（{d}%）"},
      legend: {type: "scroll", bottom: 0},
      series: [{
        name: one.name,
        type: "pie",
        radius: ["35%", "65%"],
        center: ["50%", "46%"],
        data: one.data,
        label: {formatter: "{b}\n{c} 人"}
      }]
    };
  }

  var drawn = [];
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var spec = specs[box.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = echarts.init(box, null, {renderer: "canvas", locale: "ZH"});
    chart.setOption(spec.kind === "pie" ? pie(spec) : bars(spec));
    box.setAttribute("data-ready", "1");
    drawn.push(chart);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
})();
