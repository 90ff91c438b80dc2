"""Validation runs through real Celery worker processes on Redis: acks_late, a worker killed mid-run,
a transient database error, and a task that gives up."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from governance.core.models import AuditEvent
from models_registry.models import Model
from risk.validation import runs as validation
from risk.validation import services
from risk.validation.models import Evidence, ValidationRun
from tests.base import build_world
from tests.factories import make_version
from vigil.celery import app

pytestmark = pytest.mark.slow(reason="starts real Celery workers (and beat) and kills some mid-job")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 4  # seconds before Redis hands an unacknowledged message to another worker
JOB_LEASE_SECONDS = 2


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


class Workers:
    """Starts worker processes (each in its own process group, so a kill takes all of it) and stops them."""

    def __init__(self, broker_url=REDIS_URL):
        self.processes = []
        self.broker_url = broker_url
        self.visibility_timeout = VISIBILITY_TIMEOUT
        # VIGIL_TEST_PROCESS_LOG=path keeps what the workers and beat print (debugging); otherwise discarded.
        log = os.environ.get("VIGIL_TEST_PROCESS_LOG")
        self.log = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed by stop_all

    def env(self, fault: str = "", queues: str = "") -> dict:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "vigil.test_settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
            # A job's lease passes 2 s after its worker's last heartbeat (production: 60 s, renewed every 20 s).
            "VIGIL_JOB_LEASE_SECONDS": str(JOB_LEASE_SECONDS),
            "VIGIL_JOB_HEARTBEAT_SECONDS": "0.5",
            # Redis: look for unacknowledged messages every second (production: every 100 s).
            "CELERY_BROKER_TRANSPORT_OPTIONS": '{"unacked_restore_interval": 1, "unacked_restore_throttle": 1}'
            if self.broker_url.startswith("redis")
            else "",
            "VIGIL_TEST_FAULT": fault,
            "VIGIL_TEST_QUEUES": queues,  # empty: every queue
            "VIGIL_TEST_EAGER": "0",  # what a worker enqueues goes through the broker, as in production
        }

    def spawn(self, args: list[str], fault: str = "", queues: str = "") -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env(fault, queues),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start(self, fault: str = "", queues: str = "") -> subprocess.Popen:
        """A worker on `queues` (comma-separated; every queue when empty)."""
        return self.spawn(["-m", "tests.risk.worker_harness"], fault, queues)

    def start_beat(self) -> subprocess.Popen:
        """Celery beat on the database scheduler (django-celery-beat), as production runs it."""
        return self.spawn(["-m", "celery", "-A", "vigil", "beat", "--loglevel=INFO", "--max-interval=1"])

    @staticmethod
    def kill(process) -> None:
        os.killpg(process.pid, signal.SIGKILL)  # no warm shutdown: the message stays unacknowledged
        process.wait(timeout=20)

    def stop_all(self) -> None:
        if self.log is not subprocess.DEVNULL:
            self.log.close()
        # The test has asserted what it needed: a warm shutdown (seconds per worker, one after another) would
        # only slow the suite, so every group is killed at once and then reaped.
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=20)


@contextmanager
def workers_on(broker_url):
    """This process sends to `broker_url` (not eagerly) while the test's workers consume from it."""
    original = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = broker_url, False
    _drop_connections()  # producers cached for another broker must not be reused
    pool = Workers(broker_url)
    try:
        yield pool
    finally:
        pool.stop_all()
        app.conf.broker_url, app.conf.task_always_eager = original
        _drop_connections()


@pytest.fixture
def workers():
    if not redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    with workers_on(REDIS_URL) as pool:
        yield pool


@pytest.fixture
def embedded_broker_workers(tmp_path):
    """Workers on the SQLite-file broker that `make run` uses (no server at all)."""
    with workers_on(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}") as pool:
        yield pool


def start_classifier_run(rows=60):
    world = build_world()
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    version = make_version(world.developer, world.mine, label="2.0", status="in_validation", claimed_performance={})
    lines = "\n".join(
        f"2026-01-01T00:{i // 60:02d}:{i % 60:02d},{i % 2},{(i // 2) % 2},{(i % 7) / 7:.4f}" for i in range(rows)
    )
    dataset = services.evidence_add(
        world.developer,
        version,
        kind="dataset",
        file=SimpleUploadedFile("preds.csv", f"timestamp,y_true,y_pred,y_score\n{lines}\n".encode()),
    )
    validation.plan_save(world.validator, version)
    return validation.run_start(world.validator, version, dataset)  # committed: the task is sent on commit


