import django_filters

from risk.validation.models import Finding


class FindingFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="version__model__key", max_length=80)
    severity = django_filters.ChoiceFilter(choices=Finding.Severity.choices)
    status = django_filters.ChoiceFilter(choices=Finding.Status.choices)
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150)

    class Meta:
        model = Finding
        fields = ["model", "severity", "status", "owner"]
