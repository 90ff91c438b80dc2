"""Charts of a validation run, drawn from the small chart data the run stored (risk.engine).

Two renderers of the same series: plotly here, for the interactive run page (plotly.js served locally), and
matplotlib SVG in svg_charts.py for the report, because a PDF cannot run JavaScript and plotly's static export
needs a headless browser on every worker. What each chart says in words and as a table is chart_facts.py's, so
both renderers caption and tabulate alike. Readable without colour: bars carry their figures as text, lines differ
by dash and marker as well as by Okabe and Ito's colours.
"""

from governance.core.chart_html import chart_html
from governance.core.chart_style import LINES, PALETTE
from risk.validation import chart_facts
from risk.validation.chart_facts import ATTRIBUTION_AXIS, Panel, num, pct
from risk.validation.plans import metric_label

# No mode bar (as the dashboards): its buttons would sit inside the chart's role="img"; a drag still zooms.
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "displayModeBar": False}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}
HEIGHT = 340


def plotly_divs(charts: dict) -> list[dict]:
    """Each panel of the run (chart_facts.panels) as {key, kind, title, group, caption, table, note, html}, where html
    is a div and its figure, which static/js/charts.js draws (plotly.js loaded once by the page); "" for a panel
    that is a table only."""
    out = []
    for panel in chart_facts.panels(charts):
        html = ""
        if panel.drawn:
            html = chart_html(_PLOTLY[panel.kind](panel), f"chart-{panel.key}", config=PLOTLY_CONFIG)
        out.append(as_dict(panel, html=html))
    return out


def as_dict(panel: Panel, **drawn) -> dict:
    """What a page or the report needs of a panel: plain values, cached once per finished run (report.drawn_once)."""
    t = panel.table
    cells = [[{"text": cell, "num": bool(n)} for cell, n in zip(row, t.numeric, strict=True)] for row in t.rows]
    table = {
        "columns": t.columns,
        "rows": t.rows,
        "numeric": [bool(n) for n in t.numeric],
        "cells": cells,
        "numeric_columns": [c for c, n in zip(t.columns, t.numeric, strict=True) if n],
    }
    return {
        "key": panel.key,
        "kind": panel.kind,
        "title": panel.title,
        "group": panel.group,
        "caption": panel.caption,
        "note": panel.note,
        "table": table,
        **drawn,
    }


def _layout(**extra) -> dict:
    return {
        "font": FONT,
        "height": HEIGHT,
        "autosize": True,  # no fixed width: the chart takes its card's (static/js/charts.js keeps it so)
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "maxheight": 2000},
        **extra,
    }


def _line(x, y, name, slot, **extra) -> dict:
    dash, marker, _style, _mark = LINES[slot % len(LINES)]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": x,
        "y": y,
        "name": name,
        "line": {"color": PALETTE[slot % len(PALETTE)], "dash": dash, "width": 2},
        "marker": {"symbol": marker, "size": 6},
        **extra,
    }


def _diagonal(name) -> dict:
    return {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "name": name,
            "line": {"color": "#555555", "dash": "dash", "width": 1}}  # fmt: skip


def _hbar(labels, values, texts, *, error=None, colour=PALETTE[0], axis_title="") -> dict:
    """Horizontal bars, largest on top, each with its figure as text: labels read whole on a phone."""
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": labels,
        "text": texts,
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": colour},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    ends = [v or 0 for v in values]
    notes = []
    if error:
        trace["error_x"] = {"type": "data", "symmetric": False, **error, "color": "#1f2933", "thickness": 1.5}
        # The figure is written past the interval's end, where the error bar cannot cross it.
        ends = [(v or 0) + e for v, e in zip(values, error["array"], strict=True)]
        trace["textposition"] = "none"
        notes = [{"x": e, "y": label, "text": t, "showarrow": False, "xanchor": "left", "xshift": 4}
                 for e, label, t in zip(ends, labels, texts, strict=True)]  # fmt: skip
    # Room for the longest text beside the longest bar, on either side of 0.
    widest = max((len(t) for t in texts), default=4)
    low, high = min(0, *ends), max(0, *ends)
    pad = (high - low or 1) * min(0.9, 0.1 + 0.04 * widest)
    height = max(HEIGHT - 100, 28 * len(labels) + 90)
    layout = _layout(
        height=height,
        margin={"l": 10, "r": 20, "t": 20, "b": 50},
        showlegend=False,
        xaxis={"title": {"text": axis_title}, "zeroline": True, "range": [low - (pad if low < 0 else 0), high + pad]},
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            "tickvals": labels,
            "ticktext": [_wrapped(x) for x in labels],
        },
        annotations=notes,
    )
    return {"data": [trace], "layout": layout}


def _wrapped(label: str, most: int = 20) -> str:
    """A long bar label on two lines at its middle space, so the bars keep their width on a phone."""
    if len(label) <= most or " " not in label:
        return label
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


# --- Performance and stability ---------------------------------------------------------------------------------


