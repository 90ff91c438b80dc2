"""The kill switch (MiFID II RTS 6 Art. 12): compliance stops one model, a desk's models, or every model.

Engaging signs the stop, records it, and in the same transaction suspends every version in pilot or production
in its scope (each a lifecycle step, audited, its team notified); the gate answers blocked from the next request,
also for a model that reaches pilot while the stop stands. Releasing signs again and resumes exactly the versions
the stop suspended and nothing has moved since; after a firm-wide stop it takes two compliance signatures from
two people. A test engages the block for every model inside a transaction that is rolled back and reads each
decision through the code that answers trading systems (`kill_switch_test`), kept as evidence.
"""

import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from governance.core import signatures
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import Desk, Signature
from governance.core.notifications import raise_alert
from governance.core.policy import policy_in_force
from governance.core.system import system_user
from governance.lifecycle import workflow
from governance.lifecycle.models import VersionTransition
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model, ModelVersion
from risk.gate import decisions, generations
from risk.gate.access import uses_kill_switch
from risk.gate.models import KillSwitch, KillSwitchSuspension, KillSwitchTest

MIN_REASON = 20
LIVE = (S.PILOT, S.PRODUCTION)


def _require_compliance(user) -> None:
    if not uses_kill_switch(user):
        raise PermissionDenied("Only compliance uses the kill switch.")


def _check_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({field: [f"Say why, in at least {MIN_REASON} characters; it is kept as evidence."]})
    if len(reason) > 5000:
        raise ValidationError({field: ["Keep the reason under 5,000 characters."]})
    return reason


def resolve_scope(scope: str, model: Model | None = None, desk: Desk | None = None) -> tuple[str, str]:
    """The scope's stored key, and its models as a queryset filter description; errors name the field."""
    if scope == KillSwitch.Scope.ALL:
        return KillSwitch.Scope.ALL, "all"
    if scope == KillSwitch.Scope.DESK:
        if desk is None:
            raise ValidationError({"desk": ["Name the desk to stop."]})
        return scope, f"desk:{desk.code}"
    if scope == KillSwitch.Scope.MODEL:
        if model is None:
            raise ValidationError({"model": ["Name the model to stop."]})
        return scope, f"model:{model.key}"
    raise ValidationError({"scope": ["Choose model, desk or all."]})


def scope_targets(scope: str, model_key=None, desk=None) -> tuple[Model | None, Desk | None]:
    """The model and the desk a stop names, from a page's or the API's input (a model key; a desk or its code):
    only what the scope uses, each checked to exist, errors by field (the page and the API say it the same way)."""
    model = None
    if scope == KillSwitch.Scope.MODEL:
        key = model_key.strip() if isinstance(model_key, str) else ""
        model = Model.objects.filter(key=key).select_related("desk").first() if key else None
        if model is None:
            raise ValidationError({"model": ["Name an existing model's key."]})
    if scope != KillSwitch.Scope.DESK:
        return model, None
    if isinstance(desk, str):
        desk = Desk.objects.filter(code=desk).first() if desk else None
    if not isinstance(desk, Desk):
        raise ValidationError({"desk": ["Choose the desk to stop (an existing desk's code)."]})
    return model, desk


def models_in_scope(scope: str, model=None, desk=None):
    if scope == KillSwitch.Scope.ALL:
        return Model.objects.all()
    if scope == KillSwitch.Scope.DESK:
        return Model.objects.filter(desk=desk)
    return Model.objects.filter(pk=model.pk)


def kill_switch_engage(
    actor, *, scope: str, model=None, desk=None, reason: str = "", password: str = "", otp_token: str = ""
) -> KillSwitch:
    """Stop a scope: 403 unless compliance; 400 for a bad scope, reason or password; 409 when it already stands."""
    _require_compliance(actor)
    scope, scope_key = resolve_scope(scope, model, desk)
    reason = _check_reason(reason)
    # Before the transaction, as every signing action: a refused attempt stays in the audit trail.
    signatures.check_credentials(actor, password, otp_token)
    return _engage(actor, scope, scope_key, model, desk, reason)


