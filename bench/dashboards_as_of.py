"""The dashboards as of a past day, rebuilt from the audit trail, at the scale of bench/dashboards.py (issue 22).
Prints its figures; asserts nothing.

Needs the firm bench/dashboards.py builds (run it first: same DATABASE_URL). That firm is written by bulk inserts, so
its audit trail is empty; this script writes the year of history the services would have recorded, FAST by COPY:
for each model its registration (`model.create` at its created_at) and CHANGES_PER_MODEL changes over the year of its
status, tier and validation dates whose old and new values chain to today's; for each finding and incident their
status changes; then other objects' events up to --events in all, so the trail's index has the size of a busy
firm's. All in time order (the rebuild reads the first change after a moment by id). The hashes are placeholders:
the chain does not verify, and the rebuild never checks it. A marker row says the history is written.

Then, as compliance: each page as of --days-ago days ago (cold, then warm p50/p95), each of its widgets' CSVs, the
snapshot job for that past day (`snapshots.record(day)`: every indicator for the firm and each desk, rebuilt), and
the morning run filling FILL_PER_RUN missing days. Targets: a past day rebuilt under 10 s; pages as for today.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/dashboards_as_of.py [--events 1000000] [--days-ago 180] [--repeats 5]
"""

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import dashboards as firm_bench  # noqa: E402  (bench/dashboards.py: its environment defaults and helpers)

HISTORY_SCOPE, HISTORY_INDICATOR = "bench", "bench-history"
CHANGES_PER_MODEL = 8
REBUILD_S = 10
STATUSES = ["draft", "submitted", "in_validation", "validated", "approved", "pilot", "production", "suspended"]


def history_marker():
    from risk.dashboards.models import IndicatorSnapshot

    return IndicatorSnapshot.objects.filter(scope=HISTORY_SCOPE, indicator=HISTORY_INDICATOR).first()


def _spread(rng, start: dt.datetime, end: dt.datetime, count: int) -> list[dt.datetime]:
    span = max((end - start).total_seconds(), 1)
    return sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(count))


MODEL_FIELDS = ("status", "risk_tier", "next_validation_due", "last_validated_at")
CHOICES = {
    "status": STATUSES,
    "risk_tier": [1, 2, 3],
    "next_validation_due": [None, *(f"2026-{m:02d}-15" for m in range(1, 13))],
    "last_validated_at": [None, *(f"2025-{m:02d}-10" for m in range(1, 13))],
}


