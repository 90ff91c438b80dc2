import datetime as dt

import django_filters
from django_filters.fields import IsoDateTimeField

from governance.core.models import AuditEvent


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, normalised to UTC before it reaches the database (which refuses odd offsets)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        return parsed.astimezone(dt.UTC)  # inside Vigil's range of times: the form field checked it


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class AuditEventFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(max_length=60)
    object_id = django_filters.CharFilter(max_length=64)
    actor = django_filters.CharFilter(field_name="actor_username", max_length=150)
    action = django_filters.CharFilter(max_length=60)
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith", max_length=60)
    since = UTCIsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = UTCIsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "actor", "action", "action_prefix", "since", "until"]
