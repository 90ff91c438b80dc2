"""The incident log's filters, shared by the page and the API (django-filter: a bad value is a 400 naming it)."""

import django_filters

from risk.incidents.models import Incident
from risk.incidents.services import OPEN_STATUSES


class IncidentFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model__key", max_length=100, help_text="A model's key.")
    status = django_filters.ChoiceFilter(
        choices=[("active", "Not closed"), ("all", "Any"), *Incident.Status.choices],
        method="filter_status",
        help_text="A status, 'active' (not closed) or 'all'.",
    )
    severity = django_filters.ChoiceFilter(choices=Incident.Severity.choices)

    class Meta:
        model = Incident
        fields = ["model", "status", "severity"]

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "all":
            return queryset
        return queryset.filter(status=value)
