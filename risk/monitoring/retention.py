"""Retention of monitoring data: rows older than their kind's retention period are deleted, and the deletion audited.

Each kind has its own period (settings VIGIL_MONITORING_RETENTION_DAYS_POINTS, _TRADES, _PREDICTIONS; 0 keeps that
kind forever); a row goes once its `timestamp` is older than the cutoff. Outcomes live on their prediction rows
and go with them. Deletion runs in chunks of CHUNK rows, each its own transaction, so a long purge holds no lock
for long; in the same transaction as each chunk, the ingest batches that no row of any kind refers to any more
are deleted too (IngestBatch is protected while a row refers to it), so a purge stopped half-way leaves nothing
orphaned. Outcome batches hold no rows: they go once received before the predictions' cutoff (less the clock
skew), when every prediction they could have labelled is past it.

Reported data is telemetry; what its deletion removed is not: each run writes one audit record per kind that it
deleted anything of (how many rows, older than when, how many per version) and one for the batches. Monitors,
their results and cycles, and reference windows are governed records (results and windows keep their own copy
or summary of the data they read) and are never deleted.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from governance.core.audit import audit_record
from models_registry.models import ModelVersion
from risk.monitoring.catalogue import METRICS
from risk.monitoring.models import IngestBatch, MetricPoint, Prediction, Trade

CHUNK = 10_000
ACTION = "monitoring.retention_applied"
ROW_MODELS = (MetricPoint, Trade, Prediction)


@dataclass(frozen=True)
class Kind:
    name: str  # as IngestBatch.Kind
    model: type[models.Model]
    setting: str
    label: str


KINDS = (
    Kind("points", MetricPoint, "VIGIL_MONITORING_RETENTION_DAYS_POINTS", "Monitoring metric points"),
    Kind("trades", Trade, "VIGIL_MONITORING_RETENTION_DAYS_TRADES", "Monitoring trades"),
    Kind("predictions", Prediction, "VIGIL_MONITORING_RETENTION_DAYS_PREDICTIONS", "Monitoring predictions"),
)


def cutoff_of(kind: Kind, now: dt.datetime) -> dt.datetime | None:
    days = getattr(settings, kind.setting)
    return None if days == 0 else now - dt.timedelta(days=days)


def apply_retention(now=None) -> dict:
    """Delete what each kind's retention period lets go; returns the rows deleted by kind (and batches)."""
    now = now or timezone.now()
    report: dict[str, int] = {}
    batches: Counter = Counter()
    for kind in KINDS:
        cutoff = cutoff_of(kind, now)
        if cutoff is None:
            report[kind.name] = 0
            continue
        per_version: Counter = Counter()
        for version_id, extra in _slices(kind):
            while deleted := _delete_chunk(kind, version_id, extra, cutoff, batches):
                per_version[version_id] += deleted
        report[kind.name] = total = sum(per_version.values())
        if total:
            _audit_kind(kind, cutoff, total, per_version)
    predictions_cutoff = cutoff_of(KINDS[2], now)
    if predictions_cutoff is not None:
        received_before = predictions_cutoff - dt.timedelta(seconds=settings.VIGIL_MONITORING_CLOCK_SKEW_SECONDS)
        while deleted := _delete_outcome_batches(received_before):
            batches[IngestBatch.Kind.OUTCOMES.value] += deleted
    report["batches"] = total = sum(batches.values())
    if total:
        _audit_batches(total, batches)
    return report


def _slices(kind: Kind):
    """(version id, extra filter) pairs that walk the kind's rows along its (version, [metric,] timestamp) index,
    rather than scanning the whole table for old timestamps. The versions are those that ever reported the kind."""
    versions = IngestBatch.objects.filter(kind=kind.name).order_by().values_list("version_id", flat=True).distinct()
    for version_id in sorted(set(versions)):
        if kind.model is MetricPoint:
            for metric in sorted(METRICS):  # inputs.clean_points stores no other metric
                yield version_id, {"metric": metric}
        else:
            yield version_id, {}


def _delete_chunk(kind: Kind, version_id: int, extra: dict, cutoff, batches: Counter) -> int:
    """Delete up to CHUNK rows past the cutoff, and the batches they leave unreferenced, in one transaction."""
    with transaction.atomic():
        old = kind.model.objects.filter(version_id=version_id, timestamp__lt=cutoff, **extra).order_by()
        # SKIP LOCKED (PostgreSQL): two runs at once delete different rows, and each counts only its own.
        rows = list(old.select_for_update(skip_locked=True).values_list("pk", "batch_id")[:CHUNK])
        if not rows:
            return 0
        deleted, _ = kind.model.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        batches[kind.name] += _delete_unreferenced_batches({batch_id for _, batch_id in rows})
        return deleted


def _unreferenced(batches):
    for model_class in ROW_MODELS:
        batches = batches.filter(~Exists(model_class.objects.filter(batch_id=OuterRef("pk"))))
    return batches


def _delete_unreferenced_batches(batch_ids) -> int:
    ids = list(_unreferenced(IngestBatch.objects.filter(pk__in=batch_ids)).values_list("pk", flat=True))
    return IngestBatch.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _delete_outcome_batches(received_before) -> int:
    with transaction.atomic():
        old = IngestBatch.objects.filter(kind=IngestBatch.Kind.OUTCOMES, received_at__lt=received_before).order_by()
        ids = list(_unreferenced(old).select_for_update(skip_locked=True).values_list("pk", flat=True)[:CHUNK])
        return IngestBatch.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _version_names(version_ids) -> dict[int, str]:
    versions = (
        ModelVersion.objects.filter(pk__in=list(version_ids)).select_related("model").only("version", "model__key")
    )
    return {v.pk: f"{v.model.key} {v.version}" for v in versions}


def _audit_kind(kind: Kind, cutoff, total: int, per_version: Counter) -> None:
    names = _version_names(per_version)
    days = getattr(settings, kind.setting)
    with transaction.atomic():
        audit_record(
            None,
            ACTION,
            object_type=kind.model._meta.label_lower,
            object_id=kind.name,
            object_repr=kind.label,
            changes={
                "rows_deleted": [None, total],
                "older_than": [None, cutoff.isoformat()],
                "per_version": [None, {names.get(v, f"version {v}"): n for v, n in sorted(per_version.items())}],
            },
            reason=f"Retention: {kind.setting} = {days} days; rows whose timestamp is older were deleted.",
        )


def _audit_batches(total: int, per_kind: Counter) -> None:
    with transaction.atomic():
        audit_record(
            None,
            ACTION,
            object_type=IngestBatch._meta.label_lower,
            object_id="batches",
            object_repr="Monitoring ingest batches",
            changes={"rows_deleted": [None, total], "per_kind": [None, dict(sorted(per_kind.items()))]},
            reason=(
                "Retention: batches no stored row refers to any more (their rows passed "
                + ", ".join(k.setting for k in KINDS)
                + "; outcome batches received before the predictions' cutoff) were deleted."
            ),
        )
