"""The evidence pack of a model version: everything a supervisor asks about it, in one signed BagIt bag.

data/dossier.pdf reads as a report; data/records/*.json and *.csv carry the same records for machines; and
data/evidence/ holds every evidence file exactly as stored. The signatures' payloads are in records/signatures.json,
so each content hash recomputes from the pack alone (docs/verify_signature_hashes.py does it): the payload's
canonical JSON, the version record in records/version.json, each evidence file's SHA-256, the cited validation
run's results in records/validation-runs.json.
"""

from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.utils.text import get_valid_filename

from governance.core import access
from governance.core.audit import audit_type
from governance.core.models import Desk, Signature
from governance.core.signatures import canonical_hash, verify
from governance.lifecycle import selectors as lifecycle
from governance.skills import access as skills_access
from governance.skills import selectors as skills
from models_registry.models import DataSource, ModelVersion
from risk.exports import bags
from risk.gate.models import Acknowledgement, KillSwitch
from risk.incidents.models import Incident
from risk.monitoring.models import Monitor, MonitorResult
from risk.threads.models import Thread
from risk.validation.models import Evidence, Finding, ValidationRun

HIDDEN_DATA_SOURCE = "a restricted data source"


def person(user) -> str:
    if user is None:
        return "Vigil"
    return user.get_full_name() or user.get_username()


def _iso(value):
    return value.isoformat() if value is not None else None


def evidence_path(evidence) -> str:
    return f"evidence/{evidence.pk}-{get_valid_filename(evidence.original_name) or 'file'}"


def model_record(model, viewer) -> dict:
    upstream = list(model.upstream_models.all())
    visible = set(
        access.restrict(type(model).objects.filter(pk__in=[m.pk for m in upstream]), viewer).values_list(
            "pk", flat=True
        )
    )
    return {
        "key": model.key,
        "name": model.name,
        "description": model.description,
        "purpose": model.get_purpose_display(),
        "desk": model.desk.code,
        "asset_classes": model.asset_classes,
        "model_type": model.get_model_type_display(),
        "vendor": model.vendor_name if model.is_vendor else None,
        "owner": person(model.owner),
        "developers": sorted(person(u) for u in model.developers.all()),
        "validator": person(model.validator) if model.validator_id else None,
        "intended_use": model.intended_use,
        "known_limitations": model.known_limitations,
        "use_restrictions": model.use_restrictions,
        "notional_at_stake": str(model.notional_at_stake) if model.notional_at_stake is not None else None,
        "downstream_consumers": model.downstream_consumers,
        "complexity": model.get_complexity_rating_display(),
        "explainability": model.get_explainability_rating_display(),
        "computed_tier": model.computed_tier,
        "tier_rule_version": model.tier_rule_version,
        "tier_override": model.tier_override,
        "tier_override_justification": model.tier_override_justification,
        "risk_tier": model.risk_tier,
        "status": model.get_status_display(),
        "last_validated_at": _iso(model.last_validated_at),
        "next_validation_due": _iso(model.next_validation_due),
        "revalidation": model.revalidation_flag or "in date",
        "upstream_models": sorted(m.key for m in upstream if m.pk in visible),
        "upstream_models_restricted": sum(1 for m in upstream if m.pk not in visible),
        "created_at": _iso(model.created_at),
    }


def version_record(version, viewer) -> dict:
    """The version as signed (the fields of its signature payload, by the same names) and what surrounds it."""
    links = list(version.data_links.select_related("data_source").order_by("usage", "data_source_id"))
    seen = set(
        access.restrict(DataSource.objects.filter(pk__in=[link.data_source_id for link in links]), viewer).values_list(
            "pk", flat=True
        )
    )
    pilot = lifecycle.pilot_of(version)
    return {
        "object": f"{audit_type(version)}:{version.pk}",
        "id": version.pk,
        "model": version.model.key,
        "version": version.version,
        "status": version.get_status_display(),
        "artifact_uri": version.artifact_uri,
        "artifact_sha256": version.artifact_sha256,
        "code_revision": version.code_revision,
        "training_data_ref": version.training_data_ref,
        "hyperparameters": version.hyperparameters,
        "claimed_performance": version.claimed_performance,
        # As signed: [usage, data source id]; the names beside them, hidden where the viewer may not see them.
        "data_sources": [[link.usage, link.data_source_id] for link in links],
        "data_source_names": {
            str(link.data_source_id): link.data_source.name if link.data_source_id in seen else HIDDEN_DATA_SOURCE
            for link in links
        },
        "notes": version.notes,
        "created_by": person(version.created_by),
        "created_at": _iso(version.created_at),
        "conditions_of_use": lifecycle.conditions_of_use(version),
        "pilot": None
        if pilot is None
        else {
            "max_notional": str(pilot.max_notional),
            "instruments": pilot.instruments,
            "venues": pilot.venues,
            "end_date": _iso(pilot.end_date),
        },
    }


