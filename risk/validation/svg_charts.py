"""The charts of a validation run as matplotlib SVG, for the report and its PDF (risk/validation/report.py).

Apart from charts.py (plotly, for pages) so that matplotlib (about 60 MB) is loaded only by a process that
renders a report, never by web workers serving pages."""

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display on servers and workers

import matplotlib.pyplot as plt  # noqa: E402

from risk.validation.charts import TITLES, chart_names  # noqa: E402


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
