import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Notification
from governance.lifecycle.models import Attestation
from governance.lifecycle.revalidation import attestation_sign, revalidation_sweep
from governance.lifecycle.tasks import daily_revalidation_sweep
from models_registry.models import Model
from models_registry.risk_register import risk_add, risk_summary
from tests.factories import PASSWORD
from tests.outbox import deliver

TODAY = dt.date(2026, 11, 21)


@pytest.mark.django_db
def test_it_flags_overdue_and_due_soon_models_once(world):
    Model.objects.filter(key="mine").update(next_validation_due=TODAY - dt.timedelta(days=1))
    Model.objects.filter(key="theirs").update(next_validation_due=TODAY + dt.timedelta(days=10))
    Model.objects.filter(key="draft-on-desk").update(next_validation_due=TODAY + dt.timedelta(days=300))
    result = revalidation_sweep(TODAY)
    assert result["overdue"] == 1 and result["due_soon"] == 1
    flags = dict(Model.objects.values_list("key", "revalidation_flag"))
    assert flags == {"mine": "overdue", "theirs": "due_soon", "draft-on-desk": ""}
    deliver()
    assert Notification.objects.filter(user=world.owner, kind="validation_overdue").count() == 1
    assert Notification.objects.filter(user=world.compliance, kind="validation_due_soon").count() == 1
    events = AuditEvent.objects.filter(action="model.revalidation_flag").count()
    again = revalidation_sweep(TODAY)
    assert again["overdue"] == again["due_soon"] == again["attestations_opened"] == 0
    assert AuditEvent.objects.filter(action="model.revalidation_flag").count() == events
    deliver()
    assert Notification.objects.filter(user=world.owner, kind="validation_overdue").count() == 1
    # Revalidated: the flag clears on the next sweep.
    Model.objects.filter(key="mine").update(next_validation_due=TODAY + dt.timedelta(days=365))
    assert revalidation_sweep(TODAY)["cleared"] == 1


@pytest.mark.django_db
def test_it_opens_and_signs_yearly_attestations(world):
    revalidation_sweep(TODAY)
    attestation = Attestation.objects.get(model=world.mine, year=2026)
    assert attestation.owner == world.owner
    assert not Attestation.objects.filter(model=world.draft_on_desk).exists()
    statement = "Used as approved and within limits this year."
    with pytest.raises(PermissionDenied):
        attestation_sign(world.developer, attestation, statement=statement, password=PASSWORD)
    with pytest.raises(ValidationError):
        attestation_sign(world.owner, attestation, statement=statement, password="wrong")
    signed = attestation_sign(world.owner, attestation, statement=statement, password=PASSWORD)
    assert str(signed.signature).startswith(f"Signed by {world.owner.get_full_name()} at")
    with pytest.raises(Conflict):
        attestation_sign(world.owner, attestation, statement=statement, password=PASSWORD)


@pytest.mark.django_db
def test_it_runs_as_a_scheduled_task(world):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="governance.daily_revalidation_sweep")
    assert task.enabled and task.crontab.hour == "5"
    result = daily_revalidation_sweep.apply().get()
    assert set(result) == {"due_soon", "overdue", "cleared", "attestations_opened", "overdue_findings"}


@pytest.mark.django_db
def test_it_keeps_a_risk_register_with_inherent_and_residual_scores(world, browser_client):
    risk_add(
        world.developer,
        world.mine,
        kind="model",
        title="Regime change",
        likelihood=4,
        impact=5,
        mitigations="Volatility filter",
        residual_likelihood=2,
        residual_impact=4,
        owner=world.owner,
        next_review=TODAY,
    )
    risk_add(
        world.compliance,
        world.mine,
        kind="regulatory",
        title="RTS 6 limits",
        likelihood=2,
        impact=3,
        residual_likelihood=1,
        residual_impact=3,
        owner=world.owner,
        next_review=TODAY,
    )
    summary = risk_summary(world.mine)
    assert summary["inherent"] == 20 and summary["residual"] == 8
    with pytest.raises(ValidationError) as error:
        risk_add(
            world.developer,
            world.mine,
            kind="model",
            title="Bad",
            likelihood=6,
            impact=0,
            residual_likelihood=1,
            residual_impact=1,
            owner=world.owner,
            next_review=TODAY,
        )
    assert {"likelihood", "impact"} <= set(error.value.message_dict)
    with pytest.raises(PermissionDenied):
        risk_add(
            world.validator,
            world.mine,
            kind="model",
            title="x",
            likelihood=1,
            impact=1,
            residual_likelihood=1,
            residual_impact=1,
            owner=world.owner,
            next_review=TODAY,
        )
    page = browser_client.as_user(world.auditor).get("/models/mine/")
    assert page.context["inherent"] == 20 and b"Regime change" in page.content
