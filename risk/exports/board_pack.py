"""The model risk board pack (issue 22): for a quarter or any period, every chart of the firm's dashboards (model risk
overview, monitoring health, incidents and controls) that the requester may see, each with its table, as a PDF, and
the same rows as a workbook with one sheet per widget; in a signed BagIt bag like the other packs.

Each widget is drawn exactly as its page draws it (risk.dashboards.selectors.drawn, in the requester's scope and the
pack's filters), so the chart, the PDF's table, the workbook's sheet and the page cannot disagree. The charts are
drawn on the server (risk/exports/board_charts.py); the period, filters and as-of moment are in bag-info.txt.
"""

import base64
import datetime as dt
import io

from governance.core import cells, widgets
from governance.core.models import Desk
from governance.core.widgets import Filters
from models_registry.choices import ModelType
from risk.dashboards import selectors

PAGES = (widgets.OVERVIEW, widgets.MONITORING, widgets.INCIDENTS)
FILTER_NAMES = ("desk", "business_unit", "tier", "model_type")
ABOUT = "About"
SHEET_NAME_MOST = 31
_NOT_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})


def params_of(cleaned: dict) -> dict:
    """What the export records of a checked request: the period as ISO days, the quarter if one was given, and the
    filters given (no empty one)."""
    params = {"since": cleaned["since"].isoformat(), "until": cleaned["until"].isoformat()}
    if cleaned.get("quarter"):
        params["quarter"] = cleaned["quarter"]
    for name in FILTER_NAMES:
        if cleaned.get(name) not in (None, ""):
            params[name] = cleaned[name]
    return params


def filters_of(params: dict, as_of: dt.date) -> Filters:
    return Filters(
        as_of=as_of,
        desk=params.get("desk", ""),
        tier=params.get("tier"),
        model_type=params.get("model_type", ""),
        business_unit=params.get("business_unit", ""),
        since=dt.date.fromisoformat(params["since"]),
        until=dt.date.fromisoformat(params["until"]),
    )


def period_words(params: dict) -> str:
    days = f"{params['since']} to {params['until']}"
    return f"{params['quarter']} ({days})" if params.get("quarter") else days


def filters_words(params: dict) -> str:
    """The filters in words, names rather than codes: "desk Rates (rates); tier 1"; every model in scope when none."""
    parts = []
    if params.get("desk"):
        name = Desk.objects.filter(code=params["desk"]).values_list("name", flat=True).first()
        parts.append(f"desk {name} ({params['desk']})" if name else f"desk {params['desk']}")
    if params.get("business_unit"):
        parts.append(f"business unit {params['business_unit']}")
    if params.get("tier") is not None:
        parts.append(f"tier {params['tier']}")
    if params.get("model_type"):
        parts.append(f"model type {dict(ModelType.choices).get(params['model_type'], params['model_type'])}")
    return "; ".join(parts) or "none: every model in the requester's scope"


def collect(user, filters: Filters) -> dict:
    """The key risk indicators and, page by page, each widget `user` may see drawn with `filters`."""
    sections = []
    for page in PAGES:
        drawn = [selectors.drawn(user, widget, filters) for widget in widgets.visible_widgets(user, page)]
        if drawn:
            sections.append({"page": page, "title": selectors.PAGE_TITLES[page], "widgets": drawn})
    return {"indicators": selectors.indicator_rows(user, filters), "sections": sections}


def drawn_widgets(data: dict) -> list:
    return [d for section in data["sections"] for d in section["widgets"]]


def table_of(d) -> dict:
    """A drawn widget's table as people read it: headers, and per row the shown values, the count, the measures."""
    widget = d.widget
    return {
        "headers": [header for _key, header in widget.columns()],
        "dimensions": len(widget.dimensions),
        "rows": [(widget.shown(row), row["count"], widget.shown_measures(row)) for row in d.rows],
        "total": d.total,
        "measures": len(widget.measures),
    }


def record(data: dict, about: dict) -> dict:
    """The pack's figures for machines (records/board-pack.json): the same values as the PDF and the workbook."""
    return {
        **about,
        "risk_indicators": [
            {
                "key": row.indicator.key,
                "label": row.indicator.label,
                "value": row.value,
                "status": row.status,
                "status_label": row.status_label,
                "appetite": row.rule,
                "thresholds_from": row.source,
            }
            for row in data["indicators"]
        ],
        "widgets": [
            {
                "key": d.widget.key,
                "page": d.widget.page,
                "title": d.widget.title,
                "caption": d.caption,
                "columns": [header for _key, header in d.widget.columns()],
                "rows": [
                    [*d.widget.shown(row), row["count"], *(row[m.key] for m in d.widget.measures)] for row in d.rows
                ],
                "total": d.total,
            }
            for d in drawn_widgets(data)
        ],
    }


# --- The PDF ------------------------------------------------------------------------------------------------------


