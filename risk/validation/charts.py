"""Charts of a validation run, drawn from the small chart data the run stored (risk.engine).

Two renderers of the same series: plotly for the interactive run page (plotly.js served locally), and
matplotlib SVG for the report, because a PDF cannot run JavaScript and plotly's static export needs a
headless browser on every worker.
"""

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display on servers and workers

import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

TITLES = {
    "equity": "Equity curve and drawdown",
    "roc": "ROC curve",
    "calibration": "Calibration (reliability diagram)",
    "confusion": "Confusion matrix",
    "psi": "Population stability index by feature",
}
ORDER = ["equity", "roc", "calibration", "confusion", "psi"]


def chart_names(charts: dict) -> list[str]:
    return [name for name in ORDER if name in charts]


# --- plotly (run page) -----------------------------------------------------------------------------------


def plotly_divs(charts: dict) -> list[dict]:
    """[{name, title, html}] where html is a div that plotly.js (loaded once by the page) draws."""
    out = []
    for name in chart_names(charts):
        figure = _PLOTLY[name](charts[name])
        figure.update_layout(title=TITLES[name], height=360, margin={"l": 50, "r": 20, "t": 50, "b": 40})
        html = figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}")
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


# --- matplotlib SVG (report and PDF) ---------------------------------------------------------------------


def svg_charts(charts: dict) -> list[dict]:
    """[{name, title, svg}] with each chart as inline SVG markup."""
    out = []
    for name in chart_names(charts):
        with plt.rc_context({"svg.hashsalt": "vigil", "font.size": 8}):  # stable ids: same run, same SVG
            figure = _MPL[name](charts[name])
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
            plt.close(figure)
        svg = buffer.getvalue()
        out.append({"name": name, "title": TITLES[name], "svg": svg[svg.index("<svg") :]})
    return out


def _mpl_equity(d):
    times = [datetime.fromisoformat(t) for t in d["time"]]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 3.6), height_ratios=[2, 1])
    top.plot(times, d["equity"], linewidth=1)
    top.set_ylabel("Equity (start = 1)")
    bottom.fill_between(times, d["drawdown"], 0, step=None, alpha=0.5, color="tab:red")
    bottom.set_ylabel("Drawdown")
    bottom.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    figure.autofmt_xdate()
    return figure


def _mpl_against_diagonal(x, y, label, diagonal_label, xlabel, ylabel, legend_at, marker=None):
    """A curve against the y = x line: ROC (chance) and calibration (perfect) read the same way."""
    figure, axis = plt.subplots(figsize=(3.6, 3.4))
    axis.plot(x, y, marker=marker, label=label)
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label=diagonal_label)
    axis.set(xlabel=xlabel, ylabel=ylabel)
    axis.legend(loc=legend_at)
    return figure


def _mpl_roc(d):
    return _mpl_against_diagonal(
        d["fpr"], d["tpr"], f"AUC {d['auc']:.3f}", "Chance", "False positive rate", "True positive rate", "lower right"
    )


def _mpl_calibration(d):
    return _mpl_against_diagonal(
        d["mean_score"],
        d["hit_rate"],
        "Model",
        "Perfect",
        "Mean predicted probability",
        "Observed frequency",
        "upper left",
        marker="o",
    )


def _mpl_confusion(d):
    figure, axis = plt.subplots(figsize=(3.2, 3))
    z = [[d["tn"], d["fp"]], [d["fn"], d["tp"]]]
    axis.imshow(z, cmap="Blues")
    for i in range(2):
        for j in range(2):
            axis.text(j, i, f"{int(z[i][j]):,}", ha="center", va="center")
    axis.set_xticks([0, 1], ["Predicted 0", "Predicted 1"])
    axis.set_yticks([0, 1], ["Actual 0", "Actual 1"])
    return figure


def _mpl_psi(d):
    figure, axis = plt.subplots(figsize=(7, 2.8))
    axis.bar(d["feature"], d["psi"])
    axis.axhline(0.10, linestyle=":", color="tab:orange")
    axis.axhline(0.25, linestyle="--", color="tab:red")
    axis.set_ylabel("PSI")
    axis.tick_params(axis="x", labelrotation=30)
    return figure


_MPL = {
    "equity": _mpl_equity,
    "roc": _mpl_roc,
    "calibration": _mpl_calibration,
    "confusion": _mpl_confusion,
    "psi": _mpl_psi,
}
