"""Compliance dashboards at the scale of a large firm, on PostgreSQL (issue 22). Prints its figures; asserts nothing.

Run by hand, never by the test command. The firm is written FAST by bulk inserts (bulk_create, and COPY for the
monitor results): the bench bypasses the services (no audit events, no lifecycle checks, no signals), so the data is
plausible but not what the services would have recorded step by step. A seeded random.Random spreads it:
- MODELS models (5,000) over 20 desks (one desk holds a tenth of them: the subset the query counts are compared on),
  with tiers, statuses, types, validation dates and revalidation flags; one or two versions each, with the lifecycle
  transitions that led each version where it stands;
- 22 monitors per model on average (110,000), on the live or retired versions, across every measure (and so every
  kind) risk/monitoring/measures.py declares, with their results: daily for the last DAILY days, weekly before, over
  a year (the bench prints how many);
- 20,000 findings, 2,000 incidents, and a year of daily indicator snapshots for the firm and each desk.
A marker row (an IndicatorSnapshot of scope "bench") says the firm is built; a later run reuses it, --rebuild
writes it again.

Then, in this process with Django's test client (no HTTP server): each dashboard page's server time for a
compliance user, a trader of one desk and a validator (cold: the first render of that page in the process; warm: p50
and p95 of REPEATS renders) and the queries of each render, the same with ?desk= narrowed to the small desk (the query
count must not depend on how many models there are); each widget's CSV, warm; the daily snapshot job. Targets
(issue 22) are printed beside the figures. For any figure over its target the slowest queries of that render are
printed; --profile URL prints a cProfile of one render.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_bench REDIS_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python bench/dashboards.py [--models 5000] [--daily 30] [--rebuild] [--repeats 10]
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = "postgres://postgres@127.0.0.1:5432"
os.environ.setdefault("DATABASE_URL", f"{SERVER}/vigil_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("VIGIL_TESTING", "1")  # DEBUG stays off; static files need no collectstatic manifest
os.environ.setdefault("VIGIL_LOG_LEVEL", "WARNING")

MARKER_SCOPE, MARKER_INDICATOR = "bench", "bench-built"
DESKS = 20
SMALL_DESK = "bench-small"  # a tenth of the models: the subset the query counts are compared on
MONITORS_PER_MODEL = 22
FINDINGS, INCIDENTS = 20_000, 2_000
YEAR = 365

# Targets (issue 22).
PAGE_WARM_MS, PAGE_COLD_MS, CSV_MS, SNAPSHOT_S = 300, 1000, 1000, 30

# Where a model (its newest version) stands, and how often; the older version of a model with two is retired.
STATUSES = [
    ("production", 52),
    ("pilot", 8),
    ("suspended", 3),
    ("approved", 4),
    ("validated", 4),
    ("validated_with_conditions", 2),
    ("in_validation", 6),
    ("submitted", 4),
    ("draft", 8),
    ("rejected", 3),
    ("retired", 6),
]
PATH = ["draft", "submitted", "in_validation", "validated", "approved", "pilot", "production"]
LIVE = {"pilot", "production", "suspended", "retired"}  # statuses whose versions have monitors
OUTCOMES = ["ok", "warn", "breach", "insufficient"]


def database_name() -> str:
    return urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")


def admin(sql: str) -> None:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql)


def database_exists() -> bool:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name()]).fetchone() is not None


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def section(title: str) -> None:
    print(f"\n{title}  [{load()}]", flush=True)


@contextmanager
def stopwatch(what: str):
    started = time.perf_counter()
    yield
    print(f"  {what} in {time.perf_counter() - started:.1f} s", flush=True)


@contextmanager
def settable(model, *names):
    """Let bulk_create keep the dates given for auto_now(_add) fields (the history spread over the year)."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (now, add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = now, add


def weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


# --- Building the firm -------------------------------------------------------------------------------------------


def marker():
    from risk.dashboards.models import IndicatorSnapshot

    return IndicatorSnapshot.objects.filter(scope=MARKER_SCOPE, indicator=MARKER_INDICATOR).first()


