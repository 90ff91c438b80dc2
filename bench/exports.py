"""Exports at scale, on PostgreSQL. Prints its figures; asserts nothing.

On a scratch database it creates and drops (vigil_bench_exports):
1. the audit log of EVENTS events (a valid hash chain, written with COPY), exported whole as CSV by the export's own
   code (every hash recomputed, every row in scope written): rows per second, and the peak memory of the process
   that exports (measured in a fresh child process, so setting up does not count);
2. an inventory of MODELS models with a year of history (UPDATES audited changes each, spread over the year),
   extracted as of six months ago: seconds and peak memory.

Run by hand (never by the test command):
    .venv/bin/python bench/exports.py [--events N] [--models M] [--updates U]
"""

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import monitoring_ingest as shared  # noqa: E402

DATABASE = "vigil_bench_exports"
START = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


def write_chain(rows, actor) -> int:
    """Append (timestamp, action, object_type, object_id, object_repr, changes) rows to the audit chain with
    COPY, each hashed as audit_record would; returns how many."""
    import json

    from django.db import connection

    from governance.core.audit import compute_hash
    from governance.core.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.get(singleton=1)
    prev, count = head.last_hash, head.length
    columns = ["timestamp", "actor_id", "actor_username", "action", "object_type", "object_id", "object_repr"]
    columns += ["changes", "reason", "request_id", "ip_address", "prev_hash", "hash"]
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY governance_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for timestamp, action, object_type, object_id, object_repr, changes in rows:
                event = AuditEvent(
                    timestamp=timestamp,
                    actor_id=actor.pk,
                    actor_username=actor.username,
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    object_repr=object_repr,
                    changes=changes,
                    reason="",
                    request_id="",
                    ip_address=None,
                    prev_hash=prev,
                )
                event.hash = compute_hash(event)
                copy.write_row(
                    [
                        timestamp,
                        actor.pk,
                        actor.username,
                        action,
                        object_type,
                        object_id,
                        object_repr,
                        json.dumps(changes),
                        "",
                        "",
                        None,
                        prev,
                        event.hash,
                    ]
                )
                prev, count = event.hash, count + 1
    AuditChainHead.objects.filter(singleton=1).update(last_hash=prev, length=count)
    return count


def in_child(fn, *args):
    """Run fn(*args) in a fresh process (forked after setup): its result, seconds, peak resident memory in MB and
    CPU seconds (its threads included: on a shared machine, wall time alone says little)."""
    from django.db import connections

    connections.close_all()  # before the fork: parent and child must not share a connection's socket
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def target():
        started = time.perf_counter()
        if os.environ.get("VIGIL_BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result = profile.runcall(fn, *args)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        else:
            result = fn(*args)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        queue.put((result, time.perf_counter() - started, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))

    process = context.Process(target=target)
    process.start()
    result = queue.get()
    process.join()
    return result


def export_audit_log(user_pk: int, since, until):
    from django.contrib.auth import get_user_model

    from risk.exports import audit_log, services

    user = get_user_model().objects.get(pk=user_pk)
    with tempfile.TemporaryFile() as raw:
        stream = services._Hashing(raw)
        outcome = audit_log.write(user, {"since": since, "until": until}, stream, lambda p: None)
        return {"rows": outcome["rows"], "intact": outcome["chain"]["intact"], "bytes": stream.size}


def extract_inventory(user_pk: int, as_of):
    from django.contrib.auth import get_user_model

    from risk.exports import inventory, services

    user = get_user_model().objects.get(pk=user_pk)
    with tempfile.TemporaryFile() as raw:
        return {"rows": inventory.write_csv(inventory.rows(user, as_of), services._Hashing(raw))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="vigil-bench-exports-")
    os.environ["DATABASE_URL"] = f"{shared.SERVER}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
    os.environ.update({"VIGIL_TESTING": "1", "VIGIL_VAR_DIR": var_dir, "VIGIL_LOG_LEVEL": "WARNING"})
    shared.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    shared.admin(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from governance.core.models import Desk
        from models_registry.models import Model
        from tests.base import build_world

        call_command("migrate", verbosity=0)
        world = build_world()

        shared.section(f"1. the audit log: {args.events:,} events exported as CSV")
        started = time.perf_counter()
        step = dt.timedelta(seconds=365 * 86400 / args.events)
        events = (
            (
                START + i * step,
                "bench.event",
                "auth.user",
                str(world.developer.pk),
                "developer",
                {"field": [i, i + 1], "note": [None, "x" * 40]},
            )
            for i in range(args.events)
        )
        write_chain(events, world.compliance)
        print(f"  set up in {time.perf_counter() - started:.0f} s")
        result, seconds, peak, cpu = in_child(
            export_audit_log, world.compliance.pk, START, START + dt.timedelta(days=400)
        )
        print(
            f"  {result['rows']:,} rows, chain intact: {result['intact']}, {result['bytes'] / 1e6:.0f} MB of CSV in "
            f"{seconds:.1f} s: {result['rows'] / seconds:,.0f} rows/s; peak memory of the exporting process "
            f"{peak:.0f} MB; {cpu:.1f} s of CPU in it  [{shared.load()}]"
        )

        shared.section(f"2. the inventory: {args.models:,} models, {args.updates} audited changes each over a year")
        started = time.perf_counter()
        desk = Desk.objects.get(code="sys-eq")
        batch = [
            Model(
                key=f"bench-{i:06d}",
                name=f"Bench model {i}",
                description="",
                purpose="alpha",
                desk=desk,
                model_type="random_forest",
                owner=world.owner,
                validator=world.validator,
                risk_tier=2,
                computed_tier=2,
                intended_use="bench",
                created_by=world.compliance,
                status="production",
            )
            for i in range(args.models)
        ]
        Model.objects.bulk_create(batch, batch_size=5000)
        created = dict(Model.objects.filter(key__startswith="bench-").values_list("key", "pk"))
        history_step = dt.timedelta(days=365) / max(1, args.updates)

        def history():
            for n in range(args.updates + 1):
                for key, pk in created.items():
                    if n == 0:
                        yield (
                            START,
                            "model.create",
                            "models_registry.model",
                            str(pk),
                            key,
                            {"name": [None, f"{key} v0"], "status": [None, "draft"]},
                        )
                    else:
                        yield (
                            START + n * history_step,
                            "model.update",
                            "models_registry.model",
                            str(pk),
                            key,
                            {"name": [f"{key} v{n - 1}", f"{key} v{n}"]},
                        )

        written = write_chain(history(), world.compliance)
        print(f"  set up in {time.perf_counter() - started:.0f} s ({written:,} audit events in all)")
        as_of = START + dt.timedelta(days=182)
        result, seconds, peak, cpu = in_child(extract_inventory, world.compliance.pk, as_of)
        print(
            f"  as of {as_of:%Y-%m-%d}: {result['rows']:,} rows in {seconds:.1f} s; peak memory {peak:.0f} MB; "
            f"{cpu:.1f} s of CPU  [{shared.load()}]"
        )
        result, seconds, peak, cpu = in_child(extract_inventory, world.compliance.pk, None)
        print(f"  today: {result['rows']:,} rows in {seconds:.1f} s; peak memory {peak:.0f} MB; {cpu:.1f} s of CPU")
    finally:
        from django.db import connections

        connections.close_all()
        shared.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
