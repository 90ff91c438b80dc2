"""Alerts from the events that cause them, delivered in-app, by e-mail and by webhook; mutes; webhook receivers.

The handlers run in the outbox's delivery of the causing event (after its transaction committed, in a worker):
the Alert is recorded once per event (a unique source; the outbox's row lock keeps two workers from racing),
its recipients' in-app notifications are written in the same transaction, and each e-mail and webhook delivery
is handed on after commit.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.core import events, outbound
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import Desk, Notification
from governance.core.notifications import EMAIL_EVENT
from governance.lifecycle.models import VersionTransition
from risk.alerts import access as alerts_access
from risk.alerts import routing, selectors, webhooks
from risk.alerts.models import Alert, AlertMute, Kind, Severity, WebhookDelivery, WebhookEndpoint
from risk.gate.models import KillSwitchSuspension
from risk.incidents.services import SEVERITY_BY_TIER
from risk.monitoring.measures import result_text
from risk.monitoring.models import MonitorResult


def repeat_every() -> dt.timedelta:
    """A monitor that stays in warning or breach is told again at most this often (a one-minute schedule would
    otherwise alert sixty times an hour); a change of outcome is told at once."""
    return dt.timedelta(minutes=settings.VIGIL_ALERT_REPEAT_MINUTES)


# --- From events -------------------------------------------------------------------------------------------


def on_alert_event(event) -> Alert | None:
    """Handler of `alert` events (governance.core.notifications.raise_alert: incidents, the kill switch)."""
    p = event.payload
    return record(
        f"event:{event.pk}",
        kind=p["kind"],
        severity=p["severity"],
        title=p["title"],
        message=p.get("message", ""),
        url=p.get("url", ""),
        model_id=p.get("model"),
        version_id=p.get("version"),
        desk_id=p.get("desk"),
        occurred_at=event.created_at,
    )


def on_monitor_event(event) -> Alert | None:
    """Handler of `monitoring.alert`: a warning or a breach (a repeat within the hour is grouped, not re-sent)."""
    p = event.payload
    result = MonitorResult.objects.select_related("monitor__version__model").filter(pk=p["result"]).first()
    if result is None:
        return None
    monitor, outcome = result.monitor, p["outcome"]
    version, model = monitor.version, monitor.version.model
    kind = Kind.MONITOR_BREACH if outcome == "breach" else Kind.MONITOR_WARN
    subject = f"monitor:{monitor.pk}"
    if Alert.objects.filter(subject=subject, kind=kind, occurred_at__gte=result.evaluated_at - repeat_every()).exists():
        return None
    severity = SEVERITY_BY_TIER.get(model.risk_tier, Severity.HIGH) if kind == Kind.MONITOR_BREACH else Severity.MEDIUM
    text = result_text(monitor, result, outcome)
    return record(
        f"result:{result.pk}",
        kind=kind,
        severity=severity,
        title=f"{model.key} {version.version}: {text}",
        message=text,
        url=reverse("monitoring:monitor-detail", kwargs={"pk": monitor.pk}),
        model_id=model.pk,
        version_id=version.pk,
        occurred_at=result.evaluated_at,
        subject=subject,
    )


def on_transition_event(event) -> Alert | None:
    """Handler of `lifecycle.transition`: a suspension or a rollback (not each version a kill switch stops: the
    kill switch's own alert says it once)."""
    p = event.payload
    if p["action"] not in ("suspend", "rollback"):
        return None
    transition = VersionTransition.objects.select_related("version__model", "actor").filter(pk=p["transition"]).first()
    if transition is None:
        return None
    version, model = transition.version, transition.version.model
    by_kill_switch = KillSwitchSuspension.objects.filter(version=version, engagement__engaged_at__lte=transition.at)
    by_kill_switch = by_kill_switch.filter(
        Q(engagement__released_at__isnull=True) | Q(engagement__released_at__gte=transition.at)
    )
    if p["action"] == "suspend" and by_kill_switch.exists():
        return None
    who = transition.actor.get_full_name() or transition.actor.get_username()
    if p["action"] == "suspend":
        kind, severity, what = Kind.MODEL_SUSPENDED, Severity.CRITICAL, "suspended"
    else:
        kind, severity, what = Kind.MODEL_ROLLED_BACK, Severity.HIGH, "rolled back"
    return record(
        f"transition:{transition.pk}",
        kind=kind,
        severity=severity,
        title=f"{model.key} {version.version} {what} by {who}: {transition.comment[:200]}",
        message=transition.comment,
        url=reverse("models_registry:version-detail", kwargs={"key": model.key, "version": version.version}),
        model_id=model.pk,
        version_id=version.pk,
        occurred_at=transition.at,
    )


def record(
    source: str,
    *,
    kind,
    severity,
    title,
    message="",
    url="",
    model_id=None,
    version_id=None,
    desk_id=None,
    occurred_at=None,
    subject="",
) -> Alert | None:
    """Record an alert once per source and deliver it; None when this source was recorded before."""
    if Alert.objects.filter(source=source).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                source=source,
                kind=kind,
                severity=severity,
                title=title[:300],
                message=message,
                url=url,
                model_id=model_id,
                version_id=version_id,
                desk_id=desk_id,
                occurred_at=_when(occurred_at),
                subject=subject,
            )
    except IntegrityError:
        return None  # recorded a moment ago by another delivery of the same event
    deliver(alert)
    return alert


