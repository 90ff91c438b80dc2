"""A dashboard widget's chart drawn on the server as SVG (matplotlib), for the board pack's PDF.

Pure: a widget's rows in, SVG markup out (no database, no request). The chart reads the same way as on the page
(risk/dashboards/charts.py): bars, stacked bars, horizontal bars or a heatmap of the rows; series told apart by
hatching as well as by Okabe and Ito's colour-blind-safe palette (and in grey print); every bar segment and heatmap
cell carries its number or state as text.

Apart from the pages' plotly charts so that matplotlib (about 60 MB) is loaded only by a worker building a pack;
it is imported once per process, and a pack draws all its charts with it.
"""

import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display on servers and workers

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from governance.core.chart_style import HATCH_OF, PALETTE, prefixed_svg  # noqa: E402
from governance.core.widgets import Widget  # noqa: E402
from risk.dashboards.charts import TONE_STYLES, style  # noqa: E402

# A heatmap's states, mildest first, light to dark (the pages' scale); the two worst hatched as well.
STATUS_COLOURS = ["#e8f1f8", "#cfe3f1", "#f6d7a7", "#e69f00", "#d55e00", "#8c2d04"]
# A heatmap of counts: five shades of the palette's blue, the largest darkest.
COUNT_COLOURS = ["#deebf7", "#b3d3ea", "#7fb2d9", "#3e8cc4", "#0072B2"]
EDGE = "#1f2933"
WIDTH = 7.0  # inches: an A4 page's width inside the pack's margins
RC = {
    "svg.hashsalt": "vigil",  # stable ids: the same rows give the same SVG
    "svg.fonttype": "none",  # text stays text: the PDF's own font, selectable and searchable
    "text.parse_math": False,  # a desk called "$x$" is a name, not mathematics
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "hatch.linewidth": 0.6,
    "hatch.color": "#ffffff",
}
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


@dataclass(frozen=True)
class Bars:
    categories: list[str]  # along the category axis, in order
    series: list[tuple[str | None, list]]  # (name, one value per category, None where the series has none)
    texts: list[list[str]]  # what each segment says, per series
    unit: str  # the value axis's title
    axis_label: str  # the category axis's title
    whole: bool  # values are counts: whole ticks
    horizontal: bool
    legend_title: str = ""
    styles: list[tuple[str, str]] = ()  # (fill, hatch) per series: a status's own (risk/dashboards/charts.py `style`)


@dataclass(frozen=True)
class Heatmap:
    rows: list[str]
    columns: list[str]
    levels: list[list[int | None]]  # per cell: its step on the scale (0 mildest), None for an empty cell
    texts: list[list[str]]
    colours: list[str]  # one per step
    hatches: list[str]  # one per step
    row_label: str
    column_label: str


def widget_svg(widget: Widget, rows: list[dict]) -> str | None:
    """The chart of a widget's rows as SVG markup; None when there is nothing to draw (every count 0). Its element
    ids start with the widget's key, so many charts live in one document."""
    if not rows or not any(row["count"] for row in rows):
        return None
    spec = heatmap_of(widget, rows) if widget.chart == "heatmap" else bars_of(widget, rows)
    return svg(spec, prefix=widget.key)


# --- From a widget's rows to what is drawn (the pages' reading of them, risk/dashboards/charts.py) ------------------


def bars_of(widget: Widget, rows: list[dict]) -> Bars:
    first = widget.dimensions[0]
    measure = widget.chart_measure()
    shown = measure.display if measure else (lambda value: f"{value:,}")
    categories = list(dict.fromkeys(first.display(row[first.field]) for row in rows))
    if len(widget.dimensions) == 1:
        groups = [(None, None, [row for row in rows if row.get(widget.chart_value) is not None])]
    else:
        second = widget.dimensions[1]
        by_value: dict = {}
        for row in rows:
            if row["count"] and row.get(widget.chart_value) is not None:
                by_value.setdefault(row[second.field], []).append(row)
        groups = [(v, second.display(v), by_value[v]) for v in sorted(by_value, key=second.rank)]
    series, texts, styles = [], [], []
    undeclared = 0
    for value, name, found in groups:
        if name is None:
            fill, shape, _ink = style(None, None)
        else:
            fill, shape, _ink = style(widget.dimensions[1], value, undeclared)
            undeclared += value not in widget.dimensions[1].values
        styles.append((fill, HATCH_OF[shape]))
        values: dict[str, float] = {}
        for row in found:
            label = first.display(row[first.field])
            values[label] = values.get(label, 0) + row[widget.chart_value]
        series.append((name, [values.get(label) for label in categories]))
        texts.append([shown(values[label]) if label in values else "" for label in categories])
    return Bars(
        categories=categories,
        series=series,
        texts=texts,
        unit=(measure.label if measure else widget.noun).capitalize(),
        axis_label=first.label,
        whole=measure is None,
        horizontal=widget.chart == "hbar",
        legend_title=widget.dimensions[1].label if len(widget.dimensions) > 1 else "",
        styles=styles,
    )


