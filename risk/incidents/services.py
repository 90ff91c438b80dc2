"""Incidents: reported by people, opened by breaches, worked on by the model's team and compliance.

- `incident_report`: anyone who may see the model reports one (a trader's "this model is behaving oddly" is a
  detection source); its team and compliance are told.
- `incident_from_breach`: the `monitoring.alert` handler. A breach opens an incident for its monitor or adds to
  the one open for it: the partial unique index on (monitor, not closed) decides between concurrent workers, the
  loser adds its detection to the winner's incident. Delivered at least once: a result already linked is skipped.
- `incident_update`: the model's owner and developers and compliance move its status, severity, impact, root
  cause and actions; each change is a timeline entry and an audit event. Closing is `incident_close`.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from governance.core import access, signatures
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import Signature
from governance.core.notifications import raise_alert
from governance.core.policy import policy_in_force
from governance.core.system import system_user
from governance.core.templatetags.display import money
from governance.core.text_fields import checked_text
from governance.lifecycle import revalidation, workflow
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model, ModelVersion
from risk.incidents import access as incidents_access
from risk.incidents.models import Incident, IncidentEntry
from risk.monitoring.measures import label, result_text
from risk.monitoring.models import MonitorResult
from risk.validation.findings import finding_raise

SEVERITY_BY_TIER = {1: Incident.Severity.HIGH, 2: Incident.Severity.MEDIUM, 3: Incident.Severity.LOW}
OPEN_STATUSES = (Incident.Status.OPEN, Incident.Status.INVESTIGATING, Incident.Status.MITIGATED)
SIGNED_CLOSURE = (Incident.Severity.CRITICAL, Incident.Severity.HIGH)
RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
DETECTION_ENTRY_EVERY = dt.timedelta(hours=1)


def url_of(incident) -> str:
    return f"/incidents/{incident.pk}/"


def can_report(user, model) -> bool:
    """Whoever may see the model, except auditors."""
    return incidents_access.reports_incidents(user) and access.can(user, access.VIEW, model)


def can_work_on(user, incident) -> bool:
    """The model's owner and developers, and compliance."""
    if incidents_access.works_on_every_incident(user):
        return True
    model = incident.model
    return model.owner_id == user.pk or model.developers.filter(pk=user.pk).exists()


def _locked(pk) -> Incident:
    """The incident row locked for an action (only its own row: its version may be absent, an outer join)."""
    return Incident.objects.select_for_update(of=("self",)).select_related("model", "version").get(pk=pk)


def _entry(incident, kind, author, text, result=None) -> IncidentEntry:
    return IncidentEntry.objects.create(
        incident=incident, kind=kind, author=author, at=timezone.now(), text=text[:10000], result=result
    )


def _live_version(model):
    for status in (S.PRODUCTION, S.PILOT, S.SUSPENDED):
        version = model.versions.filter(status=status).order_by("-created_at").first()
        if version is not None:
            return version
    return None


@transaction.atomic
def incident_report(actor, model: Model, *, title: str, description: str, severity: str, version=None) -> Incident:
    """Anyone who may see the model reports an incident on it (404 for a model they cannot see: the caller's
    lookup). `version`: one of its versions, by default the one in use."""
    if not can_report(actor, model):
        raise PermissionDenied("You may not report on this model.")
    errors: dict = {}
    title = checked_text(errors, "title", title, 200)
    description = checked_text(errors, "description", description, 10000)
    if severity not in Incident.Severity.values:
        errors["severity"] = [f"Choose one of: {', '.join(Incident.Severity.values)}."]
    if version is not None and (not isinstance(version, ModelVersion) or version.model_id != model.pk):
        errors["version"] = ["Choose a version of this model."]
    if errors:
        raise ValidationError(errors)
    incident = Incident.objects.create(
        model=model,
        version=version or _live_version(model),
        title=title,
        description=description,
        severity=severity,
        detected_by=Incident.Detection.PERSON,
        reported_by=actor,
        opened_at=timezone.now(),
    )
    _entry(incident, IncidentEntry.Kind.OPENED, actor, description)
    audit_record(
        actor,
        "incident.report",
        incident,
        changes={"severity": [None, severity], "status": [None, incident.status], "model": [None, model.key]},
    )
    _respond(incident)
    who = actor.get_full_name() or actor.get_username()
    _alert(incident, "incident_opened", f"{incident.reference} ({severity}) on {model.key}, reported by {who}: {title}")
    return incident


