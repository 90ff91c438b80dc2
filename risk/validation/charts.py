"""Charts of a validation run, drawn from the small chart data the run stored (risk.engine).

Two renderers of the same series: plotly here, for the interactive run page (plotly.js served locally), and
matplotlib SVG in svg_charts.py for the report, because a PDF cannot run JavaScript and plotly's static export
needs a headless browser on every worker.
"""

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from governance.core.chart_html import chart_html

TITLES = {
    "equity": "Equity curve and drawdown",
    "roc": "ROC curve",
    "calibration": "Calibration (reliability diagram)",
    "confusion": "Confusion matrix",
    "psi": "Population stability index by feature",
}
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
ORDER = ["equity", "roc", "calibration", "confusion", "psi"]


def chart_names(charts: dict) -> list[str]:
    return [name for name in ORDER if name in charts]


# --- plotly (run page) -----------------------------------------------------------------------------------


def plotly_divs(charts: dict) -> list[dict]:
    """[{name, title, html}] where html is a div and its figure, which static/js/charts.js draws (plotly.js loaded once
    by the page)."""
    out = []
    for name in chart_names(charts):
        figure = _PLOTLY[name](charts[name])
        # No fixed width: the chart takes its card's width (static/js/charts.js keeps it so as the card changes).
        figure.update_layout(title=TITLES[name], height=360, autosize=True, margin={"l": 50, "r": 20, "t": 50, "b": 40})
        html = chart_html(figure, f"chart-{name}", config=PLOTLY_CONFIG)
        out.append({"name": name, "title": TITLES[name], "html": html})
    return out


def _plotly_equity(d):
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.05)
    figure.add_trace(go.Scatter(x=d["time"], y=d["equity"], name="Equity (start = 1)"), row=1, col=1)
    figure.add_trace(go.Scatter(x=d["time"], y=d["drawdown"], name="Drawdown", fill="tozeroy"), row=2, col=1)
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    return figure


def _plotly_roc(d):
    figure = go.Figure(go.Scatter(x=d["fpr"], y=d["tpr"], name=f"ROC (AUC {d['auc']:.3f})"))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="Chance", line={"dash": "dash"}))
    return figure.update_layout(xaxis_title="False positive rate", yaxis_title="True positive rate")


def _plotly_calibration(d):
    figure = go.Figure(go.Scatter(x=d["mean_score"], y=d["hit_rate"], mode="lines+markers", name="Model"))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="Perfect", line={"dash": "dash"}))
    return figure.update_layout(xaxis_title="Mean predicted probability", yaxis_title="Observed frequency")


def _plotly_confusion(d):
    z = [[d["tn"], d["fp"]], [d["fn"], d["tp"]]]
    figure = go.Figure(go.Heatmap(z=z, x=["Predicted 0", "Predicted 1"], y=["Actual 0", "Actual 1"], text=z))
    return figure.update_traces(texttemplate="%{text}", colorscale="Blues")


def _plotly_psi(d):
    figure = go.Figure(go.Bar(x=d["feature"], y=d["psi"], name="PSI"))
    figure.add_hline(y=0.10, line_dash="dot", annotation_text="0.10")
    figure.add_hline(y=0.25, line_dash="dash", annotation_text="0.25")
    return figure.update_layout(yaxis_title="PSI")


_PLOTLY = {
    "equity": _plotly_equity,
    "roc": _plotly_roc,
    "calibration": _plotly_calibration,
    "confusion": _plotly_confusion,
    "psi": _plotly_psi,
}
