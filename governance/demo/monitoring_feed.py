"""The demo's live data: synthetic predictions, outcomes and trades for the demo's production models, pushed
through the same ingest services the API uses, every minute by beat. One model, eq-momentum-us, drifts and
degrades from the third minute on (its first feature shifts, its accuracy and hit rate fall), so that within
ten minutes of `make run` a newcomer sees its monitors go from ok to warn to breach. Every other monitored demo
version sends a heartbeat point each minute, so data staleness stays quiet.

Seeded randomness only: minute m of a model is drawn from a generator seeded by the model and m.
"""

import datetime as dt
import json
import zlib

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from governance.demo import demo_files
from models_registry.models import ModelVersion
from risk.monitoring import evaluation, monitors, proposals, services
from risk.monitoring import schedules as beat_schedules
from risk.monitoring.measures import CHANGE_STREAMS
from risk.monitoring.models import IngestBatch, Monitor

DEMO_SCHEDULE = "Monitoring: every minute (demo)"
FEED_TASK_NAME = "Demo: live data for production models"
DRIFTING = "eq-momentum-us"
PREDICTS = {"eq-momentum-us": 0.68, "credit-default-prob": 0.74, "fx-carry-g10": 0.66}  # healthy accuracy
TRADES = {"eq-momentum-us": 0.58, "fx-carry-g10": 0.58, "exec-vwap-eq": 0.59, "exec-fx-twap": 0.55}  # healthy hit rate
PER_MINUTE = 100  # predictions a minute
# The live feed trades every minute while the seeded history traded about fifty times a day: the demo widens the
# trade-count thresholds (in the same audited change) so that only the drifting model's monitors move.
DEMO_THRESHOLDS = {"trade_count": {"warn": 200.0, "breach": 400.0}}
TRADES_PER_MINUTE = 5
HISTORY = 1_000_000  # the seed of the history drawn before the demo starts (live minutes count from 0)
PREDICTIONS_PER_DAY = 150  # in the history: a week of them fills the drift reference (REFERENCE_PREDICTIONS)
TRADES_PER_DAY = 50
SIZE = 300.0  # a trade's typical P&L


def live_versions():
    return ModelVersion.objects.filter(status__in=("production", "pilot")).select_related("model", "model__owner")


def _rng(key: str, minute: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(key.encode()), minute])


