"""The model gate: may this model be used now, which version, within which limits, and if not, every reason.

Hand-written: the decision is Vigil's own product. `compute()` reads the database and decides; `decision_for()`
serves it through the cache, keyed by the model's input generation (generations.py), and records each distinct
decision as a new revision (GateDecision). A decision that depends on a date (a pilot's end, the validation due
date) is cached only until that date passes. Dates are UTC days.
"""

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.lifecycle.models import VersionTransition
from governance.lifecycle.selectors import conditions_of_use
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model
from risk.gate import generations
from risk.gate.models import GateDecision, KillSwitch
from risk.incidents.services import open_critical

logger = logging.getLogger("vigil.gate")

REASONS = {
    "not_approved": "not approved for use",
    "suspended": "suspended",
    "kill_switch": "stopped by the kill switch",
    "validation_overdue": "validation overdue",
    "open_critical_incident": "an open critical incident",
    "pilot_ended": "pilot ended",
    "not_acknowledged": "a model card not yet acknowledged by everyone the policy asks",
    "not_on_desk": "the person asked about is neither a trader nor the head of the model's desk",
}
# Reasons apps of this layer add after Vigil's own (`register_reasons`): `fn(model, version, conditions, pilot,
# boundaries)` for the version in use (production, else pilot) -> [reason]; it appends to `boundaries` any moment
# its answer changes by itself (a trader's certification lapsing), so the cached decision ends there.
# acknowledgements.py asks for the current card's.
_reason_sources: list = []
# Told of each new revision in the transaction that records it: `fn(model, last_body or None, body)`.
_revision_listeners: list = []


def register_reasons(fn) -> None:
    if fn not in _reason_sources:
        _reason_sources.append(fn)


def on_new_revision(fn) -> None:
    if fn not in _revision_listeners:
        _revision_listeners.append(fn)


def reason(code: str, message: str, **detail) -> dict:
    return {"code": code, "message": message, **detail}


@dataclass
class Computed:
    body: dict  # without revision and decided_at
    valid_until: dt.datetime | None


def _midnight_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def scope_keys(model) -> list[str]:
    return [KillSwitch.Scope.ALL.value, f"desk:{model.desk.code}", f"model:{model.key}"]


