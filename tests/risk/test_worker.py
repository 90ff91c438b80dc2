"""A validation run through a real Celery worker process on Redis (acks_late, results written once)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from governance.celery import app
from models_registry.models import Model, ModelVersion
from risk import services, validation
from risk.models import ValidationRun
from tests.base import build_world

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _drop_connections():
    # Forget (without closing: kombu keeps its pools per URL) the producer pool bound to the previous broker.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker():
    if not redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.test_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "governance",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    original = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = REDIS_URL, False
    _drop_connections()  # producers cached for the embedded broker must not be reused for Redis
    try:
        yield process
    finally:
        app.conf.broker_url, app.conf.task_always_eager = original
        _drop_connections()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_it_runs_validation_in_a_real_worker(worker):
    world = build_world()
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    version = ModelVersion.objects.select_related("model").get(pk=world.mine_v1.pk)
    rows = "\n".join(f"2026-01-01T00:00:{i:02d},{i % 2},{(i // 2) % 2},{(i % 7) / 7:.4f}" for i in range(60))
    dataset = services.evidence_add(
        world.developer,
        version,
        kind="dataset",
        file=SimpleUploadedFile("preds.csv", f"timestamp,y_true,y_pred,y_score\n{rows}\n".encode()),
    )
    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, dataset)  # committed: the task is sent on commit
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert run.status == "succeeded", (run.status, run.error)
    assert run.attempts == 1 and run.results
    assert ValidationRun.objects.count() == 1
