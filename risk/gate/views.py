"""The kill-switch page (compliance acts, auditors read) and the gate's panel on the model page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.models import AuditEvent
from governance.core.selectors import object_timeline
from governance.skills import selectors as skills
from models_registry.models import Model
from risk.gate import card, decisions, killswitch, selectors
from risk.gate.access import acknowledges_as, reads_kill_switch, uses_kill_switch
from risk.gate.forms import EngageForm, ReleaseForm

RECENT = 50


def _versions(names: list[str]) -> str:
    if not names:
        return "no version"
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f"{len(names)} version{'s' if len(names) != 1 else ''} ({shown})"


def reason_labels(codes) -> str:
    return ", ".join(decisions.REASONS.get(code, code) for code in codes)


def gate_panel(request, model) -> dict:
    """The model page: what the gate answers trading systems now, and its last revisions."""
    served = decisions.decision_for(model)
    codes = [r["code"] for r in served.body["reasons"]]
    revisions = selectors.revisions(model)
    for revision in revisions:
        revision.reasons_text = reason_labels(r["code"] for r in revision.body["reasons"])
    return {
        "gate": served.body,
        "gate_decided_at": parse_datetime(served.body["decided_at"]),
        "gate_reasons": [(decisions.REASONS.get(r["code"], r["code"]), r["message"]) for r in served.body["reasons"]],
        "gate_revisions": revisions,
        "can_stop": uses_kill_switch(request.user) and "kill_switch" not in codes,
    }


def _require_reader(user) -> None:
    if not reads_kill_switch(user):
        from django.http import Http404

        raise Http404("Not found.")


def kill_switch(request):
    _require_reader(request.user)
    can_use = uses_kill_switch(request.user)
    form = None
    if request.method == "POST":
        if not can_use:
            raise PermissionDenied("Only compliance uses the kill switch.")
        form = EngageForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                engagement = killswitch.kill_switch_engage(request.user, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, str(exc))
            else:
                count = engagement.suspensions.count()
                messages.success(
                    request,
                    f"Kill switch engaged {engagement.scope_label}: the gate answers blocked from now; "
                    f"{count} version{'s' if count != 1 else ''} suspended.",
                )
                return redirect("gate:kill-switch")
        messages.error(request, "The kill switch was not engaged: see the form below.")
    return _kill_switch_page(request, form)


def _kill_switch_page(request, form=None, release_forms=None, status=200):
    can_use = uses_kill_switch(request.user)
    if can_use and form is None:
        initial = {k: request.GET[k] for k in ("scope", "model", "desk") if request.GET.get(k)}
        form = EngageForm(initial=initial)
    standing = list(killswitch.standing().order_by("-engaged_at"))
    for engagement in standing:
        engagement.awaits_another = engagement.release_requested_by_id == request.user.pk
        engagement.release_form = None
        if can_use and not engagement.awaits_another:
            bound = (release_forms or {}).get(engagement.pk)
            engagement.release_form = bound or ReleaseForm(prefix=f"release-{engagement.pk}")
    history = list(
        selectors.engagement_list(request.user).filter(released_at__isnull=False).order_by("-engaged_at")[:RECENT]
    )
    return render(
        request,
        "gate/kill_switch.html",
        {
            "form": form if can_use else None,
            "can_use": can_use,
            "standing": standing,
            "history": history,
            "tests": list(selectors.test_list(request.user)[:10]),
            "model_keys": list(Model.objects.order_by("key").values_list("key", flat=True)) if can_use else [],
            # A lapsed drill warns and never blocks: safety comes first (issue 24).
            "lapsed_drills": skills.lapsed(request.user, "kill_switch") if can_use else [],
        },
        status=status,
    )


@require_POST
def kill_switch_release(request, pk):
    _require_reader(request.user)
    engagement = selectors.engagement_get_for_user(request.user, pk)
    if not uses_kill_switch(request.user):
        raise PermissionDenied("Only compliance releases the kill switch.")
    form = ReleaseForm(request.POST, prefix=f"release-{engagement.pk}")
    if form.is_valid():
        try:
            engagement = killswitch.kill_switch_release(request.user, engagement, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            if engagement.released_at:
                audit = AuditEvent.objects.filter(action="kill_switch.release", object_id=str(engagement.pk)).first()
                changes = audit.changes if audit else {}
                resumed = (changes.get("versions_resumed") or [None, []])[1]
                left = (changes.get("left_suspended") or [None, []])[1]
                text = f"Kill switch {engagement.scope_label} released: {_versions(resumed)} resumed"
                text += f"; not resumed: {'; '.join(left)}." if left else "."
                messages.success(request, text)
            else:
                text = "Your signature is recorded. A second compliance officer signs to release a firm-wide stop."
                messages.success(request, text)
            return redirect("gate:kill-switch")
    messages.error(request, f"The stop {engagement.scope_label} was not released: see its form below.")
    return _kill_switch_page(request, release_forms={engagement.pk: form})


def kill_switch_detail(request, pk):
    _require_reader(request.user)
    engagement = selectors.engagement_get_for_user(request.user, pk)
    suspensions = engagement.suspensions.select_related("version__model").order_by("pk")
    return render(
        request,
        "gate/kill_switch_detail.html",
        {"engagement": engagement, "suspensions": suspensions, "timeline": object_timeline(request.user, engagement)},
    )


@require_POST
def kill_switch_test_run(request):
    _require_reader(request.user)
    if not uses_kill_switch(request.user):
        raise PermissionDenied("Only compliance runs a kill-switch test.")
    test = killswitch.kill_switch_test(request.user)
    if test.passed:
        messages.success(
            request,
            f"Kill-switch test passed: all {test.allowed_before} models the gate allowed were blocked "
            f"({test.duration_ms:.0f} ms). Nothing was stopped.",
        )
    else:
        messages.error(request, f"Kill-switch test FAILED: {test.allowed_before - test.blocked_during} not blocked.")
    return redirect("gate:kill-switch-test", pk=test.pk)


def kill_switch_test_detail(request, pk):
    _require_reader(request.user)
    test = selectors.test_get_for_user(request.user, pk)
    for row in test.detail.get("models", []):
        row["reasons_text"] = reason_labels(row["reasons"])
    return render(
        request, "gate/kill_switch_test.html", {"test": test, "timeline": object_timeline(request.user, test)}
    )


def model_card(request, key, version):
    """The model card of a version (issue 24): for everyone who may see the version, traders first (404 otherwise)."""
    obj = selectors.version_for_card(request.user, key, version)
    acks = selectors.card_acknowledgements(request.user, obj)
    asked = acknowledges_as(request.user, obj.model)
    acks["mine"] = any(a.user_id == request.user.pk for a in acks["acknowledgements"])
    return render(
        request,
        "gate/model_card.html",
        {"model": obj.model, "version": obj, "card": card.card_of(obj, request.user), "acks": acks, "asked": asked},
    )


def model_card_pdf(request, key, version):
    """The card on one A4 page (long texts are cut there; the page and the API carry them whole)."""
    obj = selectors.version_for_card(request.user, key, version)
    html = render_to_string("gate/model_card_pdf.html", {"card": card.card_of(obj, request.user)})
    response = HttpResponse(card.card_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="model-card-{obj.model.key}-{obj.version}.pdf"'
    return response