def build(args) -> dict:
    """Write the firm; returns what was written, by table."""
    from django.db import connection, transaction

    from governance.core.models import Desk
    from governance.core.policy import policy_in_force
    from governance.lifecycle.models import VersionTransition
    from models_registry.models import Model, ModelVersion
    from risk.dashboards.models import IndicatorSnapshot
    from risk.incidents.models import Incident
    from risk.monitoring import schedules
    from risk.monitoring.measures import MEASURES
    from risk.monitoring.models import Monitor
    from risk.validation.models import Finding
    from tests.base import build_world

    rng = random.Random(22)
    today = dt.date.today()
    built = {}
    world = build_world()
    users = {
        "owners": [world.owner, world.owner2],
        "developers": [world.developer, world.developer2],
        "validators": [world.validator, world.validator2],
    }
    policy = policy_in_force()

    with stopwatch("desks"):
        extra = [Desk(code=SMALL_DESK, name="Bench small desk", business_line="Bench")]
        extra += [
            Desk(code=f"bench-{i:02d}", name=f"Bench desk {i:02d}", business_line=f"Line {i % 4}")
            for i in range(DESKS - 3)
        ]
        Desk.objects.bulk_create(extra)
        desks = list(Desk.objects.order_by("code"))
        small = next(d for d in desks if d.code == SMALL_DESK)
        others = [d for d in desks if d.code != SMALL_DESK]
        built["desks"] = len(desks)

    with stopwatch(f"{args.models:,} models"), transaction.atomic():
        models = []
        n_small = args.models // 10
        for i in range(args.models):
            desk = small if i < n_small else rng.choice(others)
            tier = weighted(rng, [(1, 20), (2, 40), (3, 40)])
            status = weighted(rng, STATUSES)
            validated = status not in ("draft", "submitted", "in_validation", "rejected")
            last = today - dt.timedelta(days=rng.randint(0, 3 * YEAR)) if validated else None
            due = last + dt.timedelta(days={1: 365, 2: 730, 3: 1095}[tier]) if last else None
            flag = ""
            if due and due < today:
                flag = "overdue"
            elif due and due < today + dt.timedelta(days=60):
                flag = "due_soon"
            created = at(today - dt.timedelta(days=rng.randint(YEAR, 4 * YEAR)))
            models.append(
                Model(
                    key=f"bm-{i:05d}",
                    name=f"Bench model {i}",
                    purpose=rng.choice(["alpha", "execution", "risk", "pricing", "other"]),
                    desk=desk,
                    model_type=rng.choice(
                        [
                            "linear_regression",
                            "logistic_regression",
                            "random_forest",
                            "gradient_boosting",
                            "deep_learning",
                            "rule_based",
                            "svm",
                            "decision_tree",
                            "other",
                        ]
                    ),
                    owner=rng.choice(users["owners"]),
                    validator=rng.choice(users["validators"] + [None]),
                    risk_tier=tier,
                    computed_tier=tier,
                    tier_rule_version="bench",
                    intended_use="bench",
                    created_by=world.compliance,
                    created_at=created,
                    updated_at=created,
                    status=status,
                    last_validated_at=last,
                    next_validation_due=due,
                    revalidation_flag=flag,
                )
            )
        with settable(Model, "created_at", "updated_at"):
            Model.objects.bulk_create(models, batch_size=2000)
        built["models"] = len(models)

    with stopwatch("versions and their transitions"), transaction.atomic():
        versions, steps = [], []
        for model in models:
            two = rng.random() < 0.35
            labels = ["1.0", "2.0"] if two else ["1.0"]
            for n, label in enumerate(labels):
                status = "retired" if two and n == 0 else model.status
                created = at(today - dt.timedelta(days=rng.randint(30, YEAR + 200)))
                versions.append(
                    ModelVersion(
                        model=model,
                        version=label,
                        status=status,
                        artifact_uri=f"s3://bench/{model.key}/{label}",
                        artifact_sha256=hashlib.sha256(f"{model.key}{label}".encode()).hexdigest(),
                        code_revision="0" * 40,
                        created_by=rng.choice(users["developers"]),
                        created_at=created,
                        updated_at=created,
                    )
                )
        with settable(ModelVersion, "created_at", "updated_at"):
            ModelVersion.objects.bulk_create(versions, batch_size=2000)
        for version in versions:
            status = version.status
            if status in PATH:
                path = PATH[: PATH.index(status) + 1]
            elif status == "rejected":
                path = PATH[:3] + ["rejected"]
            else:  # suspended, retired
                path = PATH + [status]
            when = version.created_at
            for before, after in zip(path, path[1:], strict=False):
                when = min(when + dt.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23)), at(today, 0))
                steps.append(
                    VersionTransition(
                        version=version,
                        action=f"bench-{after}",
                        from_status=before,
                        to_status=after,
                        actor=world.compliance,
                        at=when,
                        policy=policy,
                    )
                )
        VersionTransition.objects.bulk_create(steps, batch_size=5000)
        built["versions"], built["transitions"] = len(versions), len(steps)

    newest = {}
    for version in versions:
        newest[version.model_id] = version  # the later label comes last
    live = [v for v in newest.values() if v.status in LIVE]

    with stopwatch("monitors"), transaction.atomic():
        by_kind = {}
        for code, measure in MEASURES.items():
            by_kind.setdefault(measure.kind, []).append((code, measure))
        pool = []
        for kind, measures in by_kind.items():
            for code, measure in measures:
                streams = ["score"] + [f"feature_{j:02d}" for j in range(9)] if kind == "drift" else [""]
                pool += [(code, measure, stream) for stream in streams]
        schedule = schedules.defaults()
        hourly = schedule[schedules.HOURLY]
        frequent = schedule[schedules.FREQUENT]
        target = MONITORS_PER_MODEL * args.models
        per_live = target / max(1, len(live))
        monitors = []
        for v_index, version in enumerate(live):
            want = round(per_live * (v_index + 1)) - round(per_live * v_index)  # the target total, spread evenly
            want = min(len(pool), max(1, want + rng.randint(-6, 6)))
            for code, measure, stream in rng.sample(pool, want):
                monitors.append(
                    Monitor(
                        version=version,
                        kind=measure.kind,
                        measure=code,
                        stream=stream,
                        direction=measure.direction,
                        warn=0.5,
                        breach=0.8,
                        window=100,
                        params={},
                        schedule=hourly if measure.kind in ("performance", "drift") else frequent,
                        active=version.status != "retired",
                    )
                )
        Monitor.objects.bulk_create(monitors, batch_size=5000)
        built["monitors"] = len(monitors)
        built["monitors by kind"] = {k: sum(1 for m in monitors if m.kind == k) for k in by_kind}

    # Results: daily for the last DAILY days, weekly (every 7th day) before, for a year; each monitor has a health
    # (mostly fine, some flaky, a few broken) that draws its outcomes, so the newest results make a plausible heatmap.
    days = [today - dt.timedelta(days=d) for d in range(args.daily)]
    days += [today - dt.timedelta(days=d) for d in range(args.daily, YEAR, 7)]
    with stopwatch(f"monitor results ({len(days)} per monitor, by COPY)"):
        config = json.dumps({"warn": 0.5, "breach": 0.8, "window": 100})
        config_hash = hashlib.sha256(config.encode()).hexdigest()
        written = 0
        columns = "monitor_id, slot, evaluated_at, outcome, value, reason, config, config_hash, rows, detail"
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY monitoring_monitorresult ({columns}) FROM STDIN") as copy:
                for monitor in monitors:
                    health = weighted(rng, [((97, 2, 0.5, 0.5), 80), ((80, 12, 4, 4), 15), ((40, 20, 25, 15), 5)])
                    outcomes = rng.choices(OUTCOMES, health, k=len(days))
                    for day, outcome in zip(days, outcomes, strict=True):
                        slot = at(day, 6)
                        copy.write_row(
                            (
                                monitor.pk,
                                slot,
                                slot,
                                outcome,
                                None if outcome == "insufficient" else 0.4,
                                "",
                                config,
                                config_hash,
                                100,
                                "{}",
                            )
                        )
                        written += 1
        built["monitor results"] = written
        # Statistics now, as autovacuum would soon after: without them the planner guessed 11,000 results a monitor
        # and took the breach-run subquery through the whole partial index (48 ms a monitor, 9.7 s for 200; 28 ms
        # for the 200 once analysed), and the next step ran for most of an hour.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE monitoring_monitorresult")
    with stopwatch("each monitor's newest outcome (as the evaluation service keeps it)"), transaction.atomic():
        from risk.monitoring.evaluation import note_latest

        for start in range(0, len(monitors), 5000):
            note_latest([m.pk for m in monitors[start : start + 5000]])
        built["result days"] = f"daily for the last {args.daily} days, weekly before, over {YEAR} days"

    with stopwatch("findings"), transaction.atomic():
        findings = []
        all_versions = versions
        for _ in range(FINDINGS):
            version = rng.choice(all_versions)
            raised = at(today - dt.timedelta(days=rng.randint(0, 2 * YEAR)), rng.randint(0, 23))
            status = weighted(rng, [("open", 30), ("in_remediation", 20), ("closed", 40), ("risk_accepted", 10)])
            closed = status in ("closed", "risk_accepted")
            findings.append(
                Finding(
                    version=version,
                    severity=weighted(rng, [("high", 15), ("medium", 45), ("low", 40)]),
                    title="Bench finding",
                    description="Written by bench/dashboards.py",
                    owner=rng.choice(users["owners"] + users["developers"]),
                    due_date=raised.date() + dt.timedelta(days=rng.randint(14, 180)),
                    status=status,
                    raised_by=rng.choice(users["validators"]),
                    raised_at=raised,
                    closed_by=world.validator if closed else None,
                    closed_at=min(raised + dt.timedelta(days=rng.randint(1, 120)), at(today, 0)) if closed else None,
                )
            )
        with settable(Finding, "raised_at"):
            Finding.objects.bulk_create(findings, batch_size=5000)
        built["findings"] = len(findings)

    with stopwatch("incidents"), transaction.atomic():
        incidents = []
        candidates = rng.sample(monitors, min(len(monitors), INCIDENTS))  # distinct: one open incident a monitor
        for n in range(INCIDENTS):
            monitor = candidates[n] if n < len(candidates) and rng.random() < 0.6 else None
            version = monitor.version if monitor else rng.choice(live or versions)
            status = weighted(rng, [("open", 15), ("investigating", 10), ("mitigated", 15), ("closed", 60)])
            opened = at(today - dt.timedelta(days=rng.randint(0, YEAR)), rng.randint(0, 23))
            closed = status == "closed"
            incidents.append(
                Incident(
                    model_id=version.model_id,
                    version=version,
                    title="Bench incident",
                    description="Written by bench/dashboards.py",
                    severity=weighted(rng, [("critical", 5), ("high", 20), ("medium", 40), ("low", 35)]),
                    status=status,
                    detected_by="monitor" if monitor else "person",
                    monitor=monitor,
                    reported_by=None if monitor else world.trader,
                    opened_at=opened,
                    closed_at=min(opened + dt.timedelta(days=rng.randint(1, 30)), at(today, 0)) if closed else None,
                    closed_by=world.compliance if closed else None,
                )
            )
        Incident.objects.bulk_create(incidents, batch_size=2000)
        built["incidents"] = len(incidents)

    with stopwatch("indicator snapshots"), transaction.atomic():
        from governance.core import indicators

        snapshots = []
        for indicator in indicators.all_indicators():
            amber, red, _source = indicators.thresholds(policy, indicator)
            for scope in ["", *(d.code for d in desks)]:
                value = rng.randint(0, 40 if scope == "" else 5)
                for d in range(YEAR, 0, -1):
                    value = max(0, value + rng.choice([-1, 0, 0, 0, 1]))
                    snapshots.append(
                        IndicatorSnapshot(
                            day=today - dt.timedelta(days=d),
                            scope=scope,
                            indicator=indicator.key,
                            value=value,
                            status=indicators.status(value, amber, red),
                            amber=amber,
                            red=red,
                            policy_version=policy.version,
                        )
                    )
        IndicatorSnapshot.objects.bulk_create(snapshots, batch_size=5000)
        built["indicator snapshots"] = len(snapshots)

    with stopwatch("ANALYZE"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with stopwatch("the gate's decision of every model (as its periodic refresh records them)"):
        from risk.gate import decisions

        decisions.refresh()
    IndicatorSnapshot.objects.create(
        day=today,
        scope=MARKER_SCOPE,
        indicator=MARKER_INDICATOR,
        value=args.models,
        status="green",
        amber=0,
        red=0,
        policy_version=0,
    )
    return built


def describe() -> dict:
    """What the database holds (a reused firm says what it is)."""
    from governance.core.models import Desk
    from governance.lifecycle.models import VersionTransition
    from models_registry.models import Model, ModelVersion
    from risk.dashboards.models import IndicatorSnapshot
    from risk.incidents.models import Incident
    from risk.monitoring.models import Monitor, MonitorResult
    from risk.validation.models import Finding

    def estimate(model) -> int:  # count(*) of millions of rows takes seconds; the planner's figure is enough
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
            return cursor.fetchone()[0]

    return {
        "desks": Desk.objects.count(),
        "models": Model.objects.count(),
        "versions": ModelVersion.objects.count(),
        "transitions": VersionTransition.objects.count(),
        "monitors": Monitor.objects.count(),
        "monitor results (estimate)": estimate(MonitorResult),
        "findings": Finding.objects.count(),
        "incidents": Incident.objects.count(),
        "indicator snapshots": IndicatorSnapshot.objects.exclude(scope=MARKER_SCOPE).count(),
    }


# --- Measuring ---------------------------------------------------------------------------------------------------


def timed(client, url, expect=200):
    """One render: milliseconds, the queries it ran (sql, seconds) and the response. Queries are counted by an
    execute wrapper: Django's query log keeps 9,000 at most, and a render may run more."""
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, time.perf_counter() - started))

    with connection.execute_wrapper(record):
        started = time.perf_counter()
        response = client.get(url, secure=True)  # production settings redirect plain HTTP
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise SystemExit(f"{url}: {response.status_code}")
    return elapsed, queries, response