@transaction.atomic
def _engage(actor, scope, scope_key, model, desk, reason) -> KillSwitch:
    standing = KillSwitch.objects.filter(scope_key=scope_key, released_at__isnull=True).first()
    if standing is not None:
        raise Conflict(_standing_message(standing))
    versions = list(
        ModelVersion.objects.filter(model__in=models_in_scope(scope, model, desk), status__in=LIVE)
        .select_related("model")
        .order_by("model__key", "id")
    )
    now = timezone.now()
    engagement = KillSwitch(
        scope=scope,
        scope_key=scope_key,
        model=model,
        desk=desk,
        reason=reason,
        engaged_by=actor,
        engaged_at=now,
    )
    payload = {
        "object": None,  # set once the engagement has its id
        "action": "engage",
        "scope": scope,
        "scope_key": scope_key,
        "reason": reason,
        "versions": [f"{v.model.key} {v.version}" for v in versions],
    }
    try:
        with transaction.atomic():  # the signature names the engagement: insert it, then sign, same transaction
            engagement.save(force_insert=True)
    except IntegrityError:
        raise Conflict("The kill switch was engaged for this scope a moment ago; reload the page.") from None
    payload["object"] = f"{KillSwitch.AUDIT_TYPE}:{engagement.pk}"
    engagement.engage_signature = signatures.sign(
        actor, Signature.Meaning.KILL_SWITCH_ENGAGED, engagement, payload, policy_in_force(), reason
    )
    engagement.save(update_fields=["engage_signature"])
    audit_record(
        actor,
        "kill_switch.engage",
        engagement,
        reason=reason,
        changes={"scope": [None, scope_key], "versions_suspended": [None, payload["versions"]]},
    )
    comment = f"Kill switch {engagement.scope_label}: {reason}"
    for version in versions:
        suspended_from = version.status
        workflow.version_transition(actor, version, workflow.Action.SUSPEND, comment=comment)
        KillSwitchSuspension.objects.create(engagement=engagement, version=version, suspended_from=suspended_from)
    generations.bump([generations.ALL] if scope == KillSwitch.Scope.ALL else _model_keys(scope, model, desk))
    _alert(engagement, "kill_switch_engaged", "critical", f"Kill switch engaged {engagement.scope_label}: {reason}")
    return engagement


def _alert(engagement, kind: str, severity: str, title: str) -> None:
    raise_alert(
        kind,
        severity=severity,
        title=title,
        url=reverse("gate:kill-switch-detail", kwargs={"pk": engagement.pk}),
        model=engagement.model_id,
        desk=engagement.desk_id,
    )


def _model_keys(scope, model, desk) -> list[str]:
    ids = models_in_scope(scope, model, desk).values_list("pk", flat=True)
    return [generations.key_for(pk) for pk in ids]


def _standing_message(standing: KillSwitch) -> str:
    who = standing.engaged_by.get_full_name() or standing.engaged_by.get_username()
    return (
        f"The kill switch is already engaged {standing.scope_label}, since "
        f"{standing.engaged_at:%Y-%m-%d %H:%M} UTC by {who}."
    )


def kill_switch_get(pk) -> KillSwitch:
    return KillSwitch.objects.select_related("model", "desk", "engaged_by", "release_requested_by", "released_by").get(
        pk=pk
    )


def kill_switch_release(actor, engagement, *, reason: str = "", password: str = "", otp_token: str = "") -> KillSwitch:
    """Lift a stop. A model's or a desk's: one compliance signature. Every model's: a first signature records the
    request, a second from another compliance officer releases it (answers the engagement; `released_at` tells)."""
    _require_compliance(actor)
    reason = _check_reason(reason)
    signatures.check_credentials(actor, password, otp_token)
    return _release(actor, engagement.pk, reason)


