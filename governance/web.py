"""Governance pages: lifecycle actions, evidence, findings, the personal queue and the policy."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance import findings as finding_services
from governance import permissions as perms
from governance import workflow
from governance.exceptions import Conflict
from governance.forms import (
    AttestationForm,
    EvidenceForm,
    FindingActionForm,
    FindingForm,
    ModelRiskForm,
    PilotForm,
    SignOffForm,
    TransitionForm,
)
from governance.models import Attestation, AuditEvent, Finding, GovernancePolicy, Notification, PilotPlan, Signature
from governance.policy import policy_in_force, policy_publish
from governance.revalidation import attestation_sign
from governance.risk_register import risk_add, risk_summary
from governance.roles import Role, user_roles
from governance.signatures import verify as verify_signature
from models_registry import selectors as registry
from models_registry.models import ModelVersion
from risk import services as evidence_services
from risk.models import Evidence
from risk.web import validation_context


def _errors_to_messages(request, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(request, f"{field.replace('_', ' ').replace('.', ': ')}: {error}")
    else:
        for error in exc.messages:
            messages.error(request, error)


def _version(request, key, version):
    model = registry.model_get_for_user(request.user, key)
    return registry.version_get_for_user(request.user, model, version)


def lifecycle_context(user, version, finding_initial=None) -> dict:
    """What the version page shows about the lifecycle: history, signatures, actions with their reasons.
    `finding_initial` pre-fills the finding form (a validator raising a finding from a failed test)."""
    actions = workflow.available_actions(user, version)
    signatures = Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk))
    return {
        "history": workflow.version_history(version),
        "signatures": [(s, verify_signature(s)) for s in signatures],
        "actions": actions,
        "transition_form": TransitionForm(),
        "signoff_form": SignOffForm(version=version),
        "pilot_form": PilotForm(),
        "evidence": Evidence.objects.filter(version=version).select_related("uploaded_by"),
        "can_add_evidence": perms.can(user, perms.ADD_VERSION, version.model)
        or perms.can(user, perms.VALIDATE, version.model),
        "evidence_form": EvidenceForm(),
        "findings": Finding.objects.filter(version=version).select_related("owner"),
        "can_raise_finding": version.model.validator_id == user.pk and Role.VALIDATOR in user_roles(user),
        "finding_form": FindingForm(owners=_finding_owners(version), initial=finding_initial or {}),
        "finding_open": bool(finding_initial),
        "pilot": PilotPlan.objects.filter(version=version).first(),
        "today": timezone.now().date(),
        **validation_context(user, version),
    }


def _finding_owners(version):
    model = version.model
    ids = {model.owner_id, *model.developers.values_list("pk", flat=True)}
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username")


@login_required
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
        _errors_to_messages(request, exc)
    except Conflict as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    else:
        messages.success(
            request, f"{workflow.RULES[action].label}: the version is now {moved.get_status_display().lower()}."
        )
    return redirect("models_registry:version-detail", key=key, version=version)


@login_required
@require_POST
def evidence_upload(request, key, version):
    obj = _version(request, key, version)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            evidence = evidence_services.evidence_add(request.user, obj, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, f"{evidence.original_name} attached (SHA-256 {evidence.sha256[:16]}…).")
    return redirect("models_registry:version-detail", key=key, version=version)


@login_required
def evidence_download(request, pk):
    evidence = Evidence.objects.select_related("version__model").filter(pk=pk).first()
    if evidence is None or not evidence_services.can_read_evidence(request.user, evidence.version):
        raise Http404("Not found.")
    # Always an attachment with a neutral type: evidence is never rendered or executed by the browser.
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type="application/octet-stream",
    )


@login_required
@require_POST
def finding_raise(request, key, version):
    obj = _version(request, key, version)
    form = FindingForm(request.POST, owners=_finding_owners(obj))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            finding_services.finding_raise(request.user, obj, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, "Finding raised; its owner was notified.")
    return redirect("models_registry:version-detail", key=key, version=version)


@login_required
def finding_list(request):
    findings = finding_services.finding_list(request.user).order_by("status", "due_date", "id")
    status = request.GET.get("status")
    if status in Finding.Status.values:
        findings = findings.filter(status=status)
    page = Paginator(findings, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/finding_list.html",
        {"page": page, "today": timezone.now().date(), "statuses": Finding.Status.choices, "status": status},
    )


def _finding(request, pk) -> Finding:
    finding = finding_services.finding_list(request.user).filter(pk=pk).first()
    if finding is None:
        raise Http404("Not found.")
    return finding


@login_required
def finding_detail(request, pk):
    finding = _finding(request, pk)
    if request.method == "POST":
        form = FindingActionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "start_remediation":
                    finding_services.finding_start_remediation(request.user, finding, data["comment"])
                elif data["action"] == "close":
                    finding_services.finding_close(request.user, finding, data["comment"])
                else:
                    finding_services.finding_accept_risk(
                        request.user,
                        finding,
                        justification=data["comment"],
                        password=data["password"],
                        otp_token=data["otp_token"],
                    )
            except ValidationError as exc:
                _errors_to_messages(request, exc)
            except Conflict as exc:
                for reason in exc.reasons:
                    messages.error(request, reason)
            else:
                messages.success(request, "Finding updated.")
                return redirect("governance:finding-detail", pk=finding.pk)
        else:
            messages.error(request, "Give a comment for the action.")
    timeline = AuditEvent.objects.filter(object_type="governance.finding", object_id=str(finding.pk)).order_by("-id")[
        :50
    ]
    return render(
        request,
        "governance/finding_detail.html",
        {
            "finding": finding,
            "form": FindingActionForm(),
            "timeline": timeline,
            "today": timezone.now().date(),
            "version_url": reverse(
                "models_registry:version-detail",
                kwargs={"key": finding.version.model.key, "version": finding.version.version},
            ),
        },
    )


@login_required
def inbox(request):
    """What waits on me: notifications, and versions where I have an open action."""
    user = request.user
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("governance:inbox")
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


@login_required
def policy(request):
    is_compliance = Role.COMPLIANCE in user_roles(request.user)
    if request.method == "POST":
        if not is_compliance:
            raise PermissionDenied("Only compliance publishes governance policy.")
        try:
            fields = {
                "profile": request.POST.get("profile", "").strip() or None,
                "revalidation_months": {t: int(request.POST.get(f"months_{t}", "")) for t in ("1", "2", "3")},
                "approvals_required": {t: int(request.POST.get(f"approvals_{t}", "")) for t in ("1", "2", "3")},
                "notes": request.POST.get("notes", "")[:5000],
            }
        except ValueError:
            messages.error(request, "Give whole numbers for every tier.")
        else:
            try:
                published = policy_publish(request.user, **fields)
            except ValidationError as exc:
                _errors_to_messages(request, exc)
            else:
                messages.success(request, f"Policy v{published.version} published; it governs decisions from now on.")
                return redirect("governance:policy")
    return render(
        request,
        "governance/policy.html",
        {
            "current": policy_in_force(),
            "history": GovernancePolicy.objects.select_related("published_by"),
            "is_compliance": is_compliance,
        },
    )


def model_governance_context(user, model) -> dict:
    """What the model page shows of governance: the risk register and the yearly attestations."""
    owners = get_user_model().objects.filter(
        pk__in={model.owner_id, *model.developers.values_list("pk", flat=True)}, is_active=True
    )
    return {
        **risk_summary(model),
        "risk_form": ModelRiskForm(owners=owners),
        "attestations": Attestation.objects.filter(model=model).select_related("owner", "signature"),
        "attestation_form": AttestationForm(),
    }


@login_required
@require_POST
def model_risk_add(request, key):
    model = registry.model_get_for_user(request.user, key)
    owners = get_user_model().objects.filter(
        pk__in={model.owner_id, *model.developers.values_list("pk", flat=True)}, is_active=True
    )
    form = ModelRiskForm(request.POST, owners=owners)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            risk_add(request.user, model, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, "Risk recorded.")
    return redirect("models_registry:model-detail", key=key)


@login_required
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
            _errors_to_messages(request, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{attestation.year} attestation signed.")
    return redirect("models_registry:model-detail", key=key)
