"""A plotly figure as HTML that a strict Content-Security-Policy lets through: an empty div and the figure as a JSON
data block, which `static/js/charts.js` draws with the locally served plotly.js. plotly's own `to_html` writes an
inline script per chart, which the policy (no inline script) refuses."""

import json

from django.utils.html import format_html
from django.utils.safestring import mark_safe

# What json_script escapes, so the JSON can neither close its <script> element nor open another.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def chart_html(figure, div_id: str, config: dict | None = None) -> str:
    # plotly's own encoder for the figure: it holds numpy arrays, dates and NaN that Django's encoder does not know.
    data = f'{{"figure": {figure.to_json()}, "config": {json.dumps(config or {"responsive": True})}}}'
    return format_html(
        '<div id="{}" class="plotly-chart" data-plotly-figure="{}-figure"></div>'
        '<script type="application/json" id="{}-figure">{}</script>',
        div_id,
        div_id,
        div_id,
        mark_safe(data.translate(_ESCAPES)),  # noqa: S308 (escaped for a script element just above)
    )