def _alert(incident, kind: str, title: str, severity: str = "") -> None:
    """Tell the model's people (the alerts app routes it: team, validator, desk, compliance, webhooks)."""
    raise_alert(
        kind,
        severity=severity or incident.severity,
        title=title,
        message=incident.description[:2000] if kind == "incident_opened" else "",
        url=url_of(incident),
        model=incident.model_id,
        version=incident.version_id,
    )


def incident_from_breach(payload: dict) -> Incident | None:
    """The `monitoring.alert` handler: a breach opens its monitor's incident or adds to the open one."""
    if payload.get("outcome") != "breach":
        return None  # a warning is an alert, not an incident
    result = MonitorResult.objects.select_related("monitor__version__model").filter(pk=payload["result"]).first()
    if result is None or result.incidents.exists():
        return None  # gone, or this delivery was made before
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _open_or_add(result)
        except IntegrityError:
            continue  # another worker opened it between our read and our insert: add to theirs
    raise Conflict(f"Could not record the breach of result {result.pk} against its monitor's incident.")


def _open_or_add(result) -> Incident:
    monitor = result.monitor
    version = monitor.version
    model = version.model
    text = result_text(monitor, result)
    incident = Incident.objects.select_for_update().filter(monitor=monitor, status__in=OPEN_STATUSES).first()
    if incident is not None:
        # Every breach is linked; the timeline says so at most hourly (a monitor on a one-minute schedule would
        # otherwise bury the people's entries under its own).
        incident.results.add(result)
        last = incident.entries.filter(kind__in=(IncidentEntry.Kind.OPENED, IncidentEntry.Kind.DETECTION)).last()
        if last is None or timezone.now() - last.at >= DETECTION_ENTRY_EVERY:
            _entry(incident, IncidentEntry.Kind.DETECTION, None, text, result)
        incident.save(update_fields=["updated_at"])
        return incident
    severity = SEVERITY_BY_TIER.get(model.risk_tier, Incident.Severity.MEDIUM)
    incident = Incident.objects.create(
        model=model,
        version=version,
        title=f"{label(monitor)} in breach on {model.key} {version.version}",
        description=text,
        severity=severity,
        detected_by=Incident.Detection.MONITOR,
        monitor=monitor,
        opened_at=timezone.now(),
    )
    incident.results.add(result)
    _entry(incident, IncidentEntry.Kind.OPENED, None, text, result)
    audit_record(
        None,
        "incident.open",
        incident,
        changes={"severity": [None, severity], "status": [None, incident.status], "monitor": [None, label(monitor)]},
        reason="A monitor breached its threshold.",
    )
    _respond(incident)
    _alert(incident, "incident_opened", f"{incident.reference} ({severity}) opened on {model.key}: {incident.title}")
    return incident


def _cleaned(fields: dict) -> dict:
    errors: dict = {}
    out = {}
    for name, value in fields.items():
        if name in ("title",):
            out[name] = checked_text(errors, name, value, 200)
        elif name in ("description", "root_cause", "corrective_actions"):
            out[name] = checked_text(errors, name, value, 10000, required=name == "description")
        elif name == "post_incident_review":
            out[name] = checked_text(errors, name, value, 20000, required=False)
        elif name == "severity":
            if value not in Incident.Severity.values:
                errors[name] = [f"Choose one of: {', '.join(Incident.Severity.values)}."]
            out[name] = value
        elif name == "status":
            if value not in OPEN_STATUSES:
                errors[name] = ["Choose open, investigating or mitigated; closing is its own action."]
            out[name] = value
        elif name == "impact_pnl":
            out[name] = _decimal(errors, name, value)
        elif name in ("impact_trades", "impact_clients"):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                errors[name] = ["Give a whole number, 0 or more."]
            out[name] = value
        else:
            errors[name] = ["This field cannot be changed here."]
    if errors:
        raise ValidationError(errors)
    return out


