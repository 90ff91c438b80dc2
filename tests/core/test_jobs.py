"""The job backbone: claim by conditional UPDATE, progress, attempts, a clean failure, giving up, the lease and the
recovery of jobs whose worker was lost."""

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from governance.core import jobs
from governance.core.models import AuditEvent, Job


@pytest.fixture
def runner(monkeypatch):
    """A job kind whose behaviour each test sets: `runner.behaviour(job, progress)`."""
    state = {"runs": 0, "gave_up": []}

    def run(job, progress):
        state["runs"] += 1
        progress(40)
        assert Job.objects.get(pk=job.pk).progress == 40
        return state["behaviour"](job)

    monkeypatch.setitem(
        jobs._runners, "test", jobs.Runner("test", run, lambda job, reason: state["gave_up"].append(reason))
    )
    return state


@pytest.mark.django_db
def test_it_runs_a_job_once_and_records_its_outcome(runner, world):
    runner["behaviour"] = lambda job: {"answer": 42}
    job = jobs.enqueue("test", subject=world.mine, requested_by=world.compliance)
    assert (job.status, job.subject_type, job.subject_id) == ("queued", "models_registry.model", str(world.mine.pk))
    assert jobs.execute(job.pk) == "succeeded"
    assert jobs.execute(job.pk) == "succeeded"  # a redelivered message does not run it again
    job.refresh_from_db()
    assert runner["runs"] == 1 and job.attempts == 1 and job.result == {"answer": 42} and job.progress == 100
    assert job.started_at and job.finished_at


@pytest.mark.django_db
def test_a_job_that_cannot_succeed_fails_with_its_reason(runner):
    def bad_input(job):
        raise jobs.JobFailed("column y_pred is missing")

    runner["behaviour"] = bad_input
    job = jobs.enqueue("test")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "column y_pred is missing" and runner["gave_up"] == []


@pytest.mark.django_db
def test_a_job_whose_worker_dies_on_every_delivery_stops_after_its_attempts(runner):
    runner["behaviour"] = lambda job: None
    job = jobs.enqueue("test", max_attempts=3)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=3)  # three deliveries lost their worker
    assert jobs.execute(job.pk) == "failed"  # the fourth
    job.refresh_from_db()
    assert runner["runs"] == 0 and job.attempts == 4 and "its worker stopped 3 times" in job.error
    assert runner["gave_up"] and "its worker stopped 3 times" in runner["gave_up"][0]


@pytest.mark.django_db
def test_giving_up_lets_the_runner_clean_up_and_ignores_finished_jobs(runner):
    runner["behaviour"] = lambda job: None
    live, done = jobs.enqueue("test"), jobs.enqueue("test")
    jobs.execute(done.pk)
    jobs.give_up(live.pk, "OperationalError: retries spent")
    jobs.give_up(done.pk, "late failure report")
    live.refresh_from_db()
    done.refresh_from_db()
    assert live.status == "failed" and live.error == "OperationalError: retries spent"
    assert done.status == "succeeded" and runner["gave_up"] == ["OperationalError: retries spent"]


@pytest.mark.django_db
def test_it_refuses_a_kind_nobody_runs():
    with pytest.raises(ValueError, match="No runner"):
        jobs.enqueue("nobody-runs-this")


def lost(job, *, attempts=1, seconds_ago=1):
    """The job as its worker left it when it died: running, its lease passed `seconds_ago`."""
    expired = timezone.now() - timedelta(seconds=seconds_ago)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=attempts, lease_expires_at=expired)


@pytest.mark.django_db
def test_a_running_job_holds_a_lease_that_its_worker_renews_and_finishing_releases(runner, settings):
    settings.VIGIL_JOB_LEASE_SECONDS = 60
    seen = {}

    def look(job):
        seen["lease"] = Job.objects.get(pk=job.pk).lease_expires_at
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())  # about to pass
        assert jobs.renew(job.pk, job.attempts)  # what the heartbeat thread does every VIGIL_JOB_HEARTBEAT_SECONDS
        seen["renewed"] = Job.objects.get(pk=job.pk).lease_expires_at
        assert not jobs.renew(job.pk, job.attempts + 1)  # another claim's heartbeat holds nothing of this one

    runner["behaviour"] = look
    job = jobs.enqueue("test")
    before = timezone.now()
    assert jobs.execute(job.pk) == "succeeded"
    assert before + timedelta(seconds=59) < seen["lease"] <= timezone.now() + timedelta(seconds=60)
    assert seen["renewed"] > before + timedelta(seconds=59)
    assert Job.objects.get(pk=job.pk).lease_expires_at is None


