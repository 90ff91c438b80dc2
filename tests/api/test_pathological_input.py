"""Pathological input answers 400 naming what is wrong and changes nothing: deep nesting, over-long strings,
huge numbers, odd encodings, on the API and the token endpoint alike (never a 500, on PostgreSQL too)."""

import json

import pytest

from governance.core.models import AuditEvent
from models_registry.models import Model

DEEP = "[" * 5000 + "]" * 5000  # RecursionError in Python's json module
NESTED_40 = '{"a":' * 40 + "1" + "}" * 40  # parses, but deeper than any Vigil document


def post_raw(client, url, body: str | bytes, content_type="application/json"):
    return client.post(url, data=body, content_type=content_type)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, NESTED_40], ids=["recursion", "forty-levels"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/",
        "/api/v1/models/mine/versions/1.0/transitions/",
        "/api/v1/models/mine/versions/1.0/validation-plan/",
        "/api/v1/findings/",
        "/api/v1/auth/token/",
    ],
)
def test_it_refuses_json_nested_too_deep_with_400(body, url, world, api):
    client = api.as_user(world.compliance)
    events = AuditEvent.objects.count()
    response = client.generic("PUT" if url.endswith("validation-plan/") else "POST", url, body, "application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested" in json.dumps(response.json())
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"key": "x", "notional_at_stake": ' + "9" * 5000 + "}",  # over Python's int digit limit
        '{"key": NaN}',
        b'{"key": "\xff\xfe"}',  # not UTF-8
    ],
    ids=["huge-number", "nan", "bad-encoding"],
)
def test_it_refuses_malformed_numbers_and_encodings_with_400(body, world, api):
    response = api.as_user(world.compliance).generic("POST", "/api/v1/models/", body, "application/json")
    assert response.status_code == 400
    assert not Model.objects.filter(key="x").exists()


@pytest.mark.django_db
def test_a_token_request_with_a_very_long_username_is_a_400_naming_the_field(world, client):
    response = client.post("/api/v1/auth/token/", {"username": "u" * 300, "password": "whatever-it-is"})
    assert response.status_code == 400
    assert "username" in response.json()
    response = client.post(
        "/api/v1/auth/token/", json.dumps({"username": "u" * 300, "password": "x"}), content_type="application/json"
    )
    assert response.status_code == 400 and "username" in response.json()


@pytest.mark.django_db
def test_the_login_page_refuses_a_very_long_username_as_a_form_error(world, client):
    from axes.models import AccessAttempt

    response = client.post("/login/", {"username": "u" * 300, "password": "whatever-it-is"})
    assert response.status_code == 200 and "username" in response.context["form"].errors
    assert not AccessAttempt.objects.filter(username__startswith="uuuu").exists()  # never reached django-axes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 0),
        ([], 1),
        ({"points": [{"metric": "a", "value": 1}, {"metric": "b", "value": 2}]}, 3),
        ([1, [2, [3, {"a": [4]}]], "x"], 5),
        (json.loads('{"a":' * 32 + "1" + "}" * 32), 32),
    ],
    ids=["scalar", "empty-list", "ingest-batch", "mixed", "at-the-limit"],
)
def test_depth_counts_levels_of_containers(value, expected):
    from governance.core.api.parsers import depth

    assert depth(value) == expected


@pytest.mark.django_db
def test_a_body_at_the_nesting_limit_is_parsed_and_one_level_deeper_is_refused(world, api):
    from governance.core.api.parsers import MAX_DEPTH

    client = api.as_user(world.compliance)
    at_limit = '{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    response = client.generic("POST", "/api/v1/models/", '{"key": ' + at_limit + "}", "application/json")
    assert response.status_code == 400 and "nested" not in json.dumps(response.json())
    deeper = '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH
    response = client.generic("POST", "/api/v1/models/", '{"key": ' + deeper + "}", "application/json")
    assert response.status_code == 400 and "nested" in json.dumps(response.json())
