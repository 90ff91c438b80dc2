"""Every person a kill-switch alert reaches may open its link: the kill switch's own pages are compliance's and
the auditors', so traders, the model's people and validators are sent to what they may see (issue 21)."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from governance.core.models import Event, Notification
from governance.core.notifications import EMAIL_EVENT
from risk.alerts.models import Alert
from risk.gate import killswitch
from tests.factories import PASSWORD
from tests.outbox import deliver


def _links(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}"[^>]*>\s*<a href="([^"]+)"', html)


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["model", "desk"])
def test_each_recipient_of_a_kill_switch_alert_opens_its_links(world, browser_client, scope):
    target = {"model": world.mine} if scope == "model" else {"desk": world.desk}
    killswitch.kill_switch_engage(
        world.compliance, scope=scope, reason="Exchange outage on the equities venue.", password=PASSWORD, **target
    )
    deliver()
    alert = Alert.objects.get(kind="kill_switch_engaged")
    recipients = list(alert.recipients.all())
    usernames = {u.username for u in recipients}
    assert {"trader", "owner", "validator", "compliance"} <= usernames, usernames
    emails = {e.payload["to"]: e.payload["body"] for e in Event.objects.filter(kind=EMAIL_EVENT)}
    base = settings.VIGIL_BASE_URL.rstrip("/")
    for user in recipients:
        client = browser_client.as_user(user)
        notification = Notification.objects.get(user=user, dedupe_key=f"alert:{alert.pk}")
        page = client.get(notification.url)
        assert page.status_code == 200, (user.username, notification.url)
        links = _links(page.content.decode(), "alert-title")
        listed = re.findall(r'<td><a href="([^"]+)">Kill switch engaged', client.get("/alerts/").content.decode())
        emailed = re.findall(rf"^{re.escape(base)}(/\S*)$", emails.get(user.email, ""), re.M)
        for link in links + listed + emailed:
            assert client.get(link).status_code == 200, (user.username, link)
        assert listed and (emailed or not user.email), user.username


@pytest.mark.django_db
def test_compliance_is_still_sent_to_the_kill_switch_page(world, browser_client):
    killswitch.kill_switch_engage(
        world.compliance,
        scope="model",
        model=world.mine,
        reason="Exchange outage on the equities venue.",
        password=PASSWORD,
    )
    deliver()
    alert = Alert.objects.get(kind="kill_switch_engaged")
    page = browser_client.as_user(world.compliance).get(f"/alerts/{alert.pk}/").content.decode()
    assert _links(page, "alert-title") == [alert.url]
    assert get_user_model().objects.get(username="trader") in alert.recipients.all()


@pytest.mark.django_db
def test_the_models_recent_alerts_give_their_time_zone(world, browser_client):
    killswitch.kill_switch_engage(
        world.compliance,
        scope="model",
        model=world.mine,
        reason="Exchange outage on the equities venue.",
        password=PASSWORD,
    )
    deliver()
    alert = Alert.objects.get(kind="kill_switch_engaged")
    page = browser_client.as_user(world.owner).get("/models/mine/?section=alerts").content.decode()
    panel = page[page.index('data-testid="model-alerts"') :]
    assert f"{alert.occurred_at:%Y-%m-%d %H:%M} UTC</a>" in panel
