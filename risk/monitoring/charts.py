"""A monitor's history as a plotly chart: its values over time with the warn and breach bands shaded, each
point coloured by its outcome. plotly.js is served locally and loaded once by the page."""

import plotly.graph_objects as go

COLOURS = {"ok": "#2e7d32", "warn": "#ef6c00", "breach": "#c62828", "insufficient": "#9e9e9e"}
BAND = {"warn": "rgba(239,108,0,0.12)", "breach": "rgba(198,40,40,0.14)"}


def history_div(monitor, results, *, height: int = 220, div_id: str | None = None) -> str:
    judged = [r for r in results if r.value is not None]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[r.slot for r in judged],
            y=[r.value for r in judged],
            mode="lines+markers",
            name="Value",
            line={"color": "#455a64", "width": 1.5},
            marker={"color": [COLOURS[r.outcome] for r in judged], "size": 6},
            hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>%{y:.4g}<extra></extra>",
        )
    )
    values = [r.value for r in judged] + [monitor.warn, monitor.breach]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or abs(high) * 0.15 or 1.0
    low, high = low - pad, high + pad
    # The bands use the monitor's current thresholds; each result keeps the ones it ran with (monitor page).
    if monitor.direction == "above":
        bands = [("warn", monitor.warn, monitor.breach), ("breach", monitor.breach, high)]
    else:
        bands = [("warn", monitor.breach, monitor.warn), ("breach", low, monitor.breach)]
    for name, y0, y1 in bands:
        figure.add_hrect(y0=y0, y1=y1, fillcolor=BAND[name], line_width=0, layer="below")
    for name, y in (("warn", monitor.warn), ("breach", monitor.breach)):
        figure.add_hline(
            y=y,
            line={"color": COLOURS[name], "dash": "dot", "width": 1},
            annotation_text=name,
            annotation_position="top left",
            annotation_font_size=10,
        )
    figure.update_layout(
        height=height,
        margin={"l": 45, "r": 10, "t": 10, "b": 30},
        showlegend=False,
        yaxis={"range": [low, high]},
        plot_bgcolor="white",
        xaxis={"gridcolor": "#eee"},
    )
    figure.update_yaxes(gridcolor="#eee")
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id or f"monitor-{monitor.pk}",
        config={"displaylogo": False, "responsive": True},
    )