def lifecycle_rows(versions) -> list[dict]:
    return [
        {
            "version": version.version,
            "at": _iso(t.at),
            "action": t.action_label,
            "from_status": t.from_label,
            "to_status": t.to_label,
            "by": person(t.actor),
            "comment": t.comment,
            "signature_id": t.signature_id,
            "policy_version": t.policy.version,
        }
        for version in versions
        for t in lifecycle.version_history_for_people(version)
    ]


def signatures_of(versions, incidents, findings, stops) -> list[Signature]:
    """The versions' own signatures, their incidents' closures, their findings' risk acceptances and the
    kill-switch signatures of the stops that reached them, oldest first."""
    others = [i.closure_signature_id for i in incidents] + [f.risk_acceptance_id for f in findings]
    for stop in stops:
        others += [stop.engage_signature_id, stop.release_request_signature_id, stop.release_signature_id]
    object_type = audit_type(ModelVersion)
    on_versions = Q(object_type=object_type, object_id__in=[str(v.pk) for v in versions])
    chosen = Signature.objects.filter(on_versions | Q(pk__in=[pk for pk in others if pk]))
    return list(chosen.select_related("policy", "signer").order_by("signed_at", "id"))


def _subject(signature, versions: dict) -> str:
    """What was signed, in words: "alpha 1.2" for a version, else its kind and id."""
    version = versions.get(signature.object_id) if signature.object_type == audit_type(ModelVersion) else None
    if version is not None:
        return f"{version.model.key} {version.version}"
    return f"{signature.object_type.rsplit('.', 1)[-1]} {signature.object_id}"


def signature_rows(signatures, versions) -> list[dict]:
    by_pk = {str(v.pk): v for v in versions}
    object_type = audit_type(ModelVersion)
    rows = []
    for s in signatures:
        intact, why = verify(s, by_pk.get(s.object_id) if s.object_type == object_type else None)
        rows.append(
            {
                "id": s.pk,
                "signed_at": _iso(s.signed_at),
                "signer": s.full_name_snapshot,
                "signer_username": s.signer.get_username(),
                "meaning": s.get_meaning_display(),
                "meaning_code": s.meaning,
                "comment": s.comment,
                "object_type": s.object_type,
                "object_id": s.object_id,
                "subject": _subject(s, by_pk),
                "policy_version": s.policy.version,
                "content_hash": s.content_hash,
                "verified_by_vigil": "intact" if intact else why,
                "payload": s.payload,
            }
        )
    return rows


def run_rows(versions) -> list[dict]:
    runs = ValidationRun.objects.filter(version__in=versions).select_related("requested_by", "version")
    return [
        {
            "id": run.pk,
            "version": run.version.version,
            "status": run.status,
            # "ongoing": a scheduled re-run of the signed plan on production data, compared with `baseline_run`.
            "kind": run.kind,
            "baseline_run": run.baseline_id,
            "requested_by": person(run.requested_by),
            "created_at": _iso(run.created_at),
            "finished_at": _iso(run.finished_at),
            "dataset_evidence_id": run.dataset_id,
            "report_evidence_id": run.report_id,
            "input_sha256": run.input_sha256,
            "results_sha256": canonical_hash(run.results),
            "results": run.results,
            "metrics": run.metrics,
            "fingerprints": run.fingerprints,
            "plan": run.plan_snapshot,
            "error": run.error,
        }
        for run in runs.order_by("id")
    ]


def result_rows(runs: list[dict]) -> list[dict]:
    """Each test of each run on a line: value, threshold, outcome."""
    return [{"run": run["id"]} | row for run in runs for row in run["results"]]


def finding_rows(findings) -> list[dict]:
    return [
        {
            "id": f.pk,
            "severity": f.severity,
            "status": f.status,
            "title": f.title,
            "description": f.description,
            "run": f.run_id,
            "baseline_run": f.baseline_run_id,
            "test": f.test,
            "owner": person(f.owner),
            "raised_by": person(f.raised_by),
            "raised_at": _iso(f.raised_at),
            "due_date": _iso(f.due_date),
            "remediation_note": f.remediation_note,
            "closed_by": person(f.closed_by) if f.closed_by_id else None,
            "closed_at": _iso(f.closed_at),
            "risk_acceptance_signature_id": f.risk_acceptance_id,
        }
        for f in findings
    ]


