"""Lifecycle pages: version transitions, the signing actions' own pages (sign-off, approval, resume, pilot), the
personal queue, yearly attestations, and the panels this app adds to the version page (signatures, history,
actions) and the model page (attestations)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from governance.core import panels
from governance.core.exceptions import Conflict
from governance.core.forms_utils import errors_to_messages
from governance.core.models import Signature
from governance.core.notifications import notifications_mark_read
from governance.core.policy import policy_in_force
from governance.core.signatures import check_credentials
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle import queue, selectors, workflow
from governance.lifecycle.forms import ELEMENT_LABELS, AttestationForm, PilotForm, SignOffForm, TransitionForm
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
    form = SignOffForm(
        data, version=version, runs=runs, cited=cited, failed=failed, warned=warned, auto_id=auto_id, action=action
    )
    form.cited = cited
    return form


def _cited_id(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 19 else None


# Actions with more to fill in than a comment (a signature, a sign-off, pilot limits) have a page of their own,
# as wide as the screen; the version page's side column only links to it.
PAGED_ACTIONS = frozenset(a for a, rule in workflow.RULES.items() if rule.signing) | {workflow.Action.START_PILOT}


def lifecycle_panel(request, version) -> dict:
    """Signatures (verified), the transition history, the pilot limits, and the actions open to the viewer
    with the reasons each closed one is closed. An action with a page of its own is a link to it; the others
    (a comment at most) keep a small form here, ids prefixed by the action so no two controls share an id."""
    actions = workflow.available_actions(request.user, version)
    retry = request.session.pop(RETRY_KEY, None) if hasattr(request, "session") else None
    if retry and retry.get("version") != f"{version.model.key}@{version.version}":
        retry = None
    for a in actions:
        a.paged = a.action in PAGED_ACTIONS
        if not a.allowed or a.paged:
            continue
        auto_id = f"id_{a.action}_%s"
        typed = None
        if retry and retry["action"] == a.action:
            typed = QueryDict(mutable=True)
            for name, values in retry["data"].items():
                typed.setlist(name, values)
            a.reopen = True
        a.transition_form = TransitionForm(typed, auto_id=auto_id) if typed else TransitionForm(auto_id=auto_id)
        a.needs_comment = workflow.RULES[a.action].needs_comment
        if typed is not None:
            a.problems = retry["problems"] + _place_errors(retry.get("fields", {}), [a.transition_form])
    open_actions = {a.action for a in actions if a.allowed}
    return {
        "history": selectors.version_history_for_people(version),
        "signatures": selectors.version_signatures(version),
        "actions": actions,
        "action_pages": any(a.allowed and a.paged for a in actions),
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
    """A comment-only action refused: back to the version page with its form open, as it was typed:
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
    if action in PAGED_ACTIONS:
        return _act_from_page(request, obj, action)  # a refusal comes back on the action's own page
    fields, reasons = workflow.problems_before_acting(request.user, obj, action, comment=form.cleaned_data["comment"])
    if fields or reasons:
        return _refused(request, key, version, action, reasons, fields=fields)
    try:
        moved = workflow.version_transition(request.user, obj, action, comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return _refused(request, key, version, action, [], fields=exc.message_dict)
        return _refused(request, key, version, action, list(exc.messages))
    except Conflict as exc:
        return _refused(request, key, version, action, exc.reasons)
    status = moved.get_status_display().lower()
    messages.success(request, f"{workflow.RULES[action].label}: the version is now {status}.")
    return redirect("models_registry:version-detail", key=key, version=version)


def _offered(user, version, action):
    """The paged action as offered to this person on this version (closed ones with their reasons), else 404."""
    found = next((a for a in workflow.available_actions(user, version) if a.action == action), None)
    if found is None or action not in PAGED_ACTIONS:
        raise Http404("This action is not one of yours on this version.")
    return found


@require_http_methods(["GET", "POST"])
def version_action(request, key, version, action):
    """An action's own page: its form across the width of the screen, beside what it signs."""
    obj = _version(request, key, version)
    offered = _offered(request.user, obj, action)
    if request.method == "POST":
        return _act_from_page(request, obj, action)
    return _action_page(request, obj, offered, cited=_cited_id(request.GET.get("run")))


def _act_from_page(request, obj, action):
    """Do the action as its page's form asks. Every problem comes back at once on the page, as typed (never
    the password), each beside its field: 400 for input, 409 when only the version's state stands in the way."""
    form = TransitionForm(request.POST)
    cited = _cited_id(request.POST.get("run"))

    def refused(problems=(), fields=None, status=400):
        offered = _offered(request.user, obj, action)
        return _action_page(request, obj, offered, request.POST, cited, list(problems), fields or {}, status)

    if not form.is_valid() or form.cleaned_data["action"] != action:
        return refused()
    extra, signoff = {}, None
    if action in workflow.SIGNOFF_ACTIONS:
        signoff = signoff_form(obj, request.POST, cited_id=cited, action=action)
        if not signoff.is_valid():
            return refused()
        extra["signoff"] = signoff.signoff()
    if action == workflow.Action.START_PILOT:
        pilot = PilotForm(request.POST)
        if not pilot.is_valid():
            return refused()
        extra["pilot"] = pilot.pilot()
    data = form.cleaned_data
    fields, reasons = workflow.problems_before_acting(request.user, obj, action, comment=data["comment"], **extra)
    if fields or reasons:
        if signoff is not None:
            reasons = _reasons_beside_their_fields(reasons, signoff, fields)
        if workflow.RULES[action].signing:
            try:  # a wrong password is said in the same round (and audited, as every refused signature is)
                check_credentials(request.user, data["password"], data["otp_token"])
            except ValidationError as exc:
                fields.update(exc.message_dict)
        return refused(reasons, fields, 400 if fields else 409)
    try:
        moved = workflow.version_transition(
            request.user,
            obj,
            action,
            comment=data["comment"],
            password=data["password"],
            otp_token=data["otp_token"],
            **extra,
        )
    except ValidationError as exc:
        return refused(fields=exc.message_dict) if hasattr(exc, "error_dict") else refused(exc.messages)
    except Conflict as exc:
        return refused(exc.reasons, status=409)
    messages.success(
        request, f"{workflow.RULES[action].label}: the version is now {moved.get_status_display().lower()}."
    )
    return redirect("models_registry:version-detail", key=obj.model.key, version=obj.version)


def _action_page(request, obj, offered, data=None, cited=None, problems=(), fields=None, status=200):
    action = offered.action
    rule = workflow.RULES[action]
    auto_id = f"id_{action}_%s"  # as the version page's forms were named, so links and tests keep their targets
    transition_form = TransitionForm(data, auto_id=auto_id, initial={"action": action})
    signoff = None
    if action in workflow.SIGNOFF_ACTIONS:
        signoff = signoff_form(obj, data, cited_id=cited, auto_id=auto_id, action=action)
    pilot = PilotForm(data, auto_id=auto_id) if action == workflow.Action.START_PILOT else None
    forms = [transition_form, signoff, pilot]
    problems = list(problems) + _place_errors(fields or {}, forms)
    if data is not None:
        problems += [p for f in forms if f is not None for p in _form_problems(f)]
    context = {
        "model": obj.model,
        "version": obj,
        "offered": offered,
        "refused": data is not None,
        "problems": problems,
        "transition_form": transition_form,
        "signoff_form": signoff,
        "sections": signoff_sections(signoff) if signoff else [],
        "pilot_form": pilot,
        "needs_comment": rule.needs_comment,
        "meaning": Signature.Meaning(rule.signing).label if rule.signing else "",
        "subject": selectors.signoff_subject(obj, signoff.cited) if signoff else None,
        "approval_summary": selectors.approval_summary(obj, policy_in_force())
        if action == workflow.Action.APPROVE_DEPLOYMENT
        else None,
        "suspension": selectors.suspension_of(obj) if action == workflow.Action.RESUME else None,
        "pilot": selectors.pilot_of(obj) if action == workflow.Action.PROMOTE else None,
        "evidence": validation_selectors.evidence_of(obj) if not signoff else None,
    }
    return render(request, "governance/version_action.html", context, status=status)


def signoff_sections(form) -> list[tuple[str, str, list]]:
    """The sign-off's fields in the order a validator works: the run, what it left to address, the three core
    elements, the conclusion. As (heading, help, bound fields); a section with no field is left out."""
    names = list(form.fields)
    pick = lambda *prefixes: [form[n] for n in names if n.startswith(prefixes)]  # noqa: E731
    sections = [
        ("The run it rests on", "", pick("run")),
        (
            "What the run left to address",
            "Each failed test needs a finding raised from it or a written disposition; each warning, "
            "an acknowledgement.",
            pick("disposition_", "acknowledge_"),
        ),
        *[
            (label, "Cite the evidence, or say why the element does not apply.", pick(f"{element}_"))
            for element, label in ELEMENT_LABELS.items()
        ],
        ("Conclusion", "", pick("tier_confirmed", "no_findings_justification", "conditions")),
    ]
    return [section for section in sections if section[2]]


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