@transaction.atomic
def _release(actor, pk, reason) -> KillSwitch:
    engagement = KillSwitch.objects.select_for_update().get(pk=pk)
    if engagement.released_at is not None:
        raise Conflict(f"This stop was released on {engagement.released_at:%Y-%m-%d %H:%M} UTC.")
    policy = policy_in_force()
    if engagement.scope == KillSwitch.Scope.ALL:
        if engagement.release_requested_by_id is None:
            engagement.release_requested_by, engagement.release_requested_at = actor, timezone.now()
            engagement.release_reason = reason
            engagement.release_request_signature = signatures.sign(
                actor,
                Signature.Meaning.KILL_SWITCH_RELEASE_REQUESTED,
                engagement,
                _release_payload(engagement, "request_release"),
                policy,
                reason,
            )
            engagement.save(
                update_fields=[
                    "release_requested_by",
                    "release_requested_at",
                    "release_reason",
                    "release_request_signature",
                ]
            )
            audit_record(
                actor,
                "kill_switch.release_requested",
                engagement,
                reason=reason,
                changes={"release_requested_by": [None, actor.get_full_name() or actor.get_username()]},
            )
            who = actor.get_full_name() or actor.get_username()
            _alert(
                engagement,
                "kill_switch_release_requested",
                "high",
                f"{who} asked to release the firm-wide stop; a second compliance officer must sign: {reason}",
            )
            return engagement
        if engagement.release_requested_by_id == actor.pk:
            raise Conflict(
                "Resuming after a firm-wide stop needs two compliance signatures: you signed the request; "
                "another compliance officer signs the release."
            )
    now = timezone.now()
    engagement.released_by, engagement.released_at = actor, now
    if not engagement.release_reason:
        engagement.release_reason = reason
    engagement.release_signature = signatures.sign(
        actor,
        Signature.Meaning.KILL_SWITCH_RELEASED,
        engagement,
        _release_payload(engagement, "release"),
        policy,
        reason,
    )
    engagement.save(update_fields=["released_by", "released_at", "release_reason", "release_signature"])
    resumed, left = _resume_what_it_suspended(actor, engagement, reason)
    audit_record(
        actor,
        "kill_switch.release",
        engagement,
        reason=reason,
        changes={"released": [False, True], "versions_resumed": [None, resumed], "left_suspended": [None, left]},
    )
    if engagement.scope == KillSwitch.Scope.ALL:
        generations.bump([generations.ALL])
    else:
        generations.bump(_model_keys(engagement.scope, engagement.model, engagement.desk))
    still = f"; {len(left)} version{'s' if len(left) != 1 else ''} stay suspended" if left else ""
    _alert(
        engagement,
        "kill_switch_released",
        "high",
        f"Kill switch released {engagement.scope_label}: {len(resumed)} version{'s' if len(resumed) != 1 else ''} "
        f"resumed{still}. {reason}",
    )
    return engagement


def _release_payload(engagement, action: str) -> dict:
    """The reason signed is the release's (the request's, after a firm-wide stop); a second signer's own words
    are the signature's comment."""
    return {
        "object": f"{KillSwitch.AUDIT_TYPE}:{engagement.pk}",
        "action": action,
        "scope": engagement.scope,
        "scope_key": engagement.scope_key,
        "engaged_at": engagement.engaged_at.isoformat(),
        "engage_signature": engagement.engage_signature.content_hash,
        "reason": engagement.release_reason,
    }


def no_stop_stands(step) -> list[str]:
    """The lifecycle's resume and rollback wait for the kill switch: a model a standing stop covers goes back into
    use by releasing the stop (with its signatures), never around it."""
    return [
        f"The kill switch is engaged {e.scope_label} since {e.engaged_at:%Y-%m-%d %H:%M} UTC: release the stop on "
        "the kill-switch page first."
        for e in standing(decisions.scope_keys(step.model))
    ]


def _resume_what_it_suspended(actor, engagement, reason) -> tuple[list[str], list[str]]:
    """Resume each version a stop suspended once no stop covers it any more: this stop's own, and those an earlier
    release left suspended because this stop still covered them (stops released in either order end with the
    versions back). A version that moved since (another suspension, a rollback, a retirement), or that its resume's
    own checks hold back (its model awaits revalidation, an incident that suspends it is open), stays as it is; each
    left is named in the audit record with why. The release's signature is the decision for those it resumes."""
    resumed, left = [], []
    comment = f"Kill switch {engagement.scope_label} released: {reason}"
    in_scope = models_in_scope(engagement.scope, engagement.model, engagement.desk)
    rows = KillSwitchSuspension.objects.filter(resumed=False).filter(
        Q(engagement=engagement) | Q(engagement__released_at__isnull=False, version__model__in=in_scope)
    )
    for row in rows.select_related("version__model__desk", "engagement__model", "engagement__desk").order_by("pk"):
        version = row.version
        name = f"{version.model.key} {version.version}"
        last = VersionTransition.objects.filter(version=version).order_by("-at", "-id").first()
        by_its_stop = (
            last is not None
            and last.action == workflow.Action.SUSPEND
            and last.comment.startswith(f"Kill switch {row.engagement.scope_label}:")
        )
        if version.status != S.SUSPENDED or not by_its_stop:
            if row.engagement_id == engagement.pk:
                left.append(f"{name} (now {version.get_status_display().lower()}: it moved since the stop)")
            continue
        others = standing(decisions.scope_keys(version.model)).exclude(pk=engagement.pk)
        if others.exists():
            left.append(f"{name} (still stopped {others.first().scope_label})")
            continue
        try:
            workflow.resume_on_release(actor, version, comment=comment, release_signature=engagement.release_signature)
        except Conflict as refused:  # e.g. "revalidation required", an open incident: it waits for its own decision
            left.append(f"{name} (stays suspended: {' '.join(refused.reasons)})")
            continue
        row.resumed = True
        row.save(update_fields=["resumed"])
        resumed.append(name)
    return resumed, left