def incident_rows(incidents) -> list[dict]:
    return [
        {
            "id": i.pk,
            "reference": i.reference,
            "title": i.title,
            "severity": i.severity,
            "status": i.status,
            "detected_by": i.detected_by,
            "monitor_id": i.monitor_id,
            "reported_by": person(i.reported_by) if i.reported_by_id else "Vigil",
            "opened_at": _iso(i.opened_at),
            "impact_pnl": str(i.impact_pnl) if i.impact_pnl is not None else None,
            "impact_trades": i.impact_trades,
            "impact_clients": i.impact_clients,
            "root_cause": i.root_cause,
            "corrective_actions": i.corrective_actions,
            "post_incident_review": i.post_incident_review,
            "closed_at": _iso(i.closed_at),
            "closed_by": person(i.closed_by) if i.closed_by_id else None,
            "closure_signature_id": i.closure_signature_id,
            "findings": sorted(f.pk for f in i.findings.all()),
            "timeline": [
                {"at": _iso(e.at), "kind": e.get_kind_display(), "by": person(e.author), "text": e.text}
                for e in i.entries.all()
            ],
        }
        for i in incidents
    ]


def threads_of(versions) -> list[Thread]:
    """The review threads on the versions and on their runs, findings, incidents and monitors (each keeps its
    version)."""
    related = Thread.objects.filter(version__in=versions).select_related("opened_by", "resolved_by", "version")
    return list(related.prefetch_related("comments__author", "comments__mentions").order_by("id"))


def thread_rows(threads) -> list[dict]:
    """Each thread with every comment as written (edits are in the audit trail), who it mentioned, and what it
    raised."""
    return [
        {
            "id": t.pk,
            "reference": t.reference,
            "version": t.version.version if t.version_id else None,
            "on": f"{t.target_kind} #{t.target_id}",
            "title": t.title,
            "challenge": t.challenge,
            "status": t.status,
            "opened_by": person(t.opened_by),
            "opened_at": _iso(t.opened_at),
            "resolved_by": person(t.resolved_by) if t.resolved_by_id else None,
            "resolved_at": _iso(t.resolved_at),
            "incident_id": t.incident_id,
            "finding_id": t.finding_id,
            "comments": [
                {
                    "id": c.pk,
                    "kind": c.kind,
                    "at": _iso(c.created_at),
                    "by": person(c.author),
                    "reply_to": c.reply_to_id,
                    "text": c.body,
                    "edited_at": _iso(c.edited_at),
                    "mentions": sorted(person(u) for u in c.mentions.all()),
                }
                for c in t.comments.all()
            ],
        }
        for t in threads
    ]


def monitor_rows(versions) -> list[dict]:
    monitors = (
        Monitor.objects.filter(version__in=versions)
        .select_related("version")
        .annotate(
            evaluations=Count("results"),
            warnings=Count("results", filter=Q(results__outcome=MonitorResult.Outcome.WARN)),
            breaches=Count("results", filter=Q(results__outcome=MonitorResult.Outcome.BREACH)),
            last_breach=Max("results__slot", filter=Q(results__outcome=MonitorResult.Outcome.BREACH)),
        )
        .order_by("id")
    )
    rows = []
    for m in monitors:
        latest = m.results.order_by("-slot", "-id").first()
        rows.append(
            {
                "id": m.pk,
                "version": m.version.version,
                "kind": m.get_kind_display(),
                "measure": m.measure,
                "stream": m.stream,
                "direction": m.direction,
                "warn": m.warn,
                "breach": m.breach,
                "window": m.window,
                "evaluations": m.evaluations,
                "warnings": m.warnings,
                "breaches": m.breaches,
                "last_breach": _iso(m.last_breach),
                "latest_outcome": latest.outcome if latest else None,
                "latest_value": latest.value if latest else None,
                "latest_at": _iso(latest.slot) if latest else None,
            }
        )
    return rows


def stops_of(versions) -> list[KillSwitch]:
    stops = KillSwitch.objects.filter(suspensions__version__in=versions).select_related("engaged_by").distinct()
    return list(stops.order_by("id"))


def kill_switch_rows(stops) -> list[dict]:
    return [
        {
            "id": k.pk,
            "scope": k.scope_key,
            "reason": k.reason,
            "engaged_by": person(k.engaged_by),
            "engaged_at": _iso(k.engaged_at),
            "engage_signature_id": k.engage_signature_id,
            "released_at": _iso(k.released_at),
            "release_signature_id": k.release_signature_id,
        }
        for k in stops
    ]