def _steady(rng: np.random.Generator, count: int, rate: float, batch: int) -> np.ndarray:
    """`count` booleans (right calls, winning trades) at `rate`, steady in every run of `batch` of them, in a seeded
    order within each. A change rule (CUSUM) reads the stream as means of `batch` observations; drawn one by one,
    chance runs of bad luck trip it now and then (that is its false-alarm rate), and under the default policy a
    breach on a tier-1 model suspends it: the demo's healthy models must still be trading at the end. So each batch
    takes its share of the rate, carrying the rounding to the next, with a seeded one up or down that the batch after
    it takes back: the batches keep a spread to standardise against, and no run of them drifts."""
    out, carried, shift = [], 0.0, 0
    for start in range(0, count, batch):
        n = min(batch, count - start)
        shift = int(rng.integers(-1, 2)) if (start // batch) % 2 == 0 else -shift
        wanted = rate * n + carried
        hits = int(round(wanted))
        carried = wanted - hits
        block = np.zeros(n, dtype=bool)
        block[: min(n, max(0, hits + shift))] = True
        out.append(rng.permutation(block))
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _sizes(rng: np.random.Generator, wins: np.ndarray, batch: int) -> np.ndarray:
    """Each trade's size, so that a batch's P&L follows its wins alone (the P&L stream is as steady as the hit
    rate): within a batch each loss is paired with a win of the same drawn size, and the unpaired trades are of
    SIZE."""
    sizes = np.full(wins.size, SIZE)
    for start in range(0, wins.size, batch):
        block = wins[start : start + batch]
        won, lost = np.flatnonzero(block) + start, np.flatnonzero(~block) + start
        pairs = min(won.size, lost.size)
        drawn = np.abs(rng.normal(SIZE, SIZE / 2, pairs)) + 10
        sizes[won[:pairs]] = drawn
        sizes[lost[:pairs]] = drawn
    return sizes


def drift(key: str, minute: int) -> tuple[float, float, float]:
    """(feature shift in standard deviations, accuracy, hit rate) of a model in its live minute `minute`."""
    healthy = (0.0, PREDICTS.get(key, 0.7), TRADES.get(key, 0.55))
    if key != DRIFTING or minute < 2:
        return healthy
    steps = minute - 1
    return min(1.5, 0.15 * steps), max(0.45, healthy[1] - 0.04 * steps), max(0.25, healthy[2] - 0.04 * steps)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _predictions(key, minute, start, count, span, shift, accuracy):
    rng = _rng(key, minute)
    first, second = demo_files.MODEL_FEATURES.get(key, demo_files.FEATURES)  # as its validation files name them
    rows, outcomes = [], []
    right = _steady(rng, count, accuracy, CHANGE_STREAMS["accuracy"][1])
    for i in range(count):
        truth = int(rng.random() < 0.5)
        predicted = truth if right[i] else 1 - truth
        # Calibrated: a prediction of 1 is right `accuracy` of the time, so its score is about `accuracy`.
        score = float(np.clip((accuracy if predicted else 1 - accuracy) + rng.normal(0, 0.02), 0.01, 0.99))
        pid = f"demo-{minute}-{i}"
        features = {first: float(rng.normal(shift, 1)), second: float(rng.normal(0, 1))}
        moment = start + span * (i / count)
        rows.append(
            {"id": pid, "timestamp": _stamp(moment), "features": features, "prediction": predicted, "score": score}
        )
        outcomes.append({"id": pid, "outcome": truth})
    return rows, outcomes


def _trades(key, minute, start, count, span, hit_rate):
    rng = _rng(key + ":trades", minute)
    rows = []
    wins = _steady(rng, count, hit_rate, CHANGE_STREAMS["losing_trades"][1])
    sizes = _sizes(rng, wins, CHANGE_STREAMS["pnl"][1])
    for i in range(count):
        size, won = float(sizes[i]), wins[i]
        rows.append(
            {
                "id": f"demo-{minute}-{i}",
                "timestamp": _stamp(start + span * (i / count)),
                "instrument": "ESZ6",
                "side": "buy" if rng.random() < 0.5 else "sell",
                "quantity": float(rng.integers(1, 20)),
                "price": float(6000 + rng.normal(0, 20)),
                "pnl": size if won else -size,
                "expected_slippage": 0.5,
                "realised_slippage": float(abs(rng.normal(0.55, 0.1))),
            }
        )
    return rows


def _push(owner, version, kind, rows, key):
    ingest = {
        "predictions": services.predictions_ingest,
        "outcomes": services.outcomes_ingest,
        "trades": services.trades_ingest,
        "points": services.points_ingest,
    }[kind]
    ingest(owner, version.model, {"version": version.version, kind: rows}, key)


def feed_minute(now: dt.datetime | None = None) -> dict:
    """One minute of live data for every live demo version (safe to run twice: keys make it idempotent)."""
    now = now or timezone.now()
    fed = {}
    for version in live_versions():
        key, owner = version.model.key, version.model.owner
        counted = "predictions" if key in PREDICTS else "trades" if key in TRADES else "points"
        minute = IngestBatch.objects.filter(
            version=version, kind=counted, idempotency_key__startswith="demo-live-"
        ).count()
        tag = f"demo-live-{version.pk}-{now:%Y%m%d%H%M}"
        start = now - dt.timedelta(seconds=59)
        if key not in PREDICTS and key not in TRADES:
            _push(
                owner,
                version,
                "points",
                [{"metric": "latency_ms", "timestamp": _stamp(now), "value": 4.0 + float(_rng(key, minute).random())}],
                tag,
            )
            continue
        shift, accuracy, hit_rate = drift(key, minute)
        with transaction.atomic():
            if key in PREDICTS:
                rows, outcomes = _predictions(key, minute, start, PER_MINUTE, dt.timedelta(seconds=58), shift, accuracy)
                _push(owner, version, "predictions", rows, tag)
                # Labels arrive when positions close: this minute's predictions are labelled now, late by
                # up to a minute, so the label lag the pages show is real.
                _push(owner, version, "outcomes", outcomes, f"{tag}-outcomes")
            if key in TRADES:
                _push(
                    owner,
                    version,
                    "trades",
                    _trades(key, minute, start, TRADES_PER_MINUTE, dt.timedelta(seconds=58), hit_rate),
                    f"{tag}-trades",
                )
        fed[key] = {"minute": minute, "shift": shift, "accuracy": accuracy, "hit_rate": hit_rate}
    return fed


def ingest_span(version, since: dt.datetime, until: dt.datetime, day: int, *, accuracy=None, hit_rate=None) -> None:
    """The data a live demo version made from `since` to `until`, received now in one batch per kind:
    predictions (PREDICTIONS_PER_DAY, labelled as they arrive), trades (TRADES_PER_DAY) or, for a model that
    reports neither, a heartbeat point. `day` seeds the draws and names the batches (idempotent: a batch sent
    before is not stored twice); `accuracy` and `hit_rate` replace the healthy rates during a planned fault."""
    key, owner = version.model.key, version.model.owner
    span, tag = until - since, f"demo-history-{version.pk}-{day}"
    days = span / dt.timedelta(days=1)
    with transaction.atomic():
        if key in PREDICTS:
            count = max(1, round(PREDICTIONS_PER_DAY * days))
            rows, outcomes = _predictions(key, HISTORY + day, since, count, span, 0.0, accuracy or PREDICTS[key])
            _push(owner, version, "predictions", rows, tag)
            _push(owner, version, "outcomes", outcomes, f"{tag}-outcomes")
        if key in TRADES:
            count = max(1, round(TRADES_PER_DAY * days))
            rows = _trades(key, HISTORY + day, since, count, span, hit_rate or TRADES[key])
            _push(owner, version, "trades", rows, f"{tag}-trades")
        if key not in PREDICTS and key not in TRADES:
            value = 4.0 + float(_rng(key, HISTORY + day).random())
            _push(owner, version, "points", [{"metric": "latency_ms", "timestamp": _stamp(until), "value": value}], tag)


def seed_history(now: dt.datetime | None = None) -> None:
    """After the history's weeks of data and evaluations (monitoring_history), six hourly evaluations of the last
    hours and every live demo monitor on the every-minute schedule. Idempotent: a version whose monitors are all
    on the demo schedule is done."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    schedule = _demo_schedule()
    compliance = get_user_model().objects.get(username="compliance")
    for version in live_versions():
        monitored = Monitor.objects.filter(version=version)
        if monitored.exists() and not monitored.exclude(schedule=schedule).exists():
            continue
        proposals.add_feature_monitors([version])  # its features are known now
        # The past, evaluated hourly under the proposed configuration; then every monitor moves to the
        # every-minute schedule (a governed change, audited), so the live part of each chart is minute by minute.
        live = list(Monitor.objects.filter(version=version).select_related("version__model", "schedule"))
        for hours in range(6, 0, -1):
            data = evaluation.LiveData(version, now - dt.timedelta(hours=hours))
            slot = data.slot
            evaluation.record_many([evaluation.measure(m, slot, data) for m in live], slot)
        for monitor in live:
            if monitor.schedule_id != schedule.pk:
                monitors.monitor_change(
                    compliance,
                    monitor,
                    schedule=schedule,
                    reason="Demo: every monitor runs each minute so that a newcomer sees monitors move (trade counts: "
                    "the live feed trades each minute, its history fifty times a day).",
                    **DEMO_THRESHOLDS.get(monitor.measure, {}),
                )
    _feed_task()


def _demo_schedule() -> PeriodicTask:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    task, _ = PeriodicTask.objects.get_or_create(
        name=DEMO_SCHEDULE,
        defaults={
            "task": beat_schedules.TASK,
            "kwargs": json.dumps({"schedule": DEMO_SCHEDULE}),
            "interval": every_minute,
        },
    )
    return task


def _feed_task() -> None:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=FEED_TASK_NAME, defaults={"task": "demo.feed_monitoring", "interval": every_minute}
    )
