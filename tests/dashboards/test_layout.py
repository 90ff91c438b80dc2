"""Arranging a dashboard page (issue 22): each person hides and orders widgets for themselves; compliance sets the
firm's default, an audited change; a widget added later shows up at the end."""

import pytest

from governance.core import widgets
from governance.core.access import FIRM_WIDE
from governance.core.models import AuditEvent
from models_registry.widgets import INVENTORY, INVENTORY_BY_DESK, VALIDATION_COVERAGE, VALIDATION_DUE
from risk.dashboards import selectors
from risk.dashboards.models import DashboardLayout

KEYS = [INVENTORY.key, INVENTORY_BY_DESK.key, VALIDATION_COVERAGE.key, VALIDATION_DUE.key]


def arrangement(order: list[str], hidden: set[str], action: str = "mine") -> dict:
    """The form as a browser posts it: every widget of the page, `order` first, the others after, shown."""
    others = [w.key for w in widgets.visible_widgets(FIRM_WIDE, "overview") if w.key not in order]
    data = {"action": action}
    for place, key in enumerate([*order, *others], start=1):
        data[f"place_{key}"] = str(place)
        if key not in hidden:
            data[f"show_{key}"] = "on"
    return data


def shown_keys(client) -> list[str]:
    return [d.widget.key for d in client.get("/dashboards/overview/").context["widgets"]][: len(KEYS)]


def inventory_keys(keys):
    return [key for key in keys if key in KEYS]


@pytest.mark.django_db
def test_a_person_hides_and_orders_widgets_for_themselves_only(world, browser_client):
    auditor = browser_client.as_user(world.auditor)
    wanted = [VALIDATION_DUE.key, INVENTORY.key, VALIDATION_COVERAGE.key, INVENTORY_BY_DESK.key]
    response = auditor.post("/dashboards/overview/layout/", arrangement(wanted, {INVENTORY_BY_DESK.key}))
    assert response.status_code == 302
    page = auditor.get("/dashboards/overview/")
    assert inventory_keys(d.widget.key for d in page.context["widgets"]) == wanted[:3]
    assert [w.key for w in page.context["hidden"]] == [INVENTORY_BY_DESK.key]
    assert not AuditEvent.objects.filter(action__startswith="dashboards.layout").exists()  # a preference
    # Someone else still sees the apps' order; the API and the CSV still answer the hidden widget.
    compliance = browser_client.as_user(world.compliance)
    assert inventory_keys(shown_keys(compliance)) == KEYS
    assert auditor.get(f"/dashboards/widgets/{INVENTORY_BY_DESK.key}/csv/").status_code == 200


@pytest.mark.django_db
def test_compliance_sets_the_firms_default_on_the_record_and_a_person_may_go_back_to_it(world, browser_client):
    compliance = browser_client.as_user(world.compliance)
    wanted = [VALIDATION_COVERAGE.key, VALIDATION_DUE.key, INVENTORY.key, INVENTORY_BY_DESK.key]
    assert compliance.post("/dashboards/overview/layout/", arrangement(wanted, set(), "firm")).status_code == 302
    event = AuditEvent.objects.get(action="dashboards.layout.firm_default")
    assert event.actor == world.compliance and event.changes["order"][1][: len(wanted)] == wanted
    auditor = browser_client.as_user(world.auditor)
    assert inventory_keys(shown_keys(auditor)) == wanted  # everyone starts from it

    mine = [INVENTORY.key, INVENTORY_BY_DESK.key, VALIDATION_COVERAGE.key, VALIDATION_DUE.key]
    auditor.post("/dashboards/overview/layout/", arrangement(mine, set()))
    assert inventory_keys(shown_keys(auditor)) == mine
    auditor.post("/dashboards/overview/layout/", {"action": "reset"})
    assert inventory_keys(shown_keys(auditor)) == wanted
    assert not DashboardLayout.objects.filter(user=world.auditor).exists()


@pytest.mark.django_db
def test_only_compliance_may_set_the_firms_default(world, browser_client):
    auditor = browser_client.as_user(world.auditor)
    page = auditor.get("/dashboards/overview/layout/")
    assert b"save-firm-default" not in page.content
    auditor.post("/dashboards/overview/layout/", arrangement(list(reversed(KEYS)), set(), "firm"))
    assert not DashboardLayout.objects.filter(user=None).exists()  # kept as the auditor's own instead
    assert DashboardLayout.objects.get(user=world.auditor).order[: len(KEYS)] == list(reversed(KEYS))


@pytest.mark.django_db
def test_hiding_everything_or_a_place_out_of_range_is_refused_beside_the_field(world, browser_client):
    client = browser_client.as_user(world.compliance)
    available = [w.key for w in selectors.arranged(world.compliance, "overview")[0]]
    response = client.post("/dashboards/overview/layout/", arrangement(available, set(available)))
    assert response.status_code == 400 and b"Keep at least one widget" in response.content
    data = arrangement(available, set())
    data[f"place_{INVENTORY.key}"] = "99"
    response = client.post("/dashboards/overview/layout/", data)
    assert response.status_code == 400 and f'data-field="place_{INVENTORY.key}"'.encode() in response.content
    assert not DashboardLayout.objects.exists()


@pytest.mark.django_db
def test_a_widget_the_layout_does_not_name_shows_at_the_end(world):
    DashboardLayout.objects.create(user=world.compliance, page="overview", order=[VALIDATION_DUE.key], hidden=[])
    shown, hidden = selectors.arranged(world.compliance, "overview")
    assert shown[0].key == VALIDATION_DUE.key and hidden == []
    assert {w.key for w in shown} >= set(KEYS)


@pytest.mark.django_db
def test_no_one_arranges_a_page_they_cannot_see(world, browser_client):
    assert browser_client.as_user(world.trader).get("/dashboards/overview/layout/").status_code == 404


@pytest.mark.django_db
def test_the_service_refuses_widgets_the_person_may_not_see_or_that_are_not_on_the_page(world):
    from django.core.exceptions import ValidationError

    from risk.dashboards import services

    with pytest.raises(ValidationError):  # the overview is not the trader's
        services.layout_save(world.trader, "overview", [INVENTORY.key], [])
    with pytest.raises(ValidationError):  # a widget of another page
        services.layout_save(world.compliance, "overview", [INVENTORY.key, "monitoring-heatmap"], [])
    with pytest.raises(ValidationError):  # hidden without being placed
        services.layout_save(world.compliance, "overview", [INVENTORY.key], ["no-such-widget"])
    assert not DashboardLayout.objects.exists()