def _decimal(errors, name, value):
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = ["Give an amount, e.g. -125000.50."]
        return None
    if not amount.is_finite() or abs(amount) >= Decimal("1e18"):
        errors[name] = ["Give a finite amount under 10^18."]
        return None
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def incident_update(actor, incident, *, note: str = "", **fields) -> Incident:
    """The model's team or compliance change what is known; every change is a timeline entry and audited."""
    incident = Incident.objects.select_for_update(of=("self",)).select_related("model").get(pk=incident.pk)
    if not can_work_on(actor, incident):
        raise PermissionDenied("The model's owner and developers, and compliance, work on its incidents.")
    if not incident.is_open:
        raise Conflict(f"{incident.reference} is closed; report a new incident instead.")
    cleaned = _cleaned(fields)
    lowered = RANK.get(cleaned.get("severity"), 99) < RANK[incident.severity]
    if lowered and incident.severity in SIGNED_CLOSURE and not incidents_access.may_lower_signed_severity(actor):
        # Else a team could lower a high or critical incident and close it without compliance's signature,
        # or lift a critical incident's block at the gate by itself.
        raise PermissionDenied(f"Only compliance lowers the severity of a {incident.severity} incident.")
    changes = {}
    for name, value in cleaned.items():
        if getattr(incident, name) != value:
            changes[name] = [getattr(incident, name), value]
            setattr(incident, name, value)
    note = (note or "").strip()
    if not changes and not note:
        raise ValidationError({"note": ["Change a field or write a note."]})
    if len(note) > 10000:
        raise ValidationError({"note": ["Keep the note under 10,000 characters."]})
    incident.save()
    for name, (old, new) in changes.items():
        kind = {
            "status": IncidentEntry.Kind.STATUS,
            "severity": IncidentEntry.Kind.SEVERITY,
            "impact_pnl": IncidentEntry.Kind.IMPACT,
            "impact_trades": IncidentEntry.Kind.IMPACT,
            "impact_clients": IncidentEntry.Kind.IMPACT,
        }.get(name, IncidentEntry.Kind.ANALYSIS)
        _entry(incident, kind, actor, f"{_field_label(name)}: {_shown(name, old)} → {_shown(name, new)}")
    if note:
        _entry(incident, IncidentEntry.Kind.NOTE, actor, note)
    audit_record(actor, "incident.update", incident, changes=changes, reason=note)
    if "severity" in changes:
        _respond(incident)  # a raised severity may now stop the model or require its revalidation
        old, new = changes["severity"]
        if RANK[new] > RANK[old]:
            _alert(
                incident,
                "incident_escalated",
                f"{incident.reference} on {incident.model.key} raised to {new}: {incident.title}",
            )
    return incident


def _field_label(name: str) -> str:
    field = Incident._meta.get_field(name)
    return str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:]


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "status":
        return Incident.Status(value).label
    if name == "severity":
        return Incident.Severity(value).label
    if name == "impact_pnl":
        return money(value)
    return str(value)


def _respond(incident) -> None:
    """What the governance policy's incident response sets off for this severity at the model's tier: the live
    version suspended by Vigil (a signed lifecycle step), "revalidation required" on the model. Each is on the
    incident's timeline; the suspension blocks the gate from the next request."""
    policy = policy_in_force()
    model, severity = incident.model, incident.severity
    cause = {"incident": incident.reference, "severity": severity, "tier": model.risk_tier, "policy": policy.version}
    rule = f"policy v{policy.version}: a {severity} incident on a tier {model.risk_tier} model"
    if policy.incident_suspends(model.risk_tier, severity) and incident.version_id:
        reason = f"{incident.reference} ({severity}): {incident.title}. Suspended under {rule}."
        if workflow.policy_suspend(incident.version, reason=reason, cause=cause) is not None:
            _entry(
                incident, IncidentEntry.Kind.POLICY, None, f"Version {incident.version.version} suspended under {rule}."
            )
    if policy.incident_requires_revalidation(model.risk_tier, severity):
        reason = f"{incident.reference} ({severity}): {incident.title}"
        if revalidation.revalidation_require(system_user(), model, reason=reason, by_policy=True):
            _entry(incident, IncidentEntry.Kind.POLICY, None, f"Revalidation required under {rule}.")


