// Keeps every plotly chart as wide as its card. plotly draws a chart as soon as its div is parsed, before the
// cards after it exist, so a grid of cards first gives it the whole row; `responsive` alone follows only the
// window, so each chart is resized whenever its own box changes.
(function () {
  if (!window.ResizeObserver) return;
  function watch() {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        if (window.Plotly && entry.target.data) window.Plotly.Plots.resize(entry.target);
      });
    });
    document.querySelectorAll(".js-plotly-plot").forEach(function (chart) { observer.observe(chart); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
