"""Login is required by default: every page of every app sends an anonymous visitor to the login page,
and only the pages that say so (login, health) answer without one. API endpoints answer 401 themselves."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

SAMPLE = {"key": "some-model", "version": "1.0", "pk": 1, "grant_id": 1}
EXEMPT_PREFIXES = ("/api/", "/admin/", "/login/", "/logout/", "/health/")


def _page_urls(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _page_urls(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names = set(entry.pattern.regex.groupindex)
            try:
                url = reverse(f"{namespace}{entry.name}", kwargs={n: SAMPLE[n] for n in names})
            except Exception:  # noqa: BLE001 - a pattern reachable only under another include
                continue
            if not url.startswith(EXEMPT_PREFIXES):
                yield url


PAGES = sorted(set(_page_urls()))


def test_it_found_the_pages_of_every_app():
    assert {"/models/", "/models/some-model/versions/1.0/", "/findings/", "/inbox/", "/policy/"} <= set(PAGES)
    assert any(url.startswith("/validation-runs/") for url in PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/login/?next="), (url, response["Location"])


@pytest.mark.django_db
def test_it_leaves_the_login_page_health_check_and_api_open_to_their_own_rules(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/health/").status_code in (200, 503)
    assert client.get("/api/v1/models/").status_code == 401
