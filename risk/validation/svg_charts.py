"""The charts of a validation run as matplotlib SVG, for the report and its PDF (risk/validation/report.py).

Apart from charts.py (plotly, for pages) so that matplotlib (about 60 MB) is loaded only by a process that
renders a report, never by web workers serving pages. The captions and tables are chart_facts.py's, as on the
page; each drawing's SVG ids carry its panel's key, so several drawings share one HTML document."""

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display on servers and workers

import matplotlib.pyplot as plt  # noqa: E402

from governance.core.chart_style import LINES, PALETTE, prefixed_svg  # noqa: E402
from risk.validation import chart_facts  # noqa: E402
from risk.validation.chart_facts import ATTRIBUTION_AXIS, Panel, num, pct  # noqa: E402
from risk.validation.charts import as_dict  # noqa: E402
from risk.validation.plans import metric_label  # noqa: E402

RC = {
    "svg.hashsalt": "vigil",  # stable ids: same run, same SVG
    "svg.fonttype": "none",  # text stays text in the PDF
    "text.parse_math": False,  # a feature called "$x$" is a name
    "font.size": 8,
    "hatch.color": "#ffffff",
}
WIDTH = 7.0


def svg_charts(charts: dict) -> list[dict]:
    """Each panel of the run (chart_facts.panels) as {key, kind, title, group, caption, table, note, svg}; svg is ""
    for a panel that is a table only."""
    out = []
    for panel in chart_facts.panels(charts):
        svg = ""
        if panel.drawn:
            with plt.rc_context(RC):
                figure = _MPL[panel.kind](panel)
                buffer = io.StringIO()
                try:
                    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
                finally:
                    plt.close(figure)
            svg = prefixed_svg(buffer.getvalue(), f"svg-{panel.key}")
        out.append(as_dict(panel, svg=svg))
    return out


def _line(axis, x, y, label, slot, **extra):
    _dash, _marker, style, marker = LINES[slot % len(LINES)]
    return axis.plot(x, y, linestyle=style, marker=marker, markersize=3, color=PALETTE[slot % len(PALETTE)],
                     label=label, linewidth=1.2, **extra)  # fmt: skip


def _hbars(labels, values, texts, *, xerr=None, xlabel="", colours=None, hatches=None):
    height = max(1.6, 0.28 * len(labels) + 0.8)
    figure, axis = plt.subplots(figsize=(WIDTH * 0.8, height))
    bars = axis.barh(range(len(labels)), values, xerr=xerr, color=colours or PALETTE[0], capsize=2,
                     ecolor="#1f2933", hatch=None)  # fmt: skip
    for bar, hatch in zip(bars, hatches or [], strict=False):
        bar.set_hatch(hatch)
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()
    axis.bar_label(bars, texts, padding=4 if xerr is None else 14)
    axis.axvline(0, color="#555555", linewidth=0.6)
    axis.set_xlabel(xlabel)
    axis.margins(x=0.25)
    return figure, axis


# --- Performance and stability ---------------------------------------------------------------------------------


