"""A widget's CSV: UTF-8, a header naming the widget, its filters and when it was drawn, then exactly the rows the page
shows with the address of each row's records. Every cell goes through the one rule against spreadsheet formulas."""

import re

from governance.core import cells


def write(stream, drawn, site: str) -> None:
    widget = drawn.widget
    out = cells.writer(stream)
    out.writerow(["Widget", widget.title])
    out.writerow(["Filters", drawn.filters.described()])
    rebuilt = " (the end of that day, rebuilt from the audit trail)" if drawn.filters.moment else ""
    out.writerow(["As of", f"{drawn.made_at:%Y-%m-%d %H:%M:%S} UTC{rebuilt}"])
    out.writerow(["Key fact", drawn.caption])
    out.writerow([])
    out.writerow([header for _key, header in widget.columns()] + ["Records"])
    for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
        out.writerow([*widget.shown(row), row["count"], *widget.shown_measures(row), site.rstrip("/") + url])


def file_name(drawn) -> str:
    """vigil-<widget>_<filter>-<value>_..._<day>.csv: what it holds, in its name."""
    params = drawn.filters.params()
    parts = [f"{name}-{value}" for name, value in params.items() if name != "as_of"]
    name = "_".join([f"vigil-{drawn.widget.key}", *parts, drawn.filters.as_of.isoformat()])
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name)[:200] + ".csv"
