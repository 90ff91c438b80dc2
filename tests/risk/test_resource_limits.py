"""Resource limits: a table beyond the upload limits is refused from its footer or line count before any data is
read (at upload with a 400 beside the file, at run time with the run failed), and a run computes in a child
process whose memory and time limits fail the run, once, while the worker lives on."""

import io
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.core.models import Job
from models_registry.models import Model
from risk.monitoring.models import BackfillUpload
from risk.validation import runs as validation
from risk.validation import services
from risk.validation.models import Evidence


def bomb(rows: int, names=("timestamp", "y_true", "y_pred", "y_score")) -> bytes:
    """A Parquet file of one repeated value per column: a few kilobytes that decompress to 8 bytes a value."""
    buffer = io.BytesIO()
    columns = {name: np.zeros(rows) for name in names}
    if "timestamp" in columns:
        columns["timestamp"] = pa.array(np.zeros(rows, dtype="int64")).cast(pa.timestamp("s"))
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def classifier_log(rows: int = 60) -> bytes:
    lines = "\n".join(
        f"2026-01-01T00:{i // 60:02d}:{i % 60:02d},{i % 2},{(i // 2) % 2},{(i % 7) / 7:.4f}" for i in range(rows)
    )
    return f"timestamp,y_true,y_pred,y_score\n{lines}\n".encode()


@pytest.fixture
def classifier(world, validating):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    validating.model.refresh_from_db()
    validation.plan_save(world.validator, validating)
    return validating


def evidence_upload(api, user, name, content):
    return api.as_user(user).post(
        "/api/v1/models/mine/versions/2.0/evidence/",
        {"file": SimpleUploadedFile(name, content), "kind": "dataset", "description": ""},
        format="multipart",
    )


def run_on(world, version, name, content, capture):
    dataset = services.evidence_add(world.developer, version, kind="dataset", file=SimpleUploadedFile(name, content))
    with capture(execute=True):
        run = validation.run_start(world.validator, version, dataset)
    run.refresh_from_db()
    return run


@pytest.mark.django_db
@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("VIGIL_UPLOAD_MAX_DECOMPRESSED_MB", 32, "holds 61 MiB once decompressed; the limit is 32 MiB"),
        ("VIGIL_UPLOAD_MAX_ROWS", 1_000_000, "has 2,000,000 rows; the limit is 1,000,000 rows"),
        ("VIGIL_UPLOAD_MAX_COLUMNS", 3, "has 4 columns; the limit is 3"),
    ],
)
def test_a_parquet_upload_beyond_a_limit_is_refused_from_its_footer(
    setting, value, message, world, api, classifier, settings
):
    content = bomb(2_000_000)
    assert len(content) < 100_000  # 61 MiB of values in under 100 KB
    setattr(settings, setting, value)
    response = evidence_upload(api, world.developer, "bomb.parquet", content)
    assert response.status_code == 400
    assert message in response.json()["file"][0] and f"(setting {setting})" in response.json()["file"][0]
    assert not Evidence.objects.filter(version=classifier).exists()


@pytest.mark.django_db
def test_a_csv_upload_with_more_lines_or_columns_than_the_limits_is_refused(world, api, classifier, settings):
    settings.VIGIL_UPLOAD_MAX_ROWS = 50
    response = evidence_upload(api, world.developer, "log.csv", classifier_log(60))
    assert response.status_code == 400 and "has 60 data lines; the limit is 50 rows" in response.json()["file"][0]
    settings.VIGIL_UPLOAD_MAX_ROWS, settings.VIGIL_UPLOAD_MAX_COLUMNS = 60, 3
    response = evidence_upload(api, world.developer, "log.csv", classifier_log(60))
    assert response.status_code == 400 and "has 4 columns; the limit is 3" in response.json()["file"][0]
    settings.VIGIL_UPLOAD_MAX_COLUMNS = 4
    assert evidence_upload(api, world.developer, "log.csv", classifier_log(60)).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["log.parquet", "log.csv"])
