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
The Celery task (governance.core.tasks.run_job) acks late, is redelivered when its worker dies, and
retries transient database errors with backoff.
"""

from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.core.audit import audit_type
from governance.core.error_text import bounded
from governance.core.models import Job

RUN_JOB_TASK = "governance.run_job"
J = Job.Status
LIVE = (J.QUEUED, J.RUNNING)


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


def claim(job_id: int) -> Job | None:
    """Start (or restart, after a lost worker) a live job; None when it already finished."""
    claimed = Job.objects.filter(pk=job_id, status__in=LIVE).update(
        status=J.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now()
    )
    return Job.objects.get(pk=job_id) if claimed else None


def execute(job_id: int) -> str:
    """Claim and run a job; returns its status. Safe to call again for the same job."""
    job = claim(job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    if job.attempts > job.max_attempts:
        give_up(
            job.pk,
            f"Stopped after {job.max_attempts} attempts: the worker was lost each time (out of memory?). "
            "Give the workers more memory or split the input, then start it again.",
        )
        return J.FAILED
    runner = _runners[job.kind]
    try:
        result = runner.run(job, lambda percent: report_progress(job.pk, percent))
    except JobFailed as exc:
        _finish(job.pk, J.FAILED, error=str(exc))
        return J.FAILED
    _finish(job.pk, J.SUCCEEDED, result=result or {})
    return J.SUCCEEDED


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
        status=status, error=error, result=result or {}, progress=100, finished_at=timezone.now()
    )
