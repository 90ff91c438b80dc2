"""The packs supervisors ask for, as signed BagIt bags like the evidence pack:

- MiFID II Art. 17(2), "on request", for one algorithmic-trading model: its strategy, its parameters and limits
  (pilot limits, conditions of use), its controls (the gate's answer and revisions, the kill switch, monitors and
  their thresholds) and its testing (validation runs, kill-switch tests), with the versions in use, their
  signatures and evidence files;
- RTS 6 Art. 9, the annual self-assessment: for a year, the firm's algorithmic models with their validations,
  incidents, kill-switch stops and tests, and limit breaches (monitor breaches), and the self-assessment's
  sign-offs by compliance and a senior manager (risk/exports/self_assessment.py).

Algorithmic-trading models are those whose purpose is an alpha signal or execution: they decide orders.
"""

import datetime as dt

from django.db.models import Count, Q

from governance.core import access
from governance.core.models import Signature
from models_registry.choices import ALGORITHMIC_PURPOSES
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model, ModelVersion
from risk.exports import bags
from risk.exports import evidence_pack as ep
from risk.exports.models import SelfAssessment
from risk.gate import decisions
from risk.gate.models import GateDecision, KillSwitch, KillSwitchTest
from risk.incidents.models import Incident
from risk.monitoring.models import MonitorResult

ALGORITHMIC = ALGORITHMIC_PURPOSES
IN_USE = (S.APPROVED, S.PILOT, S.PRODUCTION, S.SUSPENDED)
VALIDATION_MEANINGS = (
    Signature.Meaning.VALIDATED,
    Signature.Meaning.VALIDATED_WITH_CONDITIONS,
    Signature.Meaning.REJECTED,
)


def is_algorithmic(model) -> bool:
    return model.purpose in ALGORITHMIC


def stops_covering(model):
    """Every use of the kill switch that reached the model: on it, on its desk, or firm-wide."""
    reach = Q(scope=KillSwitch.Scope.ALL) | Q(scope=KillSwitch.Scope.DESK, desk=model.desk_id) | Q(model=model)
    return list(KillSwitch.objects.filter(reach).select_related("engaged_by").order_by("id"))


def test_rows(tests) -> list[dict]:
    return [
        {
            "id": t.pk,
            "run_at": ep._iso(t.run_at),
            "run_by": ep.person(t.run_by),
            "models_checked": t.models_checked,
            "allowed_before": t.allowed_before,
            "blocked_during": t.blocked_during,
            "passed": t.passed,
            "duration_ms": round(t.duration_ms, 1),
        }
        for t in tests
    ]


def revision_rows(model) -> list[dict]:
    return [
        {
            "revision": d.revision,
            "decided_at": ep._iso(d.decided_at),
            "allowed": d.allowed,
            "version": d.body.get("version"),
            "reasons": "; ".join(r.get("message", r.get("code", "")) for r in d.body.get("reasons") or []),
            "etag": d.etag,
        }
        for d in GateDecision.objects.filter(model=model).order_by("revision")
    ]


# --- MiFID II Art. 17(2) ---------------------------------------------------------------------------------------

MIFID_COLUMNS = {
    "versions-all": ["version", "status", "created_at", "created_by"],
    "lifecycle": ep.COLUMNS["lifecycle"],
    "signatures": ep.COLUMNS["signatures"],
    "validation-runs": ep.COLUMNS["validation-runs"],
    "validation-results": ep.COLUMNS["validation-results"],
    "findings": ep.COLUMNS["findings"],
    "incidents": ep.COLUMNS["incidents"],
    "monitors": ep.COLUMNS["monitors"],
    "kill-switch": ep.COLUMNS["kill-switch"],
    "kill-switch-tests": [
        "id", "run_at", "run_by", "models_checked", "allowed_before", "blocked_during", "passed", "duration_ms",
    ],
    "gate-revisions": ["revision", "decided_at", "allowed", "version", "reasons", "etag"],
    "skills": ep.COLUMNS["skills"],
    "evidence": ep.COLUMNS["evidence"],
}  # fmt: skip


def versions_in_use(model, viewer) -> list[ModelVersion]:
    visible = access.restrict(ModelVersion.objects.filter(model=model), viewer).select_related("model", "created_by")
    return list(visible.filter(status__in=IN_USE).order_by("created_at", "id"))


