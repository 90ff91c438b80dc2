"""Writes of validation evidence. Files are hashed while streamed to storage and never executed."""

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from governance.core.audit import audit_record
from governance.core.table_limits import TableTooLarge
from risk.validation.access import can_add_evidence
from risk.validation.models import Evidence
from risk.validation.sniffing import ONNX_CONTENT_TYPE, TABLE_CONTENT_TYPES, SniffError, sniff, table_check


def max_evidence_bytes() -> int:
    return settings.VIGIL_EVIDENCE_MAX_MB * 1024 * 1024


@transaction.atomic
def evidence_add(actor, version, *, file, kind: str, description: str = "") -> Evidence:
    """Attach a file to a version: the model's team and its validator may add evidence."""
    if not can_add_evidence(actor, version):
        raise PermissionDenied("Only the model's team and its validator add evidence.")
    errors = {}
    if kind not in Evidence.Kind.values:
        errors["kind"] = f"Choose one of: {', '.join(Evidence.Kind.values)}."
    name = PurePath(getattr(file, "name", "") or "").name[:255]
    suffix = PurePath(name).suffix.lower()
    content_type = None
    if file.size == 0:
        errors["file"] = "The file is empty."
    elif file.size > max_evidence_bytes():
        errors["file"] = f"The file is larger than the limit of {max_evidence_bytes() // (1024 * 1024)} MB."
    else:
        try:
            content_type = sniff(file, suffix)
            table_check(file, content_type)
        except (SniffError, TableTooLarge) as exc:
            errors["file"] = f"{name}: {exc}."
    if content_type is not None and "kind" not in errors:
        mismatch = _kind_mismatch(kind, content_type)
        if mismatch:
            errors["kind"] = mismatch
    if len(description) > 500:
        errors["description"] = "Keep the description under 500 characters."
    if errors:
        raise ValidationError(errors)
    return _store(
        version,
        file,
        kind=kind,
        name=name,
        content_type=content_type,
        description=description,
        uploaded_by=actor,
        audit_actor=actor,
    )


def _kind_mismatch(kind: str, content_type: str) -> str | None:
    """A model is an ONNX file and an ONNX file is a model (Vigil runs it); attributions are a table."""
    if kind == Evidence.Kind.MODEL_ONNX and content_type != ONNX_CONTENT_TYPE:
        return "A model must be an ONNX file (.onnx); Vigil never loads pickles."
    if content_type == ONNX_CONTENT_TYPE and kind != Evidence.Kind.MODEL_ONNX:
        return f"An ONNX file is attached as kind “{Evidence.Kind.MODEL_ONNX.label}”."
    if kind == Evidence.Kind.ATTRIBUTIONS and content_type not in TABLE_CONTENT_TYPES:
        return "Feature attributions are a table: a CSV or Parquet file, one column per feature."
    return None


@transaction.atomic
def evidence_store_generated(version, *, content: bytes, name: str, kind: str, description: str, on_behalf_of):
    """Store a file Vigil generated itself (a validation report): no upload checks, audited as the system's."""
    content_type = sniff(ContentFile(content), PurePath(name).suffix.lower())
    return _store(
        version,
        ContentFile(content, name=name),
        kind=kind,
        name=name,
        content_type=content_type,
        description=description,
        uploaded_by=on_behalf_of,
        audit_actor=None,
    )


def _store(version, file, *, kind, name, content_type, description, uploaded_by, audit_actor) -> Evidence:
    """Hash while reading, save through the storage API, then the row; a failed insert removes the file."""
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
        content_type=content_type,
        uploaded_by=uploaded_by,
    )
    evidence.file.save(name, file, save=False)
    try:
        evidence.save(force_insert=True)
    except Exception:
        evidence.file.delete(save=False)
        raise
    audit_record(
        audit_actor,
        "evidence.add",
        version,
        reason=description,
        changes={"evidence": [None, {"kind": kind, "name": name, "sha256": evidence.sha256, "size": evidence.size}]},
    )
    return evidence