def evidence_rows(files) -> list[dict]:
    return [
        {
            "id": e.pk,
            "version": e.version.version,
            "kind": e.get_kind_display(),
            "description": e.description,
            "original_name": e.original_name,
            "path": f"data/{evidence_path(e)}",
            "sha256": e.sha256,
            "size": e.size,
            "content_type": e.content_type,
            "uploaded_by": person(e.uploaded_by),
            "uploaded_at": _iso(e.uploaded_at),
        }
        for e in files
    ]


COLUMNS = {
    "lifecycle": [
        "version", "at", "action", "from_status", "to_status", "by", "comment", "signature_id", "policy_version",
    ],
    "signatures": [
        "id", "signed_at", "signer", "signer_username", "meaning", "meaning_code", "comment", "object_type",
        "object_id", "subject", "policy_version", "content_hash", "verified_by_vigil", "payload",
    ],
    "validation-runs": [
        "id", "version", "status", "kind", "baseline_run", "requested_by", "created_at", "finished_at",
        "dataset_evidence_id", "report_evidence_id",
        "input_sha256", "results_sha256", "results", "metrics", "fingerprints", "plan", "error",
    ],
    "validation-results": ["run", "test", "metric", "value", "threshold", "outcome", "reason"],
    "findings": [
        "id", "severity", "status", "title", "description", "run", "baseline_run", "test", "owner", "raised_by",
        "raised_at", "due_date", "remediation_note", "closed_by", "closed_at", "risk_acceptance_signature_id",
    ],
    "incidents": [
        "id", "reference", "title", "severity", "status", "detected_by", "monitor_id", "reported_by", "opened_at",
        "impact_pnl", "impact_trades", "impact_clients", "root_cause", "corrective_actions", "post_incident_review",
        "closed_at", "closed_by", "closure_signature_id", "findings", "timeline",
    ],
    "monitors": [
        "id", "version", "kind", "measure", "stream", "direction", "warn", "breach", "window", "evaluations",
        "warnings", "breaches", "last_breach", "latest_outcome", "latest_value", "latest_at",
    ],
    "kill-switch": [
        "id", "scope", "reason", "engaged_by", "engaged_at", "engage_signature_id", "released_at",
        "release_signature_id",
    ],
    "threads": [
        "id", "reference", "version", "on", "title", "challenge", "status", "opened_by", "opened_at", "resolved_by",
        "resolved_at", "incident_id", "finding_id", "comments",
    ],
    "skills": [
        "person", "username", "part", "duty", "requirement_id", "requirement", "kind", "scope", "validity_months",
        "status", "holds_until", "completions",
    ],
    "acknowledgements": [
        "id", "version", "person", "username", "as", "card_hash", "acknowledged_at", "signature_id",
        "signature_hash", "answers",
    ],
    "evidence": [
        "id", "version", "kind", "description", "original_name", "path", "sha256", "size", "content_type",
        "uploaded_by", "uploaded_at",
    ],
}  # fmt: skip


def records(version, viewer, progress=None) -> dict:
    """Every record of the pack, as plain data (the PDF, the JSON and the CSV are all drawn from it)."""
    model = version.model
    incidents = incidents_of(Incident.objects.filter(version=version))
    findings = findings_of([version])
    runs = run_rows([version])
    stops = stops_of([version])
    policy = lifecycle.approval_summary(version, _policy_of(version)) if version.transitions.exists() else None
    return {
        "model": model_record(model, viewer),
        "version": version_record(version, viewer),
        "approval": policy,
        "lifecycle": lifecycle_rows([version]),
        "signatures": signature_rows(signatures_of([version], incidents, findings, stops), [version]),
        "validation-runs": runs,
        "validation-results": result_rows(runs),
        "findings": finding_rows(findings),
        "incidents": incident_rows(incidents),
        "monitors": monitor_rows([version]),
        "kill-switch": kill_switch_rows(stops),
        "threads": thread_rows(threads_of([version])),
        "skills": skill_rows([version], model),
        "acknowledgements": acknowledgement_rows([version]),
        "evidence": evidence_rows(
            Evidence.objects.filter(version=version).select_related("uploaded_by").order_by("id")
        ),
    }