def heatmap_of(widget: Widget, rows: list[dict]) -> Heatmap:
    """The widget's grid (`Widget.grid`, as the page draws it): a cell shows the worst state among its records, or
    how many there are."""
    first, second = widget.dimensions[0], widget.dimensions[1]
    grid = widget.grid(rows)
    status, ys, xs = grid.status, grid.row_values, grid.column_values
    cells = {key: (cell.level, cell.text) for key, cell in grid.cells.items()}
    if status and status.tones:  # each state its tone's fill and hatch, as on the page
        tones = [TONE_STYLES[status.tone(value)] for value in status.values]
        colours, hatches = [t[0] for t in tones], [HATCH_OF[t[1]] for t in tones]
        levels = [[cells[(y, x)][0] if (y, x) in cells else None for x in xs] for y in ys]
    elif status:
        steps = max(len(status.values), 1)
        colours = [STATUS_COLOURS[min(step, len(STATUS_COLOURS) - 1)] for step in range(steps)]
        hatches = [""] * steps
        if steps >= 3:
            hatches[-2:] = ["..", "//"]
        levels = [[cells[(y, x)][0] if (y, x) in cells else None for x in xs] for y in ys]
    else:
        largest, steps = max((c[0] for c in cells.values()), default=1) or 1, len(COUNT_COLOURS)
        colours, hatches = COUNT_COLOURS, [""] * steps
        levels = [
            [max(0, math.ceil(cells[(y, x)][0] / largest * steps) - 1) if (y, x) in cells else None for x in xs]
            for y in ys
        ]
    return Heatmap(
        rows=[grid.row_labels[y] for y in ys],
        columns=[second.display(x) for x in xs],
        levels=levels,
        texts=[[cells[(y, x)][1] if (y, x) in cells else "" for x in xs] for y in ys],
        colours=colours,
        hatches=hatches,
        row_label=first.label,
        column_label=second.label,
    )


# --- Drawing -----------------------------------------------------------------------------------------------------


def svg(spec: Bars | Heatmap, prefix: str = "chart") -> str:
    """The drawing as SVG markup (from its <svg> element: it goes inline into the PDF's HTML), each id and each
    reference to one prefixed."""
    with plt.rc_context(RC):
        figure = _draw_heatmap(spec) if isinstance(spec, Heatmap) else _draw_bars(spec)
        buffer = io.StringIO()
        try:
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        finally:
            plt.close(figure)
    return prefixed_svg(buffer.getvalue(), prefix)


def _draw_bars(spec: Bars):
    n = len(spec.categories)
    if spec.horizontal:
        figure, axis = plt.subplots(figsize=(WIDTH, max(1.8, 0.7 + 0.3 * n)))
    else:
        figure, axis = plt.subplots(figsize=(WIDTH, 2.8))
    positions = list(range(n))
    base = [0.0] * n
    handles = []
    for index, ((name, values), texts) in enumerate(zip(spec.series, spec.texts, strict=True)):
        heights = [v or 0 for v in values]
        fill, hatch = spec.styles[index] if spec.styles else (PALETTE[0], "")
        style = {
            "facecolor": fill,
            "hatch": hatch,
            "edgecolor": EDGE,
            "linewidth": 0.6,
        }
        if spec.horizontal:
            bars = axis.barh(positions, heights, left=base, height=0.7, **style)
        else:
            bars = axis.bar(positions, heights, bottom=base, width=0.7, **style)
        labels = [text if value else "" for text, value in zip(texts, values, strict=True)]
        axis.bar_label(bars, labels=labels, label_type="center", fontsize=7, bbox=LABEL_BOX)
        base = [b + h for b, h in zip(base, heights, strict=True)]
        handles.append(Patch(label=name, **style))
    tick_labels = [_short(label) for label in spec.categories]
    if spec.horizontal:
        axis.set_yticks(positions, tick_labels)
        axis.invert_yaxis()  # the first category on top, as the table lists it
        axis.set_xlabel(spec.unit)
        value_axis = axis.xaxis
        axis.set_xlim(0, max(max(base, default=0) * 1.05, 1))
    else:
        rotate = n > 6 or max((len(label) for label in tick_labels), default=0) * n > 90
        axis.set_xticks(positions, tick_labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
        axis.set_xlabel(spec.axis_label)
        axis.set_ylabel(spec.unit)
        value_axis = axis.yaxis
        axis.set_ylim(0, max(max(base, default=0) * 1.05, 1))
    if spec.whole:
        value_axis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axis.grid(axis="x" if spec.horizontal else "y", color="#c9d3de", linewidth=0.5)
    axis.set_axisbelow(True)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    if len(spec.series) > 1 or spec.legend_title:
        axis.legend(
            handles=handles,
            title=spec.legend_title or None,
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            frameon=False,
            fontsize=7,
            title_fontsize=7,
        )
    return figure


def _draw_heatmap(spec: Heatmap):
    rows, columns = len(spec.rows), len(spec.columns)
    figure, axis = plt.subplots(figsize=(WIDTH, max(1.6, 0.9 + 0.28 * rows)))
    for y, levels in enumerate(spec.levels):
        for x, level in enumerate(levels):
            if level is None:
                axis.add_patch(Rectangle((x, y), 1, 1, facecolor="#ffffff", edgecolor="#c9d3de", linewidth=0.6))
                continue
            colour, hatch = spec.colours[level], spec.hatches[level]
            axis.add_patch(Rectangle((x, y), 1, 1, facecolor=colour, hatch=hatch, edgecolor="#ffffff", linewidth=1))
            axis.text(x + 0.5, y + 0.5, spec.texts[y][x], ha="center", va="center", fontsize=7, bbox=LABEL_BOX)
    axis.set_xlim(0, columns)
    axis.set_ylim(rows, 0)  # the first row on top, as the table lists it
    axis.set_xticks([x + 0.5 for x in range(columns)], [_short(c) for c in spec.columns])
    axis.set_yticks([y + 0.5 for y in range(rows)], [_short(r) for r in spec.rows])
    axis.xaxis.tick_top()
    axis.xaxis.set_label_position("top")
    axis.set_xlabel(spec.column_label)
    axis.set_ylabel(spec.row_label)
    axis.tick_params(length=0)
    for side in axis.spines.values():
        side.set_visible(False)
    return figure


def _short(label: str, most: int = 40) -> str:
    """An axis label cut to a readable length (the table under the chart gives it whole)."""
    label = " ".join(str(label).split())
    return label if len(label) <= most else label[: most - 1] + "…"