@pytest.mark.django_db
def test_another_delivery_does_not_start_a_job_whose_worker_holds_its_lease(runner):
    runner["behaviour"] = lambda job: None
    job = jobs.enqueue("test")
    Job.objects.filter(pk=job.pk).update(
        status="running", attempts=1, lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert jobs.execute(job.pk) == "running"  # the broker's duplicate: acknowledged, nothing run
    assert runner["runs"] == 0 and Job.objects.get(pk=job.pk).attempts == 1
    lost(job)
    assert jobs.execute(job.pk) == "succeeded"  # its lease passed: the worker is gone, this delivery takes it
    assert runner["runs"] == 1 and Job.objects.get(pk=job.pk).attempts == 2


@pytest.mark.django_db
def test_recovery_queues_again_the_jobs_of_lost_workers_and_a_worker_completes_them(
    runner, django_capture_on_commit_callbacks
):
    runner["behaviour"] = lambda job: {"done": True}
    dead, alive, queued, finished = (jobs.enqueue("test") for _ in range(4))
    lost(dead, attempts=1)
    Job.objects.filter(pk=alive.pk).update(
        status="running", attempts=1, lease_expires_at=timezone.now() + timedelta(seconds=5)
    )
    Job.objects.filter(pk=finished.pk).update(status="succeeded", lease_expires_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs.recover_lost()
    assert outcome == {"requeued": [dead.pk], "failed": []}
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.result) == ("succeeded", 2, {"done": True})  # handed to a worker
    assert Job.objects.get(pk=alive.pk).status == "running" and Job.objects.get(pk=queued.pk).status == "queued"
    event = AuditEvent.objects.get(action="job.requeued")
    assert (event.object_type, event.object_id, event.actor_id) == ("governance.job", str(dead.pk), None)
    assert event.changes["status"] == ["running", "queued"] and "stopped renewing its lease" in event.reason
    assert jobs.recover_lost() == {"requeued": [], "failed": []}  # nothing left to recover


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_max_attempts_times_fails_saying_so_and_is_not_queued_again(
    runner, django_capture_on_commit_callbacks
):
    runner["behaviour"] = lambda job: None
    job = jobs.enqueue("test", max_attempts=3)
    lost(job, attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recover_lost() == {"requeued": [], "failed": [job.pk]}
    assert runner["runs"] == 0  # not handed to a worker again
    job.refresh_from_db()
    assert job.status == "failed" and "its worker stopped 3 times" in job.error and job.lease_expires_at is None
    assert runner["gave_up"] == [job.error]  # the runner left its subject consistent
    assert AuditEvent.objects.get(action="job.given_up").object_id == str(job.pk)


@pytest.mark.django_db
def test_a_job_past_its_soft_time_limit_fails_saying_so(runner, settings):
    settings.VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS = 600

    def too_long(job):
        raise SoftTimeLimitExceeded()

    runner["behaviour"] = too_long
    job = jobs.enqueue("test")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert "longer than its time limit of 10 minutes (setting VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS)" in job.error
    assert runner["gave_up"] == [job.error]


@pytest.mark.django_db
def test_a_job_whose_runner_raised_is_left_for_the_task_retry_to_take_at_once(runner):
    """A transient database error: the Celery task retries within seconds, before the lease would pass."""
    from django.db import OperationalError

    calls = []

    def flaky(job):
        calls.append(job.attempts)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return {"ok": True}

    runner["behaviour"] = flaky
    job = jobs.enqueue("test")
    with pytest.raises(OperationalError):
        jobs.execute(job.pk)
    assert jobs.execute(job.pk) == "succeeded"  # the retry
    assert calls == [1, 2]


@pytest.mark.django_db
def test_a_huge_error_message_is_kept_cut_with_a_note_and_logged_whole(runner, caplog):
    from governance.core.error_text import MAX_CHARS

    huge = "row 7: " + "x" * 1_200_000  # a message built from a file's content, 1.2 MB

    def bad_input(job):
        raise jobs.JobFailed(huge)

    runner["behaviour"] = bad_input
    job = jobs.enqueue("test")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert len(job.error) <= MAX_CHARS and job.error.startswith("row 7: xxx")
    assert "1,200,007 characters in all" in job.error and "application log" in job.error
    assert any(huge in record.getMessage() for record in caplog.records)
