"""A widget's rows as a plotly figure (a plain dict: cheaper than a validated Figure, drawn by static/js/charts.js).

Readable without colour: every bar carries its count as text, series differ by pattern as well as by colour, a
heatmap cell carries its value as text; the palette is Okabe and Ito's, told apart by the common colour-vision
deficiencies. Each bar or cell carries the address of its records (`customdata`): a click opens them.
"""

import math

from governance.core.chart_style import PALETTE, PATTERNS
from governance.core.widgets import Dimension, Widget

# A status's tone (`Dimension.tones`) as fill, pattern and pattern ink: Okabe & Ito's colours and a grey, each tone
# with a pattern no other tone has, so a status looks the same on every chart whichever other statuses the data
# holds, and in grey print. The board pack draws the same (risk/exports/board_charts.py).
TONE_STYLES = {
    "good": ("#009E73", "", "#ffffff"),
    "mild": ("#56B4E9", "\\", "#ffffff"),
    "caution": ("#E69F00", "/", "#ffffff"),
    "bad": ("#D55E00", "x", "#ffffff"),
    "worst": ("#6e1d00", "+", "#ffffff"),
    "missing": ("#bbbbbb", ".", "#333333"),
    "stale": ("#CC79A7", "-", "#ffffff"),
    "pending": ("#F0E442", "|", "#555555"),
}


def style(dimension: Dimension | None, value, found: int = 0) -> tuple[str, str, str]:
    """The fill, pattern and pattern ink of `value` of `dimension`: its tone's; else by its place among the values
    the dimension declares (so a value missing from the data moves no other); else by `found`, its place among the
    undeclared values drawn."""
    tone = dimension.tone(value) if dimension else None
    if tone:
        return TONE_STYLES[tone]
    declared = dimension.values if dimension else ()
    slot = declared.index(value) if value in declared else len(declared) + found
    # Past the palette's length the pattern moves on, so no two series look alike.
    return PALETTE[slot % len(PALETTE)], PATTERNS[(slot + slot // len(PALETTE)) % len(PATTERNS)], "#ffffff"


FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}


def figure(widget: Widget, rows: list[dict], drill_urls: list[str]) -> dict | None:
    """The chart of a widget's rows; None when there is nothing to draw (the page says so instead)."""
    if not rows or not any(row["count"] for row in rows):
        return None
    if widget.chart == "heatmap":
        return _heatmap(widget, rows, drill_urls)
    return _bars(widget, rows, drill_urls, horizontal=widget.chart == "hbar")


def _layout(**extra) -> dict:
    return {
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "height": 320,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        # Never a scroll box (plotly caps a horizontal legend at half the chart): on a phone the legend wraps to
        # more lines and static/js/charts.js makes the chart taller by as much.
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
            "maxheight": 2000,
        },
        "dragmode": False,  # a drag would zoom: on a dashboard a press is a click that opens records
        **extra,
    }


