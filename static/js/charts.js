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
    if (Math.abs(wanted - div.layout.height) > 2) window.Plotly.relayout(div, { height: wanted }).then(freeWidth);
  }
  // plotly fixes a chart's width when its height is set (relayout), and then never resizes it to its card: the
  // width is let go again, the height kept.
  function freeWidth(div) {
    delete div.layout.width;
  }
  // A chart may say how it is drawn while narrow (layout.meta.narrow, risk/dashboards/charts.py `narrow`): below
  // `below` pixels, its `layout` keys (relayout names: "yaxis.ticktext", "height") and each trace's `traces` keys
  // (restyle names: "text", "textfont.size") take their narrow values; wider, the figure's own, remembered when
  // it is first drawn. A key the figure leaves out is given back to plotly's default (null).
  function read(object, path) {
    var value = path.split(".").reduce(function (o, key) { return o == null ? undefined : o[key]; }, object);
    return value === undefined ? null : value;
  }
  function write(object, path, value) {
    var keys = path.split(".");
    var last = keys.pop();
    keys.forEach(function (key) {
      if (object[key] == null || typeof object[key] !== "object") object[key] = {};
      object = object[key];
    });
    object[last] = value;
  }
  function sizes(figure) {
    var narrow = figure.layout.meta && figure.layout.meta.narrow;
    if (!narrow) return null;
    var wide = { layout: {}, traces: [] };
    Object.keys(narrow.layout || {}).forEach(function (key) { wide.layout[key] = read(figure.layout, key); });
    (narrow.traces || []).forEach(function (changes, i) {
      wide.traces[i] = {};
      Object.keys(changes).forEach(function (key) { wide.traces[i][key] = read(figure.data[i], key); });
    });
    return { below: narrow.below, narrow: { layout: narrow.layout || {}, traces: narrow.traces || [] }, wide: wide };
  }
  function modeFor(div) {
    return div.clientWidth < div._sizes.below ? "narrow" : "wide";
  }
  // The height the chart is designed at in a mode (fitLegend adds the legend's extra lines to it).
  function heightIn(div, mode) {
    var height = div._sizes[mode].layout.height;
    return height == null ? div._sizes.wide.layout.height || div._designedHeight : height;
  }
  // Before the first drawing: the figure as the chart's width wants it.
  function fitFigure(div, figure) {
    div._sizes = sizes(figure);
    if (!div._sizes) return;
    div._sizes.wide.layout.height = figure.layout.height;
    div._mode = modeFor(div);
    if (div._mode === "narrow") {
      var values = div._sizes.narrow;
      Object.keys(values.layout).forEach(function (key) { write(figure.layout, key, values.layout[key]); });
      values.traces.forEach(function (changes, i) {
        Object.keys(changes).forEach(function (key) { write(figure.data[i], key, changes[key]); });
      });
    }
    div._designedHeight = heightIn(div, div._mode);
  }
  // On a new width: the other mode's values when the chart crossed `below`, in one redraw.
  function fitMode(div) {
    if (!div._sizes) return Promise.resolve();
    var mode = modeFor(div);
    if (mode === div._mode) return Promise.resolve();
    div._mode = mode;
    div._designedHeight = heightIn(div, mode);
    var values = div._sizes[mode];
    var indices = [];
    var restyle = {};
    values.traces.forEach(function (changes, i) {
      indices.push(i);
      Object.keys(changes).forEach(function (key) { restyle[key] = restyle[key] || []; });
    });
    Object.keys(restyle).forEach(function (key) {
      restyle[key] = indices.map(function (i) {
        return key in values.traces[i] ? values.traces[i][key] : read(div.data[i], key);
      });
    });
    var relayout = Object.assign({}, values.layout, { height: div._designedHeight });
    return window.Plotly.update(div, restyle, relayout, indices.length ? indices : undefined).then(freeWidth);
  }
  var observer = window.ResizeObserver
    ? new ResizeObserver(function (entries) {
        entries.forEach(function (entry) {
          var div = entry.target;
          if (!div.data) return;
          if (div._lastWidth === entry.contentRect.width) return;  // only a new width redraws
          div._lastWidth = entry.contentRect.width;
          fitMode(div)
            .then(function () { return window.Plotly.Plots.resize(div); })
            .then(function () { fitLegend(div); });
        });
      })
    : null;
  document.querySelectorAll("[data-plotly-figure]").forEach(function (div) {
    var data = JSON.parse(document.getElementById(div.getAttribute("data-plotly-figure")).textContent);
    div._designedHeight = data.figure.layout.height;
    fitFigure(div, data.figure);
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