def compute(model, now: dt.datetime | None = None) -> Computed:
    """What the gate answers for `model` at `now`, read from the database (no cache, no revision)."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    live = list(
        model.versions.filter(status__in=(S.PRODUCTION, S.PILOT, S.SUSPENDED, S.APPROVED))
        .select_related("pilot")
        .order_by("-created_at", "-id")
    )
    by_status = {}
    for version in live:
        by_status.setdefault(version.status, version)  # the newest of each status
    version = by_status.get(S.PRODUCTION) or by_status.get(S.PILOT)
    reasons, boundaries = [], []
    if version is None:
        shown = by_status.get(S.SUSPENDED) or by_status.get(S.APPROVED)
        if shown is not None and shown.status == S.SUSPENDED:
            reasons.append(_suspended(shown))
        elif shown is not None:
            reasons.append(
                reason("not_approved", f"Version {shown.version} is approved but its pilot has not started.")
            )
        elif model.status == S.RETIRED:
            reasons.append(reason("not_approved", "The model is retired."))
        else:
            reasons.append(reason("not_approved", "No version of this model is approved for use."))
        version = shown
    for engagement in KillSwitch.objects.filter(released_at__isnull=True, scope_key__in=scope_keys(model)):
        reasons.append(
            reason(
                "kill_switch",
                f"Kill switch engaged {engagement.scope_label} since {engagement.engaged_at:%Y-%m-%d %H:%M} UTC: "
                f"{engagement.reason}",
                scope=engagement.scope,
                engaged_at=engagement.engaged_at.isoformat().replace("+00:00", "Z"),
            )
        )
    if model.next_validation_due is not None:
        if model.next_validation_due < today:
            reasons.append(
                reason("validation_overdue", f"Validation was due on {model.next_validation_due.isoformat()}.")
            )
        else:
            boundaries.append(_midnight_after(model.next_validation_due))
    pilot = getattr(version, "pilot", None) if version is not None and version.status == S.PILOT else None
    if pilot is not None:
        if pilot.end_date < today:
            reasons.append(reason("pilot_ended", f"The pilot of version {version.version} ended on {pilot.end_date}."))
        else:
            boundaries.append(_midnight_after(pilot.end_date))
    for incident in open_critical(model):
        reasons.append(
            reason(
                "open_critical_incident",
                f"{incident.reference} is open and critical: {incident.title}",
                incident=incident.reference,
            )
        )
    conditions = conditions_of_use(version) if version is not None else ""
    if version is not None and version.status in (S.PRODUCTION, S.PILOT):
        for source in _reason_sources:
            reasons.extend(source(model, version, conditions, pilot, boundaries))
    body = {
        "model": model.key,
        "allowed": not reasons,
        "version": version.version if version is not None else None,
        "status": version.status if version is not None else None,
        "reasons": reasons,
        "pilot": pilot_limits(pilot),
        "conditions": conditions,
    }
    return Computed(body, min(boundaries) if boundaries else None)


def _suspended(version) -> dict:
    """Why the version is stopped, as its suspension said (the incident, when the policy suspended it)."""
    step = (
        VersionTransition.objects.filter(version=version, to_status=S.SUSPENDED)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if step is None:
        return reason("suspended", f"Version {version.version} is suspended; no version is in use.")
    cause = (step.details or {}).get("by_policy") or {}
    who = "the governance policy" if cause else (step.actor.get_full_name() or step.actor.get_username())
    extra = {"incident": cause["incident"]} if cause.get("incident") else {}
    return reason(
        "suspended",
        f"Version {version.version} was suspended on {step.at:%Y-%m-%d %H:%M} UTC by {who}: {step.comment[:300]} "
        "No version is in use.",
        **extra,
    )


def pilot_limits(pilot) -> dict | None:
    """The limits a pilot binds a model to, as the gate answers them and the model card shows them."""
    if pilot is None:
        return None
    return {
        "max_notional": str(pilot.max_notional),
        "currency": settings.VIGIL_REPORTING_CURRENCY,
        "instruments": list(pilot.instruments),
        "venues": list(pilot.venues),
        "end_date": pilot.end_date.isoformat(),
    }


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _digest(body: dict) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass
class Served:
    body: dict  # with revision and decided_at
    etag: str
    valid_until: dt.datetime | None

    @property
    def allowed(self) -> bool:
        return self.body["allowed"]


def _cache_key(model_id: int) -> str:
    return f"vigil:gate:{model_id}"


def forget(keys) -> None:
    """Drop the cached decisions of these generation keys (their generation moved anyway)."""
    cache.delete_many([_cache_key(int(k.split(":", 1)[1])) for k in keys if k.startswith("model:")])


def after_change(keys) -> None:
    """The commit hook of a change: drop the cached decisions it touched and record the new ones at once, so the
    revision log shows a stop (or any change) when it happened, not when a trading system next asked. Firm-wide
    changes refresh every model. A failure here must not fail the committed change: the periodic refresh and the
    next request record the decision anyway."""
    try:
        forget(keys)
        model_ids = None if generations.ALL in keys else [int(k.split(":", 1)[1]) for k in keys]
        refresh(model_ids)
    except Exception:  # noqa: BLE001 - logged; the change itself is committed and served from the next request
        logger.exception("gate decisions not recorded after a change to %s", sorted(keys)[:10])


def refresh(model_ids=None, chunk: int = 200) -> int:
    """Compute and record the decision of these models (every model: None); returns how many were read."""
    models = Model.objects.select_related("desk").order_by("pk")
    if model_ids is not None:
        models = models.filter(pk__in=model_ids)
    done = 0
    for start in range(0, models.count(), chunk):
        batch = list(models[start : start + chunk])
        decisions_for(batch)
        done += len(batch)
    return done


def _served_if_fresh(hit, generation: str, now: dt.datetime) -> Served | None:
    if hit and hit["generation"] == generation and (hit["valid_until"] is None or now < hit["valid_until"]):
        return Served(hit["body"], hit["etag"], hit["valid_until"])
    return None


def cached(model_id: int, generation: str, now: dt.datetime | None = None) -> Served | None:
    """The cached decision of a model when it is still the one for `generation` (generations.read), else None."""
    return _served_if_fresh(cache.get(_cache_key(model_id)), generation, now or timezone.now())


def decisions_for(models, now: dt.datetime | None = None, current: dict[int, str] | None = None) -> dict[int, Served]:
    """The served decision of each model: from the cache when its generation has not moved and no date it
    depends on has passed, else computed and, when it differs from the last one, recorded as a new revision.
    `current`: the models' generations when the caller read them already (before reading anything else)."""
    now = now or timezone.now()
    models = list(models)
    current = current or generations.read([m.pk for m in models])
    hits = cache.get_many([_cache_key(m.pk) for m in models])
    out = {}
    for model in models:
        served = _served_if_fresh(hits.get(_cache_key(model.pk)), current[model.pk], now)
        if served is not None:
            out[model.pk] = served
            continue
        served = _record(model, compute(model, now), current[model.pk], now)
        out[model.pk] = served
        timeout = settings.VIGIL_GATE_CACHE_SECONDS
        if served.valid_until is not None:
            timeout = max(1, min(timeout, int((served.valid_until - now).total_seconds())))
        entry = {"generation": current[model.pk], "body": served.body, "etag": served.etag}
        cache.set(_cache_key(model.pk), {**entry, "valid_until": served.valid_until}, timeout)
    return out


