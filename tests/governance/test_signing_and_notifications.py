import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from governance.core.models import AuditEvent, Notification, Signature
from governance.lifecycle import workflow
from governance.lifecycle.revalidation import revalidation_sweep
from risk.validation.models import Finding
from tests.factories import PASSWORD, UserFactory
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for
from tests.outbox import deliver


def totp_for(device):
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.mark.django_db
def test_it_asks_for_a_one_time_code_when_the_signer_has_an_authenticator(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.validator, name="phone", confirmed=True)
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    signoff = signoff_for(version, report)
    for token in ("", "000000"):
        with pytest.raises(ValidationError) as error:
            workflow.version_transition(
                world.validator, version, "validate", password=PASSWORD, otp_token=token, signoff=signoff
            )
        assert "otp_token" in error.value.message_dict
    assert not Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk)).exists()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp throttles guessing after a wrong code
    device.throttle_reset()  # the throttle window (1 s) has passed, as it would for a person retyping
    version = workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, otp_token=totp_for(device), signoff=signoff
    )
    assert version.status == "validated"


@pytest.mark.django_db
def test_it_emails_notifications_after_commit(world, django_capture_on_commit_callbacks):
    version = new_draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.version_transition(world.developer, version, "submit")
    assert Notification.objects.filter(user=world.validator).exists()
    assert any(world.validator.email in m.to and "submitted" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_it_reminds_owners_of_overdue_findings(world):
    from risk.validation import findings

    finding = findings.finding_raise(
        world.validator,
        world.mine_v1,
        severity="medium",
        title="Stale feed",
        description="Lag.",
        owner=world.developer,
        due_date=dt.date.today(),
    )
    Finding.objects.filter(pk=finding.pk).update(due_date=dt.date.today() - dt.timedelta(days=2))
    assert revalidation_sweep()["overdue_findings"] == 1
    assert revalidation_sweep()["overdue_findings"] == 0  # once per finding
    deliver()
    assert Notification.objects.filter(user=world.developer, kind="finding_overdue").count() == 1


@pytest.mark.django_db
def test_it_shows_each_person_their_queue(world, browser_client):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    deliver()
    page = browser_client.as_user(world.validator).get("/inbox/")
    assert [(i.what, i.subject) for i in page.context["needs_me"]] == [("Start validation", "mine 2.0")]
    assert b"submitted for your validation" in page.content
    assert b"Signature requested" in page.content  # the label the lifecycle registered for the kind
    assert browser_client.as_user(world.developer2).get("/inbox/").context["needs_me"] == []
    browser_client.as_user(world.validator).post("/inbox/")
    assert not Notification.objects.filter(user=world.validator, read_at__isnull=True).exists()


@pytest.mark.django_db
def test_it_audits_role_changes():
    user = UserFactory(username="promoted", roles=["developer"])
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name="compliance")[0])
    event = AuditEvent.objects.filter(action="user.roles_changed", object_repr="promoted").latest("id")
    assert event.changes == {"roles": [None, ["compliance"]]}
