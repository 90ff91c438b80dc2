"""The model card of a version (issue 24): what a trader reads before using a model, generated from governed records.

Why here, in the gate's layer: the card reads the records of the layers below (the model's problem definition and
boundaries in models_registry, the cited signed run and its findings in risk.validation, the validator's conditions
and the pilot's limits in governance.lifecycle, the live monitors in risk.monitoring) and says how the kill switch
(this app's) is pulled; and the gate is what will refuse a desk that has not acknowledged the card's hash (the next
slice of issue 24), so the hash must be computable where the gate decides.

`card_of(version)` reads a constant number of queries whatever the number of tests, findings or monitors.
`card_hash(limitations)` is a pure function over the card's limitations section: what a trader acknowledges (and,
later, what the validator signs). It changes when an out-of-scope use, a boundary, a known limitation or a condition
of use changes, and with the version; never when a monitor's result or a figure does.
"""

import datetime as dt
import hashlib
import html
import json
import re
from decimal import Decimal

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags

from governance.core.audit import audit_type
from governance.core.models import Signature
from governance.core.roles import Role, users_with_role
from governance.core.templatetags.vigil_panels import figure
from governance.lifecycle.models import PilotPlan
from models_registry.choices import LifecycleStatus as S
from risk.gate.access import reads_kill_switch, uses_kill_switch
from risk.gate.decisions import pilot_limits
from risk.monitoring import measures
from risk.monitoring.models import Monitor
from risk.validation.models import Finding, ValidationRun
from risk.validation.templatetags.validation_labels import metric_label, result_value, test_label

VALIDATED = [Signature.Meaning.VALIDATED, Signature.Meaning.VALIDATED_WITH_CONDITIONS]
LIVE = {S.PILOT, S.PRODUCTION, S.SUSPENDED}

KILL_SWITCH_PROCEDURE = (
    "Compliance pulls the kill switch: on Vigil's kill switch page, scope this model, with a reason, signed. Every "
    "version of the model in pilot or production is suspended and the model gate answers blocked to trading systems "
    "from their next request. If the model misbehaves, stop trading it and call its owner or compliance at once; "
    "compliance decides on the stop and releases it."
)


def _number(value):
    """One spelling per number, so 5000000 and 5000000.0 hash the same."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _normalised(value):
    if isinstance(value, dict):
        return {str(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 2000000.00 and 2000000 alike, never 2E+6
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return _number(value)


def canonical_json(value) -> bytes:
    """Keys sorted, no spaces, UTF-8, numbers in one spelling."""
    return json.dumps(_normalised(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def card_hash(limitations: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of a card's limitations section."""
    return hashlib.sha256(canonical_json(limitations)).hexdigest()


def limitations_of(version, conditions: str, pilot: PilotPlan | None) -> dict:
    """The section a trader acknowledges: what the model must not be used for and what binds its use now."""
    model = version.model
    return {
        "model": model.key,
        "version": version.version,
        "out_of_scope_uses": model.out_of_scope_uses,
        "use_restrictions": model.use_restrictions,
        "operating_boundaries": list(model.operating_boundaries),
        "known_limitations": model.known_limitations,
        "conditions_of_use": conditions,
        "pilot_limits": pilot_limits(pilot),
    }


# --- What the validator and compliance sign of the card -------------------------------------------------------------

# The sign-offs whose signature pins the card (issue 24: the card's limitations and boundaries are part of what the
# validator signs and compliance approves). Registered with the lifecycle by this app's ready() (register_pin).
SIGNED_WITH_CARD = ("validate", "validate_with_conditions", "approve_deployment", "promote")
SIGNED_FIELDS = (
    "out_of_scope_uses",
    "use_restrictions",
    "operating_boundaries",
    "known_limitations",
    "conditions_of_use",
)


def card_pin(step) -> dict:
    """What a signature pins of the card: its limitations as they stand at signing, without pilot limits (a pilot's
    limits are set when it starts, after these signatures; the gate's acknowledgements cover them), and their hash.
    A validation with conditions signs the conditions it sets."""
    if step.rule.action == "validate_with_conditions":
        conditions = str((step.signoff or {}).get("conditions") or "")
    elif step.rule.action == "validate":
        conditions = ""
    else:
        conditions = _signed_conditions(step.version)
    limitations = limitations_of(step.version, conditions, None)
    return {"hash": card_hash(limitations), "limitations": limitations}


def _signed_conditions(version) -> str:
    signature = (
        Signature.objects.filter(object_type=audit_type(version), object_id=str(version.pk), meaning__in=VALIDATED)
        .order_by("-signed_at", "-id")
        .values_list("payload", flat=True)
        .first()
    )
    return str(((signature or {}).get("signoff") or {}).get("conditions") or "")


