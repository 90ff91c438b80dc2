"""Writes of validation evidence. Files are hashed while streamed to storage and never executed."""

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance import permissions as perms
from governance.audit import audit_record
from risk.models import Evidence

# Extension -> content type recorded. The evidence issue adds sniffing of the bytes themselves.
ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".ipynb": "application/x-ipynb+json",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".html": "text/html",
}


def max_evidence_bytes() -> int:
    return getattr(settings, "VIGIL_EVIDENCE_MAX_BYTES", 200 * 1024 * 1024)


@transaction.atomic
def evidence_add(actor, version, *, file, kind: str, description: str = "") -> Evidence:
    """Attach a file to a version: the model's team and its validator may add evidence."""
    model = version.model
    if not (perms.can(actor, perms.ADD_VERSION, model) or perms.can(actor, perms.VALIDATE, model)):
        raise PermissionDenied("Only the model's team and its validator add evidence.")
    errors = {}
    if kind not in Evidence.Kind.values:
        errors["kind"] = f"Choose one of: {', '.join(Evidence.Kind.values)}."
    name = PurePath(getattr(file, "name", "") or "").name[:255]
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        errors["file"] = f"Files of type '{suffix or 'none'}' are not accepted; allowed: {', '.join(ALLOWED_TYPES)}."
    elif file.size == 0:
        errors["file"] = "The file is empty."
    elif file.size > max_evidence_bytes():
        errors["file"] = f"The file is larger than the limit of {max_evidence_bytes() // (1024 * 1024)} MB."
    if len(description) > 500:
        errors["description"] = "Keep the description under 500 characters."
    if errors:
        raise ValidationError(errors)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    evidence = Evidence(
        version=version,
        kind=kind,
        description=description,
        original_name=name,
        sha256=digest.hexdigest(),
        size=file.size,
        content_type=ALLOWED_TYPES[suffix],
        uploaded_by=actor,
    )
    evidence.file.save(name, file, save=False)
    try:
        evidence.save(force_insert=True)
    except Exception:
        evidence.file.delete(save=False)
        raise
    audit_record(
        actor,
        "evidence.add",
        version,
        reason=description,
        changes={"evidence": [None, {"kind": kind, "name": name, "sha256": evidence.sha256, "size": evidence.size}]},
    )
    return evidence