def mifid_records(model, viewer) -> dict:
    versions = versions_in_use(model, viewer)
    incidents = ep.incidents_of(Incident.objects.filter(model=model))
    findings = ep.findings_of(versions)
    stops = stops_covering(model)
    runs = ep.run_rows(versions)
    every_version = access.restrict(ModelVersion.objects.filter(model=model), viewer).select_related("created_by")
    return {
        "model": ep.model_record(model, viewer),
        "versions": [ep.version_record(v, viewer) for v in versions],
        "versions-all": [
            {
                "version": v.version,
                "status": v.get_status_display(),
                "created_at": ep._iso(v.created_at),
                "created_by": ep.person(v.created_by),
            }
            for v in every_version.order_by("created_at", "id")
        ],
        "gate": decisions.decision_for(model).body,
        "gate-revisions": revision_rows(model),
        "lifecycle": ep.lifecycle_rows(versions),
        "signatures": ep.signature_rows(ep.signatures_of(versions, incidents, findings, stops), versions),
        "validation-runs": runs,
        "validation-results": ep.result_rows(runs),
        "findings": ep.finding_rows(findings),
        "incidents": ep.incident_rows(incidents),
        "monitors": ep.monitor_rows(versions),
        "kill-switch": ep.kill_switch_rows(stops),
        "kill-switch-tests": test_rows(KillSwitchTest.objects.select_related("run_by").order_by("run_at", "id")),
        "skills": ep.skill_rows(versions, model),
        "evidence": ep.evidence_rows(ep.evidence_of(versions)),
    }


def mifid_lay_out(model, viewer, meta: dict, progress):
    def _lay_out(pack: bags.Pack) -> None:
        data = mifid_records(model, viewer)
        progress(20)
        pack.add_json("model", data["model"])
        pack.add_json("versions", data["versions"])
        pack.add_json("gate", data["gate"])
        for name, columns in MIFID_COLUMNS.items():
            pack.add_table(name, data[name], columns)
        ep.add_evidence_files(pack, ep.evidence_of(versions_in_use(model, viewer)), progress)
        context = {name.replace("-", "_"): value for name, value in data.items()}
        context |= {"meta": meta, "desks": ep.desk_names()}
        for version in context["versions"]:
            version["sources"] = ep.data_source_list(version)
        pack.add_bytes("dossier.pdf", ep.render_pdf("exports/mifid.html", context))
        progress(90)

    return _lay_out


# --- RTS 6 Art. 9 annual self-assessment ----------------------------------------------------------------------