def _bars(widget: Widget, rows: list[dict], urls: list[str], horizontal: bool) -> dict:
    first = widget.dimensions[0]
    categories = list(dict.fromkeys(first.display(row[first.field]) for row in rows))
    if len(widget.dimensions) == 1:
        series = [(None, None, rows, urls)]
    else:
        second = widget.dimensions[1]
        by_value: dict = {}
        for row, url in zip(rows, urls, strict=True):
            if row["count"] and row.get(widget.chart_value) is not None:
                by_value.setdefault(row[second.field], ([], []))
                by_value[row[second.field]][0].append(row)
                by_value[row[second.field]][1].append(url)
        in_order = sorted(by_value, key=second.rank)
        series = [(value, second.display(value), *by_value[value]) for value in in_order]
    data = []
    undeclared = 0
    for value, name, found, found_urls in series:
        kept = [
            (row, url) for row, url in zip(found, found_urls, strict=True) if row.get(widget.chart_value) is not None
        ]
        found, found_urls = [row for row, _url in kept], [url for _row, url in kept]
        labels = [first.display(row[first.field]) for row in found]
        counts = [row[widget.chart_value] for row in found]
        trace = {
            "type": "bar",
            "x": counts if horizontal else labels,
            "y": labels if horizontal else counts,
            "orientation": "h" if horizontal else "v",
            "text": [_shown(widget, value) for value in counts],
            # A bar of 0 has no inside: its figure is written beside the axis, so the reader sees it is there.
            "textposition": [("inside" if name else "auto") if value else "outside" for value in counts],
            "cliponaxis": False,
            "textangle": 0,
            "insidetextanchor": "middle",
            "customdata": found_urls,
            "hovertemplate": f"%{{text}} {_unit(widget)}<extra>{name or ''}</extra>",
            "marker": _marker(widget, value, found, undeclared),
        }
        if name and value not in widget.dimensions[1].values:
            undeclared += 1
        if name:
            trace["name"] = name
        data.append(trace)
    count_axis = {
        # Under a horizontal chart the title is centred on the bars, right of the row labels: narrower lines, or a
        # phone cut it at the card's edge.
        "title": {"text": _wrapped(_unit(widget).capitalize(), 18 if horizontal else 28)},
        "rangemode": "tozero",
        "fixedrange": True,
        "automargin": True,
    }
    if widget.chart_value == "count":
        count_axis |= {"tickformat": ",d", "tick0": 0, "dtick": _whole_step(rows, widget)}
    measure = widget.chart_measure()
    if measure and measure.axis_to:
        # The whole scale (0 to 100 % of a limit), so bars of 0 % stand against it rather than on an empty axis.
        tallest = max((row.get(widget.chart_value) or 0 for row in rows), default=0)
        count_axis |= {"range": [0, max(measure.axis_to, tallest * 1.1)], "autorange": False}
    category_axis = {
        "title": {"text": "" if horizontal else first.label},  # a horizontal bar's labels say what they are
        "fixedrange": True,
        "type": "category",
        "categoryorder": "array",
        "categoryarray": categories,
        "automargin": True,
    }
    layout = _layout(
        barmode="stack",
        showlegend=len(widget.dimensions) > 1,  # even one series: its name says what the bars are
        xaxis=count_axis if horizontal else category_axis,
        yaxis={**category_axis, "autorange": "reversed"} if horizontal else count_axis,
    )
    if horizontal:
        layout["height"] = max(170, 50 + 28 * len(categories))  # one pilot is one bar, not a tall empty box
        layout["margin"]["l"] = 160
        # A bar of 0 writes its figure just right of the axis: the row's label keeps its distance from it, or
        # "eq-a 1.0" and "0.0 %" read as one (issue 22, the trader's pilot limits).
        layout["yaxis"]["ticklabelstandoff"] = LABEL_STANDOFF
        _narrow_rows(layout, categories)
    return {"data": data, "layout": layout}


def _narrow_rows(layout: dict, categories: list[str]) -> None:
    """A horizontal chart's row labels on a phone: a long one on two lines (a label of 35 characters took 250 of a
    390-pixel phone's pixels and left the bars 50), the rows spaced for them, and no fixed left margin (the labels'
    own width, automargin), so the bars keep most of the width. The whole labels where there is room."""
    layout["yaxis"] |= {"tickmode": "array", "tickvals": categories, "ticktext": categories}
    lines = [two_lines(label, NARROW_WRAP) for label in categories]
    wrapped = any("<br>" in label for label in lines)
    widest = max((_text_px(label, FONT["size"]) for label in categories), default=0)
    changes = {"yaxis.ticktext": lines, "yaxis.tickfont.size": NARROW_TICK_FONT, "margin.l": 0}
    if wrapped:
        changes["height"] = max(layout["height"], 90 + 40 * len(categories))  # a label of two lines a row
    # Narrow while the whole labels (a desktop's 160 pixels at the least) would leave the bars less than half.
    layout["meta"] = narrow(round(2 * max(widest + LABEL_STANDOFF, layout["margin"]["l"]) + 40), changes)


LABEL_STANDOFF = 14  # pixels between a horizontal bar's row label and its axis


def _marker(widget: Widget, value, found: list[dict], undeclared: int) -> dict:
    """A series' fill with its pattern overlaid, so a series differs by its pattern too (and in grey print). A stacked
    series takes the style of its value of the second dimension; a single series whose dimension has tones (a
    status) colours each bar by its own status."""
    first = widget.dimensions[0]
    if len(widget.dimensions) > 1:
        colour, shape, ink = style(widget.dimensions[1], value, undeclared)
    elif first.tones:
        styles = [style(first, row[first.field]) for row in found]
        colour, shape, ink = ([s[i] for s in styles] for i in range(3))
    else:
        colour, shape, ink = style(None, None)
    return {
        "color": colour,
        "pattern": {"shape": shape, "fillmode": "overlay", "fgcolor": ink, "solidity": 0.25},
        "line": {"color": "#1f2933", "width": 1},
    }


def _wrapped(text: str, width: int = 28) -> str:
    """An axis title on lines of about `width` characters: plotly never wraps one, and a long one (a measure's
    label) was cut off at a phone's width."""
    lines = [""]
    for word in text.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return "<br>".join(lines)


