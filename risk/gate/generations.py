"""Counts of the changes to what each model's gate decision is computed from, kept in the database.

Every governed change is audited (the rule of the whole product); the gate listens to the audit trail and, in
the same transaction, counts a change to a model, one of its versions, or anything an app says concerns a model
(`register_source`). A decision is cached under the counts it was computed from, so the first request after a
change commits reads new counts and computes afresh, whichever web process serves it and whichever cache backend
is configured: the cache can only ever miss, never answer stale. Hand-written: it is the gate's own guarantee.

The "access:..." counts do the same for who may read a model's decision (hot_path.py): they move with every change
to a caller (roles, profile, account), to a model's people or grants, and never touch the decisions themselves.
"""

from django.db import connection, transaction
from django.db.models import Q

from governance.core.audit import audit_type
from models_registry.models import Model, ModelVersion
from risk.gate.models import GateGeneration

ALL = "all"
ACCESS_ALL = "access:all"
_sources: dict = {}
# Who is told, after the commit, which counts a change moved: the cache of decisions (risk.gate.decisions
# registers itself in the app's ready()). Counts sit below decisions, so they never import them.
_after_commit: list = []


def key_for(model_id: int) -> str:
    return f"model:{model_id}"


def access_user_key(user_id: int) -> str:
    return f"access:user:{user_id}"


def access_model_key(model_id: int) -> str:
    return f"access:model:{model_id}"


def on_committed_change(listener) -> None:
    """`listener(keys)` runs after the commit of every change that moved these decision counts."""
    if listener not in _after_commit:
        _after_commit.append(listener)


def _tell_after_commit(keys) -> None:
    for listener in _after_commit:
        transaction.on_commit(lambda listener=listener: listener(keys))


def register_source(object_type: str, model_ids_of) -> None:
    """Audit events on `object_type` change the decisions of `model_ids_of(object_id) -> [model ids]`."""
    _sources[object_type] = model_ids_of


def _count(keys) -> list[str]:
    """One more change for each key, in the caller's transaction (an upsert: the first change creates it)."""
    keys = sorted(set(keys))  # a fixed order: two transactions bumping the same keys never deadlock
    if keys:
        table = GateGeneration._meta.db_table
        rows = ", ".join(["(%s, 1)"] * len(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (key, value) VALUES {rows} "
                f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1",
                keys,
            )
    return keys


def bump(keys) -> None:
    """Count a change to these models' decision inputs; after the commit, record their new decisions."""
    keys = _count(keys)
    if keys:
        _tell_after_commit(keys)


def bump_access(keys) -> None:
    """Count a change to who may read the gate ("access:..." keys), in the changing transaction itself: a commit
    hook alone would leave the old answer servable between the commit and the hook, and forever if the process
    died in between."""
    _count(keys)


def _bump_version_model(version_id: int) -> None:
    """A version's change counts against its model in one statement (every audited step of a version passes here:
    a lookup and then an upsert cost a signing two more queries)."""
    table, versions = GateGeneration._meta.db_table, ModelVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) SELECT 'model:' || model_id, 1 FROM {versions} WHERE id = %s "
            f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1 RETURNING key",
            [version_id],
        )
        keys = [row[0] for row in cursor.fetchall()]
    if keys:
        _tell_after_commit(keys)


def read(model_ids) -> dict[int, str]:
    """Each model's generation as "<firm-wide>.<model>": the cache key part of its decision."""
    keys = [ALL, *(key_for(pk) for pk in model_ids)]
    if len(keys) > 500:  # a dashboard's thousands of models: one scan of the counts beats thousands of parameters
        counts = GateGeneration.objects.filter(Q(key=ALL) | Q(key__startswith="model:"))
    else:
        counts = GateGeneration.objects.filter(key__in=keys)
    values = dict(counts.values_list("key", "value"))
    firm = values.get(ALL, 0)
    return {pk: f"{firm}.{values.get(key_for(pk), 0)}" for pk in model_ids}


# The gate's hot path runs a fixed statement: no queryset is built on each request.
_CALLER_SQL = f"SELECT key, value FROM {GateGeneration._meta.db_table} WHERE key IN (%s, %s, %s, %s, %s)"


def caller_keys(model_id: int, user_id: int) -> list[str]:
    """The five counts a caller's answer about a model depends on, in the order stamp() reads them."""
    return [ALL, key_for(model_id), ACCESS_ALL, access_model_key(model_id), access_user_key(user_id)]


def stamp(counts) -> tuple[str, str]:
    """(decision generation, caller stamp) from the counts of caller_keys(), in order (None: never counted)."""
    firm, model, *access = (count or 0 for count in counts)
    decision = f"{firm}.{model}"
    return decision, ".".join([decision, *map(str, access)])


def read_for_caller(model_id: int, user_id: int) -> tuple[str, str]:
    """In one query, the model's decision generation (as read() answers it) and the stamp of everything that
    decides whether this caller may read it: the model's counts and the caller's, firm-wide access changes."""
    keys = caller_keys(model_id, user_id)
    with connection.cursor() as cursor:
        cursor.execute(_CALLER_SQL, keys)
        values = dict(cursor.fetchall())
    return stamp(values.get(key) for key in keys)


def on_audit(event) -> None:
    """The audit listener: count the change against the models it concerns."""
    if event.object_type == audit_type(Model) and event.object_id:
        bump([key_for(int(event.object_id))])
    elif event.object_type == audit_type(ModelVersion) and event.object_id:
        _bump_version_model(int(event.object_id))
    elif event.object_type in _sources and event.object_id:
        bump([key_for(pk) for pk in _sources[event.object_type](event.object_id)])
