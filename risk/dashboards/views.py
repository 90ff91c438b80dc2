"""Dashboard pages, each widget's CSV and its drill-down list: all drawn from the same rows (selectors.drawn)."""

import io
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from governance.core import widgets
from governance.core.chart_html import chart_html
from governance.core.forms_utils import add_service_errors
from risk.dashboards import access, charts, csv_files, selectors, services
from risk.dashboards.forms import FiltersForm, LayoutForm

RECORDS_PAGE = 100
# No mode bar: its buttons would be keyboard stops inside a chart whose numbers the table under it gives.
CHART_CONFIG = {"displayModeBar": False, "responsive": True}


def home(request):
    """The first dashboard page the person may see."""
    pages = selectors.pages_for(request.user)
    if not pages:
        raise Http404
    return redirect("dashboards:page", page=pages[0][0])


@widgets.reading_once()  # an indicator and the widget it sums read their rows once
def page(request, page):
    pages = selectors.pages_for(request.user)
    if page not in dict(pages):
        raise Http404  # an unknown page and a page with nothing for this person answer alike
    form = FiltersForm(request.GET, request.user)
    shown, indicators_now, trend, past = [], [], None, False
    on_page, hidden = selectors.arranged(request.user, page)
    if form.is_valid():
        filters = form.filters()
        past = filters.moment is not None
        if page == widgets.OVERVIEW:
            indicators_now = selectors.indicator_rows(request.user, filters, frozenset(w.key for w in hidden))
            trend = _trend(request.user, filters, indicators_now)
        for widget in on_page:
            drawn = selectors.drawn(request.user, widget, filters)
            widget = drawn.widget  # as drawn for these filters (Widget.for_filters)
            figure = charts.figure(widget, drawn.rows, drawn.drill_urls)
            drawn.chart = chart_html(figure, f"chart-{widget.key}", CHART_CONFIG) if figure else ""
            for row in drawn.rows:
                row["measures_shown"] = widget.shown_measures(row)
            drawn.table = list(zip(drawn.rows, map(widget.shown, drawn.rows), drawn.drill_urls, strict=True))
            shown.append(drawn)
    context = {
        "pages": pages,
        "hidden": hidden,
        "page_key": page,
        "page_title": selectors.PAGE_TITLES[page],
        "form": form,
        "widgets": shown,
        "indicators": indicators_now,
        "trend": trend,
        "past": past,
        "query": request.GET.urlencode(),
    }
    return render(request, "dashboards/page.html", context, status=200 if form.is_valid() else 400)


def _trend(user, filters, rows) -> dict | None:
    """The indicators' recorded daily values (the daily snapshot job), as a chart and the same numbers as a table."""
    labels = {row.indicator.key: row.indicator.label for row in rows}
    snapshots = selectors.indicator_trend(user, filters, list(labels))
    if not snapshots:
        return None
    figure = charts.trend_figure(snapshots, labels)
    days = sorted({s.day for s in snapshots})
    values = {(s.indicator, s.day): s.value for s in snapshots}
    table = [(day, [values.get((key, day), "") for key in labels]) for day in days]
    return {
        "chart": chart_html(figure, "chart-indicator-trend", CHART_CONFIG) if figure else "",
        "labels": list(labels.values()),
        "table": table,
        "first": days[0],
        "last": days[-1],
        "scope": filters.desk or "the whole firm",
    }


def layout(request, page):
    """Arrange a page for oneself: which widgets show, in what order; compliance may make it the firm's default."""
    if page not in dict(selectors.pages_for(request.user)):
        raise Http404
    shown, hidden = selectors.arranged(request.user, page)
    may_set_firm = access.sets_firm_layout(request.user)
    if request.method == "POST" and request.POST.get("action") == "reset":
        services.layout_reset(request.user, page)
        messages.success(request, "The page is back to the firm's default arrangement.")
        return redirect("dashboards:page", page=page)
    form = LayoutForm(request.POST if request.method == "POST" else None, shown=shown, hidden=hidden)
    if request.method == "POST" and form.is_valid():
        firm_default = request.POST.get("action") == "firm" and may_set_firm
        order, hidden_keys = form.arrangement()
        try:
            services.layout_save(request.user, page, order, hidden_keys, firm_default=firm_default)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved as the firm's default." if firm_default else "Saved for you.")
            return redirect("dashboards:page", page=page)
    context = {
        "page_key": page,
        "page_title": selectors.PAGE_TITLES[page],
        "form": form,
        "may_set_firm": may_set_firm,
        "own": selectors.has_own_layout(request.user, page),
    }
    return render(request, "dashboards/layout.html", context, status=400 if form.errors else 200)


def widget_csv(request, key):
    widget = _widget_or_404(request, key)
    form = FiltersForm(request.GET, request.user)
    if not form.is_valid():
        return _bad_filters(request, form)
    drawn = selectors.drawn(request.user, widget, form.filters())
    stream = io.StringIO()
    csv_files.write(stream, drawn, request.build_absolute_uri("/"))
    response = HttpResponse(stream.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_files.file_name(drawn)}"'
    return response


def widget_records(request, key):
    """The records counted in one row of a widget (the dimensions' values in the address), or in all of them."""
    widget = _widget_or_404(request, key)
    form = FiltersForm(request.GET, request.user)
    if not form.is_valid():
        return _bad_filters(request, form)
    filters = form.filters()
    widget = widget.for_filters(request.user, filters)  # the cells it drew for these filters
    cell, cell_errors = selectors.cell_from(widget, request.GET)
    if cell_errors:
        return _bad_filters(request, form, cell_errors)
    found = selectors.records(request.user, widget, filters, cell)
    page_of = Paginator(found, RECORDS_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    count = page_of.paginator.count
    context = {
        "widget": widget,
        "filters": filters,
        "counted": f"{count:,} {widget.noun[:-1] if count == 1 and widget.noun.endswith('s') else widget.noun}",
        "cell": selectors.cell_shown(widget, cell),
        "page": page_of,
        "records": [
            ([column.display(record[column.field]) for column in widget.record_columns], widget.record_link(record))
            for record in page_of.object_list
        ],
        "querystring": query.urlencode(),
        "back": reverse("dashboards:page", args=[widget.page]) + _query(filters.params()),
    }
    return render(request, "dashboards/records.html", context)


def _widget_or_404(request, key):
    widget = selectors.visible_widget(request.user, key)
    if widget is None:
        raise Http404
    return widget


def _bad_filters(request, form, cell_errors=None):
    return render(
        request,
        "dashboards/bad_filters.html",
        {"form": form, "cell_errors": sorted((cell_errors or {}).items())},
        status=400,
    )


def _query(params: dict) -> str:
    return f"?{urlencode(params)}" if params else ""