def signed_cards(version, conditions: str) -> list[dict]:
    """Each signature that pinned this version's card: who, as what, the hash pinned, and whether the card's
    limitations still read as signed (and which changed since). One query."""
    now = limitations_of(version, conditions, None)
    out = []
    for signature in (
        Signature.objects.filter(object_type=audit_type(version), object_id=str(version.pk))
        .filter(payload__has_key="card")
        .order_by("signed_at", "id")
    ):
        pinned = signature.payload["card"]
        changed = [f for f in SIGNED_FIELDS if _normalised(pinned["limitations"].get(f)) != _normalised(now.get(f))]
        out.append(
            {
                "meaning": signature.get_meaning_display(),
                "by": signature.full_name_snapshot,
                "at": signature.signed_at.isoformat().replace("+00:00", "Z"),
                "hash": pinned["hash"],
                "matches": not changed,
                "changed": [f.replace("_", " ") for f in changed],
            }
        )
    return out


def _validation(version) -> tuple[Signature | None, ValidationRun | None]:
    signature = (
        Signature.objects.filter(object_type=audit_type(version), object_id=str(version.pk), meaning__in=VALIDATED)
        .order_by("-signed_at", "-id")
        .first()
    )
    cited = ((signature.payload or {}).get("validation_run") or {}) if signature else {}
    run = ValidationRun.objects.filter(pk=cited.get("id"), version=version).first() if cited.get("id") else None
    return signature, run


def _evidence(version, signature, run) -> dict:
    """Known failure modes with the evidence that shows each: the cited run's failed tests, each with the finding it
    raised and the validator's disposition, its warnings, and every finding still open on the version."""
    signoff = ((signature.payload or {}).get("signoff") or {}) if signature else {}
    findings = list(Finding.objects.filter(version=version).order_by("id"))
    raised = {f.test: f for f in findings if run is not None and f.run_id == run.pk and f.test}
    dispositions = signoff.get("dispositions") or {}
    failed, warned, headline = [], [], []
    if run is not None:
        for row in run.results or []:
            if row.get("outcome") not in ("fail", "warn"):
                continue
            finding = raised.get(row["test"])
            entry = {
                **row,  # the run page's labels and threshold wording read the whole row (unit, claims)
                "test": row["test"],
                "metric": row.get("metric", ""),
                "value": row.get("value"),
                "threshold": row.get("threshold"),
                "finding": finding.title if finding else "",
                "disposition": dispositions.get(row["test"], ""),
            }
            (failed if row["outcome"] == "fail" else warned).append(entry)
        headline = [
            {"metric": m["metric"], "label": m.get("label", m["metric"]), "value": m.get("value"), "text": figure(m)}
            for m in run.metrics or []
            if m.get("headline")
        ]
    rank = {severity: i for i, severity in enumerate(Finding.Severity.values)}
    open_findings = sorted(
        (f for f in findings if f.status in Finding.ACTIVE), key=lambda f: (rank.get(f.severity, 9), f.due_date)
    )
    return {
        "validated": signature is not None,
        "validation": signature.get_meaning_display() if signature else "",
        "validated_at": signature.signed_at.date().isoformat() if signature else "",
        "validated_by": signature.full_name_snapshot if signature else "",
        "run": run.pk if run is not None else None,
        "run_finished_at": run.finished_at.date().isoformat() if run is not None and run.finished_at else "",
        "headline_figures": headline,
        "failed_tests": failed,
        "warnings": warned,
        "open_findings": [
            {
                "title": f.title,
                "severity": f.severity,
                "status": f.get_status_display(),
                "due_date": f.due_date.isoformat(),
                "test": f.test,
            }
            for f in open_findings
        ],
    }


def _monitors(version) -> list[dict]:
    rows = []
    if version.status not in LIVE:
        return rows
    for monitor in Monitor.objects.filter(version=version, active=True).order_by("kind", "measure", "stream"):
        unit = measures.MEASURES[monitor.measure].unit if monitor.measure in measures.MEASURES else "number"
        rows.append(
            {
                "monitor": measures.label(monitor) if monitor.measure in measures.MEASURES else monitor.measure,
                "kind": monitor.get_kind_display(),
                "alerts": "above" if monitor.direction == Monitor.Direction.ABOVE else "below",
                "warn": monitor.warn,
                "breach": monitor.breach,
                "warn_text": measures.format_value(unit, monitor.warn),
                "breach_text": measures.format_value(unit, monitor.breach),
                "latest": monitor.latest_outcome or "",
            }
        )
    return rows


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name() or user.get_username(), "email": user.email}


