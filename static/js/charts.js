/* Draws each plotly chart of the page from its JSON data block (governance/core/chart_html.py): pages carry no
   inline script, which the Content-Security-Policy refuses. Loaded after plotly.js, deferred.
   A point carrying an address of this site (a dashboard's bar or cell) opens it when clicked.
   Then keeps each chart as wide as its card: plotly's `responsive` follows only the window, so a chart drawn
   before its grid settled kept the whole row's width; each chart is resized whenever its own box changes. */
(function () {
  "use strict";
  // A legend wrapped to several lines (a phone's width) takes its room from the plot: the chart grows by what the
  // legend needs beyond one line, so the bars keep their height and the legend is never a scroll box.
  var ONE_LINE = 30;
  function fitLegend(div) {
    var legend = div.querySelector(".legend");
    if (!legend || !div.layout || div.layout.showlegend === false || !div._designedHeight) return;
    var wanted = div._designedHeight + Math.max(0, Math.ceil(legend.getBBox().height) - ONE_LINE);
    if (Math.abs(wanted - div.layout.height) > 2) window.Plotly.relayout(div, { height: wanted });
  }
  // A chart may carry labels for a narrow box (layout.meta.narrow: a heatmap's row names cut for a phone, the whole
  // ones in its hover and table): shown while the chart is narrower than `below` pixels, the wide ones otherwise.
  function labelsFor(div, layout) {
    var narrow = layout.meta && layout.meta.narrow;
    if (!narrow) return null;
    if (!div._wideLabels) div._wideLabels = layout.yaxis.ticktext;
    var wanted = div.clientWidth < narrow.below ? narrow["yaxis.ticktext"] : div._wideLabels;
    return layout.yaxis.ticktext === wanted ? null : wanted;
  }
  var observer = window.ResizeObserver
    ? new ResizeObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!entry.target.data) return;
          if (entry.target._lastWidth === entry.contentRect.width) return;  // only a new width redraws
          entry.target._lastWidth = entry.contentRect.width;
          var labels = labelsFor(entry.target, entry.target.layout);
          if (labels) window.Plotly.relayout(entry.target, { "yaxis.ticktext": labels });
          window.Plotly.Plots.resize(entry.target).then(function () { fitLegend(entry.target); });
        });
      })
    : null;
  document.querySelectorAll("[data-plotly-figure]").forEach(function (div) {
    var data = JSON.parse(document.getElementById(div.getAttribute("data-plotly-figure")).textContent);
    div._designedHeight = data.figure.layout.height;
    var labels = labelsFor(div, data.figure.layout);
    if (labels) data.figure.layout.yaxis.ticktext = labels;
    Plotly.newPlot(div, data.figure.data, data.figure.layout, data.config).then(function () { fitLegend(div); });
    if (observer) observer.observe(div);
    // A dashboard's bar or cell carries the address of the records it counts (risk/dashboards/charts.py): a
    // click opens them. Only an address on this site is followed. The table under the chart has the same links
    // for the keyboard.
    div.on("plotly_click", function (event) {
      var url = event.points && event.points[0] && event.points[0].customdata;
      if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") window.location.assign(url);
    });
  });
})();