def incident_rollback(actor, incident, *, comment: str) -> Incident:
    """Compliance rolls the model back to its previous approved version from the incident: the lifecycle's
    rollback (409 with its reasons when there is none), recorded on the incident."""
    if not incidents_access.may_roll_back(actor):
        raise PermissionDenied("Only compliance rolls a model back.")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": ["Give the reason; it is kept in the audit trail."]})
    with transaction.atomic():
        incident = _locked(incident.pk)
        if incident.version is None:
            raise Conflict("This incident names no version to roll back.")
        version = incident.version
        workflow.version_transition(
            actor, version, workflow.Action.ROLLBACK, comment=f"{incident.reference}: {comment}"
        )
        restored = incident.model.versions.filter(status=S.PRODUCTION).order_by("-created_at").first()
        to = restored.version if restored else "the previous version"
        text = f"Rolled back from {version.version} to {to}: {comment}"
        _entry(incident, IncidentEntry.Kind.ACTION, actor, text)
        audit_record(
            actor,
            "incident.rollback",
            incident,
            reason=comment,
            changes={"version": [version.version, restored.version if restored else None]},
        )
        return incident


def incident_require_revalidation(actor, incident, *, reason: str) -> Incident:
    """A corrective action: compliance or the model's validator mark the model "revalidation required"."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).select_related("model").get(pk=incident.pk)
        reason = (reason or "").strip()
        if not revalidation.revalidation_require(
            actor, incident.model, reason=f"{incident.reference}: {reason}" if reason else ""
        ):
            raise Conflict(f"{incident.model.key} is already marked for revalidation.")
        _entry(incident, IncidentEntry.Kind.ACTION, actor, f"Revalidation required: {reason}")
        audit_record(
            actor, "incident.action", incident, reason=reason, changes={"revalidation_required": [False, True]}
        )
        return incident


def incident_raise_finding(actor, incident, **finding) -> Incident:
    """A corrective action: the model's validator raises a finding on the incident's version, linked to it."""
    with transaction.atomic():
        incident = _locked(incident.pk)
        if incident.version is None:
            raise Conflict("This incident names no version to raise a finding on.")
        raised = finding_raise(actor, incident.version, **finding)
        incident.findings.add(raised)
        _entry(
            incident,
            IncidentEntry.Kind.ACTION,
            actor,
            f"Finding #{raised.pk} raised ({raised.severity}): {raised.title}",
        )
        audit_record(actor, "incident.action", incident, changes={"findings": [None, [raised.pk]]})
        return incident


def incident_note(actor, incident, *, text: str) -> IncidentEntry:
    """Anyone who may see the model adds to an open incident's timeline (a trader's further observation)."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if not can_report(actor, incident.model):
            raise PermissionDenied("You may not write on this incident.")
        if not incident.is_open:
            raise Conflict(f"{incident.reference} is closed.")
        text = (text or "").strip()
        if not text or len(text) > 10000:
            raise ValidationError({"text": ["Write the note (under 10,000 characters)."]})
        entry = _entry(incident, IncidentEntry.Kind.NOTE, actor, text)
        incident.save(update_fields=["updated_at"])
        audit_record(actor, "incident.note", incident, reason=text[:500])
        return entry


def closure_payload(incident) -> dict:
    """What a closure signs: the incident, its severity, and the root cause and actions it closes on."""
    return {
        "object": f"{Incident.AUDIT_TYPE}:{incident.pk}",
        "meaning": Signature.Meaning.INCIDENT_CLOSED.value,
        "model": incident.model.key,
        "version": incident.version.version if incident.version_id else None,
        "severity": incident.severity,
        "root_cause": incident.root_cause,
        "corrective_actions": incident.corrective_actions,
    }


