import pytest
from rest_framework.test import APIClient

from tests.base import world  # noqa: F401  (fixture)


@pytest.fixture
def api():
    """An API client; `api.as_user(u)` authenticates with a token of u's (one per user and test, issued as the token
    endpoint issues them: a person's expires), as trading systems do."""
    from tests.factories import token_for

    client = APIClient()
    tokens = {}

    def as_user(user):
        if user.pk not in tokens:
            tokens[user.pk] = token_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[user.pk]}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def browser_client(client):
    """Django's test client logged in through the session, as a person in a browser."""

    def as_user(user):
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests, and a cached entry from
    an earlier test (a queue badge, a gate decision) must not answer for rows that no longer exist."""
    from django.core.cache import cache

    cache.clear()
    yield
