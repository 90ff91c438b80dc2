"""Lifecycle pages: version transitions and sign-offs, the personal queue, yearly attestations, and the
panels this app adds to the version page (signatures, history, actions) and the model page (attestations)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.core import panels
from governance.core.exceptions import Conflict
from governance.core.forms_utils import errors_to_messages
from governance.core.models import Signature
from governance.core.notifications import notifications_mark_read
from governance.core.policy import policy_in_force
from governance.core.signatures import check_credentials
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle import queue, selectors, workflow
from governance.lifecycle.forms import AttestationForm, PilotForm, SignOffForm, TransitionForm
from governance.lifecycle.revalidation import attestation_sign
from models_registry import selectors as registry
from risk.validation import selectors as validation_selectors
from risk.validation.plans import label_for_test


def _version(request, key, version):
    model = registry.model_get_for_user(request.user, key)
    return registry.version_get_for_user(request.user, model, version)


# --- Panels ---------------------------------------------------------------------------------------------


def signoff_form(version, data=None, cited_id=None, auto_id="id_%s", action="") -> SignOffForm:
    """The validator's sign-off form over the cited run (the latest succeeded one unless another is named),
    with a disposition for each failed test and an acknowledgement for each warning no finding covers."""
    runs = list(validation_selectors.succeeded_runs(version))
    cited = next((r for r in runs if r.pk == cited_id), runs[0] if runs else None)
    failed, warned = validation_selectors.tests_needing_word(cited)
    return SignOffForm(
        data, version=version, runs=runs, cited=cited, failed=failed, warned=warned, auto_id=auto_id, action=action
    )


def _cited_id(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def lifecycle_panel(request, version) -> dict:
    """Signatures (verified), the transition history, the pilot limits, and the actions open to the viewer
    with the reasons each closed one is closed. Each open action gets its own forms (ids prefixed by the
    action, so no two controls on the page share an id); the sign-off and pilot forms only where they belong."""
    actions = workflow.available_actions(request.user, version)
    cited = _cited_id(request.GET.get("signoff_run"))
    retry = request.session.pop(RETRY_KEY, None) if hasattr(request, "session") else None
    if retry and retry.get("version") != f"{version.model.key}@{version.version}":
        retry = None
    for a in actions:
        if not a.allowed:
            continue
        auto_id = f"id_{a.action}_%s"
        typed = None
        if retry and retry["action"] == a.action:
            typed = QueryDict(mutable=True)
            for name, values in retry["data"].items():
                typed.setlist(name, values)
            a.reopen = True
            cited = _cited_id(typed.get("run")) or cited
        a.transition_form = TransitionForm(typed, auto_id=auto_id) if typed else TransitionForm(auto_id=auto_id)
        a.needs_comment = workflow.RULES[a.action].needs_comment
        signing = workflow.RULES[a.action].signing
        a.meaning = Signature.Meaning(signing).label if signing else ""
        if a.action in workflow.SIGNOFF_ACTIONS:
            a.signoff_form = signoff_form(version, typed, cited_id=cited, auto_id=auto_id, action=a.action)
        if a.action == workflow.Action.START_PILOT:
            a.pilot_form = PilotForm(typed, auto_id=auto_id) if typed else PilotForm(auto_id=auto_id)
        if a.action == workflow.Action.RESUME:
            a.suspension = selectors.suspension_of(version)  # what the resume signature answers (and pins)
        if typed is not None:
            forms = [a.transition_form, getattr(a, "signoff_form", None), getattr(a, "pilot_form", None)]
            a.problems = retry["problems"] + _place_errors(retry.get("fields", {}), forms)
    open_actions = {a.action for a in actions if a.allowed}
    return {
        "history": selectors.version_history_for_people(version),
        "signatures": selectors.version_signatures(version),
        "actions": actions,
        "pilot": selectors.pilot_of(version),
        "conditions": selectors.conditions_of_use(version),
        "approval_summary": selectors.approval_summary(version, policy_in_force())
        if workflow.Action.APPROVE_DEPLOYMENT in open_actions
        else None,
    }


def attestations_panel(request, model) -> dict:
    attestations = list(selectors.attestations_of(model))
    return {
        "attestations": attestations,
        "signable": {a.pk for a in attestations if lifecycle_access.can_sign_attestation(request.user, a)},
        "attestation_form": AttestationForm(),
    }


RETRY_KEY = "vigil:lifecycle-retry"
NEVER_KEPT = {"password", "otp_token", "csrfmiddlewaretoken"}


def _plain(field: str) -> str:
    """A service's error key as words: "signoff.no_findings_justification" -> "No findings justification"."""
    return field.rpartition(".")[2].replace("_", " ").capitalize()