def incident_close(
    actor,
    incident,
    *,
    root_cause: str = "",
    corrective_actions: str = "",
    post_incident_review: str = "",
    password: str = "",
    otp_token: str = "",
) -> Incident:
    """Close an incident on its root cause and corrective actions. A high or critical one: compliance only, with a
    signature over the root cause and actions (password again); a medium or low one: its team or compliance."""
    incident = Incident.objects.select_related("model").get(pk=incident.pk)
    if not can_work_on(actor, incident):
        raise PermissionDenied("The model's owner and developers, and compliance, work on its incidents.")
    signed = incident.severity in SIGNED_CLOSURE
    if signed and not incidents_access.closes_signed_incidents(actor):
        raise PermissionDenied(f"Closing a {incident.severity} incident needs compliance, with a signature.")
    errors: dict = {}
    root_cause = checked_text(errors, "root_cause", root_cause, 10000)
    corrective_actions = checked_text(errors, "corrective_actions", corrective_actions, 10000)
    post_incident_review = checked_text(errors, "post_incident_review", post_incident_review, 20000, required=False)
    if errors:
        raise ValidationError(errors)
    if signed:
        signatures.check_credentials(actor, password, otp_token)  # before the transaction: refusals stay audited
    return _close(actor, incident.pk, root_cause, corrective_actions, post_incident_review, signed)


@transaction.atomic
def _close(actor, pk, root_cause, corrective_actions, post_incident_review, signed) -> Incident:
    incident = _locked(pk)
    if not incident.is_open:
        raise Conflict(f"{incident.reference} was closed on {incident.closed_at:%Y-%m-%d %H:%M} UTC.")
    before = {
        "status": incident.status,
        "root_cause": incident.root_cause,
        "corrective_actions": incident.corrective_actions,
    }
    incident.root_cause, incident.corrective_actions = root_cause, corrective_actions
    if post_incident_review:
        incident.post_incident_review = post_incident_review
    incident.status, incident.closed_at, incident.closed_by = Incident.Status.CLOSED, timezone.now(), actor
    if signed:
        incident.closure_signature = signatures.sign(
            actor,
            Signature.Meaning.INCIDENT_CLOSED,
            incident,
            closure_payload(incident),
            policy_in_force(),
            f"Closed {incident.reference}.",
        )
    incident.save()
    _entry(
        incident, IncidentEntry.Kind.STATUS, actor, f"Closed{' (signed)' if signed else ''}. Root cause: {root_cause}"
    )
    after = {"status": incident.status, "root_cause": root_cause, "corrective_actions": corrective_actions}
    audit_record(
        actor,
        "incident.close",
        incident,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    _alert(
        incident, "incident_closed", f"{incident.reference} on {incident.model.key} closed: {root_cause[:200]}", "low"
    )
    return incident


def open_critical(model) -> list[Incident]:
    return list(
        Incident.objects.filter(model=model, severity=Incident.Severity.CRITICAL, status__in=OPEN_STATUSES).order_by(
            "opened_at"
        )
    )


def incidents_behind_a_resume(step) -> list[dict]:
    """What a resume's signature pins of the model's incidents: those still open and those closed since the
    version was suspended (reference, severity, status, when closed, the closure's signature)."""
    last = step.version.transitions.filter(action=workflow.Action.SUSPEND).order_by("-at", "-id").first()
    since = Q(closed_at__gte=last.at) if last is not None else Q(pk__in=[])
    rows = (
        Incident.objects.filter(Q(status__in=OPEN_STATUSES) | since, model=step.model)
        .select_related("closure_signature")
        .order_by("opened_at", "pk")
    )
    return [
        {
            "reference": i.reference,
            "severity": i.severity,
            "status": i.status,
            "closed_at": i.closed_at.isoformat() if i.closed_at else None,
            "closure_signature": i.closure_signature.content_hash if i.closure_signature_id else None,
        }
        for i in rows
    ]


def no_open_incident_that_suspended(step) -> list[str]:
    """The lifecycle's resume waits for the incidents behind an automatic suspension: while one of a severity the
    policy suspends on is open, the version stays stopped (close it, or compliance lowers its severity)."""
    policy = step.policy
    open_incidents = Incident.objects.filter(model=step.model, status__in=OPEN_STATUSES).order_by("opened_at")
    return [
        f"{i.reference} ({i.severity}) is open, and under policy v{policy.version} a {i.severity} incident suspends "
        f"a tier {step.model.risk_tier} model: close it before resuming."
        for i in open_incidents
        if policy.incident_suspends(step.model.risk_tier, i.severity)
    ]
