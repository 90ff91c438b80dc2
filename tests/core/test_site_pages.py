"""The site's own pages: Vigil's 404 (never Django's), an icon, and JSON errors under /api/."""

import pytest


@pytest.mark.django_db
def test_a_missing_page_is_vigils_own_not_found_page(world, browser_client):
    response = browser_client.as_user(world.developer).get("/models/no-such-model/")
    assert response.status_code == 404
    assert b"There is nothing here, or nothing you may see." in response.content
    assert b'rel="icon"' in response.content


@pytest.mark.django_db
def test_the_icon_is_served_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_api_errors_are_json(world, api):
    response = api.as_user(world.developer).get("/api/v1/models/no-such-model/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_audit_timelines_and_histories_read_as_words_not_python(world, browser_client):
    from tests.governance.lifecycle_helpers import new_draft, to_production

    to_production(world, new_draft(world), [world.compliance])  # the records hold details, dicts and lists
    for url in ("/models/mine/", "/models/mine/versions/2.0/", "/models/mine/versions/1.0/"):
        html = browser_client.as_user(world.compliance).get(f"{url}?section=history").content.decode()
        start = html.index("Audit timeline")
        timeline = html[start : html.index("</table>", start)]
        for python in ("{'", "['", "': ", "None", "True", "False"):
            assert python not in timeline, (url, python)
    history = browser_client.as_user(world.compliance).get("/models/mine/versions/2.0/").content.decode()
    assert "Signed: approved for production" in history and "Pilot → Production" in history
    assert world.compliance.get_full_name() in history