def wait_for(run, condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if condition(run):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run.pk} stayed {run.status} (progress {run.progress}, attempts {run.attempts})")


def finished(run) -> bool:
    return run.status in ("succeeded", "failed")


def assert_written_once(run):
    assert run.status == "succeeded", run.error
    assert run.results and run.report_id
    assert ValidationRun.objects.count() == 1
    assert Evidence.objects.filter(kind="validation_report", report_of__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="validation_run.succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["workers", "embedded_broker_workers"], ids=["redis", "embedded-sqlite"])
def test_it_runs_validation_in_a_real_worker(broker, request):
    request.getfixturevalue(broker).start()
    run = wait_for(start_classifier_run(), finished)
    assert run.attempts == 1
    assert_written_once(run)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_is_redone_by_another_not_duplicated(workers):
    first = workers.start(fault="hang")
    run = wait_for(start_classifier_run(), lambda r: r.status == "running" and r.progress == 30)
    workers.kill(first)  # mid-run, message unacknowledged (acks_late)
    run.refresh_from_db()
    assert run.status == "running" and run.results == [] and run.report_id is None
    workers.start(fault="hang")  # the fault only hits first attempts; this one completes the redelivered run
    run = wait_for(run, finished, seconds=120)
    assert run.attempts == 2
    assert_written_once(run)


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_is_taken_up_again_through_its_lease_not_the_broker(workers):
    """The broker would hand the message back only after an hour: the job's lease passes and beat's recovery
    (every second here, every 30 s in production) queues it again; a second worker completes it."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    workers.visibility_timeout = 3600
    PeriodicTask.objects.update(enabled=False)  # only the recovery fires
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Jobs: take up the jobs of lost workers",
        defaults={"task": "governance.recover_lost_jobs", "interval": every_second, "enabled": True},
    )
    first = workers.start(fault="hang")
    run = wait_for(start_classifier_run(), lambda r: r.status == "running" and r.progress == 30)
    workers.kill(first)  # SIGKILL mid-run: no warm shutdown, the message stays unacknowledged for an hour
    killed_at = time.monotonic()
    workers.start_beat()
    workers.start(fault="hang")  # the fault only hits first attempts
    run = wait_for(run, finished, seconds=120)
    assert time.monotonic() - killed_at < 120
    assert run.attempts == 2
    assert_written_once(run)
    requeued = AuditEvent.objects.get(action="job.requeued")
    assert requeued.object_id == str(run.job_id) and requeued.changes["status"] == ["running", "queued"]


@pytest.mark.django_db(transaction=True)
def test_a_transient_database_error_is_retried(workers):
    workers.start(fault="database")
    run = wait_for(start_classifier_run(), finished)
    assert run.attempts == 2
    assert_written_once(run)


@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_outbox_events_after_commit_and_the_sweep_catches_what_was_never_sent(workers):
    from django.db import transaction

    from governance.core import events
    from governance.core.models import Event, Notification
    from governance.core.notifications import notify

    world = build_world()
    workers.start()
    with transaction.atomic():
        notify([world.owner], "decision", "Delivered by a worker.", "/models/mine/")
    deadline = time.monotonic() + 60
    while not Notification.objects.filter(user=world.owner, message="Delivered by a worker.").exists():
        assert time.monotonic() < deadline, "no worker delivered the event"
        time.sleep(0.3)
    # An event whose nudge never reached a broker (down at commit) stays pending until the sweep runs.
    app.conf.task_always_eager = True  # this process runs the sweep task itself, as beat would ask a worker to
    try:
        event = Event.objects.create(
            kind="notification",
            payload={
                "user_ids": [world.owner.pk],
                "roles": [],
                "kind": "decision",
                "message": "Found by the sweep.",
                "url": "",
                "dedupe_key": "",
            },
        )
        app.tasks["governance.deliver_pending_events"].delay()
    finally:
        app.conf.task_always_eager = False
    event.refresh_from_db()
    assert event.status == "delivered" and events.deliver(event.pk) == "delivered"
    assert Notification.objects.filter(user=world.owner, message="Found by the sweep.").count() == 1
