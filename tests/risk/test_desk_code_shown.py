"""The model page shows its desk's code where a trader or a trading-system integrator needs it: beside the desk's
name and in the gate section's desk query (issue 21)."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["trader", "owner"])
def test_the_model_page_and_its_gate_section_show_the_desks_code(world, browser_client, person):
    page = browser_client.as_user(getattr(world, person)).get("/models/mine/").content.decode()
    code = world.mine.desk.code
    assert f'<code data-testid="desk-code">{code}</code>' in page
    assert f'<code data-testid="gate-desk-query">GET /api/v1/gate/?desk={code}</code>' in page
