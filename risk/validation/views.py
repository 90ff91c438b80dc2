"""Validation pages: evidence, findings, the plan and runs of a version, each run's progress and results,
and the version-page panels this app registers (evidence, findings, validation)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from governance.core import panels
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors, errors_to_messages
from governance.core.selectors import object_timeline
from models_registry import selectors as registry
from risk.validation import access as validation_access
from risk.validation import chart_facts, charts, plans, report, selectors
from risk.validation import findings as finding_services
from risk.validation import runs as validation
from risk.validation import services as evidence_services
from risk.validation.forms import (
    EvidenceForm,
    FindingActionForm,
    FindingForm,
    PlanOptionsForm,
    PlanTestForm,
    PlanTestFormSet,
    RunStartForm,
)
from risk.validation.models import Finding, ValidationRun
from risk.validation.plans import label_for_test

# --- Panels of the version page ------------------------------------------------------------------------


def evidence_panel(request, version) -> dict | None:
    user = request.user
    if not validation_access.can_read_evidence(user, version):
        return None  # traders see no validation evidence
    return {
        "evidence": selectors.evidence_of(version),
        "can_add_evidence": validation_access.can_add_evidence(user, version),
        "evidence_form": EvidenceForm(auto_id="id_evidence_%s"),
    }


def _finding_from_query(request) -> dict | None:
    """Title and description handed over by a validation run's "raise a finding" link (plain text, capped)."""
    title = request.GET.get("finding_title", "")[:200]
    if not title:
        return None
    initial = {"title": title, "description": request.GET.get("finding_description", "")[:2000]}
    run = request.GET.get("finding_run", "")
    if run.isdigit() and len(run) < 19:
        initial.update(run=int(run), test=request.GET.get("finding_test", "")[:120])
    return initial


def findings_panel(request, version) -> dict | None:
    """Findings on the version; the validator's form to raise one, pre-filled from a failed test's link."""
    user = request.user
    if not validation_access.can_read_evidence(user, version):
        return None
    initial = _finding_from_query(request)
    return {
        "findings": selectors.findings_of(version),
        "can_raise_finding": validation_access.is_validator_of(user, version),
        "finding_form": FindingForm(
            owners=selectors.finding_owners(version),
            runs=selectors.runs_of(version),
            initial=initial or {},
            auto_id="id_finding_%s",
        ),
        "finding_open": bool(initial),
        "today": timezone.now().date(),
    }


def validation_panel(request, version) -> dict | None:
    user = request.user
    if not validation_access.can_read_evidence(user, version):
        return None
    plan = selectors.plan_of(version)
    is_validator = validation_access.is_validator_of(user, version)
    validation_open = validation.validation_open(version)
    return {
        "plan": plan,
        **_run_form_flags(plan),
        "runs": selectors.runs_of(version, limit=20),
        "ongoing_check": selectors.ongoing_check_of(version),
        "top_features": selectors.top_features(version),
        # Only the validator of an open validation starts runs: nobody else pays the query for the form's files.
        "run_form": RunStartForm(files=selectors.run_input_files(version))
        if is_validator and plan and validation_open
        else None,
        "is_validator": is_validator,
        "validation_open": validation_open,
    }


def _run_form_flags(plan) -> dict:
    """Which of the run form's files the plan reads."""
    return {
        "tests_returns": plan is not None and "strategy" in plans.parts(plan.template),
        "reads_prediction_log": plan is not None and plans.uses_prediction_log(plan.template),
        "runs_model": plan is not None and plans.tests_predictions(plan.template),
    }


def _version(request, key, version):
    return registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, key), version)


