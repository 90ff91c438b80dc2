"""A plotly figure as HTML that a strict Content-Security-Policy lets through: an empty div and the figure as a JSON
data block, which `static/js/charts.js` draws with the locally served plotly.js. plotly's own `to_html` writes an
inline script per chart, which the policy (no inline script) refuses."""

import datetime as dt
import json

from django.utils.html import format_html
from django.utils.safestring import mark_safe

# What json_script escapes, so the JSON can neither close its <script> element nor open another.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _plain(value):
    """Dates of a plain-dict figure, as plotly's own encoder writes them."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def chart_html(figure, div_id: str, config: dict | None = None) -> str:
    """`figure`: a plotly Figure, or the plain dict of one (cheaper to build, risk/monitoring/charts.py)."""
    if isinstance(figure, dict):
        figure_json = json.dumps(figure, default=_plain, allow_nan=False)
    else:
        # plotly's own encoder: the figure holds numpy arrays, dates and NaN that Django's encoder does not know.
        figure_json = figure.to_json()
    data = f'{{"figure": {figure_json}, "config": {json.dumps(config or {"responsive": True})}}}'
    return format_html(
        '<div id="{}" class="plotly-chart" data-plotly-figure="{}-figure"></div>'
        '<script type="application/json" id="{}-figure">{}</script>',
        div_id,
        div_id,
        div_id,
        mark_safe(data.translate(_ESCAPES)),  # noqa: S308 (escaped for a script element just above)
    )
