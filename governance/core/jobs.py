"""The job backbone: one Job row and one runner for every kind of background work (NetBox's JobRunner is
the pattern). Hand-written: it is the claim, the attempts and the giving up that every kind shares, over the
database's own conditional UPDATE; Celery only carries "run job N".

- enqueue(kind, subject=...) writes a queued Job in the caller's transaction and hands it to a worker
  after commit.
- execute(job_id) claims it (queued or running -> running, attempts + 1, by a conditional UPDATE: a
  redelivered message and the original cannot both start it twice over), runs the registered runner,
  reports progress, and records the outcome once. A job whose worker died on every delivery stops as
  failed after `max_attempts` instead of looping.
- give_up(job_id, reason) records a failure the runner could not record itself (retries spent, a bug),
  after letting the runner clean up its subject.
- A running job holds a lease (`lease_expires_at`, VIGIL_JOB_LEASE_SECONDS) that a thread of its worker renews
  every VIGIL_JOB_HEARTBEAT_SECONDS. While the lease stands no other delivery of the job starts it; once it has
  passed, the worker is taken for lost: recover_lost() (beat, every 30 s) queues the job again, or fails it once
  its worker stopped max_attempts times, and audits either. A job whose worker died is so taken up within
  lease + 30 s, not after the broker's visibility timeout (an hour).
The Celery task (governance.core.tasks.run_job) acks late, is redelivered when its worker dies, and
retries transient database errors with backoff.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.core.audit import audit_record, audit_type
from governance.core.error_text import bounded
from governance.core.models import Job

logger = logging.getLogger(__name__)
RUN_JOB_TASK = "governance.run_job"
J = Job.Status
LIVE = (J.QUEUED, J.RUNNING)
RECOVERY_BATCH = 500  # lost jobs handled by one recovery run; the next run takes the rest


class JobFailed(Exception):
    """A job that cannot succeed (bad input, say): its message is shown to the person who asked."""


@dataclass(frozen=True)
class Runner:
    kind: str
    run: Callable  # run(job, progress) -> dict | None; raises JobFailed for a clean failure
    on_give_up: Callable | None = None  # on_give_up(job, reason): leave the subject consistent


_runners: dict[str, Runner] = {}


def register(kind: str, run: Callable, on_give_up: Callable | None = None) -> None:
    _runners[kind] = Runner(kind, run, on_give_up)


def enqueue(kind: str, *, subject=None, requested_by=None, max_attempts: int = 3) -> Job:
    """Queue a job in the current transaction; a worker starts it once the transaction commits."""
    if kind not in _runners:
        raise ValueError(f"No runner is registered for jobs of kind {kind!r}.")
    job = Job.objects.create(
        kind=kind,
        subject_type=audit_type(subject) if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        requested_by=requested_by,
        max_attempts=max_attempts,
    )
    transaction.on_commit(lambda: current_app.tasks[RUN_JOB_TASK].delay(job.pk))
    return job


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.VIGIL_JOB_LEASE_SECONDS)


def claim(job_id: int) -> Job | None:
    """Start a queued job, or restart a running one whose worker's lease ran out (the worker was lost); None when
    it finished or another worker holds it."""
    now = timezone.now()
    takeable = Q(status=J.QUEUED) | Q(status=J.RUNNING) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )
    claimed = Job.objects.filter(takeable, pk=job_id).update(
        status=J.RUNNING, attempts=F("attempts") + 1, started_at=now, lease_expires_at=_lease_until()
    )
    return Job.objects.get(pk=job_id) if claimed else None


def lost_worker_reason(times: int) -> str:
    return (
        f"Stopped: its worker stopped {times} times before finishing (killed, or out of memory). "
        "Give the workers more memory or split the input, then start it again."
    )


def execute(job_id: int) -> str:
    """Claim and run a job; returns its status. Safe to call again for the same job: a delivery that finds it
    finished, or running under another worker's lease, changes nothing."""
    job = claim(job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    if job.attempts > job.max_attempts:
        give_up(job.pk, lost_worker_reason(job.max_attempts))
        return J.FAILED
    runner = _runners[job.kind]
    try:
        with Lease(job):
            result = runner.run(job, lambda percent: report_progress(job.pk, percent))
    except JobFailed as exc:
        _finish(job.pk, J.FAILED, error=str(exc))
        return J.FAILED
    except SoftTimeLimitExceeded:
        limit = settings.VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS
        give_up(
            job.pk,
            f"Stopped: it ran longer than its time limit of {limit / 60:g} minutes (setting "
            "VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS). Split the input, or ask an administrator to raise the limit.",
        )
        return J.FAILED
    except BaseException:
        _release(job)  # the task's retry (a transient database error) takes it at once, not after the lease
        raise
    _finish(job.pk, J.SUCCEEDED, result=result or {})
    return J.SUCCEEDED


class Lease:
    """While a runner works, a thread renews its job's lease every VIGIL_JOB_HEARTBEAT_SECONDS. It renews only
    this claim (same attempt, still running): a job taken up again elsewhere is not held by a late heartbeat."""

    def __init__(self, job: Job):
        self.job_id, self.attempt = job.pk, job.attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job.pk}-lease", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)  # a renewal stuck on a lock must not hold the worker

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.VIGIL_JOB_HEARTBEAT_SECONDS):
                try:
                    if not renew(self.job_id, self.attempt):
                        logger.warning("job %s: lease lost (taken up again, or finished elsewhere)", self.job_id)
                        return
                except DatabaseError as exc:  # the next beat tries again; the lease covers a few misses
                    logger.warning("job %s: lease not renewed: %s", self.job_id, exc)
        finally:
            connections.close_all()  # this thread's own connections


