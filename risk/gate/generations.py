"""Counts of the changes to what each model's gate decision is computed from, kept in the database.

Every governed change is audited (the rule of the whole product); the gate listens to the audit trail and, in
the same transaction, counts a change to a model, one of its versions, or anything an app says concerns a model
(`register_source`). A decision is cached under the counts it was computed from, so the first request after a
change commits reads new counts and computes afresh, whichever web process serves it and whichever cache backend
is configured: the cache can only ever miss, never answer stale. Hand-written: it is the gate's own guarantee.
"""

from django.db import connection, transaction

from governance.core.audit import audit_type
from risk.gate.models import GateGeneration

ALL = "all"
_sources: dict = {}


def key_for(model_id: int) -> str:
    return f"model:{model_id}"


def register_source(object_type: str, model_ids_of) -> None:
    """Audit events on `object_type` change the decisions of `model_ids_of(object_id) -> [model ids]`."""
    _sources[object_type] = model_ids_of


def bump(keys) -> None:
    """Count one change for each key, in the caller's transaction (an upsert: the first change creates it)."""
    keys = sorted(set(keys))  # a fixed order: two transactions bumping the same keys never deadlock
    if not keys:
        return
    table = GateGeneration._meta.db_table
    rows = ", ".join(["(%s, 1)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) VALUES {rows} ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1",
            keys,
        )
    from risk.gate import decisions  # the cache of decisions is the gate's; counts are below it

    transaction.on_commit(lambda: decisions.after_change(keys))


def _bump_version_model(version_id: int) -> None:
    """A version's change counts against its model in one statement (every audited step of a version passes here:
    a lookup and then an upsert cost a signing two more queries)."""
    from models_registry.models import ModelVersion

    table, versions = GateGeneration._meta.db_table, ModelVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) SELECT 'model:' || model_id, 1 FROM {versions} WHERE id = %s "
            f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1 RETURNING key",
            [version_id],
        )
        keys = [row[0] for row in cursor.fetchall()]
    if keys:
        from risk.gate import decisions

        transaction.on_commit(lambda: decisions.after_change(keys))


def read(model_ids) -> dict[int, str]:
    """Each model's generation as "<firm-wide>.<model>": the cache key part of its decision."""
    keys = [ALL, *(key_for(pk) for pk in model_ids)]
    values = dict(GateGeneration.objects.filter(key__in=keys).values_list("key", "value"))
    firm = values.get(ALL, 0)
    return {pk: f"{firm}.{values.get(key_for(pk), 0)}" for pk in model_ids}


def on_audit(event) -> None:
    """The audit listener: count the change against the models it concerns."""
    from models_registry.models import Model, ModelVersion

    if event.object_type == audit_type(Model) and event.object_id:
        bump([key_for(int(event.object_id))])
    elif event.object_type == audit_type(ModelVersion) and event.object_id:
        _bump_version_model(int(event.object_id))
    elif event.object_type in _sources and event.object_id:
        bump([key_for(pk) for pk in _sources[event.object_type](event.object_id)])
