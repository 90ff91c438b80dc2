#!/usr/bin/env python3
"""Recompute every signature's content hash in a Vigil pack from the pack's own files; nothing from Vigil needed.

    python3 verify_signature_hashes.py vigil-evidence-<model>-<version>-<time>/

Python 3.8+ standard library only. For each signature in data/records/signatures.json it checks that:
  1. the SHA-256 of the payload's canonical JSON (keys sorted, no spaces, ASCII) is the recorded content hash;
  2. for a signature on a model version: every field it signed is the version's in data/records/version.json
     (versions.json in a supervisor's pack),
     every evidence file it pinned is in the pack with that SHA-256, and the validation run it cites has those
     results in data/records/validation-runs.json;
  3. for an incident closure: the severity, root cause and corrective actions it signed are the incident's in
     data/records/incidents.json;
  4. for an RTS 6 self-assessment sign-off: the year, conclusion and figures it signed are those of
     data/records/self-assessment.json (the figures by their canonical hash).
Exit status 0 when every signature recomputes, 1 otherwise (each problem printed).
"""

import hashlib
import json
import sys
from pathlib import Path

VERSION_FIELDS = (
    "object", "model", "version", "artifact_sha256", "artifact_uri", "code_revision", "training_data_ref",
    "hyperparameters", "claimed_performance", "data_sources",
)  # fmt: skip
INCIDENT_FIELDS = ("severity", "root_cause", "corrective_actions")


def canonical_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load(bag: Path, name: str):
    path = bag / "data" / "records" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def check_version(bag, payload, version, evidence, runs) -> list:
    problems = [
        f"signed {f} differs from records/version.json" for f in VERSION_FIELDS if payload.get(f) != version.get(f)
    ]
    for evidence_id, signed_hash in payload.get("evidence", []):
        row = evidence.get(evidence_id)
        if row is None:
            problems.append(f"evidence {evidence_id} it signed is not in the pack")
        elif not (bag / row["path"]).is_file():
            problems.append(f"evidence {evidence_id} ({row['path']}) is missing")
        elif file_hash(bag / row["path"]) != signed_hash:
            problems.append(f"evidence {evidence_id} ({row['path']}) is not the file it signed")
    cited = payload.get("validation_run")
    if cited:
        run = runs.get(cited.get("id"))
        if run is None:
            problems.append(f"validation run {cited.get('id')} it cites is not in the pack")
        elif canonical_hash(run["results"]) != cited.get("results_sha256"):
            problems.append(f"validation run {cited['id']}'s results are not the ones it signed")
    return problems


def check_incident(payload, incidents) -> list:
    incident_id = int(payload["object"].rsplit(":", 1)[1])
    row = incidents.get(incident_id)
    if row is None:
        return [f"incident {incident_id} it closes is not in the pack"]
    return [f"signed {f} differs from records/incidents.json" for f in INCIDENT_FIELDS if payload.get(f) != row.get(f)]


def check_self_assessment(payload, assessment) -> list:
    if not assessment:
        return ["the self-assessment it signs is not in the pack"]
    problems = [f"signed {f} differs" for f in ("year", "conclusion") if payload.get(f) != assessment.get(f)]
    if canonical_hash(assessment.get("figures")) != payload.get("figures_sha256"):
        problems.append("the figures in records/self-assessment.json are not the ones it signed")
    return problems


def main(bag: Path) -> int:
    signatures = load(bag, "signatures")
    if signatures is None:
        print(f"{bag}: no data/records/signatures.json: is this a Vigil pack?")
        return 1
    # An evidence pack holds one version (version.json), a supervisor's pack several (versions.json).
    versions = {row["object"]: row for row in [load(bag, "version"), *(load(bag, "versions") or [])] if row}
    evidence = {row["id"]: row for row in load(bag, "evidence") or []}
    runs = {row["id"]: row for row in load(bag, "validation-runs") or []}
    incidents = {row["id"]: row for row in load(bag, "incidents") or []}
    assessment = load(bag, "self-assessment")
    failed = 0
    for signature in signatures:
        payload = signature["payload"]
        problems = []
        if canonical_hash(payload) != signature["content_hash"]:
            problems.append("the payload does not hash to the recorded content hash")
        if payload.get("object") in versions:
            problems += check_version(bag, payload, versions[payload["object"]], evidence, runs)
        elif payload.get("meaning") == "incident_closed":
            problems += check_incident(payload, incidents)
        elif payload.get("object", "").startswith("exports.selfassessment:"):
            problems += check_self_assessment(payload, assessment)
        label = f"signature {signature['id']} ({signature['meaning']}, {signature['signer']}, {signature['signed_at']})"
        if problems:
            failed += 1
            print(f"FAILED {label}: " + "; ".join(problems))
        else:
            print(f"ok     {label}: {signature['content_hash']}")
    print(f"{len(signatures) - failed} of {len(signatures)} signatures recompute from the pack")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
