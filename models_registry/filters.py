"""Filters shared by the inventory pages and the API, so a saved URL means the same in both."""

import django_filters
from django.db.models import Q

from governance.models import Desk
from models_registry.choices import Classification, DataSourceKind, LifecycleStatus, ModelType, Purpose, RiskTier
from models_registry.models import DataSource, Model


class ModelFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    risk_tier = django_filters.TypedChoiceFilter(choices=RiskTier.choices, coerce=int, label="Tier")
    status = django_filters.ChoiceFilter(choices=LifecycleStatus.choices)
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    model_type = django_filters.ChoiceFilter(choices=ModelType.choices, label="Model type")
    desk = django_filters.ModelChoiceFilter(queryset=Desk.objects.all(), to_field_name="code")
    is_vendor = django_filters.BooleanFilter(label="Vendor model")
    ordering = django_filters.OrderingFilter(
        fields=(("key", "key"), ("name", "name"), ("risk_tier", "risk_tier"), ("status", "status"),
                ("next_validation_due", "next_validation_due"), ("updated_at", "updated_at")),
        label="Sort by",
    )

    class Meta:
        model = Model
        fields = ["search", "risk_tier", "status", "purpose", "model_type", "desk", "is_vendor"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(key__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value))


class DataSourceFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    kind = django_filters.ChoiceFilter(choices=DataSourceKind.choices)
    classification = django_filters.ChoiceFilter(choices=Classification.choices)
    is_active = django_filters.BooleanFilter(label="Active")
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("kind", "kind"),
                                                     ("classification", "classification")))

    class Meta:
        model = DataSource
        fields = ["search", "kind", "classification", "is_active"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
