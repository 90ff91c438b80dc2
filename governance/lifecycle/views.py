"""Lifecycle pages: version transitions and sign-offs, the personal queue, yearly attestations, and the
panels this app adds to the version page (signatures, history, actions) and the model page (attestations)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.core import access as perms
from governance.core.exceptions import Conflict
from governance.core.forms_utils import errors_to_messages
from governance.core.models import Attestation, Finding, Notification, PilotPlan, Signature
from governance.core.signatures import verify as verify_signature
from governance.lifecycle import workflow
from governance.lifecycle.forms import AttestationForm, PilotForm, SignOffForm, TransitionForm
from governance.lifecycle.revalidation import attestation_sign
from models_registry import selectors as registry
from models_registry.models import ModelVersion


def _version(request, key, version):
    model = registry.model_get_for_user(request.user, key)
    return registry.version_get_for_user(request.user, model, version)


# --- Panels ---------------------------------------------------------------------------------------------


def lifecycle_panel(request, version) -> dict:
    """Signatures (verified), the transition history, the pilot limits, and the actions open to the viewer
    with the reasons each closed one is closed."""
    signatures = Signature.objects.filter(
        object_type=version._meta.label_lower, object_id=str(version.pk)
    ).select_related("policy")
    return {
        "history": workflow.version_history(version),
        "signatures": [(s, verify_signature(s)) for s in signatures],
        "actions": workflow.available_actions(request.user, version),
        "transition_form": TransitionForm(),
        "signoff_form": SignOffForm(version=version),
        "pilot_form": PilotForm(),
        "pilot": PilotPlan.objects.filter(version=version).first(),
    }


def attestations_panel(request, model) -> dict:
    return {
        "attestations": Attestation.objects.filter(model=model).select_related("owner", "signature"),
        "attestation_form": AttestationForm(),
    }


@require_POST
def version_transition(request, key, version):
    obj = _version(request, key, version)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The action could not be read; try again.")
        return redirect("models_registry:version-detail", key=key, version=version)
    action = form.cleaned_data["action"]
    extra = {}
    if action in workflow.SIGNOFF_ACTIONS:
        signoff = SignOffForm(request.POST, version=obj)
        if not signoff.is_valid():
            for field, errors in signoff.errors.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
            return redirect("models_registry:version-detail", key=key, version=version)
        extra["signoff"] = signoff.signoff()
    if action == "start_pilot":
        pilot = PilotForm(request.POST)
        if not pilot.is_valid():
            for field, errors in pilot.errors.items():
                messages.error(request, f"pilot {field}: {' '.join(errors)}")
            return redirect("models_registry:version-detail", key=key, version=version)
        extra["pilot"] = pilot.pilot()
    try:
        moved = workflow.version_transition(
            request.user,
            obj,
            action,
            comment=form.cleaned_data["comment"],
            password=form.cleaned_data["password"],
            otp_token=form.cleaned_data["otp_token"],
            **extra,
        )
    except ValidationError as exc:
        errors_to_messages(request, exc)
    except Conflict as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    else:
        messages.success(
            request, f"{workflow.RULES[action].label}: the version is now {moved.get_status_display().lower()}."
        )
    return redirect("models_registry:version-detail", key=key, version=version)


def inbox(request):
    """What waits on me: notifications, and versions where I have an open action."""
    user = request.user
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("lifecycle:inbox")
    candidates = (
        perms.restrict(ModelVersion.objects.all(), user)
        .exclude(status__in=["draft", "retired"])
        .select_related("model")[:200]
    )
    waiting = []
    for version in candidates:
        open_actions = [a for a in workflow.available_actions(user, version) if a.allowed]
        if open_actions:
            waiting.append((version, open_actions))
    my_findings = Finding.objects.filter(owner=user, status__in=["open", "in_remediation"]).select_related(
        "version__model"
    )
    return render(
        request,
        "governance/inbox.html",
        {
            "notifications": Notification.objects.filter(user=user)[:50],
            "waiting": waiting,
            "my_findings": my_findings,
            "today": timezone.now().date(),
        },
    )


@require_POST
def attestation_sign_view(request, key, pk):
    model = registry.model_get_for_user(request.user, key)
    attestation = Attestation.objects.filter(pk=pk, model=model).first()
    if attestation is None:
        raise Http404("Not found.")
    form = AttestationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the statement and enter your password.")
    else:
        try:
            attestation_sign(request.user, attestation, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_messages(request, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{attestation.year} attestation signed.")
    return redirect("models_registry:model-detail", key=key)
