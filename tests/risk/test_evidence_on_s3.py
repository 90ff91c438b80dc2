"""Evidence on an S3-compatible store, chosen by settings alone (moto stands in for the object store)."""

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from moto import mock_aws

from models_registry.models import Model, ModelVersion
from risk.validation import runs as validation
from risk.validation import services

BUCKET = "vigil-evidence-test"


@pytest.fixture
def s3_storage(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-2")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "eu-west-2", "file_overwrite": False},
            },
        }
        yield client


@pytest.mark.django_db
def test_evidence_and_reports_live_in_the_bucket_and_runs_read_them(world, validating, api, s3_storage):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    ModelVersion.objects.filter(pk=validating.pk).update(claimed_performance={})
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    rows = "\n".join(
        f"2026-01-01T00:{i // 60:02d}:{i % 60:02d},{i % 2},{(i // 2) % 2},{(i % 7) / 7:.4f}" for i in range(120)
    )
    content = f"timestamp,y_true,y_pred,y_score\n{rows}\n".encode()
    dataset = services.evidence_add(
        world.developer, version, kind="dataset", file=SimpleUploadedFile("preds.csv", content)
    )
    stored = s3_storage.get_object(Bucket=BUCKET, Key=dataset.file.name)["Body"].read()
    assert stored == content

    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, dataset)
    assert validation.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    report = s3_storage.get_object(Bucket=BUCKET, Key=run.report.file.name)["Body"].read()
    assert report.startswith(b"%PDF-")

    response = api.as_user(world.validator).get(f"/api/v1/models/mine/versions/2.0/evidence/{dataset.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == content