def card_of(version, reader=None) -> dict:
    """The card of `version` (its model, desk and people read with it), as plain data: the page, the JSON and the
    Markdown all render this. `reader` decides only which links it carries (the kill switch page is compliance's
    and the auditors'); the card's content is the same for everyone who may see the version."""
    model = version.model
    signature, run = _validation(version)
    conditions = ((signature.payload or {}).get("signoff") or {}).get("conditions", "") if signature else ""
    pilot = PilotPlan.objects.filter(version=version).first() if version.status == S.PILOT else None
    limitations = limitations_of(version, conditions, pilot)
    compliance = [_person(u) for u in users_with_role(Role.COMPLIANCE)]
    kill_switch_url = ""
    if reader is not None and reads_kill_switch(reader):
        kill_switch_url = reverse("gate:kill-switch")
        if uses_kill_switch(reader):
            kill_switch_url += f"?scope=model&model={model.key}"
    return {
        "model": {
            "key": model.key,
            "name": model.name,
            "description": model.description,
            "purpose": model.get_purpose_display(),
            "model_type": model.get_model_type_display(),
            "desk": {"code": model.desk.code, "name": model.desk.name},
            "asset_classes": model.asset_class_labels,
            "risk_tier": model.risk_tier,
            "vendor": model.vendor_name if model.is_vendor else "",
        },
        "version": {"label": version.version, "status": version.status, "status_label": version.get_status_display()},
        "intended_use": model.intended_use,
        "problem": {
            "objectives": model.objectives,
            "success_criteria": list(model.success_criteria),
            "success_criteria_text": model.success_criteria_texts,
            "constraints": model.constraints,
            "infrastructure_needs": model.infrastructure_needs,
        },
        "limitations": limitations,
        "operating_boundaries_text": model.operating_boundary_texts,
        "evidence": _evidence(version, signature, run),
        "monitors": _monitors(version),
        "people": {
            "owner": _person(model.owner),
            "validator": _person(model.validator),
            "compliance": compliance,
        },
        "kill_switch": {"procedure": KILL_SWITCH_PROCEDURE, "url": kill_switch_url},
        "card_hash": card_hash(limitations),
        "signed": signed_cards(version, conditions),
    }


def threshold_words(row: dict) -> str:
    """A test's threshold as the run page and the card page say it (risk/includes/threshold.html), as plain text."""
    return html.unescape(strip_tags(render_to_string("risk/includes/threshold.html", {"r": row}))).strip()


# --- Markdown, Hugging Face style: YAML front matter, then the card in prose -------------------------------------

_INLINE = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#+=.)-])")


def md_text(text) -> str:
    """User text made inert in Markdown: HTML is entity-encoded (no tag, no script survives), Markdown punctuation is
    escaped (no link, image, emphasis or table), and a line cannot open a heading, quote or list."""
    lines = []
    for line in str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        line = _INLINE.sub(r"\\\1", line)
        line = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(line)
    return "  \n".join(lines)


