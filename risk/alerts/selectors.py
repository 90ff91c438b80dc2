"""Reads for alert pages and endpoints, always through the access registry."""

from django.db.models import Count, Q
from django.urls import reverse

from governance.core import access
from governance.core.models import Notification
from risk.alerts.models import Alert, Kind, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from risk.gate.access import reads_kill_switch

D = WebhookDelivery.Status


def unread_count(user) -> int:
    """Alerts told to `user` in Vigil that they have not read yet (the badge beside Alerts)."""
    return Notification.objects.filter(user=user, read_at__isnull=True, kind__in=Kind.values).count()


KILL_SWITCH_PAGES = frozenset(
    {Kind.KILL_SWITCH_ENGAGED, Kind.KILL_SWITCH_RELEASE_REQUESTED, Kind.KILL_SWITCH_RELEASED, Kind.KILL_SWITCH_TESTED}
)


def cause_url(alert: Alert, user) -> str:
    """The link to an alert's cause that `user` may open. A kill switch's pages are compliance's and the
    auditors' (risk.gate.access): the model's people and its desk are sent to the model it stopped, or, for a
    desk's or the firm's stop, to the alert's own page, which says what happened."""
    if alert.kind in KILL_SWITCH_PAGES and not reads_kill_switch(user):
        if alert.model_id:
            return reverse("models_registry:model-detail", kwargs={"key": alert.model.key})
        return reverse("alerts:detail", kwargs={"pk": alert.pk})
    return alert.url


def alert_list(user):
    return (
        access.restrict(Alert.objects.all(), user)
        .select_related("model", "version", "desk")
        .annotate(
            people=Count("recipients", distinct=True),
            hooks=Count("deliveries", distinct=True),
            hooks_delivered=Count("deliveries", filter=Q(deliveries__status=D.DELIVERED), distinct=True),
            hooks_waiting=Count("deliveries", filter=Q(deliveries__status__in=(D.PENDING, D.SENDING)), distinct=True),
        )
        .order_by("-occurred_at", "-id")  # an aggregate drops the model's default ordering
    )


def alert_get(user, pk) -> Alert:
    return access.get_for_user(Alert.objects.select_related("model", "version", "desk"), user, pk=pk)


def deliveries_of(alert):
    """Each delivery with its attempts (two queries, whatever the count)."""
    deliveries = list(alert.deliveries.select_related("endpoint").order_by("endpoint__name"))
    attempts: dict[int, list] = {}
    for attempt in WebhookAttempt.objects.filter(delivery__in=deliveries).order_by("delivery_id", "number"):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    for delivery in deliveries:
        delivery.attempt_list = attempts.get(delivery.pk, [])
    return deliveries


def endpoint_list(user):
    return (
        access.restrict(WebhookEndpoint.objects.all(), user)
        .select_related("desk", "created_by")
        .annotate(
            sent=Count("deliveries", filter=Q(deliveries__status=D.DELIVERED)),
            failed=Count("deliveries", filter=Q(deliveries__status=D.FAILED)),
            waiting=Count("deliveries", filter=Q(deliveries__status__in=(D.PENDING, D.SENDING))),
        )
    )


def endpoint_get(user, pk) -> WebhookEndpoint:
    return access.get_for_user(WebhookEndpoint.objects.select_related("desk", "created_by"), user, pk=pk)


def recent_deliveries(endpoint, limit: int = 50):
    return list(endpoint.deliveries.select_related("alert").order_by("-id")[:limit])
