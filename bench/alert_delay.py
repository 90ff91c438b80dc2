"""From a breach being recorded to its webhook arriving (MiFID II RTS 6 Art. 16: real-time alerts, 5 s), with a
real Celery worker on Redis and a real HTTP receiver. Used by bench/gate.py (section 6); prints nothing itself.

Each round records one breach of a real monitor (measured from real trades, committed by the monitoring service
as a cycle would) and waits for the receiver to get its signed POST; the delay runs from the commit to the
receiver's clock (one machine: one clock). Rounds are spaced so each alert is delivered alone, as breaches are.
"""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("VIGIL_BENCH_BROKER", "redis://127.0.0.1:6379/13")
LOOPBACK = "127.0.0.1/32"


def start_worker(database_url: str, var_dir: str, concurrency: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "VIGIL_ALERT_REPEAT_MINUTES": "0",  # every round's breach is alerted (in production: at most hourly)
        "VIGIL_VAR_DIR": var_dir,
        "VIGIL_LOG_LEVEL": "WARNING",
        "VIGIL_OUTBOUND_ALLOWED_NETWORKS": LOOPBACK,  # the receiver listens on 127.0.0.1
    }
    command = [str(Path(sys.executable).parent / "celery"), "-A", "vigil", "worker", "--loglevel=WARNING"]
    command += [f"--concurrency={concurrency}", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    command += ["-Q", "celery,webhooks"]  # the events that record alerts, and the deliveries' own queue
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def breach_to_webhook(world, rounds: int, database_url: str, var_dir: str, concurrency: int = 2) -> list[float]:
    """Seconds from each breach's commit to its webhook's arrival."""
    import redis
    from django.test import override_settings
    from django.utils import timezone

    from risk.alerts import services
    from risk.monitoring import evaluation, proposals
    from risk.monitoring.models import Monitor
    from tests.risk import monitoring_data as data
    from tests.risk.webhook_receiver import Receiver
    from vigil.celery import app

    redis.Redis.from_url(BROKER).flushdb()
    now = timezone.now().replace(microsecond=0)
    proposals.propose(world.mine_v1)
    data.trades(world.developer, world.mine_v1, 200, start=now - dt.timedelta(days=5), win_rate=0.1)
    monitor = Monitor.objects.get(version=world.mine_v1, measure="hit_rate")
    original = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = BROKER, False
    app._pool = None
    app.amqp._producer_pool = None
    worker = start_worker(database_url, var_dir, concurrency)
    delays = []
    try:
        with Receiver() as receiver:
            with override_settings(VIGIL_OUTBOUND_ALLOWED_NETWORKS=[LOOPBACK]):
                services.webhook_create(
                    world.compliance, name="bench receiver", url=receiver.url, kinds=["monitor_breach"]
                )
            evaluation.evaluate(monitor, now - dt.timedelta(minutes=rounds + 10))  # warm the worker up
            receiver.wait_for(1, seconds=120)
            for i in range(rounds):
                result = evaluation.evaluate(monitor, now - dt.timedelta(minutes=rounds - i))
                committed = time.time()
                assert result is not None and result.outcome == "breach", "the bench monitor should breach"
                arrived = receiver.wait_for(i + 2, seconds=60)[-1]["at"]
                delays.append(arrived - committed)
                time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.conf.broker_url, app.conf.task_always_eager = original
        app._pool = None
        app.amqp._producer_pool = None
    return delays
