"""What a signature on a model version covers: the frozen record and the evidence hashes it relied on.

Validation owns it because the payload pins evidence; the lifecycle signs it, and the core's signature
verification recomputes it through the builder registered here.
"""

from governance.core import signatures
from models_registry.models import ModelVersion
from risk.validation.models import Evidence, ValidationRun

VERSION_OBJECT_TYPE = "models_registry.modelversion"


def version_payload(version, evidence_ids=None, evidence=None, data_links=None) -> dict:
    """What a signature on a model version covers: the frozen record and the evidence hashes it relied on.

    `evidence`, `data_links`: the version's files and data links when the caller already read them;
    `evidence_ids`: only those files."""
    if evidence is None:
        evidence = Evidence.objects.filter(version=version)
        if evidence_ids is not None:
            evidence = evidence.filter(pk__in=evidence_ids)
    links = sorted(
        (link.usage, link.data_source_id) for link in (version.data_links.all() if data_links is None else data_links)
    )
    return {
        "object": f"{VERSION_OBJECT_TYPE}:{version.pk}",
        "model": version.model.key,
        "version": version.version,
        "artifact_sha256": version.artifact_sha256,
        "artifact_uri": version.artifact_uri,
        "code_revision": version.code_revision,
        "training_data_ref": version.training_data_ref,
        "hyperparameters": version.hyperparameters,
        "claimed_performance": version.claimed_performance,
        "data_sources": links,
        "evidence": sorted([e.pk, e.sha256] for e in evidence),
    }


def run_fingerprint(run) -> dict:
    """What a sign-off pins of the validation run it rests on: the run and the SHA-256 of its results."""
    return {"id": run.pk, "results_sha256": signatures.canonical_hash(run.results)}


def _current_payload(version, signed_payload) -> dict:
    """The signed content as the database has it now. The version's files, data links and cited runs are read
    once per version object and reused for each of its signatures (a page verifies them all)."""
    cache = version.__dict__.setdefault("_signed_content_cache", {})
    if "evidence" not in cache:
        cache["evidence"] = list(Evidence.objects.filter(version=version).only("pk", "sha256"))
        cache["links"] = list(version.data_links.all())
    evidence_ids = {pk for pk, _ in signed_payload.get("evidence", [])}
    evidence = [e for e in cache["evidence"] if e.pk in evidence_ids]
    current = version_payload(version, evidence=evidence, data_links=cache["links"])
    cited = signed_payload.get("validation_run")
    if cited:
        key = ("run", cited.get("id"))
        if key not in cache:
            cache[key] = ValidationRun.objects.filter(pk=cited.get("id"), version=version).first()
        current["validation_run"] = run_fingerprint(cache[key]) if cache[key] else None
    return current


def register() -> None:
    signatures.register_payload(VERSION_OBJECT_TYPE, ModelVersion, _current_payload)
