"""The backfill page is linked from the model's monitoring section for those who may backfill (issue 21)."""

import pytest

from risk.monitoring import proposals


@pytest.mark.django_db
@pytest.mark.parametrize("person, linked", [("developer", True), ("owner", True), ("validator", False)])
def test_the_monitoring_section_links_the_backfill_page_to_who_may_backfill(world, browser_client, person, linked):
    proposals.propose(world.mine_v1)
    client = browser_client.as_user(getattr(world, person))
    page = client.get("/models/mine/?section=monitoring").content.decode()
    assert ('href="/monitoring/backfills/mine/" data-testid="backfill-link"' in page) is linked
    if linked:
        assert client.get("/monitoring/backfills/mine/").status_code == 200
