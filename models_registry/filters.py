"""Filters shared by the inventory pages and the API, so a saved URL means the same in both."""

import django_filters
from django.db.models import F, Q

from governance.core.models import Desk
from models_registry.choices import Classification, DataSourceKind, LifecycleStatus, ModelType, Purpose, RiskTier
from models_registry.models import DataSource, Model


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering that always ends on the primary key, so pages never overlap or skip rows; blank values (a
    model never validated has no due date) sort last whichever the direction."""

    def filter(self, qs, value):
        fields = [self.get_ordering_value(v) for v in (value or []) if v]
        ordering = [
            F(name[1:]).desc(nulls_last=True) if name.startswith("-") else F(name).asc(nulls_last=True)
            for name in fields
        ]
        return qs.order_by(*ordering, "pk") if ordering else qs


class ModelFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices, label="Tier")
    status = django_filters.ChoiceFilter(choices=LifecycleStatus.choices)
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    model_type = django_filters.ChoiceFilter(choices=ModelType.choices, label="Model type")
    desk = django_filters.ModelChoiceFilter(queryset=Desk.objects.all(), to_field_name="code", empty_label="Any")
    is_vendor = django_filters.ChoiceFilter(
        choices=[("true", "Vendor models"), ("false", "In-house models")],
        method="filter_vendor",
        label="Source",
        empty_label="Any",
    )
    ordering = StableOrderingFilter(
        fields=(
            ("key", "key"),
            ("name", "name"),
            ("risk_tier", "risk_tier"),
            ("status", "status"),
            ("next_validation_due", "next_validation_due"),
            ("updated_at", "updated_at"),
        ),
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

    def filter_vendor(self, queryset, name, value):
        return queryset.filter(is_vendor=(value == "true"))


class DataSourceFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    kind = django_filters.ChoiceFilter(choices=DataSourceKind.choices)
    classification = django_filters.ChoiceFilter(choices=Classification.choices)
    is_active = django_filters.ChoiceFilter(
        choices=[("true", "Active"), ("false", "Inactive")], method="filter_active", label="State", empty_label="Any"
    )
    ordering = StableOrderingFilter(fields=(("name", "name"), ("kind", "kind"), ("classification", "classification")))

    class Meta:
        model = DataSource
        fields = ["search", "kind", "classification", "is_active"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=(value == "true"))
