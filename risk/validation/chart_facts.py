"""The words and numbers of each chart of a validation run: its title, its group, a one-sentence caption that states
the key fact, and the same numbers as a table. Pure (the stored chart data in, text out), so the run page (plotly,
charts.py) and the report (matplotlib SVG, svg_charts.py) say the same thing, and a chart is readable without
colour and without sight. The chart data's format is docs/architecture.md's (issue 23 keys: CHARTS23 contract).
"""

import logging
import math
from dataclasses import dataclass, field

from risk.validation.plans import metric_label

logger = logging.getLogger(__name__)

GROUPS = {
    "performance": "Performance and stability",
    "explainability": "Explainability",
    "robustness": "Robustness",
}
# name: (title, group), in the order the page and the report show them.
KINDS = {
    "equity": ("Equity curve and drawdown", "performance"),
    "roc": ("ROC curve", "performance"),
    "calibration": ("Calibration (reliability diagram)", "performance"),
    "confusion": ("Confusion matrix", "performance"),
    "psi": ("Population stability index by feature", "performance"),
    "importance": ("Permutation importance", "explainability"),
    "partial_dependence": ("Partial dependence", "explainability"),
    "attributions": ("The developer's attributions, checked", "explainability"),
    "challenger": ("Against a simple challenger", "explainability"),
    "perturbation": ("Perturbed inputs", "robustness"),
    "scenarios": ("Market scenarios", "robustness"),
    "costs": ("Transaction costs", "robustness"),
    "parameter_sensitivity": ("Parameter sensitivity", "robustness"),
}
PSI_WATCH, PSI_SHIFT = 0.10, 0.25  # the usual reading of PSI: under 0.10 stable, over 0.25 a significant shift
ATTRIBUTION_AXIS = "Mean |attribution| (#: rank by Vigil's importance)"
WORST_SHOWN = 3  # perturbation: the features drawn beside "all at once"


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # per column: right-aligned figures


@dataclass(frozen=True)
class Panel:
    key: str  # unique on the page: the chart's element id and its SVG ids' prefix
    kind: str  # the chart data's key
    title: str
    group: str
    caption: str
    table: Table
    data: dict = field(repr=False)  # what the chart draws (one feature's curve for partial dependence)
    drawn: bool = True  # False: a table only (nothing to draw, the caption says why)
    note: str = ""  # how to read the table's figures, when the column names cannot say it


def panels(charts: dict) -> list[Panel]:
    out = []
    for kind, (title, group) in KINDS.items():
        if charts.get(kind):
            try:
                out.extend(_PANELS[kind](kind, title, group, charts[kind]))
            except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError):
                # Chart data not in the stored format (or empty): the page and the report go on without it.
                logger.warning("validation chart %s is not in the stored format; not shown", kind, exc_info=True)
    return out


def grouped(items: list) -> list[dict]:
    """[{"key", "title", "panels"}] per group with something to show, in GROUPS' order; items carry a "group"."""
    out = []
    for key, title in GROUPS.items():
        inside = [p for p in items if (p["group"] if isinstance(p, dict) else p.group) == key]
        if inside:
            out.append({"key": key, "title": title, "panels": inside})
    return out


# --- Numbers as the tables and captions write them (the charts' text labels use the same) ---------------------