def plan_edit(request, key, version):
    """The validator retunes thresholds, drops tests (not the ones Tier 1 requires) and sets the options."""
    obj = _version(request, key, version)
    plan = selectors.plan_of(obj)
    if not validation_access.is_validator_of(request.user, obj):
        raise PermissionDenied("Only the model's validator edits the validation plan.")
    if plan is None:
        return redirect("models_registry:version-detail", key=key, version=version)
    if not validation.validation_open(obj):
        messages.error(request, validation.closed_reason(obj))
        return redirect("models_registry:version-detail", key=key, version=version)
    tests = PlanTestFormSet(
        request.POST or None, prefix="tests", initial=[PlanTestForm.initial_from(t) for t in plan.tests]
    )
    options = PlanOptionsForm(request.POST or None, initial=PlanOptionsForm.initial_from(plan.options))
    plan_errors = []
    if request.method == "POST" and tests.is_valid() and options.is_valid():
        kept = [form.as_test() for form in tests if form.cleaned_data.get("keep")]
        try:
            validation.plan_save(request.user, obj, tests=kept, options=options.as_options())
        except ValidationError as exc:
            plan_errors = exc.messages
        except Conflict as exc:
            plan_errors = [str(exc)]
        else:
            messages.success(request, "Validation plan saved.")
            return redirect("models_registry:version-detail", key=key, version=version)
    context = {"version": obj, "model": obj.model, "plan": plan, "tests": tests, "options": options}
    return render(request, "risk/plan_form.html", {**context, "plan_errors": plan_errors})


@require_POST
def plan_setup(request, key, version):
    obj = _version(request, key, version)
    try:
        plan = validation.plan_save(request.user, obj)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Validation plan set up from the template {plans.template_label(plan.template)}.")
    return redirect("models_registry:version-detail", key=key, version=version)


@require_POST
def run_start(request, key, version):
    """Start a run on the chosen files; refused, the form comes back on a page of its own (400) with each error
    beside its file, as chosen."""
    obj = _version(request, key, version)
    if not validation_access.is_validator_of(request.user, obj):
        raise PermissionDenied("Only the model's validator sets up and runs validation.")
    if not validation.validation_open(obj):
        messages.error(request, validation.closed_reason(obj))
        return redirect("models_registry:version-detail", key=key, version=version)
    form = RunStartForm(request.POST, files=selectors.run_input_files(obj))
    if form.is_valid():
        try:
            run = validation.run_start(request.user, obj, **form.inputs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            # The version's state, not the input: said on the version page, as before.
            messages.error(request, str(exc))
            return redirect("models_registry:version-detail", key=key, version=version)
        else:
            return redirect("validation:run-detail", pk=run.pk)
    context = {"version": obj, "model": obj.model, "run_form": form, **_run_form_flags(selectors.plan_of(obj))}
    return render(request, "risk/run_form.html", context, status=400)


def run_detail(request, pk):
    run = selectors.run_get_for_user(request.user, pk)
    return render(
        request,
        "risk/run_detail.html",
        {
            "run": run,
            "results": _with_finding_links(request.user, run),
            "headline": [m for m in run.metrics if m.get("headline")],
            "metrics": run.metrics,
            "running": run.status in ("queued", "running"),
            "reads_prediction_log": plans.uses_prediction_log(run.plan_snapshot["template"]),
            "chart_groups": chart_facts.grouped(_plotly_panels(run)),
            "record_panels": panels.build(panels.RUN_PAGE, request, run),
        },
    )


def _plotly_panels(run) -> list[dict]:
    # "plotly-panels": keys drawn before cached other shapes (inline scripts the CSP refuses; panels without captions).
    return report.drawn_once(run, "plotly-panels", lambda: charts.plotly_divs(run.charts)) if run.charts else []


def _with_finding_links(user, run) -> list[dict]:
    """Result rows; for the validator, failed and warned rows link to a finding form filled in from them."""
    if not validation_access.is_validator_of(user, run.version):
        return run.results
    page = reverse("models_registry:version-detail", args=[run.version.model.key, run.version.version])
    rows = []
    for row in run.results:
        if row["outcome"] in ("fail", "warn"):
            source = getattr(run, plans.input_of(run.plan_snapshot["template"], row["metric"])) or run.dataset
            query = urlencode(
                {
                    "finding_title": f"Validation run #{run.pk}: {label_for_test(row['test'], row['metric'])} "
                    f"{'failed' if row['outcome'] == 'fail' else 'warned'}",
                    "finding_run": run.pk,
                    "finding_test": row["test"],
                    "finding_description": f"{plans.metric_label(row['metric'])} = {_value_text(row)} "
                    f"against {_threshold_text(row)} "
                    f"in validation run #{run.pk} on {source.original_name} (SHA-256 {source.sha256}).",
                }
            )
            row = {**row, "finding_url": f"{page}?{query}#raise-finding"}
        rows.append(row)
    return rows


def _value_text(row) -> str:
    """A failed test without a value (the model could not be run) is described by its reason."""
    return f"{row['value']:.6g}" if row.get("value") is not None else f"no value ({row.get('reason', '')})"


def _threshold_text(row) -> str:
    t = row["threshold"]
    if "claimed" in t:
        return f"the claimed {t['claimed']} ({plans.claim_precision(t)})"
    good, bad = (">=", "<") if t["higher_is_better"] else ("<=", ">")
    return f"pass {good} {t['pass']}, fail {bad} {t['fail']}"


def run_report(request, pk):
    """The validation report as a page: the same document the stored PDF was printed from."""
    run = selectors.run_get_for_user(request.user, pk)
    if run.status != ValidationRun.Status.SUCCEEDED:
        raise Http404("This run has no report.")
    html = report.render_html(
        run,
        results=run.results,
        metrics=run.metrics,
        charts=run.charts,
        fingerprints=run.fingerprints,
        finished_at=run.finished_at,
        on_screen=True,
        csp_nonce=str(request.csp_nonce),  # str(): a lazy nonce not yet read is falsy
    )
    return HttpResponse(html)


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
            errors_to_messages(request, exc)
        else:
            messages.success(request, f"{evidence.original_name} attached (SHA-256 {evidence.sha256[:16]}…).")
    return redirect("models_registry:version-detail", key=key, version=version)


def evidence_download(request, pk):
    evidence = selectors.evidence_get_for_user(request.user, pk)
    # Always an attachment with a neutral type: evidence is never rendered or executed by the browser.
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type="application/octet-stream",
    )


