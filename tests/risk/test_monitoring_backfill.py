"""Backfills: a CSV or Parquet file of past monitoring data, checked from its bytes, stored as a job in chunks
through the ingest services (each chunk once, whatever the deliveries), a refused chunk failing the job with
the file's rows and fields while the chunks before it stay stored."""

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core import jobs
from governance.core.models import Job
from risk.monitoring import backfill
from risk.monitoring.models import BackfillUpload, IngestBatch, MetricPoint, Prediction

BACKFILLS = "/api/v1/models/mine/monitoring/backfills/"
NOW = timezone.now().replace(microsecond=0)
START = NOW - dt.timedelta(days=400)  # backfills carry old times: that is their point


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def points_csv(n: int, bad: dict | None = None) -> bytes:
    lines = ["metric,timestamp,value"]
    for i in range(n):
        cells = ["accuracy", z(START + dt.timedelta(hours=i)), f"{0.5 + i / 1000}"]
        for column, value in (bad or {}).get(i + 1, {}).items():  # keyed by the file's row, from 1
            cells[["metric", "timestamp", "value"].index(column)] = value
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def predictions_parquet(n: int) -> bytes:
    table = pa.table(
        {
            "id": [f"p-{i}" for i in range(n)],
            "timestamp": pa.array([START + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "prediction": [i % 2 for i in range(n)],
            "score": [0.4 + (i % 5) / 10 for i in range(n)],
            "f1": [float(i) for i in range(n)],
            "f2": [1.0] * n,
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=3)  # row groups that do not line up with the chunks
    return buffer.getvalue()


def post(api, user, content: bytes, name="data.csv", **fields):
    body = {"file": SimpleUploadedFile(name, content), "kind": "points"} | fields
    return api.as_user(user).post(BACKFILLS, body, format="multipart")


@pytest.mark.django_db
def test_a_csv_of_points_is_backfilled_through_its_job_in_chunks(world, api, settings, media):
    settings.VIGIL_MONITORING_MAX_BATCH = 4
    response = post(api, world.developer, points_csv(10))
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["rows_total"], body["rows_stored"], body["format"]) == ("queued", 10, 0, "csv")
    assert (body["version"], body["kind"], body["uploaded_by"], body["progress"]) == ("1.0", "points", "developer", 0)
    upload = BackfillUpload.objects.get(pk=body["id"])
    assert upload.file.name.startswith("monitoring-backfills/") and "data" not in upload.file.name  # a random name
    assert (media / upload.file.name).read_bytes() == points_csv(10) and upload.original_name == "data.csv"
    job = Job.objects.get(pk=body["job"])
    assert (job.kind, job.subject_id, job.requested_by) == ("monitoring_backfill", str(body["id"]), world.developer)

    assert jobs.execute(job.pk) == "succeeded"
    keys = sorted(IngestBatch.objects.values_list("idempotency_key", "rows"))
    assert keys == [(f"backfill-{body['id']}-{n}", rows) for n, rows in enumerate([4, 4, 2])]
    assert MetricPoint.objects.count() == 10
    assert min(MetricPoint.objects.values_list("timestamp", flat=True)) == START
    done = api.as_user(world.compliance).get(f"{BACKFILLS}{body['id']}/").json()
    assert (done["status"], done["progress"], done["rows_stored"], done["rows_total"]) == ("succeeded", 100, 10, 10)
    assert done["finished_at"] and done["error"] == ""
    assert Job.objects.get(pk=job.pk).progress == 100


@pytest.mark.django_db
def test_a_parquet_of_predictions_and_a_csv_of_their_outcomes_are_backfilled(world, settings):
    settings.VIGIL_MONITORING_MAX_BATCH = 4
    parquet = SimpleUploadedFile("log.parquet", predictions_parquet(9))
    upload = backfill.backfill_upload(world.owner, world.mine, parquet, "predictions", "1.0")
    assert (upload.format, upload.rows_total, upload.version) == ("parquet", 9, world.mine_v1)
    assert jobs.execute(upload.job_id) == "succeeded"
    assert Prediction.objects.count() == 9
    p3 = Prediction.objects.get(prediction_id="p-3")
    assert p3.features == {"f1": 3.0, "f2": 1.0} and p3.score == pytest.approx(0.7) and p3.prediction == 1.0
    assert p3.timestamp == START + dt.timedelta(minutes=3)

    outcomes = SimpleUploadedFile("outcomes.csv", b"id,outcome\np-1,1\np-3,0\n")
    labels = backfill.backfill_upload(world.developer, world.mine, outcomes, "outcomes")
    assert jobs.execute(labels.job_id) == "succeeded"
    assert dict(Prediction.objects.filter(outcome__isnull=False).values_list("prediction_id", "outcome")) == {
        "p-1": 1.0,
        "p-3": 0.0,
    }
    labels.refresh_from_db()
    assert (labels.status, labels.rows_stored, labels.rows_total) == ("succeeded", 2, 2)


@pytest.mark.django_db
def test_a_bad_row_fails_the_job_naming_its_file_row_and_field_and_earlier_chunks_stay(world, settings):
    settings.VIGIL_MONITORING_MAX_BATCH = 4
    content = points_csv(12, bad={7: {"timestamp": z(NOW + dt.timedelta(days=2))}, 8: {"value": "high"}})
    upload = backfill.backfill_upload(world.developer, world.mine, SimpleUploadedFile("p.csv", content), "points")
    assert jobs.execute(upload.job_id) == "failed"
    upload.refresh_from_db()
    assert (upload.status, upload.rows_stored) == ("failed", 4)
    assert upload.error.startswith("Rows 1-4 were stored; the file stopped at row 7:")
    assert "row 7, timestamp: The time is in the future;" in upload.error
    assert "row 8, value: Give a number." in upload.error
    assert "Rows 5-8 were refused together" in upload.error and "upload rows 5 onwards again" in upload.error
    assert Job.objects.get(pk=upload.job_id).error == upload.error
    assert MetricPoint.objects.count() == 4  # the first chunk stays; nothing from the refused chunk on


@pytest.mark.django_db
def test_a_redelivered_job_carries_on_and_stores_no_chunk_twice(world, settings, monkeypatch):
    settings.VIGIL_MONITORING_MAX_BATCH = 3
    upload = backfill.backfill_upload(world.developer, world.mine, SimpleUploadedFile("p.csv", points_csv(7)), "points")

    class WorkerLost(BaseException):
        pass

    def lost(job_id, percent):
        raise WorkerLost  # the worker dies once the first chunk is stored

    monkeypatch.setattr(jobs, "report_progress", lost)
    with pytest.raises(WorkerLost):
        jobs.execute(upload.job_id)
    assert MetricPoint.objects.count() == 3 and Job.objects.get(pk=upload.job_id).status == "running"
    monkeypatch.undo()

    assert jobs.execute(upload.job_id) == "succeeded"  # the broker redelivers it
    assert jobs.execute(upload.job_id) == "succeeded"  # and once more: a finished job does nothing
    assert MetricPoint.objects.count() == 7 and IngestBatch.objects.count() == 3
    upload.refresh_from_db()
    assert (upload.status, upload.rows_stored) == ("succeeded", 7)
    assert Job.objects.get(pk=upload.job_id).attempts == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,content,message",
    [
        ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "neither CSV"),
        ("data.parquet", b"PAR1" + bytes(64), "truncated"),
        ("data.csv", b"metric,when,value\naccuracy,2020-01-01T00:00:00Z,1\n", "no column timestamp"),
        ("data.csv", b"metric,timestamp,value,colour\naccuracy,2020-01-01T00:00:00Z,1,red\n", "unknown columns"),
        ("data.csv", b"metric,timestamp,value\n", "no rows"),
    ],
)
def test_other_files_are_refused_naming_the_file_and_nothing_is_stored(name, content, message, world, api, media):
    response = post(api, world.developer, content, name=name)
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["file"])
    assert not BackfillUpload.objects.exists() and not Job.objects.exists()
    assert not [p for p in (media / "monitoring-backfills").rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_an_empty_or_oversized_file_and_a_bad_kind_or_version_are_refused(world, api, settings):
    assert "file" in post(api, world.developer, b"").json()
    settings.VIGIL_MONITORING_BACKFILL_MAX_MB = 1
    big = points_csv(2) + b"accuracy,2020-01-01T00:00:00Z,1\n" * 40_000
    response = post(api, world.developer, big)
    assert response.status_code == 400 and "larger than the limit of 1 MB" in response.json()["file"][0]
    assert "kind" in post(api, world.developer, points_csv(2), kind="weather").json()
    wrong = post(api, world.developer, points_csv(2), version="9.9")
    assert wrong.status_code == 400 and "version" in wrong.json()
    assert not BackfillUpload.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,expected", [("outsider", 404), ("developer2", 404), ("trader", 403), ("validator", 403)]
)
def test_only_the_team_uploads_and_others_get_404_or_403(persona, expected, world, api):
    assert post(api, getattr(world, persona), points_csv(2)).status_code == expected
    assert not BackfillUpload.objects.exists()


