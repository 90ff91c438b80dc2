"""Shared steps for lifecycle tests: walk a version forward with the right people."""

import datetime as dt

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.lifecycle import workflow
from models_registry.models import Model
from risk.validation import runs
from risk.validation import services as evidence_services
from tests.factories import PASSWORD, make_version

SIGNOFF = {
    "conceptual_soundness": {"not_applicable": "Linear model with documented economic rationale; see doc."},
    "ongoing_monitoring": {"not_applicable": "Monitoring plan reviewed; thresholds set by the desk."},
    "outcomes_analysis": {"evidence": []},  # filled with the report's id
    "tier_confirmed": None,
    "no_findings_justification": "Reviewed data lineage, backtest windows, code and the claimed metrics.",
}


def attach(actor, version, kind, name="report.pdf"):
    return evidence_services.evidence_add(
        actor, version, file=SimpleUploadedFile(name, b"%PDF-1.4 evidence"), kind=kind
    )


def signoff_for(version, evidence):
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in SIGNOFF.items()}
    data["outcomes_analysis"] = {"evidence": [evidence.pk]}
    data["tier_confirmed"] = version.model.risk_tier
    return data


def ready_model(world):
    Model.objects.filter(pk=world.mine.pk).update(known_limitations="Untested in crises.")
    world.mine.refresh_from_db()
    return world.mine


def new_draft(world, label="2.0"):
    return make_version(world.developer, ready_model(world), label=label)


def to_validated(world, version):
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    return workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report), comment="Sound."
    )


def to_production(world, version, approvers):
    version = to_validated(world, version)
    for approver in approvers:
        version = workflow.version_transition(approver, version, "approve_deployment", password=PASSWORD)
    version = workflow.version_transition(
        world.owner,
        version,
        "start_pilot",
        pilot={
            "max_notional": "5000000",
            "instruments": ["ESZ6"],
            "venues": ["XCME"],
            "end_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        },
    )
    attach(world.owner, version, "pilot_results", "pilot.md")
    return workflow.version_transition(approvers[0], version, "promote", password=PASSWORD, comment="Pilot clean.")


def graded_in_validation(world, label="5.0", seed=11):
    """A classifier version of `mine` in validation with a succeeded run of a no-skill model (its tests fail
    and warn) and a validation report attached: what a sign-off over a run is tested on.

    Returns (version, run, report)."""
    Model.objects.filter(pk=world.mine.pk).update(
        purpose="risk", model_type="gradient_boosting", known_limitations="Untested in crises."
    )
    world.mine.refresh_from_db()
    version = make_version(world.developer, world.mine, label=label, claimed_performance={})
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    rng = np.random.default_rng(seed)
    y_true, y_score = rng.integers(0, 2, 400), rng.uniform(0, 1, 400).round(4)
    rows = "\n".join(
        f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00,{t},{int(s > 0.5)},{s}"
        for i, (t, s) in enumerate(zip(y_true, y_score, strict=True))
    )
    dataset = evidence_services.evidence_add(
        world.validator,
        version,
        kind="dataset",
        file=SimpleUploadedFile("preds.csv", f"timestamp,y_true,y_pred,y_score\n{rows}\n".encode()),
    )
    runs.plan_save(world.validator, version)
    run = runs.run_start(world.validator, version, dataset)
    assert runs.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    return version, run, attach(world.validator, version, "validation_report")