def _equity(p: Panel) -> dict:
    d = p.data
    data = [
        _line(d["time"], d["equity"], "Equity (start = 1)", 0, mode="lines"),
        {**_line(d["time"], d["drawdown"], "Drawdown", 5, mode="lines"), "fill": "tozeroy", "yaxis": "y2"},
    ]
    layout = _layout(
        yaxis={"domain": [0.38, 1], "title": {"text": "Equity"}},
        yaxis2={"domain": [0, 0.3], "tickformat": ".0%", "title": {"text": "Drawdown"}},
        xaxis={"anchor": "y2"},
    )
    return {"data": data, "layout": layout}


def _roc(p: Panel) -> dict:
    d = p.data
    data = [_line(d["fpr"], d["tpr"], f"Model (AUC {num(d['auc'])})", 0, mode="lines"), _diagonal("Chance")]
    axes = {"xaxis": {"title": {"text": "False positive rate"}}, "yaxis": {"title": {"text": "True positive rate"}}}
    return {"data": data, "layout": _layout(**axes)}


def _calibration(p: Panel) -> dict:
    d = p.data
    data = [_line(d["mean_score"], d["hit_rate"], "Model", 0), _diagonal("Perfect")]
    axes = {
        "xaxis": {"title": {"text": "Mean predicted probability"}},
        "yaxis": {"title": {"text": "Observed frequency"}},
    }
    return {"data": data, "layout": _layout(**axes)}


def _confusion(p: Panel) -> dict:
    d = p.data
    z = [[d["tn"], d["fp"]], [d["fn"], d["tp"]]]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": ["Predicted 0", "Predicted 1"],
        "y": ["Actual 0", "Actual 1"],
        "text": [row[1:] for row in p.table.rows],
        "texttemplate": "%{text}",
        "colorscale": "Blues",
        "reversescale": True,  # plotly's Blues runs dark to light: the largest count darkest
        "showscale": False,
    }
    return {"data": [trace], "layout": _layout(yaxis={"autorange": "reversed"})}


def _psi(p: Panel) -> dict:
    d = p.data
    bars = {
        "type": "bar",
        "x": d["feature"],
        "y": d["psi"],
        "text": [row[1] for row in p.table.rows],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": PALETTE[0]},
        "name": "PSI",
    }
    lines = [
        {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": {"dash": dash, "color": c}}
        for y, dash, c in ((chart_facts.PSI_WATCH, "dot", PALETTE[1]), (chart_facts.PSI_SHIFT, "dash", PALETTE[5]))
    ]
    # Each line named in words (not by its colour or dash alone), in the right margin, clear of the bars' labels.
    notes = [
        {"xref": "paper", "x": 1, "y": y, "text": f"{name} {y:.2f}", "showarrow": False, "xanchor": "left"}
        for name, y in (("watch", chart_facts.PSI_WATCH), ("shift", chart_facts.PSI_SHIFT))
    ]
    layout = _layout(yaxis={"title": {"text": "PSI"}}, shapes=lines, annotations=notes, showlegend=False)
    layout["margin"] = {**layout["margin"], "r": 90}
    return {"data": [bars], "layout": layout}


# --- Explainability ---------------------------------------------------------------------------------------------


def _importance(p: Panel) -> dict:
    d = p.data
    minus = [m - lo for m, lo in zip(d["mean"], d["low"], strict=True)]
    plus = [hi - m for m, hi in zip(d["mean"], d["high"], strict=True)]
    texts = [row[2] for row in p.table.rows]
    return _hbar(
        d["feature"], d["mean"], texts, error={"array": plus, "arrayminus": minus}, axis_title=p.table.columns[2]
    )


def _partial_dependence(p: Panel) -> dict:
    d = p.data
    data = [_line(d["grid"], d["average"], f"Average {d['output']}", 0)]
    axes = {"xaxis": {"title": {"text": d["feature"]}}, "yaxis": {"title": {"text": f"Average {d['output']}"}}}
    return {"data": data, "layout": _layout(showlegend=False, **axes)}


def _attributions(p: Panel) -> dict:
    d = p.data
    labels = [row[0] for row in p.table.rows]
    values = [d["mean_abs"][i] for i in d["order"]]
    # Each bar says its own rank by Vigil's importance: agreement reads down the bars without colour.
    texts = [f"{row[1]} (#{row[3]})" for row in p.table.rows]
    return _hbar(labels, values, texts, axis_title=ATTRIBUTION_AXIS)


def _challenger(p: Panel) -> dict:
    d = p.data
    names = ["Model", "Challenger"]  # its kind is in the caption and the table: a long label would crowd a phone
    bars = {
        "type": "bar",
        "orientation": "h",
        "y": names,
        "x": [d["model"], d["challenger"]],
        "text": [num(d["model"]), num(d["challenger"])],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": [PALETTE[0], PALETTE[1]], "pattern": {"shape": ["", "/"]}},
        "xaxis": "x",
        "yaxis": "y",
        "showlegend": False,
    }
    uplift = {
        "type": "scatter",
        "mode": "markers+text",
        "y": ["Uplift"],
        "x": [d["uplift"]],
        "text": [num(d["uplift"])],
        "textposition": "top center",
        "marker": {"symbol": "diamond", "size": 11, "color": PALETTE[2]},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [d["high"] - d["uplift"]],
            "arrayminus": [d["uplift"] - d["low"]],
            "color": "#1f2933",
        },  # fmt: skip
        "xaxis": "x2",
        "yaxis": "y2",
        "name": "Uplift with its confidence interval",
    }
    required = {"type": "line", "xref": "x2", "yref": "y2 domain", "x0": d["required"], "x1": d["required"],
                "y0": 0, "y1": 1, "line": {"dash": "dash", "color": PALETTE[5]}}  # fmt: skip
    zero = {**required, "x0": 0, "x1": 0, "line": {"dash": "dot", "color": "#555555"}}
    note = {"xref": "x2", "yref": "y2 domain", "x": d["required"], "y": 1, "yanchor": "bottom",
            "text": f"required {num(d['required'])}", "showarrow": False}  # fmt: skip
    layout = _layout(
        showlegend=False,
        margin={"l": 10, "r": 50, "t": 20, "b": 40},
        xaxis={
            "anchor": "y",
            "title": {"text": metric_label(d["metric"])},
            "range": [min(0, d["model"], d["challenger"]), max(d["model"], d["challenger"]) * 1.2],
        },  # fmt: skip
        yaxis={"domain": [0.55, 1], "automargin": True, "autorange": "reversed"},
        xaxis2={"anchor": "y2", "title": {"text": "Uplift"}, "zeroline": False, "range": _around(d)},
        yaxis2={"domain": [0, 0.3], "automargin": True},
        shapes=[required, zero],
        annotations=[note],
    )
    return {"data": [bars, uplift], "layout": layout}


