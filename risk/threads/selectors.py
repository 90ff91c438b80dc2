"""Reads of review threads, scoped by the access rule (threads/access.py), and the challenge figures."""

import statistics
from collections import defaultdict

from django.db.models import Prefetch

from governance.core import access
from governance.core.models import AuditEvent
from models_registry.models import ModelVersion
from risk.threads import targets
from risk.threads.models import Comment, Thread
from risk.validation.models import Finding, ValidationRun


def thread_list(user):
    return access.restrict(Thread.objects.all(), user).select_related("model", "version", "opened_by", "resolved_by")


def threads_on(user, kind: str, record_id) -> list[Thread]:
    return list(thread_list(user).filter(target_kind=kind, target_id=record_id))


def raised_from(user, *, incident=None, finding=None) -> list[Thread]:
    """The threads an incident or a finding was raised from (the link back)."""
    qs = thread_list(user)
    return list(qs.filter(incident=incident) if incident is not None else qs.filter(finding=finding))


def thread_get_for_user(user, pk) -> Thread:
    comments = Comment.objects.select_related("author").prefetch_related("mentions").order_by("created_at", "id")
    return access.get_for_user(
        thread_list(user).select_related("incident", "finding").prefetch_related(Prefetch("comments", comments)),
        user,
        pk=pk,
    )


def record_of(user, thread):
    """The record the thread is about, as its page names and links it (the person sees it: they see the thread)."""
    target = targets.get(thread.target_kind)
    record = target.fetch(user, thread.target_id)
    return target, record


# --- Challenge as evidence ----------------------------------------------------------------------------------


def challenge_figures(user, models=None) -> list[dict]:
    """Per model and validator: the challenges (threads a validator opened) the person may see, how many led to a
    change (a finding, a restriction of use, a new validation run or a new version of the model while the thread
    was open, or an incident or finding raised from it), and the median hours from opening to resolution.

    Five queries whatever the number of threads: the threads, then the moments of each kind of change per model."""
    threads = thread_list(user).filter(challenge=True)
    if models is not None:
        threads = threads.filter(model__in=models)
    threads = list(threads.order_by("model__key", "opened_at"))
    if not threads:
        return []
    model_ids = {t.model_id for t in threads}
    changes: dict[int, list] = defaultdict(list)
    for model_id, at in Finding.objects.filter(version__model__in=model_ids).values_list("version__model", "raised_at"):
        changes[model_id].append(at)
    runs = ValidationRun.objects.filter(version__model__in=model_ids).values_list("version__model", "created_at")
    for model_id, at in runs:
        changes[model_id].append(at)
    for model_id, at in ModelVersion.objects.filter(model__in=model_ids).values_list("model", "created_at"):
        changes[model_id].append(at)
    restrictions = AuditEvent.objects.filter(
        object_type="models_registry.model",
        object_id__in=[str(pk) for pk in model_ids],
        action="model.update",
        changes__has_key="use_restrictions",
    ).values_list("object_id", "timestamp")
    for model_id, at in restrictions:
        changes[int(model_id)].append(at)
    rows: dict[tuple, dict] = {}
    for thread in threads:
        key = (thread.model_id, thread.opened_by_id)
        row = rows.setdefault(
            key,
            {"model": thread.model, "validator": thread.opened_by, "opened": 0, "changed": 0, "open": 0, "_hours": []},
        )
        row["opened"] += 1
        end = thread.resolved_at
        led = (
            thread.finding_id
            or thread.incident_id
            or any(thread.opened_at <= at and (end is None or at <= end) for at in changes[thread.model_id])
        )
        row["changed"] += 1 if led else 0
        if end is None:
            row["open"] += 1
        else:
            row["_hours"].append((end - thread.opened_at).total_seconds() / 3600)
    out = []
    for row in rows.values():
        hours = row.pop("_hours")
        row["median_hours"] = round(statistics.median(hours), 1) if hours else None
        out.append(row)
    return out
