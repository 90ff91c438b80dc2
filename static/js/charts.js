/* Draws each plotly chart of the page from its JSON data block (governance/core/chart_html.py): pages carry no
   inline script, which the Content-Security-Policy refuses. Loaded after plotly.js, deferred. */
(function () {
  "use strict";
  document.querySelectorAll("[data-plotly-figure]").forEach(function (div) {
    var data = JSON.parse(document.getElementById(div.getAttribute("data-plotly-figure")).textContent);
    Plotly.newPlot(div, data.figure.data, data.figure.layout, data.config);
  });
})();