def _whole_step(rows: list[dict], widget: Widget) -> int:
    """A tick step in whole records, about five ticks up to the tallest bar (stacked bars summed)."""
    first = widget.dimensions[0].field
    stacks: dict = {}
    for row in rows:
        stacks[row[first]] = stacks.get(row[first], 0) + row["count"]
    tallest = max(stacks.values(), default=1)
    return max(1, math.ceil(tallest / 5))


def _unit(widget: Widget) -> str:
    measure = widget.chart_measure()
    return measure.label if measure else widget.noun


def _shown(widget: Widget, value) -> str:
    measure = widget.chart_measure()
    return measure.display(value) if measure else f"{value:,}"


# A heatmap's row label at most (the whole name in its hover text and in the table), at a desktop's width and at a
# phone's; a horizontal bar's row label on a phone is wrapped at NARROW_WRAP characters (a few more rather than
# cut) onto two lines at most.
# A heatmap is narrow below NARROW_BELOW pixels at the least (wider when its desktop words need more room).
WIDE_LABEL, NARROW_LABEL, NARROW_WRAP, NARROW_BELOW = 48, 16, 16, 600


def narrow(below: int, layout: dict, traces: list[dict] | None = None) -> dict:
    """A figure's `layout.meta` saying how it is drawn while narrower than `below` pixels (a phone): `layout`, the
    layout's keys with their narrow values (plotly's relayout names: "yaxis.ticktext", "margin.l", "height"), and
    `traces`, for each trace in order, its keys with their narrow values (restyle names: "text", "textfont.size").
    static/js/charts.js draws those values while the chart is narrower and the figure's own otherwise, swapping
    both ways as the chart is resized."""
    return {"narrow": {"below": below, "layout": layout, "traces": traces or []}}


def _text_px(text: str, size: float) -> float:
    """About how wide `text` is drawn at `size` pixels (a sans-serif's average character, rounded up): enough to
    tell whether labels fit, never to place them."""
    return 0.62 * size * len(text)


def two_lines(label: str, width: int) -> str:
    """`label` on two lines of `width` characters at most, broken between words, or, when that would cut it, of up
    to 4 more; what is still left cut with an ellipsis (the whole label is in the table)."""
    for most in (width, width + 2, width + 4):
        lines = _wrapped(label, most).split("<br>")
        if len(lines) <= 2 and all(len(line) <= most for line in lines):
            return "<br>".join(lines)
    return "<br>".join([_cut(lines[0], most), *([_cut(" ".join(lines[1:]), most)] if lines[1:] else [])])


