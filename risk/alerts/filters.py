"""The alert log's filters, shared by the page and the API (django-filter: a bad value is a 400 naming it)."""

import django_filters

from governance.core.filters import UTCIsoDateTimeFilter
from risk.alerts.models import Alert, Kind, Severity


class AlertFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    model = django_filters.CharFilter(
        field_name="model__key", lookup_expr="icontains", max_length=80, help_text="A model key or part of one."
    )
    since = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Alert
        fields = ["kind", "severity", "model", "since", "until"]