def decision_for(model, now: dt.datetime | None = None, generation: str | None = None) -> Served:
    return decisions_for([model], now, {model.pk: generation} if generation else None)[model.pk]


def _record(model, computed: Computed, generation: str, now: dt.datetime) -> Served:
    """The decision as served: the last revision if it says the same, else a new revision (logged)."""
    for _attempt in range(3):
        last = GateDecision.objects.filter(model=model).order_by("-revision").first()
        if last is not None and _without_revision(last.body) == computed.body:
            if (last.generation, last.valid_until) != (generation, computed.valid_until):
                # The same decision, confirmed under newer inputs: the record says which, so a reader of the record
                # (the dashboards, thousands of models at once) knows it is current without asking the gate again.
                # Neither is part of the body or its ETag.
                GateDecision.objects.filter(pk=last.pk).update(generation=generation, valid_until=computed.valid_until)
            return Served(last.body, last.etag, computed.valid_until)
        revision = (last.revision if last else 0) + 1
        body = {**computed.body, "revision": revision, "decided_at": now.isoformat().replace("+00:00", "Z")}
        try:
            with transaction.atomic():
                for listener in _revision_listeners:
                    listener(model, last.body if last is not None else None, body)
                GateDecision.objects.create(
                    model=model,
                    revision=revision,
                    allowed=body["allowed"],
                    body=body,
                    etag=_digest(body),
                    generation=generation,
                    decided_at=now,
                    valid_until=computed.valid_until,
                )
        except IntegrityError:
            continue  # another process recorded this revision first: compare with theirs
        logger.info(
            "gate revision %s of %s: %s%s",
            revision,
            model.key,
            "allowed" if body["allowed"] else "blocked",
            "" if body["allowed"] else " (" + "; ".join(r["code"] for r in body["reasons"]) + ")",
        )
        return Served(body, _digest(body), computed.valid_until)
    raise RuntimeError(f"gate decision for {model.key} kept changing under concurrent writers")


def _without_revision(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("revision", "decided_at")}