def _model_events(rng, pk, key, created, now_values: dict, now: dt.datetime) -> list[tuple]:
    """A model's registration and its changes: one field at a time, each change's old value the one before it, the
    last value of every field today's."""
    created = min(created, now - dt.timedelta(days=1))
    held = {field: rng.choice(CHOICES[field]) for field in MODEL_FIELDS}
    out = [(created, "model.create", "models_registry.model", pk, key, {f: [None, v] for f, v in held.items()})]
    count = rng.randint(CHANGES_PER_MODEL // 2, CHANGES_PER_MODEL * 3 // 2)
    for moment in _spread(rng, created, now - dt.timedelta(minutes=2), count):
        field = rng.choice(MODEL_FIELDS)
        new = rng.choice([c for c in CHOICES[field] if c != held[field]])
        out.append((moment, "model.update", "models_registry.model", pk, key, {field: [held[field], new]}))
        held[field] = new
    closing = {f: [held[f], now_values[f]] for f in MODEL_FIELDS if held[f] != now_values[f]}
    if closing:  # the last change brings each field to what the table holds today
        out.append((now - dt.timedelta(minutes=1), "model.update", "models_registry.model", pk, key, closing))
    return out


def _record_events(kind, object_type, pk, opened, closed, status, severity, now) -> list[tuple]:
    text = f"{kind} {pk}"
    out = [(opened, f"{kind}.open", object_type, pk, text, {"status": [None, "open"], "severity": [None, severity]})]
    if status != "open":
        out.append((closed or now, f"{kind}.update", object_type, pk, text, {"status": ["open", status]}))
    return out


def write_history(total_events: int) -> int:
    """The year's audit events; returns how many were written."""
    from django.db import connection
    from django.utils import timezone

    from models_registry.models import Model
    from risk.dashboards.models import IndicatorSnapshot
    from risk.incidents.models import Incident
    from risk.validation.models import Finding

    rng = random.Random(22)
    now = timezone.now()
    events = []
    models = Model.objects.values_list("pk", "key", "created_at", *MODEL_FIELDS)
    for pk, key, created, *values in models.iterator(chunk_size=5000):
        typed = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
        now_values = dict(zip(MODEL_FIELDS, typed, strict=True))
        events += _model_events(rng, pk, key, created, now_values, now)
    fields = ("pk", "raised_at", "closed_at", "status", "severity")
    for row in Finding.objects.values_list(*fields).iterator(chunk_size=5000):
        events += _record_events("finding", "governance.finding", *row, now)
    fields = ("pk", "opened_at", "closed_at", "status", "severity")
    for row in Incident.objects.values_list(*fields).iterator(chunk_size=5000):
        events += _record_events("incident", "incidents.incident", *row, now)
    noise = max(0, total_events - len(events))
    kinds = ["monitor.update", "evidence.add", "alert.read", "export.request", "token.use"]
    for n, moment in enumerate(_spread(rng, now - dt.timedelta(days=365), now, noise)):
        monitor = n % 110_000
        events.append(
            (moment, rng.choice(kinds), "monitoring.monitor", monitor, f"monitor {monitor}", {"n": [None, n]})
        )
    events.sort(key=lambda e: e[0])
    columns = "timestamp, actor_username, action, object_type, object_id, object_repr, changes, reason, request_id"
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            f"COPY governance_auditevent ({columns}, prev_hash, hash) FROM STDIN"
        ) as copy:
            for n, (moment, action, object_type, object_id, text, changes) in enumerate(events):
                row = (moment, "bench", action, object_type, str(object_id), text, json.dumps(changes), "", "")
                copy.write_row((*row, f"{n:064x}", f"{n + 10**12:064x}"))
    IndicatorSnapshot.objects.create(
        day=now.date(),
        scope=HISTORY_SCOPE,
        indicator=HISTORY_INDICATOR,
        value=len(events),
        status="green",
        amber=0,
        red=0,
        policy_version=1,
    )
    return len(events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events in all (the trail's size)")
    parser.add_argument("--days-ago", type=int, default=180, help="the past day the pages are shown as of")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-fill", action="store_true", help="skip the morning run's fill of missing days")
    args = parser.parse_args()
    os.environ.setdefault("VIGIL_VAR_DIR", tempfile.mkdtemp(prefix="vigil-bench-as-of-"))
    os.environ["VIGIL_CACHE_URL"] = os.environ["REDIS_URL"]
    if not firm_bench.database_exists():
        raise SystemExit("No firm: run bench/dashboards.py first (same DATABASE_URL).")

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from governance.core import widgets
    from governance.core.models import AuditEvent
    from risk.dashboards import selectors, snapshots

    if firm_bench.marker() is None:
        raise SystemExit("The firm is not built: run bench/dashboards.py first (same DATABASE_URL).")
    cache.clear()
    found = history_marker()
    if found is None:
        firm_bench.section(f"Writing the year's audit trail ({args.events:,} events, COPY)")
        started = time.perf_counter()
        written = write_history(args.events)
        print(f"  {written:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        print(f"Reusing the history written {found.day} ({found.value:,} events)")
    print(f"  the trail holds {AuditEvent.objects.count():,} events")

    day = timezone.now().date() - dt.timedelta(days=args.days_ago)
    client = Client()
    client.force_login(get_user_model().objects.get(username="compliance"))
    firm_bench.section(
        f"Pages as of {day} (rebuilt), compliance: cold, then warm p50/p95 of {args.repeats}; targets as for today: "
        f"p95 < {firm_bench.PAGE_WARM_MS} ms warm, < {firm_bench.PAGE_COLD_MS} ms cold"
    )
    user = get_user_model().objects.get(username="compliance")
    for page, _title in selectors.pages_for(user):
        url = f"{reverse('dashboards:page', args=[page])}?as_of={day}"
        cold, cold_queries, _ = firm_bench.timed(client, url)
        runs = [firm_bench.timed(client, url) for _ in range(args.repeats)]
        warm = [r[0] for r in runs]
        print(
            f"  {url:48} cold {cold:6.0f} ms  warm p50 {statistics.median(warm):6.0f} ms p95 "
            f"{firm_bench.p95(warm):6.0f} ms  queries {len(runs[-1][1])}",
            flush=True,
        )
        if firm_bench.p95(warm) >= firm_bench.PAGE_WARM_MS:
            firm_bench.slowest(max(runs, key=lambda r: r[0])[1])

    firm_bench.section(f"Widget CSVs as of {day}, warm (one untimed first); target < {firm_bench.CSV_MS} ms")
    for widget in widgets.visible_widgets(user):
        url = f"{reverse('dashboards:csv', args=[widget.key])}?as_of={day}"
        firm_bench.timed(client, url)
        took = statistics.median(firm_bench.timed(client, url)[0] for _ in range(3))
        print(f"  {widget.key:28} {took:6.0f} ms ({firm_bench.verdict(took < firm_bench.CSV_MS)})", flush=True)

    firm_bench.section(f"Rebuilding a past day for the snapshot table, snapshots.record({day}); target < {REBUILD_S} s")
    started = time.perf_counter()
    rows = snapshots.record(day, alert=False)
    took = time.perf_counter() - started
    print(
        f"  {rows:,} indicator values (the firm and each desk) in {took:.1f} s ({firm_bench.verdict(took < REBUILD_S)})"
    )

    if not args.skip_fill:
        from risk.dashboards.models import IndicatorSnapshot

        window_start = timezone.now().date() - dt.timedelta(days=snapshots.FILL_WINDOW_DAYS)
        IndicatorSnapshot.objects.exclude(scope__in=[firm_bench.MARKER_SCOPE, HISTORY_SCOPE]).filter(
            day__gte=window_start
        ).delete()
        firm_bench.section(f"The morning run with every day missing: fills {snapshots.FILL_PER_RUN} days a run")
        started = time.perf_counter()
        outcome = snapshots.record_daily()
        took = time.perf_counter() - started
        print(
            f"  {outcome['filled']} days filled, {outcome['rows']:,} rows, in {took:.0f} s "
            f"({took / max(outcome['filled'] + 2, 1):.1f} s a day)"
        )


if __name__ == "__main__":
    main()