def acknowledgement_rows(versions) -> list[dict]:
    """Who acknowledged the versions' model cards before use (issue 24): the card's hash they signed, as what, their
    answers to the comprehension check and the signature, so the gate's "acknowledged before use" leaves evidence."""
    rows = (
        Acknowledgement.objects.filter(version__in=versions)
        .select_related("user", "version", "signature")
        .order_by("acknowledged_at", "id")
    )
    return [
        {
            "id": a.pk,
            "version": a.version.version,
            "person": person(a.user),
            "username": a.user.get_username(),
            "as": a.parts_text,
            "card_hash": a.card_hash,
            "acknowledged_at": _iso(a.acknowledged_at),
            "signature_id": a.signature_id,
            "signature_hash": a.signature.content_hash if a.signature_id else None,
            "answers": a.answers,
        }
        for a in rows
    ]


SKILL_PARTS = {
    Signature.Meaning.VALIDATED: "validated",
    Signature.Meaning.VALIDATED_WITH_CONDITIONS: "validated",
    Signature.Meaning.REJECTED: "validated",
    Signature.Meaning.APPROVED: "approved",
    Signature.Meaning.APPROVED_FOR_PRODUCTION: "approved",
}


def skill_rows(versions, model) -> list[dict]:
    """The skills records (RTS 6 Art. 3) of the people who validated and approved the versions and of the traders
    of the model's desk: each requirement of their duties, its status on the day of the pack and every completion."""
    signed = Signature.objects.filter(
        object_type=audit_type(ModelVersion),
        object_id__in=[str(v.pk) for v in versions],
        meaning__in=list(SKILL_PARTS),
    ).select_related("signer")
    parts = {}
    for signature in signed.order_by("signed_at", "id"):
        parts.setdefault((signature.signer.pk, SKILL_PARTS[signature.meaning]), signature.signer)
    traders = skills_access.duty_holders("trader").filter(profile__desk_id=model.desk_id)
    for trader in traders:
        parts.setdefault((trader.pk, "trades"), trader)
    return skills.records_of([(person, part) for (_pk, part), person in parts.items()])


def incidents_of(queryset) -> list[Incident]:
    related = queryset.select_related("reported_by", "closed_by", "version")
    return list(related.prefetch_related("findings", "entries__author").order_by("id"))


def findings_of(versions) -> list[Finding]:
    related = Finding.objects.filter(version__in=versions).select_related("owner", "raised_by", "closed_by")
    return list(related.order_by("id"))


def _policy_of(version):
    last = version.transitions.select_related("policy").order_by("-at", "-id").first()
    return last.policy


def lay_out(version, viewer, meta: dict, progress):
    """The pack's payload: the PDF, the records, every evidence file (checked against its recorded hash)."""

    def _lay_out(pack: bags.Pack) -> None:
        data = records(version, viewer)
        progress(20)
        pack.add_json("model", data["model"])
        pack.add_json("version", data["version"])
        if data["approval"] is not None:
            pack.add_json("approval", data["approval"])
        for name, columns in COLUMNS.items():
            pack.add_table(name, data[name], columns)
        add_evidence_files(pack, evidence_of([version]), progress)
        pack.add_bytes("dossier.pdf", dossier_pdf(data, meta))
        progress(90)

    return _lay_out


def evidence_of(versions):
    return Evidence.objects.filter(version__in=versions).select_related("uploaded_by", "version").order_by("id")


def add_evidence_files(pack, files, progress, start: int = 20, span: int = 60) -> None:
    """Every evidence file, copied from storage and checked against its recorded SHA-256 (else MissingFile)."""
    files = list(files)
    for done, evidence in enumerate(files, 1):
        pack.add_stored_file(
            evidence_path(evidence),
            lambda e=evidence: e.file.open("rb"),
            evidence.sha256,
            f"Evidence file {evidence.pk} ({evidence.original_name}) of version {evidence.version.version}",
        )
        progress(start + int(span * done / len(files)))


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # imported here: only workers that build packs need its system libraries

    return HTML(string=render_to_string(template, context)).write_pdf()


def dossier_pdf(data: dict, meta: dict) -> bytes:
    context = {name.replace("-", "_"): value for name, value in data.items()} | {"meta": meta}
    context["data_sources"] = data_source_list(data["version"])
    context["desks"] = desk_names()
    return render_pdf("exports/dossier.html", context)


def desk_names() -> dict[str, str]:
    """Desk names by code: records carry the code, the PDFs show the name."""
    return dict(Desk.objects.values_list("code", "name"))


def data_source_list(version: dict) -> list[dict]:
    names = version["data_source_names"]
    return [{"usage": usage, "name": names[str(pk)]} for usage, pk in version["data_sources"]]


def version_for(viewer, model, label: str) -> ModelVersion | None:
    """The version of a model the viewer may see, by its label (None when there is none they may see)."""
    return (
        access.restrict(ModelVersion.objects.filter(model=model, version=label), viewer).select_related("model").first()
    )