@pytest.mark.django_db
def test_progress_is_read_by_those_who_see_the_model_only(world, api):
    upload = backfill.backfill_upload(world.developer, world.mine, SimpleUploadedFile("p.csv", points_csv(2)), "points")
    url = f"{BACKFILLS}{upload.pk}/"
    assert api.as_user(world.trader).get(url).json()["status"] == "queued"
    assert api.as_user(world.outsider).get(url).status_code == 404
    assert api.as_user(world.developer2).get(url).status_code == 404
    other = f"/api/v1/models/theirs/monitoring/backfills/{upload.pk}/"
    assert api.as_user(world.compliance).get(other).status_code == 404  # not an upload of that model
    assert api.as_user(world.compliance).get(f"{BACKFILLS}999999999999999999/").status_code == 404


@pytest.mark.django_db
def test_the_page_uploads_a_file_and_follows_it_until_it_ends(world, browser_client, settings):
    page = "/monitoring/backfills/mine/"
    client = browser_client.as_user(world.developer)
    assert 'data-testid="backfill-upload"' in client.get(page).content.decode()
    response = client.post(page, {"kind": "points", "version": "", "file": SimpleUploadedFile("p.csv", points_csv(3))})
    assert response.status_code == 302 and response.url == page
    upload = BackfillUpload.objects.get()
    html = client.get(page).content.decode()
    assert 'http-equiv="refresh"' in html and "p.csv" in html and "Queued" in html
    jobs.execute(upload.job_id)
    html = client.get(page).content.decode()
    assert 'http-equiv="refresh"' not in html and "Succeeded" in html

    refused = client.post(page, {"kind": "points", "file": SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n\x00")})
    assert refused.status_code == 200 and "neither CSV" in refused.content.decode()
    trader = browser_client.as_user(world.trader)
    assert 'data-testid="backfill-upload"' not in trader.get(page).content.decode()
    assert trader.post(page, {"kind": "points", "file": SimpleUploadedFile("p.csv", points_csv(1))}).status_code == 403
    assert browser_client.as_user(world.outsider).get(page).status_code == 404
    assert BackfillUpload.objects.count() == 1