def _form_field(key: str) -> str:
    """The form field that shows a service's error: "signoff.conditions" -> "conditions"; an element's error
    ("signoff.outcomes_analysis") sits beside its "not applicable because" box."""
    name = key.rpartition(".")[2]
    return f"{name}_na" if name in workflow.ELEMENTS else name


def _place_errors(fields: dict[str, list[str]], forms) -> list[str]:
    """Put each service error beside its field on the re-shown forms; what belongs to no field is returned,
    in plain words, for the list above the form."""
    leftover = []
    for key, messages_ in fields.items():
        name = _form_field(key)
        form = next((f for f in forms if f is not None and name in f.fields), None)
        if form is None:
            leftover.append(f"{_plain(key)}: {' '.join(messages_)}")
        else:
            form.add_error(name, messages_)
    return leftover


def _refused(request, key, version, action, problems: list[str], fields: dict | None = None):
    """Back to the version page with the action's form open, filled in as it was typed (never the password):
    each field's error beside it (`fields`, keyed as the service names them; a form's own errors come back
    when the typed data is bound again), and what concerns no one field listed above it."""
    data = {k: request.POST.getlist(k) for k in request.POST if k not in NEVER_KEPT}
    messages.error(request, f"{workflow.RULES[action].label}: not done. Each problem is shown below, by its field.")
    request.session[RETRY_KEY] = {
        "version": f"{key}@{version}",
        "action": action,
        "data": data,
        "problems": problems,
        "fields": fields or {},
    }
    return redirect("models_registry:version-detail", key=key, version=version)


def _reasons_beside_their_fields(reasons: list[str], form, fields: dict) -> list[str]:
    """A failed test without a word and a warning not acknowledged are said beside that test's box; the other
    reasons stay in the list above the form."""
    targets = {}
    for i, test in enumerate(form.failed):
        targets[f"{label_for_test(test)} failed in validation run"] = f"disposition_{i}"
    for i, test in enumerate(form.warned):
        targets[f"Acknowledge the warning on {label_for_test(test)} ("] = f"acknowledge_{i}"
    left = []
    for reason in reasons:
        field = next((f for prefix, f in targets.items() if reason.startswith(prefix)), None)
        if field is None:
            left.append(reason)
        else:
            fields.setdefault(field, []).append(reason)
    return left


def _form_problems(form) -> list[str]:
    """Errors of a form that belong to no field (each field's own errors show beside it)."""
    return list(form.non_field_errors())


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
        signoff = signoff_form(obj, request.POST, cited_id=_cited_id(request.POST.get("run")), action=action)
        if not signoff.is_valid():
            return _refused(request, key, version, action, _form_problems(signoff))
        extra["signoff"] = signoff.signoff()
    if action == "start_pilot":
        pilot = PilotForm(request.POST)
        if not pilot.is_valid():
            return _refused(request, key, version, action, _form_problems(pilot))
        extra["pilot"] = pilot.pilot()
    fields, reasons = workflow.problems_before_acting(
        request.user, obj, action, comment=form.cleaned_data["comment"], **extra
    )
    if fields or reasons:
        if "signoff" in extra:
            reasons = _reasons_beside_their_fields(reasons, signoff, fields)
        if workflow.RULES[action].signing:
            try:  # a wrong password is said in the same round (and audited, as every refused signature is)
                check_credentials(request.user, form.cleaned_data["password"], form.cleaned_data["otp_token"])
            except ValidationError as exc:
                fields.update(exc.message_dict)
        return _refused(request, key, version, action, reasons, fields=fields)
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
        if hasattr(exc, "error_dict"):
            return _refused(request, key, version, action, [], fields=exc.message_dict)
        return _refused(request, key, version, action, list(exc.messages))
    except Conflict as exc:
        return _refused(request, key, version, action, exc.reasons)
    status = moved.get_status_display().lower()
    messages.success(request, f"{workflow.RULES[action].label}: the version is now {status}.")
    return redirect("models_registry:version-detail", key=key, version=version)


def inbox(request):
    """My queue: what needs me (with what blocks it), what I wait on from others and why, by due date; then
    my notifications."""
    user = request.user
    if request.method == "POST":
        notifications_mark_read(user)
        return redirect("lifecycle:inbox")
    work = queue.build(user)
    return render(
        request,
        "governance/inbox.html",
        {
            "needs_me": work.needs_me,
            "waiting": work.waiting,
            "notifications": selectors.notifications_of(user),
            "today": timezone.now().date(),
            "panels": panels.build(panels.QUEUE_PAGE, request, None),
        },
    )


@require_POST
def attestation_sign_view(request, key, pk):
    model = registry.model_get_for_user(request.user, key)
    attestation = selectors.attestation_get(model, pk)
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
    return redirect(reverse("models_registry:model-detail", kwargs={"key": key}) + "?section=attestations")
