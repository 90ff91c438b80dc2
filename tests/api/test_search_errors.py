"""A refused search term answers in the schema's error shape: the `search` field with its message."""

import pytest

from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_nul_in_the_search_term_is_a_400_naming_the_search_field(client):
    client.force_login(UserFactory(roles=["compliance"]))
    response = client.get("/api/v1/findings/?search=%00")
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}