def _equity(p: Panel):
    d = p.data
    times = [datetime.fromisoformat(t) for t in d["time"]]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(WIDTH, 3.6), height_ratios=[2, 1])
    _line(top, times, d["equity"], "Equity", 0, markevery=max(1, len(times) // 20))
    top.set_ylabel("Equity (start = 1)")
    bottom.fill_between(times, d["drawdown"], 0, alpha=0.5, color=PALETTE[5], hatch="//")
    bottom.set_ylabel("Drawdown")
    bottom.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    figure.autofmt_xdate()
    return figure


def _against_diagonal(x, y, label, diagonal_label, xlabel, ylabel, legend_at):
    """A curve against the y = x line: ROC (chance) and calibration (perfect) read the same way."""
    figure, axis = plt.subplots(figsize=(3.6, 3.4))
    _line(axis, x, y, label, 0)
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label=diagonal_label)
    axis.set(xlabel=xlabel, ylabel=ylabel)
    axis.legend(loc=legend_at)
    return figure


def _roc(p: Panel):
    d = p.data
    return _against_diagonal(d["fpr"], d["tpr"], f"AUC {num(d['auc'])}", "Chance", "False positive rate",
                             "True positive rate", "lower right")  # fmt: skip


def _calibration(p: Panel):
    d = p.data
    return _against_diagonal(d["mean_score"], d["hit_rate"], "Model", "Perfect", "Mean predicted probability",
                             "Observed frequency", "upper left")  # fmt: skip


def _confusion(p: Panel):
    d = p.data
    figure, axis = plt.subplots(figsize=(3.2, 3))
    z = [[d["tn"], d["fp"]], [d["fn"], d["tp"]]]
    axis.imshow(z, cmap="Blues")
    top = max(max(row) for row in z) or 1
    for i in range(2):
        for j in range(2):
            colour = "white" if z[i][j] > top / 2 else "black"
            axis.text(j, i, p.table.rows[i][j + 1], ha="center", va="center", color=colour)
    axis.set_xticks([0, 1], ["Predicted 0", "Predicted 1"])
    axis.set_yticks([0, 1], ["Actual 0", "Actual 1"])
    return figure


def _psi(p: Panel):
    d = p.data
    figure, axis = plt.subplots(figsize=(WIDTH, 2.8))
    bars = axis.bar(d["feature"], d["psi"], color=PALETTE[0])
    axis.bar_label(bars, [row[1] for row in p.table.rows], padding=2)
    axis.axhline(chart_facts.PSI_WATCH, linestyle=":", color=PALETTE[1], label=f"watch {chart_facts.PSI_WATCH:.2f}")
    axis.axhline(chart_facts.PSI_SHIFT, linestyle="--", color=PALETTE[5], label=f"shift {chart_facts.PSI_SHIFT:.2f}")
    axis.set_ylabel("PSI")
    axis.legend(loc="upper right", title="Thresholds")
    axis.tick_params(axis="x", labelrotation=30)
    return figure


# --- Explainability ---------------------------------------------------------------------------------------------


def _importance(p: Panel):
    d = p.data
    minus = [m - lo for m, lo in zip(d["mean"], d["low"], strict=True)]
    plus = [hi - m for m, hi in zip(d["mean"], d["high"], strict=True)]
    texts = [row[2] for row in p.table.rows]
    figure, _axis = _hbars(d["feature"], d["mean"], texts, xerr=[minus, plus], xlabel=p.table.columns[2])
    return figure


def _partial_dependence(p: Panel):
    d = p.data
    figure, axis = plt.subplots(figsize=(3.6, 2.6))
    _line(axis, d["grid"], d["average"], None, 0)
    axis.set(xlabel=d["feature"], ylabel=f"Average {d['output']}")
    return figure


def _attributions(p: Panel):
    d = p.data
    labels = [row[0] for row in p.table.rows]
    texts = [f"{row[1]} (#{row[3]})" for row in p.table.rows]
    figure, _axis = _hbars(labels, [d["mean_abs"][i] for i in d["order"]], texts, xlabel=ATTRIBUTION_AXIS)
    return figure


def _challenger(p: Panel):
    d = p.data
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH * 0.8, 2.6), height_ratios=[2, 1])
    names = ["Model", f"Challenger: {d['challenger_kind']}"]
    bars = top.barh([0, 1], [d["model"], d["challenger"]], color=[PALETTE[0], PALETTE[1]])
    bars[1].set_hatch("//")
    top.set_yticks([0, 1], names)
    top.invert_yaxis()
    top.bar_label(bars, [num(d["model"]), num(d["challenger"])], padding=4)
    top.set_xlabel(metric_label(d["metric"]))
    top.margins(x=0.2)
    bottom.errorbar([d["uplift"]], [0], xerr=[[d["uplift"] - d["low"]], [d["high"] - d["uplift"]]], fmt="D",
                    color=PALETTE[2], ecolor="#1f2933", capsize=3)  # fmt: skip
    bottom.annotate(num(d["uplift"]), (d["uplift"], 0), textcoords="offset points", xytext=(0, 6), ha="center")
    bottom.axvline(d["required"], linestyle="--", color=PALETTE[5], label=f"required {num(d['required'])}")
    bottom.axvline(0, linestyle=":", color="#555555")
    bottom.set_yticks([0], ["Uplift"])
    bottom.legend(loc="lower right")
    figure.tight_layout()
    return figure


# --- Robustness -------------------------------------------------------------------------------------------------


def _perturbation(p: Panel):
    d = p.data
    figure, axis = plt.subplots(figsize=(WIDTH * 0.8, 2.8))
    _line(axis, d["levels"], d["all_features"], "All features at once", 0)
    for slot, feature in enumerate(d["worst"], start=1):
        _line(axis, d["levels"], d["per_feature"][feature], feature, slot)
    axis.set(xlabel="Noise (times the feature's spread)", ylabel=f"Drop in {chart_facts.in_sentence(d['metric'])}")
    axis.legend(loc="upper left")
    return figure


def _scenarios(p: Panel):
    d = p.data
    tested = d["tested"]
    labels = [r["name"] for r in tested] + ["Whole sample"]
    values = [r.get("sharpe") or 0 for r in tested] + [d["whole"]["sharpe"]]
    texts = [num(r.get("sharpe"), 2) for r in tested] + [num(d["whole"]["sharpe"], 2)]
    colours = [PALETTE[0]] * len(tested) + [PALETTE[7]]
    figure, _axis = _hbars(labels, values, texts, xlabel="Sharpe ratio", colours=colours,
                           hatches=[""] * len(tested) + ["//"])  # fmt: skip
    return figure


def _costs(p: Panel):
    d = p.data
    xs = [f"{num(m, 0)}×" for m in d["multiples"]]
    figure, (top, bottom) = plt.subplots(1, 2, figsize=(WIDTH, 2.4))
    _line(top, xs, d["sharpe"], "Sharpe ratio", 0)
    _line(bottom, xs, d["total_return"], "Total return", 1)
    for axis, values, shown in ((top, d["sharpe"], lambda v: num(v, 2)), (bottom, d["total_return"], pct)):
        for x, v in zip(xs, values, strict=True):
            axis.annotate(shown(v), (x, v), textcoords="offset points", xytext=(0, 5), ha="center")
        axis.set_xlabel("Cost (times the stated cost)")
        axis.margins(y=0.2)
    top.set_ylabel("Sharpe ratio")
    bottom.set_ylabel("Total return")
    bottom.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    figure.tight_layout()
    return figure


def _parameter_sensitivity(p: Panel):
    d = p.data
    labels = [row[1] for row in p.table.rows]
    figure, _axis = _hbars(labels, [q["move"] for q in d["pairs"]], [row[-1] for row in p.table.rows],
                           xlabel=p.table.columns[-1])  # fmt: skip
    return figure


_MPL = {
    "equity": _equity,
    "roc": _roc,
    "calibration": _calibration,
    "confusion": _confusion,
    "psi": _psi,
    "importance": _importance,
    "partial_dependence": _partial_dependence,
    "attributions": _attributions,
    "challenger": _challenger,
    "perturbation": _perturbation,
    "scenarios": _scenarios,
    "costs": _costs,
    "parameter_sensitivity": _parameter_sensitivity,
}