def cut_labels(labels: list[str], most: int) -> list[str]:
    """`labels` cut to `most` characters with an ellipsis; two cut alike are numbered, so each row stays told apart."""
    out, seen = [], set()
    for label in labels:
        short, n = _cut(label, most), 1
        while short in seen:
            n += 1
            short = f"{_cut(label, most - 1 - len(str(n)))} {n}"
        seen.add(short)
        out.append(short)
    return out


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _heatmap(widget: Widget, rows: list[dict], urls: list[str]) -> dict:
    """The widget's grid (`Widget.grid`): a cell shows the worst status among its records, or how many there are."""
    grid = widget.grid(rows)
    second, status = widget.dimensions[1], grid.status
    ys, xs = grid.row_values, grid.column_values
    names = [grid.row_labels[y] for y in ys]  # whole
    columns = [second.display(x) for x in xs]

    def cell(y, x, pick):
        found = grid.cells.get((y, x))
        return pick(found) if found else None

    z = [[cell(y, x, lambda c: c.level) for x in xs] for y in ys]
    text = [[cell(y, x, lambda c: c.text) or "" for x in xs] for y in ys]
    custom = [[cell(y, x, lambda c: urls[c.index]) or "" for x in xs] for y in ys]
    # A phone's cells (about 40 pixels) say the short word, a word a line; a desktop's, and hovering, say it whole.
    short = text
    if status and status.short:
        short = [[cell(y, x, lambda c: status.short(rows[c.index][status.field])) or "" for x in xs] for y in ys]
    short = [["<br>".join(said.split()) for said in line] for line in short]
    # Rows are placed by their value (unique) and labelled by name: two models may share a cut name.
    places = [str(y) for y in ys]
    trace = {
        "type": "heatmap",
        "x": columns,
        "y": places,
        "z": z,
        "text": text,
        "hovertext": [
            [f"{name} · {column}: {said}" if said else "" for column, said in zip(columns, line, strict=True)]
            for name, line in zip(names, text, strict=True)
        ],
        "texttemplate": "%{text}",
        "textfont": {"size": CELL_FONT},
        "customdata": custom,
        "hovertemplate": "%{hovertext}<extra></extra>",
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
    }
    if status and status.tones:
        # A fixed colour per status (its tone's), whichever statuses the cells hold: each level its own band.
        steps = len(status.values)
        scale = []
        for level, value in enumerate(status.values):
            colour = TONE_STYLES[status.tone(value)][0]
            scale += [[level / steps, colour], [(level + 1) / steps, colour]]
        trace["colorscale"] = scale
        trace["zmin"], trace["zmax"] = -0.5, steps - 0.5
    elif status:
        steps = len(status.values) - 1 or 1
        trace["colorscale"] = [[i / steps, colour] for i, colour in enumerate(STATUS_COLOURS[: steps + 1])]
        trace["zmin"], trace["zmax"] = 0, steps
    else:
        trace["colorscale"] = [[0, "#deebf7"], [1, "#0072B2"]]
    wide = cut_labels(names, WIDE_LABEL)
    height = max(240, 80 + 26 * len(ys))
    layout = _layout(
        height=height,
        xaxis={"type": "category", "side": "top", "automargin": True},
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "automargin": True,
            "tickmode": "array",
            "tickvals": places,
            "ticktext": wide,
        },
    )
    layout["margin"]["l"] = 10  # the row labels' own width (automargin): a phone keeps the rest for the cells
    # Narrow while the desktop's whole words (row names, column headers side by side, cell words) would not fit:
    # then the row names are cut, the headers stand on end (tilted, plotly ran them into each other), the cells say
    # short words in a smaller font and each row is taller (two lines), the chart taller by the headers' height.
    header = max((_text_px(column, FONT["size"]) for column in columns), default=0)
    said = max((_text_px(word, CELL_FONT) for line in text for word in line), default=0)
    room = max(_text_px(name, FONT["size"]) for name in wide) + 30 + len(columns) * (max(header, said) + 12)
    layout["meta"] = narrow(
        max(NARROW_BELOW, math.ceil(room)),
        {
            "yaxis.ticktext": cut_labels(names, NARROW_LABEL),
            "yaxis.tickfont.size": NARROW_TICK_FONT,
            "xaxis.tickfont.size": NARROW_TICK_FONT,
            "xaxis.tickangle": -90,
            "margin.r": 4,
            "height": max(240, 80 + 34 * len(ys)) + math.ceil(header),
        },
        [{"text": short, "textfont.size": NARROW_CELL_FONT}],
    )
    return {"data": [trace], "layout": layout}


CELL_FONT, NARROW_CELL_FONT = 12, 10  # a heatmap cell's words, on a desktop and on a phone
NARROW_TICK_FONT = 12  # a phone's row labels


# Light to dark in order of severity (a status's worst last), readable under text at every step: a status without
# tones.
STATUS_COLOURS = ["#e8f1f8", "#cfe3f1", "#f6d7a7", "#e69f00", "#d55e00", "#8c2d04"]


def trend_figure(snapshots, labels: dict[str, str]) -> dict | None:
    """The recorded daily values of each indicator: one line each, told apart by dash and marker as well as colour."""
    series: dict[str, tuple[list, list]] = {}
    for snapshot in snapshots:
        days, values = series.setdefault(snapshot.indicator, ([], []))
        days.append(snapshot.day.isoformat())
        values.append(snapshot.value)
    if not series or len({day for days, _values in series.values() for day in days}) < 2:
        return None  # one day is no trend: the table says it
    step = max(1, math.ceil(max((max(values) for _days, values in series.values()), default=1) / 5))
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    symbols = ["circle", "square", "diamond", "triangle-up", "x"]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _wrapped(labels.get(key, key), 34),  # a legend entry wider than a phone was cut at its edge
            "x": days,
            "y": values,
            "line": {"color": PALETTE[i % len(PALETTE)], "dash": dashes[i % len(dashes)], "width": 2},
            "marker": {"symbol": symbols[i % len(symbols)], "size": 6},
            "hovertemplate": "%{x}: %{y}<extra>%{fullData.name}</extra>",
        }
        for i, (key, (days, values)) in enumerate(series.items())
    ]
    layout = _layout(
        height=300,
        # automargin: a phone tilts the dates, which then ran into the axis title
        xaxis={
            "type": "date",
            "title": {"text": "Day (UTC)"},
            "tickformat": "%Y-%m-%d",
            "fixedrange": True,
            "automargin": True,
        },
        yaxis={
            "title": {"text": "Value"},
            "rangemode": "tozero",
            "tickformat": ",d",
            "fixedrange": True,
            "dtick": step,
        },
        showlegend=True,
    )
    return {"data": data, "layout": layout}