def _release(job: Job) -> None:
    """Let this claim's lease pass now; if even that fails, the lease passes on its own."""
    try:
        Job.objects.filter(pk=job.pk, status=J.RUNNING, attempts=job.attempts).update(lease_expires_at=timezone.now())
    except DatabaseError:
        logger.warning("job %s: lease not released", job.pk)


def renew(job_id: int, attempt: int) -> bool:
    """Extend the lease of this claim of a running job; False when the claim is no longer the job's."""
    return bool(
        Job.objects.filter(pk=job_id, status=J.RUNNING, attempts=attempt).update(lease_expires_at=_lease_until())
    )


def recover_lost(now=None) -> dict:
    """Beat's recovery: running jobs whose lease has passed lost their worker. Each is queued again and handed to a
    worker, or, once its worker stopped max_attempts times, given up; either is audited."""
    now = now or timezone.now()
    lost = Job.objects.filter(status=J.RUNNING, lease_expires_at__lt=now).order_by("lease_expires_at")
    outcome = {"requeued": [], "failed": []}
    for job in lost[:RECOVERY_BATCH]:
        with transaction.atomic():
            if job.attempts >= job.max_attempts:
                if not Job.objects.filter(pk=job.pk, status=J.RUNNING, lease_expires_at__lt=now).exists():
                    continue  # renewed meanwhile: its worker is alive
                reason = lost_worker_reason(job.attempts)
                give_up(job.pk, reason)
                audit_record(None, "job.given_up", job, reason=reason, changes={"status": [J.RUNNING, J.FAILED]})
                outcome["failed"].append(job.pk)
                continue
            # Conditional: a heartbeat that renewed the lease meanwhile keeps the job with its worker.
            taken = Job.objects.filter(pk=job.pk, status=J.RUNNING, lease_expires_at__lt=now)
            if not taken.update(status=J.QUEUED, lease_expires_at=None):
                continue
            audit_record(
                None,
                "job.requeued",
                job,
                reason=f"Its worker stopped renewing its lease (expired {job.lease_expires_at.isoformat()}).",
                changes={"status": [J.RUNNING, J.QUEUED], "attempts": [job.attempts, job.attempts]},
            )
            transaction.on_commit(lambda pk=job.pk: current_app.tasks[RUN_JOB_TASK].delay(pk))
            outcome["requeued"].append(job.pk)
    if outcome["requeued"] or outcome["failed"]:
        logger.warning("jobs of lost workers: queued again %s, given up %s", outcome["requeued"], outcome["failed"])
    return outcome


def report_progress(job_id: int, percent: int) -> None:
    Job.objects.filter(pk=job_id, status=J.RUNNING).update(progress=max(0, min(100, int(percent))))


def give_up(job_id, reason: str) -> None:
    """Record that a live job could not be completed; its runner leaves the subject consistent first."""
    job = Job.objects.filter(pk=job_id, status__in=LIVE).first()
    if job is None:
        return
    runner = _runners.get(job.kind)
    if runner is not None and runner.on_give_up is not None:
        runner.on_give_up(job, reason)
    _finish(job.pk, J.FAILED, error=reason)


def _finish(job_id: int, status: str, *, error: str = "", result: dict | None = None) -> None:
    error = bounded(error, where=f"job {job_id}")
    Job.objects.filter(pk=job_id, status__in=LIVE).update(
        status=status,
        error=error,
        result=result or {},
        progress=100,
        finished_at=timezone.now(),
        lease_expires_at=None,
    )
