import pytest

from governance.core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_it_locks_out_repeated_failed_logins(client, settings):
    UserFactory(username="target")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "target", "password": "guess-guess"})
    response = client.post("/login/", {"username": "target", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed", object_repr="target").count() >= 5


@pytest.mark.django_db
def test_it_locks_out_token_guessing_too(api, settings):
    UserFactory(username="robot")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": "robot", "password": "nope-nope"}, format="json")
    response = api.post("/api/v1/auth/token/", {"username": "robot", "password": PASSWORD}, format="json")
    assert response.status_code == 429  # as the login page answers a locked-out name
    assert "token" not in response.json() and "locked" in response.json()["detail"]