def standing(scope_keys=None):
    """Engagements in force (optionally only those of the given scope keys)."""
    engaged = KillSwitch.objects.filter(released_at__isnull=True).select_related(
        "model", "desk", "engaged_by", "release_requested_by"
    )
    return engaged.filter(scope_key__in=scope_keys) if scope_keys is not None else engaged


class _RollBack(Exception):
    """Raised to undo a test's block once its decisions are read."""


def kill_switch_test(actor=None) -> KillSwitchTest:
    """Test the kill functionality without stopping anything: inside a transaction that is rolled back, engage
    the firm-wide block and read every model's decision through `decisions.compute` (the code behind the gate's
    answers). It passes when every model the gate allowed before is blocked during the test, by the kill switch.
    `actor` None is the scheduled test (beat); otherwise compliance."""
    if actor is not None:
        _require_compliance(actor)
    models = list(Model.objects.select_related("desk").order_by("key"))
    before = {m.pk: decisions.compute(m).body for m in models}
    allowed = [m for m in models if before[m.pk]["allowed"]]
    during, started, elapsed = {}, time.perf_counter(), 0.0
    try:
        with transaction.atomic():
            if not KillSwitch.objects.filter(scope_key=KillSwitch.Scope.ALL, released_at__isnull=True).exists():
                KillSwitch.objects.create(
                    scope=KillSwitch.Scope.ALL,
                    scope_key=KillSwitch.Scope.ALL,
                    reason="Kill-switch test (rolled back).",
                    engaged_by=actor or system_user(),
                    engaged_at=timezone.now(),
                )
            for model in allowed:
                during[model.pk] = decisions.compute(model).body
            elapsed = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    blocked = [m for m in allowed if not during[m.pk]["allowed"]]
    by_switch = [m for m in blocked if any(r["code"] == "kill_switch" for r in during[m.pk]["reasons"])]
    passed = len(by_switch) == len(allowed)
    with transaction.atomic():
        test = KillSwitchTest.objects.create(
            run_at=timezone.now(),
            run_by=actor,
            models_checked=len(models),
            allowed_before=len(allowed),
            blocked_during=len(by_switch),
            passed=passed,
            duration_ms=round(elapsed * 1000, 2),
            detail={
                "models": [
                    {
                        "model": m.key,
                        "version": before[m.pk]["version"],
                        "blocked": not during[m.pk]["allowed"],
                        "reasons": [r["code"] for r in during[m.pk]["reasons"]],
                    }
                    for m in allowed
                ],
                "not_blocked": [m.key for m in allowed if m not in by_switch],
            },
        )
        audit_record(
            actor,
            "kill_switch.test",
            test,
            changes={
                "passed": [None, passed],
                "allowed_before": [None, len(allowed)],
                "blocked_during": [None, len(by_switch)],
            },
            reason="Scheduled test of the kill functionality." if actor is None else "Kill-switch test by compliance.",
        )
        outcome = "passed" if passed else f"FAILED ({len(allowed) - len(by_switch)} model(s) not blocked)"
        raise_alert(
            "kill_switch_tested",
            severity="low" if passed else "critical",
            title=f"Kill-switch test {outcome}: {len(by_switch)} of {len(allowed)} allowed models blocked.",
            url=reverse("gate:kill-switch-test", kwargs={"pk": test.pk}),
        )
    return test