def html(data: dict, about: dict, meta: dict, progress=None) -> str:
    """The PDF's HTML: a cover, the key risk indicators, then per page each widget with its chart and its table."""
    from django.template.loader import render_to_string

    from risk.exports import board_charts  # matplotlib: loaded once, by a worker building a pack

    sections = []
    todo = max(len(drawn_widgets(data)), 1)
    done = 0
    for section in data["sections"]:
        shown = []
        for d in section["widgets"]:
            drawing = board_charts.widget_svg(d.widget, d.rows)
            # As an image of its own: its ids and styles stay inside it (inline, the page's CSS would read them).
            image = f"data:image/svg+xml;base64,{base64.b64encode(drawing.encode()).decode()}" if drawing else ""
            shown.append({"drawn": d, "widget": d.widget, "chart": image, "table": table_of(d)})
            done += 1
            if progress:
                progress(20 + 50 * done // todo)
        sections.append({"title": section["title"], "page": section["page"], "widgets": shown})
    context = {"about": about, "meta": meta, "indicators": data["indicators"], "sections": sections}
    return render_to_string("exports/board_pack.html", context)


def pdf(markup: str) -> bytes:
    from weasyprint import HTML  # imported here: only workers that build packs need its system libraries

    return HTML(string=markup).write_pdf()


# --- The workbook -------------------------------------------------------------------------------------------------


def sheet_names(titles: list[str]) -> list[str]:
    """A sheet name per title: without the characters a sheet name may not hold, at most 31 characters, unique
    (case aside, and never "About"), a number added where two would be alike."""
    taken = {ABOUT.lower()}
    out = []
    for title in titles:
        base = " ".join(title.translate(_NOT_IN_SHEET_NAMES).split()).strip("'") or "Widget"
        name, n = base[:SHEET_NAME_MOST], 1
        while name.lower() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_MOST - len(suffix)].rstrip() + suffix
        taken.add(name.lower())
        out.append(name)
    return out


def xlsx(data: dict, about: dict) -> bytes:
    """About (period, filters, as-of, requester, the key risk indicators, which sheet holds which widget), then one
    sheet per widget: its table's header, then its rows (shown values, count, measures). Every cell goes through the
    one rule against spreadsheet formulas (governance.core.cells)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, NamedStyle
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    header, figure = NamedStyle("vigil header"), NamedStyle("vigil figure")
    header.font = Font(bold=True)
    figure.number_format = "#,##0.0"
    for style in (header, figure):
        book.add_named_style(style)
    drawn = drawn_widgets(data)
    names = sheet_names([d.widget.title for d in drawn])

    sheet = book.create_sheet(ABOUT)
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 34, 70
    sheet.column_dimensions["C"].width, sheet.column_dimensions["D"].width = 40, 50

    def line(*values, style=None):
        sheet.append([cells.xlsx_cell(sheet, value, style if i == 0 else None) for i, value in enumerate(values)])

    for label, key in ABOUT_LINES:
        line(label, about[key], style="vigil header")
    line()
    line("Key risk indicator", "Value", "Status", "Appetite", style="vigil header")
    for row in data["indicators"]:
        line(row.indicator.label, row.value, row.status_label, f"{row.rule} ({row.source})")
    if not data["indicators"]:
        line("None you may see.")
    line()
    line("Sheet", "Widget", "Key fact", "Records counted", style="vigil header")
    for name, d in zip(names, drawn, strict=True):
        line(name, d.widget.title, d.caption, d.total)
    if not drawn:
        line("No widget of these pages is yours to see.")

    for name, d in zip(names, drawn, strict=True):
        widget = d.widget
        sheet = book.create_sheet(name)
        headers = [label for _key, label in widget.columns()]
        for index, label in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(label) + 4))
        sheet.freeze_panes = "A2"
        sheet.append([cells.xlsx_cell(sheet, label, "vigil header") for label in headers])
        for row in d.rows:
            measures = [cells.xlsx_cell(sheet, _number(row[m.key]), "vigil figure") for m in widget.measures]
            sheet.append(
                [
                    *(cells.xlsx_cell(sheet, v) for v in widget.shown(row)),
                    cells.xlsx_cell(sheet, row["count"]),
                    *measures,
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ABOUT_LINES = [
    ("Report", "title"),
    ("Reference", "reference"),
    ("Period (UTC days, both included)", "period"),
    ("Filters", "filters"),
    ("As of (UTC)", "as_of"),
    ("Requested by", "requested_by"),
    ("Scope", "scope"),
    ("Made by", "instance"),
]


def _number(value):
    """A measure as a number the workbook can add up (a Decimal as a float); None stays an empty cell."""
    if value is None or isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


# --- The pack -------------------------------------------------------------------------------------------------------


def lay_out(data: dict, about: dict, meta: dict, progress):
    def _lay_out(pack) -> None:
        pack.add_json("board-pack", record(data, about))
        progress(20)
        pack.add_bytes("board-pack.pdf", pdf(html(data, about, meta, progress)))
        pack.add_bytes("board-pack.xlsx", xlsx(data, about))
        progress(90)

    return _lay_out
