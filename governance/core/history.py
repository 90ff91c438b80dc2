"""Records as they stood at a past moment, read in SQL (issue 22: a dashboard page as of a past day).

Every change to a governed record is audited with its old and new values, so a field's value at a moment is its value
now unless a change to it was recorded after that moment, and then it is the old value of the first such change:
undoing every later change newest first (the inventory-as-of export's reconstruction, risk/exports/inventory.py)
ends on exactly that value. Written as correlated subqueries on the audit trail's (object_type, object_id, id) index,
a widget's queryset reads its fields as they stood without loading a record into Python, and its rows, CSV and
drill-down stay one query. A record created after the moment did not exist then.

Hand-written because it is the product's own invariant (the audit chain is complete) turned into a reading: no
history library knows Vigil's chain, and keeping a second history table would be a second truth to reconcile.
"""

import datetime as dt
import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from governance.core.models import AuditEvent

OUTPUTS = {"text": CharField(), "int": IntegerField(), "date": DateField(), "bool": BooleanField()}


def end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day` (UTC): a page as of a day shows what stood when that day ended."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def audit_type_of(model) -> str:
    """The name the audit trail records a model's objects under (governance.core.audit.audit_type, for a class);
    a name given as text is taken as it is (the core names models of the apps above it that way)."""
    if isinstance(model, str):
        return model
    return getattr(model, "AUDIT_TYPE", None) or model._meta.label_lower


def _changes_after(model, field: str, moment: dt.datetime):
    return AuditEvent.objects.filter(object_type=audit_type_of(model), timestamp__gte=moment, changes__has_key=field)


# The objects changed after a moment, by (type, moment): one scan of the trail's events of that type after it
# (audit_type_time_idx), shared by every expression of a page or a job while `remembering()` is open.
_changed: ContextVar[dict | None] = ContextVar("history_changed", default=None)


@contextmanager
def remembering():
    """Share the sets of changed objects within a page or a job (the trail grows after it, never before a moment)."""
    if _changed.get() is not None:
        yield
        return
    token = _changed.set({})
    try:
        yield
    finally:
        _changed.reset(token)


def changed_ids(model, moment: dt.datetime) -> dict[str, list[int]]:
    """field -> the primary keys of `model`'s objects whose field changed after `moment`."""
    key = (audit_type_of(model), moment)
    memo = _changed.get()
    if memo is not None and key in memo:
        return memo[key]
    found: dict[str, set[int]] = {}
    events = AuditEvent.objects.filter(object_type=key[0], timestamp__gte=moment).values_list("object_id", "changes")
    for object_id, changes in events.iterator(chunk_size=5000):
        if object_id.isdigit():
            for field in changes or {}:
                found.setdefault(field, set()).add(int(object_id))
    out = {field: sorted(ids) for field, ids in found.items()}
    if memo is not None:
        memo[key] = out
    return out


class InList(Func):
    """`expression` is one of `values` (integers), passed as ONE parameter however many there are: an array on
    PostgreSQL (`= ANY`, hashed), a JSON list read by json_each on SQLite. Thousands of ids stay one bound value."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, expression, values: list[int]):
        super().__init__(expression)
        self.values = list(values)

    def as_sql(self, compiler, connection, **extra):
        inner, params = compiler.compile(self.source_expressions[0])
        if not self.values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{inner} = ANY(%s::bigint[])", [*params, self.values]
        return f"{inner} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.values)]


def changed(model, field: str, moment: dt.datetime, outer: str = "pk") -> InList:
    """A condition: the record (its primary key at `outer`) had `field` changed after `moment`."""
    return InList(F(outer), changed_ids(model, moment).get(field, []))


def value_at(model, field: str, moment: dt.datetime | None, kind: str = "text", *, now=None, outer: str = "pk"):
    """An expression for `field` of `model`'s records as it stood at `moment` (None: as it stands now).

    `kind` is how the audit trail's JSON value is read back ("text", "int", "date", "bool"); `now` is the expression
    of its value today when that is not the field itself (a foreign key is recorded by its object's name, so a
    desk's is `F("desk__name")`); `outer` the record's primary key when the queryset reaches it through a relation.
    Only a record whose field changed after the moment is looked up; the others keep their value.
    """
    current = now if now is not None else F(field)
    if moment is None:
        return current
    first = (
        _changes_after(model, field, moment)
        .filter(object_id=Cast(OuterRef(outer), CharField()))
        .order_by("id")
        .annotate(old=KeyTextTransform("0", KeyTransform(field, "changes")))
        .values("old")[:1]
    )
    output = OUTPUTS[kind]
    return Case(
        When(changed(model, field, moment, outer), then=Cast(Subquery(first), output_field=output)),
        default=current,
        output_field=output,
    )


def may_have_been(queryset, model, field: str, moment: dt.datetime, outer: str, **lookup):
    """`queryset` narrowed, cheaply and without losing one, to the records whose `field` may have met `lookup` at
    `moment`: those that meet it now or changed it since. The exact test on the value as it stood follows; this only
    spares the lookups of records that cannot match (a desk's models among the firm's)."""
    return queryset.filter(Q(**lookup) | changed(model, field, moment, outer))


def existed_at(moment: dt.datetime | None, created_field: str = "created_at") -> Q:
    """Records created before `moment` (all of them when it is None)."""
    if moment is None:
        return Q()
    return Q(**{f"{created_field}__lt": moment})


def recorded_by(moment: dt.datetime | None, field: str) -> Q:
    """Events whose time `field` falls before `moment`: what was known then (all of them when it is None)."""
    if moment is None:
        return Q()
    return Q(**{f"{field}__lt": moment})