@require_POST
def finding_raise(request, key, version):
    obj = _version(request, key, version)
    form = FindingForm(request.POST, owners=selectors.finding_owners(obj), runs=selectors.runs_of(obj))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            finding_services.finding_raise(request.user, obj, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_messages(request, exc)
        else:
            messages.success(request, "Finding raised; its owner was notified.")
    return redirect("models_registry:version-detail", key=key, version=version)


def finding_list(request):
    findings = selectors.finding_list(request.user).order_by("status", "due_date", "id")
    status = request.GET.get("status")
    if status in Finding.Status.values:
        findings = findings.filter(status=status)
    page = Paginator(findings, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/finding_list.html",
        {"page": page, "today": timezone.now().date(), "statuses": Finding.Status.choices, "status": status},
    )


def finding_detail(request, pk):
    finding = selectors.finding_get_for_user(request.user, pk)
    actions = validation_access.finding_actions(request.user, finding)
    form, status = FindingActionForm(actions=actions), 200
    if request.method == "POST":
        form = FindingActionForm(request.POST, actions=actions)
        if form.is_valid():
            try:
                _finding_act(request.user, finding, form.cleaned_data)
            except (ValidationError, PermissionDenied, Conflict) as exc:
                # Refused: the page comes back with the reason beside the form and the comment as typed.
                status = _finding_refusal(form, exc)
            else:
                messages.success(request, "Finding updated.")
                return redirect("validation:finding-detail", pk=finding.pk)
        else:
            status = 400
    return render(
        request,
        "governance/finding_detail.html",
        {
            "finding": finding,
            "form": form,
            "actions": actions,
            "timeline": object_timeline(request.user, finding),
            "record_panels": panels.build(panels.FINDING_PAGE, request, finding),
            "today": timezone.now().date(),
            "version_url": reverse(
                "models_registry:version-detail",
                kwargs={"key": finding.version.model.key, "version": finding.version.version},
            ),
        },
        status=status,
    )


def _finding_act(user, finding, data) -> None:
    if data["action"] == "start_remediation":
        finding_services.finding_start_remediation(user, finding, data["comment"])
    elif data["action"] == "close":
        finding_services.finding_close(user, finding, data["comment"])
    else:
        finding_services.finding_accept_risk(
            user, finding, justification=data["comment"], password=data["password"], otp_token=data["otp_token"]
        )


def _finding_refusal(form, exc) -> int:
    """Puts a service's refusal on the form; the HTTP status the page answers with."""
    if isinstance(exc, Conflict):
        for reason in exc.reasons:
            form.add_error(None, reason)
        return 409
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or "You may not do this to this finding.")
        return 403
    # The services name their own fields (note, justification, password): shown beside the form.
    for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
        form.add_error(field if field in form.fields else None, errors)
    return 400
