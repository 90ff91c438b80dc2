"""Reads of the dashboards: the widgets a person may see and their rows, each row with the address of its records."""

import datetime as dt
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from governance.core import access, indicators, widgets
from governance.core.models import AuditEvent, Desk
from governance.core.policy import policy_at
from governance.core.widgets import Filters, Widget
from models_registry.models import Model
from risk.dashboards.models import DashboardLayout, IndicatorSnapshot


def _desks(user):
    """Every desk, or, for a person, the desks of the models they may see."""
    if user is None:
        return Desk.objects.all()
    return Desk.objects.filter(pk__in=access.restrict(Model.objects.all(), user).values("desk_id"))


def desk_choices(user=None) -> list[tuple[str, str]]:
    return list(_desks(user).order_by("name").values_list("code", "name"))


def business_unit_choices(user=None) -> list[tuple[str, str]]:
    lines = _desks(user).exclude(business_line="").order_by("business_line").values_list("business_line", flat=True)
    return [(line, line) for line in dict.fromkeys(lines)]


def pages_for(user) -> list[tuple[str, str]]:
    """(page, title) of the pages on which `user` may see at least one widget, in menu order."""
    return [(page, title) for page, title in PAGES if widgets.visible_widgets(user, page)]


def has_a_page(user) -> bool:
    """Whether the menu offers Dashboards: My dashboard's role rules first (no query), the firm's pages after."""
    return any(
        widgets.visible_widgets(user, page) for page in (widgets.MINE, *(p for p, _t in PAGES if p != widgets.MINE))
    )


PAGES = [
    (widgets.OVERVIEW, "Model risk overview"),
    (widgets.MONITORING, "Monitoring health"),
    (widgets.INCIDENTS, "Incidents and controls"),
    (widgets.MINE, "My dashboard"),
]
PAGE_TITLES = dict(PAGES)


def widgets_on(user, page: str) -> list[Widget]:
    """The widgets of the page that `user` may see and has not hidden, in their order (see `arranged`)."""
    return arranged(user, page)[0]


def layout_of(user, page: str) -> DashboardLayout | None:
    """The person's own arrangement of the page, else the firm's default, else None (the apps' order)."""
    found = {
        layout.user_id: layout for layout in DashboardLayout.objects.filter(Q(user=user) | Q(user=None), page=page)
    }
    return found.get(user.pk) or found.get(None)


def has_own_layout(user, page: str) -> bool:
    return DashboardLayout.objects.filter(user=user, page=page).exists()


def arranged(user, page: str) -> tuple[list[Widget], list[Widget]]:
    """(shown, hidden): the widgets `user` may see on `page`, in the layout's order; a widget the layout does not
    name (one added since) follows in the apps' order, shown."""
    available = widgets.visible_widgets(user, page)
    layout = layout_of(user, page)
    if layout is None:
        return available, []
    position = {key: index for index, key in enumerate(layout.order)}
    ordered = sorted(available, key=lambda w: (position.get(w.key, len(position)), w.order, w.key))
    hidden = set(layout.hidden)
    return [w for w in ordered if w.key not in hidden], [w for w in ordered if w.key in hidden]


def visible_widget(user, key: str) -> Widget | None:
    """The widget `key` if `user` may see it; None otherwise (the view answers 404: its existence is not told)."""
    widget = widgets.get(key)
    return widget if widget is not None and widget.visible(user) else None


@dataclass
class Drawn:
    """A widget's rows for one person and filters, with what every view of them needs."""

    widget: Widget
    filters: Filters
    rows: list[dict]
    caption: str
    drill_urls: list[str]
    all_url: str
    csv_url: str
    made_at: object

    @property
    def total(self) -> int:
        return widgets.total(self.rows)


def first_recorded_day() -> dt.date | None:
    """The day of the audit trail's first event: a page cannot be rebuilt for a day before it."""
    first = AuditEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
    return first.date() if first else None


@widgets.reading_once()  # a caption's overall figure comes from the rows' own scan (the CSV, the API, the pack)
def drawn(user, widget: Widget, filters: Filters) -> Drawn:
    widget = widget.for_filters(user, filters)
    rows = widget.rows(user, filters)
    base = filters.params()
    records = reverse("dashboards:records", args=[widget.key])
    return Drawn(
        widget=widget,
        filters=filters,
        rows=rows,
        caption=widget.caption(rows, filters),
        drill_urls=[_with_query(records, {**base, **cell_params(widget, row)}) for row in rows],
        all_url=_with_query(records, base),
        csv_url=_with_query(reverse("dashboards:csv", args=[widget.key]), base),
        made_at=_described_moment(filters),
    )


def _described_moment(filters: Filters):
    """The moment the figures describe: now, or the last instant of a past page's day."""
    moment = filters.moment
    return timezone.now() if moment is None else moment - dt.timedelta(microseconds=1)