def p95(values) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def slowest(queries, n=3) -> None:
    for sql, seconds in sorted(queries, key=lambda q: -q[1])[:n]:
        print(f"      {seconds * 1000:7.0f} ms  {sql[:600]}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def measure_pages(client, username, small_desk, repeats, rows_out, only=()) -> None:
    from django.urls import reverse

    from risk.dashboards import selectors

    user = client.user
    offered = dict(selectors.desk_choices(user))
    if small_desk not in offered:  # a trader is offered their own desk only: the other desk would be a 400
        small_desk = next(iter(offered), "")
    for page, _title in selectors.pages_for(user):
        if only and page not in only:
            continue
        url = reverse("dashboards:page", args=[page])
        cold, cold_queries, _ = timed(client, url)
        runs = [timed(client, url) for _ in range(repeats)]
        warm = [r[0] for r in runs]
        counts = sorted({len(r[1]) for r in runs})  # warm: the cold render also loads the session, the user, ...
        timed(client, f"{url}?desk={small_desk}")
        subset = [timed(client, f"{url}?desk={small_desk}") for _ in range(2)]
        subset_counts = sorted({len(r[1]) for r in subset})
        p50, high = statistics.median(warm), p95(warm)
        same = counts == subset_counts
        print(
            f"  {username:10} {url:26} cold {cold:6.0f} ms ({verdict(cold < PAGE_COLD_MS)})  warm p50 {p50:6.0f} ms "
            f"p95 {high:6.0f} ms ({verdict(high < PAGE_WARM_MS)})  queries {'/'.join(map(str, counts))} (cold "
            f"{len(cold_queries)}), "
            f"?desk={small_desk}: {'/'.join(map(str, subset_counts))} ({'same' if same else 'DIFFERENT'}); "
            f"?desk= warm {statistics.median(r[0] for r in subset):.0f} ms",
            flush=True,
        )
        if high >= PAGE_WARM_MS or cold >= PAGE_COLD_MS:
            worst = max(runs, key=lambda r: r[0])
            print(f"    slowest queries of its slowest warm render ({worst[0]:.0f} ms, {len(worst[1])} queries):")
            slowest(worst[1])
        rows_out.append((username, url, cold, p50, high, counts, subset_counts))


def measure_csvs(client, username, repeats, rows_out, only=()) -> None:
    from django.urls import reverse

    from governance.core import widgets

    for widget in widgets.visible_widgets(client.user):
        if only and widget.page not in only:
            continue
        url = reverse("dashboards:csv", args=[widget.key])
        timed(client, url)  # cold, not counted
        runs = [timed(client, url) for _ in range(repeats)]
        warm = [r[0] for r in runs]
        lines = runs[-1][2].content.count(b"\n")
        p50, high = statistics.median(warm), p95(warm)
        print(
            f"  {username:10} {widget.key:28} warm p50 {p50:6.0f} ms p95 {high:6.0f} ms ({verdict(high < CSV_MS)})  "
            f"{len(runs[-1][1])} queries, {lines:,} lines",
            flush=True,
        )
        if high >= CSV_MS:
            print("    slowest queries of its slowest render:")
            slowest(max(runs, key=lambda r: r[0])[1])
        rows_out.append((username, widget.key, p50, high))


def profile(client, url) -> None:
    import cProfile
    import pstats

    timed(client, url)
    prof = cProfile.Profile()
    prof.enable()
    elapsed, queries, _ = timed(client, url)
    prof.disable()
    print(f"\n--profile {url}: {elapsed:.0f} ms, {len(queries)} queries; slowest queries:")
    slowest(queries, 8)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--daily", type=int, default=30, help="days of daily results before the weekly ones")
    parser.add_argument("--rebuild", action="store_true", help="drop the database and write the firm again")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--csv-repeats", type=int, default=5)
    parser.add_argument(
        "--profile", default="", help="a URL to profile once as compliance (e.g. /dashboards/overview/)"
    )
    parser.add_argument("--skip-snapshot", action="store_true")
    parser.add_argument(
        "--pages", default="", help="only these pages (and their widgets' CSVs), comma-separated: e.g. monitoring"
    )
    parser.add_argument(
        "--cache",
        choices=["redis", "local"],
        default="redis",
        help="redis: VIGIL_CACHE_URL is REDIS_URL, one cache shared by every process (the README's advice); local: "
        "unset, each process keeps its own LocMemCache (300 entries at most)",
    )
    parser.add_argument(
        "--no-jit",
        action="store_true",
        help="run with PostgreSQL's JIT off (PGOPTIONS=-c jit=off): its compilation, not the plan, can be most of "
        "a query's time when the planner's estimate of correlated subqueries passes jit_above_cost",
    )
    args = parser.parse_args()
    if args.no_jit:
        os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + " -c jit=off").strip()
    os.environ.setdefault("VIGIL_VAR_DIR", tempfile.mkdtemp(prefix="vigil-bench-dashboards-"))
    if args.cache == "redis":
        os.environ["VIGIL_CACHE_URL"] = os.environ["REDIS_URL"]
    else:
        os.environ.pop("VIGIL_CACHE_URL", None)

    if args.rebuild and database_exists():
        admin(f'DROP DATABASE "{database_name()}" WITH (FORCE)')
    if not database_exists():
        admin(f'CREATE DATABASE "{database_name()}"')

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from django.core.cache import cache
    from django.db import connection

    cache.clear()  # the gate's cached decisions of another build, whose model ids this one reuses
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    print(f"cache: {args.cache} ({os.environ.get('VIGIL_CACHE_URL') or 'LocMemCache'}), cleared; PostgreSQL jit={jit}")
    found = marker()
    if found is None:
        from models_registry.models import Model

        if Model.objects.exists():  # a half-built firm (an interrupted run): start again
            from django.db import connections

            connections.close_all()
            admin(f'DROP DATABASE "{database_name()}" WITH (FORCE)')
            admin(f'CREATE DATABASE "{database_name()}"')
            call_command("migrate", verbosity=0)
        section(f"Building the firm on {database_name()} ({args.models:,} models; bulk inserts, services bypassed)")
        started = time.perf_counter()
        built = build(args)
        print(f"  built in {time.perf_counter() - started:.0f} s:")
        for name, value in built.items():
            print(f"    {name}: {value:,}" if isinstance(value, int) else f"    {name}: {value}")
    else:
        section(f"Reusing the firm on {database_name()} (built {found.day}, {found.value:,} models; --rebuild to redo)")
        for name, value in describe().items():
            print(f"    {name}: {value:,}")

    from models_registry.models import Model

    small = Model.objects.filter(desk__code=SMALL_DESK).count()
    User = get_user_model()
    people = [("compliance", None), ("trader", None), ("validator", None)]
    clients = []
    for username, _ in people:
        client = Client()
        client.user = User.objects.get(username=username)
        client.force_login(client.user)
        clients.append((username, client))
    trader_models = Model.objects.filter(desk=clients[1][1].user.profile.desk).count()
    validator_models = Model.objects.filter(validator=clients[2][1].user).count()
    print(
        f"  the trader's desk has {trader_models:,} models, the validator validates {validator_models:,}; "
        f"?desk={SMALL_DESK} narrows to {small:,} models"
    )

    section(
        f"Pages: cold (first render in this process) and warm (p50, p95 of {args.repeats}); targets p95 < "
        f"{PAGE_WARM_MS} ms warm, < {PAGE_COLD_MS} ms cold, queries the same whatever the models"
    )
    page_rows = []
    only = tuple(p for p in args.pages.split(",") if p)
    for username, client in clients:
        measure_pages(client, username, SMALL_DESK, args.repeats, page_rows, only)

    section(f"Widget CSVs, warm (p50, p95 of {args.csv_repeats} after one untimed); target < {CSV_MS} ms")
    csv_rows = []
    for username, client in clients:
        measure_csvs(client, username, args.csv_repeats, csv_rows, only)

    if not args.skip_snapshot:
        section(f"The daily snapshot job, risk.dashboards.snapshots.record(); target < {SNAPSHOT_S} s")
        from risk.dashboards import snapshots

        queries = []

        def record(execute, sql, params, many, context):
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((sql, time.perf_counter() - begun))

        with connection.execute_wrapper(record):
            started = time.perf_counter()
            written = snapshots.record()
            seconds = time.perf_counter() - started
        print(f"  {written:,} rows in {seconds:.1f} s ({verdict(seconds < SNAPSHOT_S)}), {len(queries)} queries")
        if seconds >= SNAPSHOT_S:
            slowest(queries, 5)

    if args.profile:
        profile(clients[0][1], args.profile)

    section("Summary")
    worst = max(page_rows, key=lambda r: r[4])
    coldest = max(page_rows, key=lambda r: r[2])
    print(
        f"  pages: worst warm p95 {worst[4]:.0f} ms ({worst[0]} {worst[1]}), worst cold {coldest[2]:.0f} ms "
        f"({coldest[0]} {coldest[1]}); query counts independent of models: "
        f"{all(r[5] == r[6] for r in page_rows)}"
    )
    if csv_rows:
        slow = max(csv_rows, key=lambda r: r[3])
        print(f"  CSVs: worst warm p95 {slow[3]:.0f} ms ({slow[0]} {slow[1]})")


if __name__ == "__main__":
    main()
