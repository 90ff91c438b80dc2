"""The job backbone: claim by conditional UPDATE, progress, attempts, a clean failure, giving up."""

import pytest

from governance.core import jobs
from governance.core.models import Job


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
    assert runner["runs"] == 0 and job.attempts == 4 and "Stopped after 3 attempts" in job.error
    assert runner["gave_up"] and "Stopped after 3 attempts" in runner["gave_up"][0]


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
