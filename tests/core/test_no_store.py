"""No cache keeps an API answer or a download (Cache-Control: no-store), errors included; the gate's decisions are
the one exception, by design: private, a second's max-age and an ETag, replayed as such by its fast lane."""

import pytest

from risk.exports.models import Export
from risk.validation.models import Evidence
from tests.exports.test_audit_log_export import run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path,status",
    [
        ("/api/v1/models/", 200),
        ("/api/v1/models/mine/", 200),
        ("/api/v1/models/no-such-model/", 404),
        ("/api/v1/audit-events/", 200),
    ],
)
def test_api_answers_are_never_stored(world, api, path, status):
    answer = api.as_user(world.compliance).get(path)
    assert answer.status_code == status and answer["Cache-Control"] == "no-store"


def test_refusals_are_never_stored_either(api):
    answer = api.get("/api/v1/models/")
    assert answer.status_code == 401 and answer["Cache-Control"] == "no-store"


def test_evidence_downloads_are_never_stored(world, api, browser_client):
    evidence = Evidence.objects.filter(version=world.mine_v1).first()
    page = browser_client.as_user(world.compliance).get(f"/evidence/{evidence.pk}/download/")
    assert page.status_code == 200 and page["Content-Disposition"].startswith("attachment")
    assert page["Cache-Control"] == "no-store"
    path = f"/api/v1/models/mine/versions/1.0/evidence/{evidence.pk}/"
    answer = api.as_user(world.compliance).get(path)
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"


def test_export_downloads_are_never_stored(world, api, browser_client):
    export = run(api, world.compliance)
    answer = api.as_user(world.compliance).get(f"/api/v1/exports/{export.pk}/download/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    export = run(api, world.compliance)
    page = browser_client.as_user(world.compliance).get(f"/exports/{export.pk}/download/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert Export.objects.count() == 2


def test_pages_and_static_files_keep_their_own_caching(world, browser_client):
    page = browser_client.as_user(world.compliance).get("/models/")
    assert page.status_code == 200 and "no-store" not in page.get("Cache-Control", "")


def test_the_gate_answers_stay_cacheable_for_a_second_with_an_etag(world, api, settings):
    client = api.as_user(world.trader)
    answer = client.get("/api/v1/gate/mine/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == f"private, max-age={settings.VIGIL_GATE_MAX_AGE_SECONDS}" and answer["ETag"]
    again = client.get("/api/v1/gate/mine/", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304 and again["Cache-Control"] == answer["Cache-Control"]
    desk = client.get("/api/v1/gate/", {"desk": world.desk.code})
    assert desk.status_code == 200 and desk["Cache-Control"] == answer["Cache-Control"]
    # Whatever else the gate's app answers is an API answer like any other.
    assert client.get("/api/v1/gate/no-such-model/")["Cache-Control"] == "no-store"
    assert api.as_user(world.compliance).get("/api/v1/kill-switch/")["Cache-Control"] == "no-store"
