"""Alert pages: the log (what was told, to whom, and each webhook attempt), a person's mutes, and the webhook
receivers compliance manages (auditors read them; nobody else learns they exist)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.models import Notification
from governance.core.selectors import object_timeline
from risk.alerts import routing, selectors, services
from risk.alerts.access import manages_webhooks, reads_webhooks
from risk.alerts.filters import AlertFilterSet
from risk.alerts.forms import DisableForm, MuteForm, WebhookForm
from risk.alerts.models import Kind

PAGE = 50
SECRET_KEY = "alerts.webhook_secret"


def model_panel(request, model) -> dict:
    """The model page: its last alerts (the model is visible, so are its alerts)."""
    return {"model_alerts": list(selectors.alert_list(request.user).filter(model=model)[:8])}


def alert_list(request):
    base = selectors.alert_list(request.user)
    filterset = AlertFilterSet(request.GET, queryset=base)
    alerts = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(alerts, PAGE).get_page(request.GET.get("page"))
    for alert in page.object_list:
        alert.link = selectors.cause_url(alert, request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "alerts/list.html",
        {
            "page": page,
            "filter": filterset,
            "query": query.urlencode(),
            "filter_errors": filterset.errors,
            "filtered": any(request.GET.get(name) for name in filterset.filters),
            "muted": services.mutes_of(request.user),
            "can_see_webhooks": reads_webhooks(request.user),
        },
        status=400 if filterset.errors else 200,
    )


def alert_detail(request, pk):
    alert = selectors.alert_get(request.user, pk)
    Notification.objects.filter(user=request.user, dedupe_key=f"alert:{alert.pk}", read_at__isnull=True).update(
        read_at=timezone.now()
    )  # read here: the badge counts what is left
    recipients = list(alert.recipients.order_by("last_name", "username"))
    link = selectors.cause_url(alert, request.user)
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "link": "" if link == request.path else link,
            "recipients": recipients,
            "deliveries": selectors.deliveries_of(alert) if reads_webhooks(request.user) else None,
        },
    )


def alert_settings(request):
    form = MuteForm(request.POST or None, initial={"muted": sorted(services.mutes_of(request.user))})
    if request.method == "POST" and form.is_valid():
        try:
            services.mutes_set(request.user, form.cleaned_data["muted"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your alert settings are saved.")
            return redirect("alerts:settings")
    return render(
        request,
        "alerts/settings.html",
        {"form": form, "never_muted": [Kind(k).label for k in routing.NEVER_MUTED]},
        status=400 if form.errors else 200,
    )


def _require_reader(user) -> None:
    if not reads_webhooks(user):
        raise Http404("Not found.")


def webhook_list(request):
    _require_reader(request.user)
    can_manage = manages_webhooks(request.user)
    form = WebhookForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only compliance manages webhook receivers.")
        if form.is_valid():
            try:
                endpoint, secret = services.webhook_create(request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error("name", str(exc))
            else:
                return _hand_over_secret(request, endpoint, secret, "created")
    return render(
        request,
        "alerts/webhooks.html",
        {"endpoints": selectors.endpoint_list(request.user), "form": form, "can_manage": can_manage},
        status=400 if form is not None and form.errors else 200,
    )


def _hand_over_secret(request, endpoint, secret, what):
    """Keep the secret in the session for the one page that shows it (a redirect, so reloading the page never
    submits the form again), then forget it."""
    request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": secret, "what": what}
    return redirect("alerts:webhook-secret", pk=endpoint.pk)


def webhook_secret(request, pk):
    _require_reader(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    held = request.session.get(SECRET_KEY)
    if not held or held.get("endpoint") != endpoint.pk:
        messages.info(request, "A receiver's secret is shown once, when it is created or rotated.")
        return redirect("alerts:webhook", pk=endpoint.pk)
    del request.session[SECRET_KEY]
    context = {"endpoint": endpoint, "secret": held["secret"], "what": held["what"]}
    context["grace_hours"] = settings.VIGIL_WEBHOOK_ROTATION_GRACE_HOURS
    return render(request, "alerts/webhook_secret.html", context)


def webhook_detail(request, pk):
    _require_reader(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    return _webhook_page(request, endpoint, DisableForm())


def _webhook_page(request, endpoint, disable_form, status=200):
    return render(
        request,
        "alerts/webhook_detail.html",
        {
            "endpoint": endpoint,
            "deliveries": selectors.recent_deliveries(endpoint),
            "can_manage": manages_webhooks(request.user) and endpoint.active,
            "disable_form": disable_form,
            "kind_labels": [Kind(k).label for k in endpoint.kinds if k in Kind.values],
            "grace_hours": settings.VIGIL_WEBHOOK_ROTATION_GRACE_HOURS,
            "timeline": object_timeline(request.user, endpoint),
        },
        status=status,
    )


@require_POST
def webhook_rotate(request, pk):
    _require_reader(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    try:
        secret = services.webhook_rotate_secret(request.user, endpoint)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("alerts:webhook", pk=endpoint.pk)
    return _hand_over_secret(request, endpoint, secret, "rotated")


@require_POST
def webhook_disable(request, pk):
    _require_reader(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    form = DisableForm(request.POST)
    if form.is_valid():
        try:
            services.webhook_disable(request.user, endpoint, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{endpoint.name} is disabled: nothing more is sent to it.")
            return redirect("alerts:webhook", pk=endpoint.pk)
    return _webhook_page(request, endpoint, form, status=400)