def test_a_stored_file_beyond_the_limits_fails_its_run_before_any_data_is_read(
    name, world, classifier, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A file stored before the limits were lowered: the run reads its footer or counts its lines, never parses it."""

    def never(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(pq, "read_table", never)
    monkeypatch.setattr(pacsv, "read_csv", never)
    content = bomb(100) if name.endswith(".parquet") else classifier_log(100)
    dataset = services.evidence_add(world.developer, classifier, kind="dataset", file=SimpleUploadedFile(name, content))
    settings.VIGIL_UPLOAD_MAX_ROWS = 99
    with django_capture_on_commit_callbacks(execute=True):
        run = validation.run_start(world.validator, classifier, dataset)
    run.refresh_from_db()
    assert run.status == "failed" and run.results == [] and run.report is None
    assert run.error.startswith(f"{name}: the file has 100 ")
    assert "the limit is 99 rows (setting VIGIL_UPLOAD_MAX_ROWS)" in run.error


@pytest.mark.django_db
def test_a_run_that_exhausts_its_memory_fails_saying_so_once_and_the_worker_carries_on(
    world, classifier, settings, django_capture_on_commit_callbacks
):
    # The file is within the upload limits; its 366 MiB of values are not within 16 MiB. Far more than 16 MiB:
    # the child's limit is its address space at the fork plus the budget, and a process that has run other
    # tests holds allocator arenas the child may fill before it maps anything new (61 MiB fitted in CI).
    settings.VIGIL_VALIDATION_MEMORY_MB = 16
    run = run_on(world, classifier, "bomb.parquet", bomb(12_000_000), django_capture_on_commit_callbacks)
    assert run.status == "failed" and run.results == [] and run.report is None
    assert "ran out of its 16 MiB memory limit (setting VIGIL_VALIDATION_MEMORY_MB)" in run.error
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.attempts) == ("failed", 1) and "16 MiB memory limit" in job.error  # not retried
    # The process that ran it (here, the test's) is whole: the next run succeeds in it.
    settings.VIGIL_VALIDATION_MEMORY_MB = 4096
    assert run_on(world, classifier, "log.csv", classifier_log(), django_capture_on_commit_callbacks).status == (
        "succeeded"
    )


@pytest.mark.django_db
def test_a_run_past_its_time_limit_is_stopped_and_fails_saying_so(
    world, classifier, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """About a second: the time limit is one."""
    from risk.validation import engine

    monkeypatch.setattr(engine, "compute", lambda run, on_progress: time.sleep(60))
    settings.VIGIL_VALIDATION_TIME_LIMIT_SECONDS = 1
    started = time.monotonic()
    run = run_on(world, classifier, "log.csv", classifier_log(), django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 30
    assert run.status == "failed"
    assert "took longer than its time limit of 1 seconds (setting VIGIL_VALIDATION_TIME_LIMIT_SECONDS)" in run.error


@pytest.mark.django_db
def test_a_backfill_beyond_the_limits_is_refused_at_upload(world, api, settings):
    settings.VIGIL_UPLOAD_MAX_ROWS = 1_000_000
    names = ("id", "timestamp", "prediction", "momentum")
    response = api.as_user(world.developer).post(
        "/api/v1/models/mine/monitoring/backfills/",
        {"file": SimpleUploadedFile("log.parquet", bomb(2_000_000, names)), "kind": "predictions"},
        format="multipart",
    )
    assert response.status_code == 400
    assert (
        "has 2,000,000 rows; the limit is 1,000,000 rows (setting VIGIL_UPLOAD_MAX_ROWS)" in response.json()["file"][0]
    )
    settings.VIGIL_UPLOAD_MAX_ROWS = 1
    points = b"metric,timestamp,value\naccuracy,2020-01-01T00:00:00Z,1\naccuracy,2020-01-02T00:00:00Z,1\n"
    response = api.as_user(world.developer).post(
        "/api/v1/models/mine/monitoring/backfills/",
        {"file": SimpleUploadedFile("points.csv", points), "kind": "points"},
        format="multipart",
    )
    assert response.status_code == 400 and "has 2 data lines; the limit is 1 rows" in response.json()["file"][0]
    assert not BackfillUpload.objects.exists()
