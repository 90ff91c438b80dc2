"""One monitor cycle over 500 production models on one worker.

500 alpha models that are also classifiers (every kind of monitor: performance, drift of the score and two
features, trading, sudden change, staleness: 22 monitors each), each version in production with 1,500
labelled predictions and 300 trades. Times one evaluation of every monitor of every schedule, in this one
process, as a single worker would run the cycle's jobs one after the other; the reference windows are frozen
by a first cycle that is timed separately. Target: under 60 s.

Run by hand (never by the test command):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_bench_cycle .venv/bin/python bench/monitor_cycle.py
The database is created if missing and filled once; later runs reuse it. BENCH_CYCLE_MODELS changes the count.
"""

import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench_cycle")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
os.environ.setdefault("VIGIL_TESTING", "1")
os.environ.setdefault("VIGIL_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")  # this process is the one worker

N_MODELS = int(os.environ.get("BENCH_CYCLE_MODELS", "500"))
PREDICTIONS, TRADES = 1500, 300


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def populate(now):
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from governance.core.models import Desk
    from governance.lifecycle.models import PilotPlan
    from models_registry.models import Model, ModelVersion
    from risk.monitoring import proposals, services
    from risk.monitoring.models import Monitor

    if (
        Monitor.objects.filter(version__model__key__startswith="cycle-").values("version").distinct().count()
        >= N_MODELS
    ):
        return
    print(f"populating {N_MODELS} production models with live data ...", flush=True)
    User = get_user_model()
    owner, _ = User.objects.get_or_create(username="cycle-owner")
    owner.groups.add(Group.objects.get(name="owner"))
    desk, _ = Desk.objects.get_or_create(code="cycle", defaults={"name": "Cycle desk"})
    rng = np.random.default_rng(7)
    for i in range(N_MODELS):
        key = f"cycle-{i:04d}"
        model, created = Model.objects.get_or_create(
            key=key,
            defaults=dict(
                name=f"Cycle model {i}",
                purpose="alpha",
                desk=desk,
                model_type="gradient_boosting",
                asset_classes=["equities"],
                owner=owner,
                intended_use="Benchmark.",
                computed_tier=2,
                risk_tier=2,
                tier_rule_version="TIER-2026.1",
                status="production",
                created_by=owner,
                notional_at_stake=1_000_000,
            ),
        )
        version = ModelVersion.objects.filter(model=model).first()
        if version is None:
            version = ModelVersion.objects.create(
                model=model,
                version="1.0",
                status="production",
                artifact_uri=f"s3://b/{key}",
                artifact_sha256="0" * 64,
                code_revision="bench",
                created_by=owner,
                claimed_performance={"sharpe": 1.2, "hit_rate": 0.53, "max_drawdown": 0.12},
            )
            PilotPlan.objects.create(version=version, max_notional=5_000_000, end_date=now.date(), created_by=owner)
        if Monitor.objects.filter(version=version).exists():
            continue
        start = now - dt.timedelta(days=5)
        rows, outcomes = [], []
        for j in range(PREDICTIONS):
            truth = int(rng.random() < 0.5)
            predicted = truth if rng.random() < 0.66 else 1 - truth
            rows.append(
                {
                    "id": f"p{j}",
                    "timestamp": (start + dt.timedelta(minutes=j)).isoformat(),
                    "features": {"f1": float(rng.normal()), "f2": float(rng.normal())},
                    "prediction": predicted,
                    "score": float(np.clip(0.5 + (0.2 if predicted else -0.2) + rng.normal(0, 0.1), 0, 1)),
                }
            )
            outcomes.append({"id": f"p{j}", "outcome": truth})
        body = {"version": "1.0"}
        services.predictions_ingest(owner, model, body | {"predictions": rows})
        services.outcomes_ingest(owner, model, body | {"outcomes": outcomes})
        trades = [
            {
                "id": f"t{j}",
                "timestamp": (now - dt.timedelta(days=40) + dt.timedelta(hours=2 * j)).isoformat(),
                "instrument": "SPY",
                "side": "buy",
                "quantity": 10,
                "price": 500.0,
                "pnl": float(rng.normal(15, 100)),
                "expected_slippage": 0.5,
                "realised_slippage": 0.6,
            }
            for j in range(TRADES)
        ]
        services.trades_ingest(owner, model, body | {"trades": trades})
        proposals.propose(version)
        proposals.add_feature_monitors([version])
        if i % 50 == 49:
            print(f"  {i + 1} models", flush=True)


def one_cycle(now) -> tuple[float, int]:
    from governance.core import jobs
    from risk.monitoring import cycles, schedules

    started, evaluated = time.perf_counter(), 0
    for name in schedules.NAMES:
        for cycle in cycles.start_cycle(name, now=now):
            jobs.execute(cycle.job_id)
            cycle.job.refresh_from_db()
            evaluated += sum(cycle.job.result.get("evaluated_now", {}).values())
    return time.perf_counter() - started, evaluated


def main():
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from risk.monitoring.models import Monitor, MonitorResult, Prediction, Trade

    call_command("migrate", verbosity=0)
    now = timezone.now()
    populate(now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    monitors = Monitor.objects.filter(version__model__key__startswith="cycle-", version__status="production")
    print(
        f"database: {connection.vendor}; models: {N_MODELS}; monitors: {monitors.count()}; "
        f"predictions: {Prediction.objects.count():,}; trades: {Trade.objects.count():,}"
    )
    # Two ticks three days apart, so that every schedule, the weekday one too, has a slot of its own in each.
    seconds, evaluated = one_cycle(now - dt.timedelta(days=3))
    print(f"first cycle (freezes the reference windows): {evaluated} monitors in {seconds:.1f} s")
    seconds, evaluated = one_cycle(now)
    print(
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs) "
        f"steady cycle on one worker: {evaluated} monitors in {seconds:.1f} s "
        f"({1000 * seconds / max(1, evaluated):.2f} ms a monitor; target: 500 models under 60 s)"
    )
    latest = MonitorResult.objects.filter(
        monitor__in=monitors, evaluated_at__gte=timezone.now() - dt.timedelta(seconds=seconds + 5)
    )
    print("outcomes of the steady cycle:", dict(Counter(latest.values_list("outcome", flat=True))))


if __name__ == "__main__":
    main()