def _around(d) -> list[float]:
    """The uplift axis: the interval, 0 and the required uplift, with a margin."""
    low, high = min(0, d["low"], d["required"]), max(0, d["high"], d["required"])
    pad = (high - low or 1) * 0.15
    return [low - pad, high + pad]


# --- Robustness -------------------------------------------------------------------------------------------------


def _perturbation(p: Panel) -> dict:
    d = p.data
    data = [_line(d["levels"], d["all_features"], "All features at once", 0)]
    for slot, feature in enumerate(d["worst"], start=1):
        data.append(_line(d["levels"], d["per_feature"][feature], feature, slot))
    axes = {
        "xaxis": {"title": {"text": "Noise (times the feature's spread)"}},
        "yaxis": {"title": {"text": f"Drop in {chart_facts.in_sentence(d['metric'])}"}},
    }
    return {"data": data, "layout": _layout(**axes)}


def _scenarios(p: Panel) -> dict:
    d = p.data
    tested = d["tested"]
    labels = [r["name"] for r in tested] + ["Whole sample"]
    values = [r.get("sharpe") for r in tested] + [d["whole"]["sharpe"]]
    figure = _hbar(labels, values, [num(v, 2) for v in values], axis_title="Sharpe ratio")
    figure["data"][0]["marker"] = {
        "color": [PALETTE[0]] * len(tested) + [PALETTE[7]],
        "pattern": {"shape": [""] * len(tested) + ["/"]},
    }
    return figure


def _costs(p: Panel) -> dict:
    d = p.data
    xs = [f"{num(m, 0)}×" for m in d["multiples"]]
    sharpe = _line(xs, d["sharpe"], "Sharpe ratio", 0, text=[num(v, 2) for v in d["sharpe"]])
    total = _line(xs, d["total_return"], "Total return", 1, text=[pct(v) for v in d["total_return"]])
    sharpe.update(mode="lines+markers+text", textposition="top center")
    total.update(mode="lines+markers+text", textposition="top center", xaxis="x2", yaxis="y2")
    layout = _layout(
        height=HEIGHT + 40,
        yaxis={"domain": [0.58, 1], "title": {"text": "Sharpe ratio"}, "range": _padded(d["sharpe"])},
        xaxis={"anchor": "y", "range": [-0.45, len(xs) - 0.55]},  # room for the end points' figures
        xaxis2={"anchor": "y2", "title": {"text": "Cost (times the stated cost)"}, "range": [-0.45, len(xs) - 0.55]},
        yaxis2={
            "domain": [0, 0.4],
            "title": {"text": "Total return"},
            "tickformat": ".0%",
            "range": _padded(d["total_return"]),
        },  # fmt: skip
        showlegend=False,
    )
    return {"data": [sharpe, total], "layout": layout}


def _padded(values) -> list[float]:
    """An axis range with room above each point for its figure."""
    low, high = min(values), max(values)
    pad = (high - low or abs(high) or 1) * 0.25
    return [low - pad * 0.5, high + pad]


def _parameter_sensitivity(p: Panel) -> dict:
    d = p.data
    labels = [row[1] for row in p.table.rows]
    return _hbar(
        labels, [q["move"] for q in d["pairs"]], [row[-1] for row in p.table.rows], axis_title=p.table.columns[-1]
    )


_PLOTLY = {
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