def num(value, places: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if value != 0 and abs(value) < 10 ** (-places):
        return f"{value:.1e}"
    return f"{value:,.{places}f}".replace("-", "−")


def pct(value, places: int = 1) -> str:
    return "—" if value is None else f"{value * 100:,.{places}f} %".replace("-", "−")


def count(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def in_sentence(metric: str) -> str:
    """A metric's label inside a sentence: "accuracy", but "Sharpe ratio" and "ROC AUC" keep their capitals."""
    label = metric_label(metric)
    return label if label[:6] == "Sharpe" or label[:2].isupper() else label[0].lower() + label[1:]


def _table(columns, rows, numeric) -> Table:
    return Table(list(columns), [list(r) for r in rows], list(numeric))


# --- Performance and stability ---------------------------------------------------------------------------------


def _equity(kind, title, group, d):
    deepest = min(range(len(d["drawdown"])), key=lambda i: d["drawdown"][i]) if d["drawdown"] else 0
    caption = (
        f"The strategy ends at {num(d['equity'][-1], 2)} times its start; its deepest drawdown is "
        f"{pct(-d['drawdown'][deepest])} on {d['time'][deepest][:10]}."
    )
    rows = [(t[:10], num(e, 4), pct(dd, 2)) for t, e, dd in zip(d["time"], d["equity"], d["drawdown"], strict=True)]
    return [Panel(kind, kind, title, group, caption, _table(["Date", "Equity", "Drawdown"], rows, [0, 1, 1]), d)]


def _roc(kind, title, group, d):
    caption = f"The area under the ROC curve is {num(d['auc'])}; a model that guesses scores 0.5 and a perfect one 1."
    rows = [(num(f), num(t)) for f, t in zip(d["fpr"], d["tpr"], strict=True)]
    return [
        Panel(kind, kind, title, group, caption, _table(["False positive rate", "True positive rate"], rows, [1, 1]), d)
    ]


def _calibration(kind, title, group, d):
    gaps = [abs(s - h) for s, h in zip(d["mean_score"], d["hit_rate"], strict=True)]
    worst = max(range(len(gaps)), key=gaps.__getitem__)
    caption = (
        f"Predicted probabilities are at most {num(gaps[worst], 2)} from the observed frequency, in the bin whose "
        f"mean prediction is {num(d['mean_score'][worst], 2)} (observed {num(d['hit_rate'][worst], 2)})."
    )
    counts = d.get("count")
    columns = ["Mean predicted probability", "Observed frequency"] + (["Rows"] if counts else [])
    rows = [
        [num(s), num(h)] + ([count(counts[i])] if counts else [])
        for i, (s, h) in enumerate(zip(d["mean_score"], d["hit_rate"], strict=True))
    ]
    return [Panel(kind, kind, title, group, caption, _table(columns, rows, [1] * len(columns)), d)]


def _confusion(kind, title, group, d):
    total = d["tn"] + d["fp"] + d["fn"] + d["tp"]
    right = d["tn"] + d["tp"]
    caption = (
        f"{count(right)} of {count(total)} predictions are right ({pct(right / total if total else None)}): "
        f"{count(d['tn'])} true negatives and {count(d['tp'])} true positives."
    )
    rows = [("Actual 0", count(d["tn"]), count(d["fp"])), ("Actual 1", count(d["fn"]), count(d["tp"]))]
    return [Panel(kind, kind, title, group, caption, _table(["", "Predicted 0", "Predicted 1"], rows, [0, 1, 1]), d)]


def _psi(kind, title, group, d):
    worst = max(range(len(d["psi"])), key=lambda i: d["psi"][i])
    shifted = sum(1 for v in d["psi"] if v > PSI_SHIFT)
    reading = (
        "a significant shift"
        if d["psi"][worst] > PSI_SHIFT
        else "worth watching"
        if d["psi"][worst] > PSI_WATCH
        else "stable"
    )
    caption = (
        f"{d['feature'][worst]} shifted most since training: PSI {num(d['psi'][worst])} ({reading}); "
        f"features above {PSI_SHIFT}: {shifted} of {len(d['psi'])}."
    )
    ks = d.get("ks")
    columns = ["Feature", "PSI"] + (["KS statistic"] if ks else [])
    rows = [
        [f, num(p)] + ([num(ks[i])] if ks else []) for i, (f, p) in enumerate(zip(d["feature"], d["psi"], strict=True))
    ]
    return [Panel(kind, kind, title, group, caption, _table(columns, rows, [0] + [1] * (len(columns) - 1)), d)]


# --- Explainability ---------------------------------------------------------------------------------------------


def _importance(kind, title, group, d):
    metric, level = in_sentence(d["metric"]), f"{d.get('confidence', 0.95) * 100:.0f}%"
    if d["mean"][0] > 0:
        caption = (
            f"{d['feature'][0]} matters most: shuffling it costs {num(d['mean'][0])} {metric} "
            f"({level} CI {num(d['low'][0])} to {num(d['high'][0])})."
        )
    else:
        caption = f"No feature matters: shuffling any of the {len(d['feature'])} costs no {metric}."
    columns = ["Rank", "Feature", f"Drop in {metric}", f"{level} CI low", f"{level} CI high"]
    rows = [
        (str(i + 1), f, num(m), num(lo), num(hi))
        for i, (f, m, lo, hi) in enumerate(zip(d["feature"], d["mean"], d["low"], d["high"], strict=True))
    ]
    note = f"{columns[2]}: mean over {d.get('repeats', '?')} shuffles of the test set."
    return [Panel(kind, kind, title, group, caption, _table(columns, rows, [1, 0, 1, 1, 1]), d, note=note)]


def _partial_dependence(kind, title, group, d):
    out = []
    for i, curve in enumerate(d["features"]):
        avg, grid = curve["average"], curve["grid"]
        low, high = min(range(len(avg)), key=avg.__getitem__), max(range(len(avg)), key=avg.__getitem__)
        caption = (
            f"The average {d['output']} moves by {num(avg[high] - avg[low])} across {curve['feature']}'s range: "
            f"lowest {num(avg[low])} at {num(grid[low])}, highest {num(avg[high])} at {num(grid[high])}."
        )
        rows = [(num(g), num(a)) for g, a in zip(grid, avg, strict=True)]
        table = _table([curve["feature"], f"Average {d['output']}"], rows, [1, 1])
        data = {**curve, "output": d["output"]}
        out.append(Panel(f"{kind}-{i}", kind, f"{title}: {curve['feature']}", group, caption, table, data))
    return out


def _attributions(kind, title, group, d):
    if d["rows_off"]:
        check = (
            f"do not add up to the predictions on {count(d['rows_off'])} of {count(d['rows_checked'])} rows "
            f"(worst error {num(d['worst_error'])}, tolerance {num(d['tolerance'])})"
        )
    else:
        check = (
            f"add up to the predictions on all {count(d['rows_checked'])} rows checked "
            f"(worst error {num(d['worst_error'])}, tolerance {num(d['tolerance'])})"
        )
    caption = (
        f"The developer's attributions {check}; their ranking against Vigil's permutation importance has a "
        f"Spearman rank correlation of {num(d['spearman'], 2)} (1: the same order)."
    )
    order = sorted(range(len(d["feature"])), key=lambda i: -d["mean_abs"][i])
    rows = [
        (d["feature"][i], num(d["mean_abs"][i], 4), str(rank + 1), str(d["importance_rank"][i]))
        for rank, i in enumerate(order)
    ]
    columns = ["Feature", "Mean |attribution|", "Rank by attribution", "Rank by Vigil's importance"]
    data = {**d, "order": order}
    return [Panel(kind, kind, title, group, caption, _table(columns, rows, [0, 1, 1, 1]), data)]


def challenger_paid(d) -> bool:
    return d["uplift"] >= d["required"]


def _challenger(kind, title, group, d):
    metric, level = in_sentence(d["metric"]), f"{d.get('confidence', 0.95) * 100:.0f}%"
    ci = f"{level} CI {num(d['low'])} to {num(d['high'])}"
    rated = f"a model rated {d['complexity']} complexity" if d.get("complexity") else "this model"
    if challenger_paid(d):
        caption = (
            f"The complexity is paid for: the model's {metric} beats the {d['challenger_kind']} challenger's by "
            f"{num(d['uplift'])} ({ci}), at least the {num(d['required'])} required of {rated}."
        )
    else:
        caption = (
            f"The complexity is not paid for: the model's {metric} beats the {d['challenger_kind']} challenger's by "
            f"only {num(d['uplift'])} ({ci}), less than the {num(d['required'])} required of {rated}."
        )
    rows = [
        ("Model", num(d["model"])),
        (f"Challenger: {d['challenger_kind']}", num(d["challenger"])),
        ("Uplift", num(d["uplift"])),
        (f"Uplift, {level} CI low", num(d["low"])),
        (f"Uplift, {level} CI high", num(d["high"])),
        (f"Uplift required ({d.get('complexity') or 'any'} complexity)", num(d["required"])),
    ]
    return [Panel(kind, kind, title, group, caption, _table(["", metric_label(d["metric"])], rows, [0, 1]), d)]


# --- Robustness -------------------------------------------------------------------------------------------------


def perturbation_worst(d) -> list[str]:
    """The features whose noise costs most at the strongest level, worst first."""
    return sorted(d["per_feature"], key=lambda f: -d["per_feature"][f][-1])[:WORST_SHOWN]


def _perturbation(kind, title, group, d):
    metric, top = in_sentence(d["metric"]), d["levels"][-1]
    worst = perturbation_worst(d)
    caption = (
        f"Noise of {num(top, 2)} times each feature's spread on all features at once costs "
        f"{num(d['all_features'][-1])} {metric} (from {num(d['baseline'])})"
        + (f"; alone, {worst[0]} costs most ({num(d['per_feature'][worst[0]][-1])})." if worst else ".")
    )
    missing = d.get("missing") or {}
    columns = ["Noise on", *[f"× {num(level, 2)} spread" for level in d["levels"]]] + (
        ["Set missing"] if missing else []
    )
    rows = [["All features at once", *map(num, d["all_features"])] + (["—"] if missing else [])]
    for feature in sorted(d["per_feature"], key=lambda f: -d["per_feature"][f][-1]):
        rows.append([feature, *map(num, d["per_feature"][feature])] + ([num(missing.get(feature))] if missing else []))
    note = f"Each cell: the drop in {metric} from {num(d['baseline'])}."
    table = _table(columns, rows, [0] + [1] * (len(columns) - 1))
    return [Panel(kind, kind, title, group, caption, table, {**d, "worst": worst}, note=note)]


def _scenarios(kind, title, group, d):
    whole, rows_in = d["whole"], d["rows"]
    tested = [r for r in rows_in if r["status"] == "tested"]
    if tested:
        worst = min(tested, key=lambda r: -math.inf if r.get("sharpe") is None else r["sharpe"])
        caption = (
            f"{len(tested)} of {len(rows_in)} windows fall inside the data; the worst is {worst['name']} with a "
            f"Sharpe ratio of {num(worst.get('sharpe'), 2)} and a total return of {pct(worst.get('total_return'))}, "
            f"against {num(whole['sharpe'], 2)} and {pct(whole['total_return'])} over the whole sample."
        )
    else:
        caption = f"None of the {len(rows_in)} windows falls inside the data, so none could be tested."
    columns = ["Window", "From", "To", "Added by", "Status", "Periods", "Sharpe ratio", "Total return", "Max drawdown"]
    rows = [
        (
            r["name"],
            r["start"],
            r["end"],
            "the validator" if r["source"] == "validator" else "Vigil's default",
            r["status"],
            count(r.get("periods")),
            num(r.get("sharpe"), 2),
            pct(r.get("total_return")),
            pct(r.get("max_drawdown")),
        )
        for r in rows_in
    ]
    rows.append(
        (
            "Whole sample",
            "",
            "",
            "",
            "",
            "",
            num(whole["sharpe"], 2),
            pct(whole["total_return"]),
            pct(whole["max_drawdown"]),
        )
    )
    table = _table(columns, rows, [0, 0, 0, 0, 0, 1, 1, 1, 1])
    return [Panel(kind, kind, title, group, caption, table, {**d, "tested": tested}, drawn=bool(tested))]


def _costs(kind, title, group, d):
    stated = f"the stated cost ({num(d['cost'], 4)}, {num(d['cost'] * 10_000, 1)} bp)"
    sharpe, last = d["sharpe"], d["multiples"][-1]
    if d.get("breakeven_multiple") is not None:
        caption = (
            f"The edge disappears at {num(d['breakeven_multiple'], 1)} times {stated}: the Sharpe ratio falls from "
            f"{num(sharpe[0], 2)} without costs to {num(sharpe[-1], 2)} at {num(last, 0)} times."
        )
    elif sharpe[0] <= 0:
        caption = f"There is no edge even without costs: the Sharpe ratio is {num(sharpe[0], 2)} at no cost."
    else:
        caption = (
            f"The edge survives every cost tried: the Sharpe ratio is {num(sharpe[-1], 2)} at {num(last, 0)} times "
            f"{stated} ({num(sharpe[0], 2)} without costs)."
        )
    rows = [
        (f"{num(m, 0)}×", num(s, 2), pct(r))
        for m, s, r in zip(d["multiples"], d["sharpe"], d["total_return"], strict=True)
    ]
    return [
        Panel(kind, kind, title, group, caption, _table(["Cost", "Sharpe ratio", "Total return"], rows, [1, 1, 1]), d)
    ]


def pair_label(pair: dict) -> str:
    """ "lookback 20 → 40 at threshold=0.5" for grid neighbours; "a → b" for adjacent columns."""
    a, b = pair["a"].split(";"), pair["b"].split(";")
    if len(a) == len(b) and all("=" in part for part in a + b):
        changed = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        same = [x for x, y in zip(a, b, strict=True) if x == y]
        if len(changed) == 1:
            name, old = changed[0][0].split("=", 1)
            new = changed[0][1].split("=", 1)[1]
            return f"{name} {old} → {new}" + (f" at {', '.join(same)}" if same else "")
    return f"{pair['a']} → {pair['b']}"


def _parameter_sensitivity(kind, title, group, d):
    metric, pairs = in_sentence(d["metric"]), d["pairs"]
    between = "neighbouring configurations" if d.get("neighbours") == "grid" else "adjacent configurations"
    count = d.get("pair_count", len(pairs))  # runs recorded before it was kept: the pairs drawn were all of them
    caption = f"The {metric} moves at most {num(d['max_move'], 2)} between {between}" + (
        f" ({pair_label(pairs[0])}); the median move over all {count} pairs is {num(d['median_move'], 2)}"
        + (f"; the {len(pairs)} largest are shown." if count > len(pairs) else ".")
        if pairs
        else "."
    )
    if d.get("neighbours") == "grid":  # one step of one named parameter: say which
        rows = [(str(i + 1), pair_label(p), p.get("parameter") or "", num(p["move"], 2)) for i, p in enumerate(pairs)]
        table = _table(["Rank", "Between", "Parameter", f"Move in {metric}"], rows, [1, 0, 0, 1])
    else:  # adjacent columns of a matrix whose names are not key=value: no parameter to name
        rows = [(str(i + 1), pair_label(p), num(p["move"], 2)) for i, p in enumerate(pairs)]
        table = _table(["Rank", "Between", f"Move in {metric}"], rows, [1, 0, 1])
    return [Panel(kind, kind, title, group, caption, table, d, drawn=bool(pairs))]


_PANELS = {
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