RTS6_COLUMNS = {
    "models": [
        "key", "name", "desk", "purpose", "risk_tier", "status", "validations", "last_validation",
        "validation_runs", "incidents", "incidents_high_or_critical", "kill_switch_stops", "monitor_breaches",
        "monitor_warnings",
    ],
    "validations": ["signature_id", "signed_at", "model", "version", "meaning", "signer", "content_hash"],
    "incidents": [
        "id", "reference", "model", "title", "severity", "status", "opened_at", "closed_at", "root_cause",
        "corrective_actions",
    ],
    "kill-switch": ["id", "scope", "reason", "engaged_by", "engaged_at", "released_at"],
    "kill-switch-tests": MIFID_COLUMNS["kill-switch-tests"],
    "limit-breaches": ["result_id", "model", "version", "monitor", "slot", "value", "breach_threshold", "direction"],
}  # fmt: skip


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def rts6_figures(year: int) -> dict:
    """The year's facts for every algorithmic model that existed in it (firm-wide: compliance's view)."""
    start, end = year_bounds(year)
    models = list(
        Model.objects.filter(purpose__in=ALGORITHMIC, created_at__lt=end).select_related("desk").order_by("key")
    )
    version_type = "models_registry.modelversion"
    labels = {
        str(pk): (key, label)
        for pk, key, label in ModelVersion.objects.filter(model__in=models).values_list("pk", "model__key", "version")
    }
    validations = [
        {
            "signature_id": s.pk,
            "signed_at": ep._iso(s.signed_at),
            "model": labels[s.object_id][0],
            "version": labels[s.object_id][1],
            "meaning": s.get_meaning_display(),
            "signer": s.full_name_snapshot,
            "content_hash": s.content_hash,
        }
        for s in Signature.objects.filter(
            object_type=version_type,
            object_id__in=list(labels),
            meaning__in=VALIDATION_MEANINGS,
            signed_at__gte=start,
            signed_at__lt=end,
        ).order_by("signed_at", "id")
    ]
    incidents = list(
        Incident.objects.filter(model__in=models, opened_at__gte=start, opened_at__lt=end)
        .select_related("model")
        .order_by("opened_at", "id")
    )
    stops = list(
        KillSwitch.objects.filter(engaged_at__gte=start, engaged_at__lt=end).select_related(
            "engaged_by", "desk", "model"
        )
    )
    breaches = list(
        MonitorResult.objects.filter(
            monitor__version__model__in=models,
            outcome=MonitorResult.Outcome.BREACH,
            slot__gte=start,
            slot__lt=end,
        )
        .select_related("monitor__version__model")
        .order_by("slot", "id")
    )
    warnings = dict(
        MonitorResult.objects.filter(
            monitor__version__model__in=models, outcome=MonitorResult.Outcome.WARN, slot__gte=start, slot__lt=end
        )
        .values_list("monitor__version__model")
        .annotate(n=Count("id"))
    )
    runs = dict(
        ModelVersion.objects.filter(
            model__in=models, validation_runs__finished_at__gte=start, validation_runs__finished_at__lt=end
        )
        .values_list("model")
        .annotate(n=Count("validation_runs"))
    )
    rows = []
    for model in models:
        own = [v for v in validations if v["model"] == model.key]
        own_incidents = [i for i in incidents if i.model_id == model.pk]
        reached = [
            k for k in stops if k.scope == KillSwitch.Scope.ALL or k.desk_id == model.desk_id or k.model_id == model.pk
        ]
        rows.append(
            {
                "key": model.key,
                "name": model.name,
                "desk": model.desk.code,
                "purpose": model.get_purpose_display(),
                "risk_tier": model.risk_tier,
                "status": model.get_status_display(),
                "validations": len(own),
                "last_validation": own[-1]["signed_at"] if own else None,
                "validation_runs": runs.get(model.pk, 0),
                "incidents": len(own_incidents),
                "incidents_high_or_critical": sum(1 for i in own_incidents if i.severity in ("high", "critical")),
                "kill_switch_stops": len(reached),
                "monitor_breaches": sum(1 for b in breaches if b.monitor.version.model_id == model.pk),
                "monitor_warnings": warnings.get(model.pk, 0),
            }
        )
    tests = KillSwitchTest.objects.filter(run_at__gte=start, run_at__lt=end).select_related("run_by")
    return {
        "year": year,
        "models": rows,
        "validations": validations,
        "incidents": [
            {
                "id": i.pk,
                "reference": i.reference,
                "model": i.model.key,
                "title": i.title,
                "severity": i.severity,
                "status": i.status,
                "opened_at": ep._iso(i.opened_at),
                "closed_at": ep._iso(i.closed_at),
                "root_cause": i.root_cause,
                "corrective_actions": i.corrective_actions,
            }
            for i in incidents
        ],
        "kill-switch": [
            {
                "id": k.pk,
                "scope": k.scope_key,
                "reason": k.reason,
                "engaged_by": ep.person(k.engaged_by),
                "engaged_at": ep._iso(k.engaged_at),
                "released_at": ep._iso(k.released_at),
            }
            for k in sorted(stops, key=lambda k: k.pk)
        ],
        "kill-switch-tests": test_rows(tests.order_by("run_at", "id")),
        "limit-breaches": [
            {
                "result_id": b.pk,
                "model": b.monitor.version.model.key,
                "version": b.monitor.version.version,
                "monitor": f"{b.monitor.get_kind_display()}: {b.monitor.measure}",
                "slot": ep._iso(b.slot),
                "value": b.value,
                "breach_threshold": b.monitor.breach,
                "direction": b.monitor.direction,
            }
            for b in breaches
        ],
    }


def assessment_state(assessment) -> str:
    if assessment is None:
        return "not prepared: the figures are as of the export, and nobody has signed"
    if assessment.signed_off:
        return "signed off by compliance and a senior manager"
    if assessment.compliance_signature_id:
        return "signed by compliance; awaiting a senior manager"
    return "prepared; awaiting compliance's signature"


def rts6_lay_out(year: int, meta: dict, progress):
    def _lay_out(pack: bags.Pack) -> None:
        assessment = (
            SelfAssessment.objects.filter(year=year)
            .select_related("prepared_by", "compliance_signature__policy", "compliance_signature__signer")
            .select_related("senior_signature__policy", "senior_signature__signer")
            .first()
        )
        figures = assessment.figures if assessment else rts6_figures(year)
        progress(40)
        record = {
            "year": year,
            "state": assessment_state(assessment),
            "prepared_by": ep.person(assessment.prepared_by) if assessment else None,
            "prepared_at": ep._iso(assessment.prepared_at) if assessment else None,
            "prepared_before_year_end": assessment.prepared_before_year_end if assessment else False,
            "conclusion": assessment.conclusion if assessment else "",
            "figures_sha256": assessment.figures_sha256 if assessment else None,
            "figures": figures,
        }
        pack.add_json("self-assessment", record)
        for name, columns in RTS6_COLUMNS.items():
            pack.add_table(name, figures[name], columns)
        sign_offs = (
            [s for s in (assessment.compliance_signature, assessment.senior_signature) if s] if assessment else []
        )
        signature_rows = ep.signature_rows(sign_offs, [])
        pack.add_table("signatures", signature_rows, ep.COLUMNS["signatures"])
        context = {name.replace("-", "_"): value for name, value in figures.items()}
        context |= {"meta": meta, "assessment": record, "signatures": signature_rows, "desks": ep.desk_names()}
        pack.add_bytes("dossier.pdf", ep.render_pdf("exports/rts6.html", context))
        progress(90)

    return _lay_out