def _front_matter(card: dict) -> str:
    import yaml  # PyYAML, installed with drf-spectacular; loaded only when a card is written as Markdown

    model, limits = card["model"], card["limitations"]
    data = {
        "model_key": model["key"],
        "model_name": model["name"],
        "version": card["version"]["label"],
        "status": card["version"]["status"],
        "desk": model["desk"]["code"],
        "asset_classes": model["asset_classes"],
        "risk_tier": model["risk_tier"],
        "owner": (card["people"]["owner"] or {}).get("username", ""),
        "validator": (card["people"]["validator"] or {}).get("username", ""),
        "success_criteria": card["problem"]["success_criteria"],
        "operating_boundaries": limits["operating_boundaries"],
        "pilot_limits": limits["pilot_limits"],
        "card_hash": card["card_hash"],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _section(title: str, body: str | list[str]) -> str:
    if isinstance(body, list):
        body = "\n".join(f"- {line}" for line in body) if body else "None recorded."
    return f"## {title}\n\n{body or 'None recorded.'}\n"


def card_markdown(card: dict) -> str:
    """The card as a Hugging Face style model card: YAML front matter, then Markdown. Every piece of text people
    typed goes through md_text; the numbers and codes Vigil wrote do not need to."""
    model, version, limits, evidence = card["model"], card["version"], card["limitations"], card["evidence"]
    people = card["people"]
    pilot = limits["pilot_limits"]
    conditions = []
    if limits["conditions_of_use"]:
        conditions.append(f"Set at validation: {md_text(limits['conditions_of_use'])}")
    if pilot:
        conditions.append(
            f"Pilot limits: at most {pilot['currency']} {pilot['max_notional']} notional; instruments "
            f"{md_text(', '.join(pilot['instruments']) or 'not restricted')}; venues "
            f"{md_text(', '.join(pilot['venues']) or 'not restricted')}; ends {pilot['end_date']}."
        )
    failures = [
        f"Test {md_text(test_label(t))} failed ({md_text(metric_label(t['metric']))} {md_text(result_value(t))}, "
        f"{md_text(threshold_words(t))})"
        + (f"; finding: {md_text(t['finding'])}" if t["finding"] else "")
        + (f"; disposition: {md_text(t['disposition'])}" if t["disposition"] else "")
        for t in evidence["failed_tests"]
    ]
    failures += [
        f"Warning on test {md_text(test_label(t))} ({md_text(metric_label(t['metric']))} {md_text(result_value(t))}, "
        f"{md_text(threshold_words(t))})"
        for t in evidence["warnings"]
    ]
    failures += [
        f"Open finding ({f['severity']}, {md_text(f['status'])}, due {f['due_date']}): {md_text(f['title'])}"
        for f in evidence["open_findings"]
    ]
    if evidence["validated"]:
        validated = (
            f"{md_text(evidence['validation'])} on {evidence['validated_at']} by {md_text(evidence['validated_by'])}"
            + (f", on validation run {evidence['run']}." if evidence["run"] else ".")
        )
    else:
        validated = "Not validated yet."
    contacts = []
    for role, person in (("Owner", people["owner"]), ("Validator", people["validator"])):
        if person:
            contacts.append(
                f"{role}: {md_text(person['name'])}" + (f" ({md_text(person['email'])})" if person["email"] else "")
            )
    if people["compliance"]:
        contacts.append("Compliance (the kill switch): " + ", ".join(md_text(p["name"]) for p in people["compliance"]))
    assets = ", ".join(model["asset_classes"]) or "no asset class recorded"
    parts = [
        f"# {md_text(model['name'])}, version {md_text(version['label'])}\n",
        f"{md_text(model['description'])}\n" if model["description"] else "",
        _section(
            "What it does",
            # (the asset classes and labels are Vigil's own words, escaped all the same)
            f"{md_text(model['purpose'])} model ({md_text(model['model_type'])}) of the "
            f"{md_text(model['desk']['name'])} desk, for {md_text(assets)}. Tier "
            f"{model['risk_tier']}; status {md_text(version['status_label'])}.",
        ),
        _section("Intended use", md_text(card["intended_use"])),
        _section("Objectives", md_text(card["problem"]["objectives"])),
        _section("Success criteria", [md_text(t) for t in card["problem"]["success_criteria_text"]]),
        _section("Out-of-scope uses", md_text(limits["out_of_scope_uses"])),
        _section("Use restrictions", md_text(limits["use_restrictions"])),
        _section("Operating boundaries", [md_text(t) for t in card["operating_boundaries_text"]]),
        _section("Known limitations", md_text(limits["known_limitations"])),
        _section("Conditions of use that bind now", conditions),
        _section(
            "Signed over this card",
            [
                f"{sg['meaning']} by {md_text(sg['by'])} on {sg['at'][:10]}, hash {sg['hash']}: "
                + ("the limitations read as signed" if sg["matches"] else f"changed since ({', '.join(sg['changed'])})")
                for sg in card["signed"]
            ],
        ),
        _section("Known failure modes and the validation evidence", [validated, *failures]),
        _section(
            "Headline figures of the validation run",
            [f"{md_text(m['label'])}: {md_text(m['text'])}" for m in evidence["headline_figures"]],
        ),
        _section(
            "Live monitors",
            [
                f"{md_text(m['monitor'])} ({md_text(m['kind'])}): warns {m['alerts']} {md_text(m['warn_text'])}, "
                f"breaches {m['alerts']} {md_text(m['breach_text'])}" + (f"; now {m['latest']}" if m["latest"] else "")
                for m in card["monitors"]
            ],
        ),
        _section("Constraints", md_text(card["problem"]["constraints"])),
        _section("Infrastructure needs", md_text(card["problem"]["infrastructure_needs"])),
        _section("Who to call", contacts),
        _section("How the kill switch is pulled", md_text(card["kill_switch"]["procedure"])),
        f"Card hash (SHA-256 of its limitations): `{card['card_hash']}`\n",
    ]
    return f"---\n{_front_matter(card)}---\n\n" + "\n".join(p for p in parts if p)


def card_pdf(html: str) -> bytes:
    """The one-page PDF of a card's print markup."""
    from weasyprint import HTML  # imported here: WeasyPrint is loaded only by a process that prints a card

    return HTML(string=html).write_pdf()
