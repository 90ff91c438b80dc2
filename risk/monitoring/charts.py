"""A monitor's history as a plotly chart: its values over time with the warn and breach bands shaded, each
point coloured by its outcome. plotly.js is served locally and loaded once by the page."""

import datetime as dt

from governance.core.chart_html import chart_html
from risk.monitoring.measures import MEASURES

COLOURS = {"ok": "#2e7d32", "warn": "#ef6c00", "breach": "#c62828", "insufficient": "#9e9e9e"}
BAND = {"warn": "rgba(239,108,0,0.12)", "breach": "rgba(198,40,40,0.14)"}
PERCENT_UNITS = {"share", "percentile"}
SINGLE_POINT_SPAN = dt.timedelta(days=1)
TICKS_SHOWN = 60  # the chart opens on the last 60 ticks of the schedule; zooming out shows the rest


def history_div(monitor, results, *, height: int = 220, div_id: str | None = None) -> str:
    """The chart's div, or "" when no result has a value: an empty axis says nothing, the page says why instead."""
    figure = history_figure(monitor, results, height=height)
    if figure is None:
        return ""
    return chart_html(figure, div_id or f"monitor-{monitor.pk}", config={"displaylogo": False, "responsive": True})


def history_figure(monitor, results, *, height: int = 220) -> dict | None:
    """The figure as the plain dict plotly.js draws. Not a plotly.graph_objects Figure: validating one took
    about 150 ms a chart (add_hline and add_hrect most of it), so a model page of twenty-odd monitors spent
    seconds on it (issue 21); these few keys are the ones that Figure wrote, without its 9 KB default theme."""
    unit = MEASURES[monitor.measure].unit
    percent = unit in PERCENT_UNITS
    judged = [r for r in results if r.value is not None]
    if not judged:
        return None
    trace = {
        "type": "scatter",
        "x": [r.slot for r in judged],
        "y": [r.value for r in judged],
        "mode": "lines+markers",
        "name": "Value",
        "line": {"color": "#455a64", "width": 1.5},
        "marker": {"color": [COLOURS[r.outcome] for r in judged], "size": 6},
        "hovertemplate": "%{x|%Y-%m-%d %H:%M} UTC<br>%{y" + (":.1%" if percent else ":.4g") + "}<extra></extra>",
    }
    low, high = _value_range(monitor, judged, bounded=percent)
    # The bands use the monitor's current thresholds; each result keeps the ones it ran with (monitor page).
    if monitor.direction == "above":
        bands = [("warn", monitor.warn, monitor.breach), ("breach", monitor.breach, high)]
    else:
        bands = [("warn", monitor.breach, monitor.warn), ("breach", low, monitor.breach)]
    across = {"xref": "x domain", "x0": 0, "x1": 1, "yref": "y"}  # the whole width, at a value of the y axis
    shapes = [
        {"type": "rect", **across, "y0": y0, "y1": y1, "fillcolor": BAND[name], "line": {"width": 0}, "layer": "below"}
        for name, y0, y1 in bands
    ]
    # Threshold labels at the right edge, on the outer side of each line, so that close thresholds do not overlap.
    # A label below its line hangs from its top edge (yanchor "top"), one above it stands on its bottom edge.
    outer = {"warn": "top" if monitor.direction == "above" else "bottom"}
    outer["breach"] = "bottom" if monitor.direction == "above" else "top"
    annotations = []
    for name, y in (("warn", monitor.warn), ("breach", monitor.breach)):
        shapes.append(
            {"type": "line", **across, "y0": y, "y1": y, "line": {"color": COLOURS[name], "dash": "dot", "width": 1}}
        )
        annotations.append(
            {
                "text": name,
                "showarrow": False,
                "xref": "x domain",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": y,
                "yanchor": outer[name],
                "font": {"color": COLOURS[name], "size": 10},
            }
        )
    axis = {"gridcolor": "#eee", "zeroline": False, "automargin": True}  # what the default theme drew
    return {
        "data": [trace],
        "layout": {
            "height": height,
            "margin": {"l": 50, "r": 10, "t": 10, "b": 30},
            "showlegend": False,
            "plot_bgcolor": "white",
            "font": {"color": "#2a3f5f"},
            "hoverlabel": {"align": "left"},
            "shapes": shapes,
            "annotations": annotations,
            # The ticks are UTC times (the page says so too): the axis names its zone where the eye reads the ticks.
            "xaxis": {
                **axis,
                "type": "date",
                "range": _time_range(monitor, judged),
                "title": {"text": "UTC", "font": {"size": 10}, "standoff": 2},
            },
            "yaxis": {**axis, "range": [low, high], "tickformat": ".0%" if percent else None},
        },
    }


def _value_range(monitor, judged, *, bounded: bool) -> tuple[float, float]:
    values = [r.value for r in judged] + [monitor.warn, monitor.breach]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or abs(high) * 0.15 or 1.0
    low, high = low - pad, high + pad
    if bounded:  # shares and percentiles live between 0 and 1
        low, high = max(0.0, low), min(1.0, high)
    return low, high


def _time_range(monitor, judged):
    """The chart opens on the results of the monitor's current schedule (at most its last TICKS_SHOWN ticks),
    so a minute-by-minute history is not squashed against hours of older results; zooming out shows the rest.
    None lets plotly fit everything. A single result is shown in the day around it: plotly would otherwise zoom
    onto it down to the millisecond."""
    if len(judged) == 1:
        return [judged[0].slot - SINGLE_POINT_SPAN / 2, judged[0].slot + SINGLE_POINT_SPAN / 2]
    if not monitor.schedule.interval_id:
        return None
    interval = monitor.schedule.interval
    seconds = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}.get(interval.period, 3600) * interval.every
    current = [r.slot for r in judged if r.config.get("schedule") == monitor.schedule.name]
    start = judged[-1].slot - dt.timedelta(seconds=seconds * TICKS_SHOWN)
    if len(current) >= 2:
        start = max(start, current[0])
    start = max(start, judged[0].slot)
    pad = dt.timedelta(seconds=seconds / 2)
    return [start - pad, judged[-1].slot + pad]