def _when(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    return value or timezone.now()


def deliver(alert: Alert) -> None:
    """In-app notifications now (this transaction), e-mails and webhooks handed on after commit."""
    ids = routing.recipients(alert)
    alert.recipients.set(ids)
    page = reverse("alerts:detail", kwargs={"pk": alert.pk})  # the alert's page: it links to its cause
    Notification.objects.bulk_create(
        Notification(user_id=pk, kind=alert.kind, message=alert.title, url=page, dedupe_key=f"alert:{alert.pk}")
        for pk in ids
    )
    for user in get_user_model().objects.filter(pk__in=ids).exclude(email=""):
        events.emit(EMAIL_EVENT, _email(alert, user.email, selectors.cause_url(alert, user)))
    now = timezone.now()
    for endpoint in routing.endpoints(alert):
        delivery = WebhookDelivery.objects.create(alert=alert, endpoint=endpoint, next_attempt_at=now)
        transaction.on_commit(lambda pk=delivery.pk: webhooks.schedule(pk))


def _email(alert: Alert, address: str, url: str) -> dict:
    """`url`: the alert's cause as this recipient may open it (selectors.cause_url)."""
    link = webhooks._absolute(url)
    lines = [alert.title, "", alert.message, "", f"Severity: {alert.get_severity_display()}", link]
    return {
        "to": address,
        "subject": f"[Vigil {alert.get_severity_display()}] {alert.title[:120]}",
        "body": "\n".join(line for line in lines if line is not None).strip(),
    }


# --- Mutes -------------------------------------------------------------------------------------------------


def mutes_of(user) -> set[str]:
    return set(AlertMute.objects.filter(user=user).values_list("kind", flat=True))


@transaction.atomic
def mutes_set(user, kinds) -> set[str]:
    """What `user` no longer hears. A kind nobody may mute is refused (400): stops and their releases reach
    everyone they concern; critical alerts and breaches on one's own models come through whatever is muted."""
    kinds = list(kinds or [])
    unknown = [k for k in kinds if k not in Kind.values]
    never = [k for k in kinds if k in routing.NEVER_MUTED]
    if unknown or never:
        message = []
        if unknown:
            message.append(f"Unknown kind: {', '.join(map(str, unknown))[:200]}.")
        if never:
            message.append(f"Nobody may mute: {', '.join(Kind(k).label for k in never)}.")
        raise ValidationError({"muted": [" ".join(message)]})
    before = mutes_of(user)
    wanted = set(kinds)
    if wanted == before:
        return before
    AlertMute.objects.filter(user=user).exclude(kind__in=wanted).delete()
    AlertMute.objects.bulk_create([AlertMute(user=user, kind=k) for k in wanted - before], ignore_conflicts=True)
    audit_record(user, "alerts.mutes", user, changes={"muted": [sorted(before), sorted(wanted)]})
    return wanted


# --- Webhook receivers -------------------------------------------------------------------------------------


def _require_manager(user) -> None:
    if not alerts_access.manages_webhooks(user):
        raise PermissionDenied("Only compliance manages webhook receivers.")


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def check_url(url) -> str:
    """A receiver's URL: http(s), with a host Vigil may send to (governance.core.outbound decides which)."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if len(url) > 500:
        raise ValidationError({"url": ["Keep the address to 500 characters."]})
    try:
        outbound.check_url(url)
    except ValueError as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    except outbound.Refused as exc:
        raise ValidationError({"url": [f"Vigil does not send to this address: {exc}."]}) from None
    return url


def _check_endpoint(name, url, desk, kinds) -> dict:
    errors: dict = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        errors["name"] = ["Give the receiver a name of at most 100 characters."]
    try:
        url = check_url(url)
    except ValidationError as exc:
        errors |= exc.message_dict
    if desk is not None and not isinstance(desk, Desk):
        errors["desk"] = ["Choose a desk."]
    kinds = list(kinds or [])
    if any(k not in Kind.values for k in kinds):
        errors["kinds"] = [f"Choose among: {', '.join(Kind.values)}."]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "url": url, "desk": desk, "kinds": sorted(set(kinds))}


def webhook_create(actor, *, name, url, desk=None, kinds=()) -> tuple[WebhookEndpoint, str]:
    """A new receiver; returns it and its signing secret (shown once: only its holder needs it)."""
    _require_manager(actor)
    data = _check_endpoint(name, url, desk, kinds)
    secret = _new_secret()
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(secret=secret, created_by=actor, **data)
            audit_record(
                actor,
                "webhook.create",
                endpoint,
                changes={
                    "url": [None, outbound.display_url(data["url"])],  # never its credentials
                    "desk": [None, str(desk) if desk else "every desk"],
                    "kinds": [None, data["kinds"] or "every kind"],
                },
            )
    except IntegrityError:
        raise Conflict(f"A receiver named {data['name']!r} exists already; choose another name.") from None
    return endpoint, secret


@transaction.atomic
def webhook_rotate_secret(actor, endpoint) -> str:
    """A new secret signs from now; the previous one also signs for the grace period, so the receiver can
    switch without refusing deliveries."""
    _require_manager(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        raise Conflict("This receiver is disabled; create a new one instead.")
    secret = _new_secret()
    endpoint.previous_secret, endpoint.secret, endpoint.secret_rotated_at = endpoint.secret, secret, timezone.now()
    endpoint.save(update_fields=["previous_secret", "secret", "secret_rotated_at"])
    hours = settings.VIGIL_WEBHOOK_ROTATION_GRACE_HOURS
    audit_record(actor, "webhook.rotate_secret", endpoint, reason=f"The previous secret also signs for {hours} h.")
    return secret


@transaction.atomic
def webhook_disable(actor, endpoint, *, reason: str) -> WebhookEndpoint:
    """Stop sending to a receiver (kept, with its deliveries, for the record)."""
    _require_manager(actor)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": ["Say why the receiver is disabled; it is kept in the audit trail."]})
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        raise Conflict(f"This receiver was disabled on {endpoint.disabled_at:%Y-%m-%d %H:%M} UTC.")
    endpoint.disabled_at, endpoint.disabled_by, endpoint.disabled_reason = timezone.now(), actor, reason[:2000]
    endpoint.save(update_fields=["disabled_at", "disabled_by", "disabled_reason"])
    audit_record(actor, "webhook.disable", endpoint, reason=reason[:2000], changes={"active": [True, False]})
    return endpoint