def cell_params(widget: Widget, row: dict) -> dict[str, str]:
    """A row's dimension values as the drill-down's address carries them."""
    return {d.field: str(row[d.field]) for d in widget.dimensions}


def cell_from(widget: Widget, data) -> tuple[dict, dict[str, str]]:
    """The cell a drill-down address names (dimension field -> value, or a tuple of values when the address gives
    several: the rows a key risk indicator sums) and the errors of the values that are not one of the dimension's
    (each by its field)."""
    cell, errors = {}, {}
    for dimension in widget.dimensions:
        if dimension.field not in data:
            continue
        texts = list(
            dict.fromkeys(data.getlist(dimension.field) if hasattr(data, "getlist") else [data[dimension.field]])
        )
        if dimension.values:
            known = {str(value): value for value in dimension.values}
            if any(text not in known for text in texts):
                errors[dimension.field] = f"Choose one of: {', '.join(dimension.display(v) for v in dimension.values)}."
                continue
            values = [known[text] for text in texts]
        else:
            values = texts
        cell[dimension.field] = values[0] if len(values) == 1 else tuple(values)
    return cell, errors


def cell_shown(widget: Widget, cell: dict) -> list[tuple[str, str]]:
    """(label, value as people read it) of each dimension a drill-down names; several values read "a or b"."""
    by_field = {d.field: d for d in widget.dimensions}
    return [
        (
            by_field[name].label,
            " or ".join(by_field[name].display(v) for v in (value if isinstance(value, tuple) else (value,))),
        )
        for name, value in cell.items()
    ]


def records(user, widget: Widget, filters: Filters, cell: dict) -> widgets.RecordValues:
    """The records a row counts, as dicts of the widget's record columns and what its links need."""
    return widget.record_values(widget.drill(user, filters, cell))


def _with_query(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}" if params else path


@dataclass
class IndicatorRow:
    indicator: object
    value: int
    status: str
    status_label: str
    rule: str
    source: str
    url: str


def indicator_rows(user, filters: Filters, hidden: frozenset[str] = frozenset()) -> list[IndicatorRow]:
    """Each key risk indicator, in `user`'s scope and the page's filters, on the page's day (live today, rebuilt for a
    past day), judged against the policy in force that day. Its value links to its widget on the page, or, when the
    person hid that widget (`hidden`, widget keys), to the list of the records it counts: an anchor to a widget not
    shown would lead nowhere."""
    policy = policy_at(filters.moment)
    out = []
    for indicator in indicators.all_indicators():
        widget = visible_widget(user, indicator.widget)
        if widget is None:
            continue
        amber, red, source = indicators.thresholds(policy, indicator)
        value = indicator.value(user, filters)
        status = indicators.status(value, amber, red)
        narrowed = indicator.filters(filters)
        if widget.key in hidden:
            url = indicator_records_url(indicator, widget, narrowed)
        else:
            url = reverse("dashboards:page", args=[widget.page]) + _query(narrowed.params())
            url = f"{url}#widget-{widget.key}"
        out.append(
            IndicatorRow(
                indicator=indicator,
                value=value,
                status=status,
                status_label=indicators.STATUS_LABELS[status],
                rule=indicators.rule_text(amber, red),
                source=source,
                url=url,
            )
        )
    return out


def indicator_records_url(indicator, widget: Widget, narrowed: Filters) -> str:
    """The drill-down of exactly the rows the indicator sums: each dimension it names with the values it takes.
    Rows that are not every combination of those values (never so far) cannot be one address: then every record of
    the widget under the indicator's filters is listed."""
    values: dict[str, list] = {}
    for cell in indicator.cells:
        for name, value in cell.items():
            values.setdefault(name, [])
            if value not in values[name]:
                values[name].append(value)
    combinations = math.prod(len(found) for found in values.values()) if values else 0
    exact = combinations == len({tuple(sorted(cell.items())) for cell in indicator.cells})
    params = {**narrowed.params()}
    if exact:
        params |= {name: [str(v) for v in found] for name, found in values.items()}
    path = reverse("dashboards:records", args=[widget.key])
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def indicator_trend(user, filters: Filters, keys: list[str], days: int = 90) -> list[IndicatorSnapshot]:
    """The recorded daily values of the indicators `keys` for the page's desk (or the firm), over the time range or
    the last `days` days."""
    since = filters.since or (filters.as_of - dt.timedelta(days=days))
    until = filters.until or filters.as_of
    return list(
        IndicatorSnapshot.objects.filter(scope=filters.desk, indicator__in=keys, day__gte=since, day__lte=until)
        .order_by("indicator", "day")
        .only("indicator", "day", "value", "status")
    )


def _query(params: dict) -> str:
    return f"?{urlencode(params)}" if params else ""
