"""Reads for the monitoring pages and API: monitors with their latest result, their history, and the
firm-wide overview. Every read is scoped by the access rule registered for monitors (whoever sees the version)."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Case, Exists, F, IntegerField, Max, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from governance.core import access
from governance.core import history as trail  # this module has its own history() (a monitor's results)
from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.monitoring import access as monitoring_access
from risk.monitoring.models import IngestBatch, Monitor, MonitorResult

MONITORED = (S.PILOT, S.PRODUCTION, S.SUSPENDED)
SEVERITY = {"breach": 3, "warn": 2, "insufficient": 1, "ok": 0, None: -1}
KIND_ORDER = ["performance", "drift", "trading", "change", "staleness"]
HISTORY = 300  # results per monitor a chart shows


def _latest_results():
    """The results of the monitor of the outer query, newest first."""
    return MonitorResult.objects.filter(monitor=OuterRef("pk")).order_by("-slot")


def _with_latest(monitors):
    return monitors.annotate(latest_id=Subquery(_latest_results().values("pk")[:1]))


def day_end(day: dt.date) -> dt.datetime:
    """The end of a UTC day: what was known "as of" that day is what was recorded before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def is_current(day: dt.date) -> bool:
    """Whether a page's day has not ended yet: its state is the newest one, kept on each monitor."""
    return day_end(day) > timezone.now()


def _known_by(end: dt.datetime | None) -> Q:
    """Results for a tick before `end` and recorded before it (a late or backfilled result was not known then)."""
    return Q(slot__lt=end, evaluated_at__lt=end) if end else Q()


def latest_outcome(as_of: dt.date | None = None):
    """The outcome of a monitor's newest result (None when it was never evaluated), as an annotation of monitors:
    what the overview, the queue's badge and the dashboards read as a monitor's state. Today (or no day given): the
    outcome kept on the monitor; a past day: its newest result known by the end of that day."""
    if as_of is None or is_current(as_of):
        return F("latest_outcome")
    return Subquery(_latest_results().filter(_known_by(day_end(as_of))).values("outcome")[:1])


def breach_run_start(end: dt.datetime | None = None) -> Subquery:
    """The tick of the first breach of the run of breaches a monitor's newest results make (known by `end`), None
    when its newest result is not a breach, as an annotation of monitors: a breach no later result broke off."""
    known = _known_by(end)
    broken_off = MonitorResult.objects.filter(known, monitor=OuterRef("monitor_id"), slot__gt=OuterRef("slot")).exclude(
        outcome=MonitorResult.Outcome.BREACH
    )
    run = (
        MonitorResult.objects.filter(known, monitor=OuterRef("pk"), outcome=MonitorResult.Outcome.BREACH)
        .exclude(Exists(broken_off))
        .order_by("slot")
    )
    return Subquery(run.values("slot")[:1])


def breach_since(as_of: dt.date):
    """Since when a monitor has been in breach as of the end of a day (None: not in breach then)."""
    return F("breach_since") if is_current(as_of) else breach_run_start(day_end(as_of))


def worst_outcome(since: dt.date | None = None, until: dt.date | None = None, as_of: dt.date | None = None):
    """The worst outcome (by SEVERITY) among a monitor's results whose tick falls in these UTC days, both included,
    known by the end of `as_of` (None when none does), as an annotation of monitors."""
    in_window = _known_by(day_end(as_of)) if as_of else Q()
    if since:  # ranges on the column itself: the (monitor, slot) index serves them, a cast to a date would not
        in_window &= Q(slot__gte=dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC))
    if until:
        in_window &= Q(slot__lt=day_end(until))
    severity = Case(
        *(When(outcome=outcome, then=Value(rank)) for outcome, rank in SEVERITY.items() if outcome),
        default=Value(-1),
        output_field=IntegerField(),
    )
    ranked = _latest_results().filter(in_window).annotate(severity=severity).order_by("-severity", "-slot")
    return Subquery(ranked.values("outcome")[:1])


def live_monitors(user, moment: dt.datetime | None = None):
    """The active monitors of versions in pilot, production or suspended that `user` may see: the monitors whose
    state the overview, the queue and the dashboards report. At a past `moment` (a dashboard as of a past day):
    those that existed then, active then, of versions then live, as the audit trail has them (versions_live_at)."""
    if moment is None:
        return access.restrict(Monitor.objects.all(), user).filter(version__status__in=MONITORED, active=True)
    monitors = Monitor.objects.filter(trail.existed_at(moment), version__in=versions_live_at(moment).values("pk"))
    # No service switches a monitor off today; were one to, the trail would say when (read like any field).
    monitors = monitors.alias(active_then=trail.value_at(Monitor, "active", moment, "bool")).filter(active_then=True)
    return access.restrict(monitors, user)


def versions_live_at(moment: dt.datetime):
    """The versions in pilot, production or suspended at `moment`: registered before it, their status then read from
    the trail (every transition audits it, governance/lifecycle/workflow.py). One uncorrelated subquery for a page,
    not one per monitor."""
    return (
        ModelVersion.objects.filter(trail.existed_at(moment))
        .alias(status_then=trail.value_at(ModelVersion, "status", moment))
        .filter(status_then__in=MONITORED)
    )


def monitors_with_latest(queryset) -> list[Monitor]:
    """Monitors, each with `.latest` (its newest result or None), in page order."""
    monitors = list(_with_latest(queryset.select_related("version__model", "schedule")))
    results = MonitorResult.objects.in_bulk([m.latest_id for m in monitors if m.latest_id])
    for monitor in monitors:
        monitor.latest = results.get(monitor.latest_id)
    monitors.sort(key=lambda m: (m.version_id, KIND_ORDER.index(m.kind), m.measure, m.stream))
    return monitors


def model_monitors(user, model) -> list[Monitor]:
    """The monitors of a model's versions in pilot, production or suspended, that `user` may see."""
    visible = access.restrict(Monitor.objects.all(), user)
    return monitors_with_latest(visible.filter(version__model=model, version__status__in=MONITORED))


def monitor_get_for_user(user, pk) -> Monitor:
    return access.get_for_user(Monitor.objects.select_related("version__model", "schedule"), user, pk=pk)


def history(monitors, limit: int = HISTORY) -> dict[int, list[MonitorResult]]:
    """The newest `limit` results of each monitor, oldest first: one query for all of them (a model page
    shows twenty-odd monitors; a query each was the page's slowest part)."""
    ids = [m.pk for m in monitors]
    newest_first = Window(RowNumber(), partition_by=F("monitor_id"), order_by=F("slot").desc())
    ranked = MonitorResult.objects.filter(monitor_id__in=ids).annotate(rank=newest_first).filter(rank__lte=limit)
    out: dict[int, list[MonitorResult]] = {pk: [] for pk in ids}
    for result in ranked.order_by("monitor_id", "slot"):
        out[result.monitor_id].append(result)
    return out


@dataclass
class VersionOverview:
    version: object
    monitors: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(SEVERITY.keys() - {None}, 0))
    worst: str | None = None
    last_received: dt.datetime | None = None
    label_lag_hours: float | None = None
    last_evaluated: dt.datetime | None = None


def overview(user, outcome: str = "") -> list[VersionOverview]:
    """Every monitored version the user sees: its worst latest outcome, counts, last data and label lag,
    worst first."""
    monitors = monitors_with_latest(live_monitors(user))
    by_version: dict[int, VersionOverview] = {}
    for monitor in monitors:
        row = by_version.setdefault(monitor.version_id, VersionOverview(monitor.version))
        row.monitors += 1
        latest = monitor.latest
        if latest is None:
            continue
        row.counts[latest.outcome] += 1
        if SEVERITY[latest.outcome] > SEVERITY[row.worst]:
            row.worst = latest.outcome
        if row.last_evaluated is None or latest.slot > row.last_evaluated:
            row.last_evaluated = latest.slot  # the tick the result is as of
        lag = latest.detail.get("label_lag_hours") if monitor.kind == "performance" else None
        if lag is not None:
            row.label_lag_hours = lag
    received = (
        IngestBatch.objects.filter(version_id__in=by_version).values("version_id").annotate(at=Max("received_at"))
    )
    for r in received:
        by_version[r["version_id"]].last_received = r["at"]
    rows = list(by_version.values())
    if outcome:
        rows = [r for r in rows if r.worst == outcome]
    rows.sort(key=lambda r: (-SEVERITY[r.worst], -r.counts["breach"], -r.counts["warn"], r.version.model.key))
    return rows


def _answered_for(user, monitors):
    """Monitors on versions the user answers for: their model's team or validator; compliance: all."""
    if monitoring_access.answers_for_every_monitor(user):
        return monitors
    mine = (
        monitors.filter(version__model__owner=user)
        | monitors.filter(version__model__developers=user)
        | monitors.filter(version__model__validator=user)
    )
    return monitors.filter(pk__in=mine.values("pk"))


def alerting_monitors(user) -> list[Monitor]:
    """Monitors whose latest result is a warn or breach, on versions the user answers for."""
    monitors = live_monitors(user)
    rows = [m for m in monitors_with_latest(_answered_for(user, monitors)) if m.latest and m.latest.outcome in ALERTS]
    rows.sort(key=lambda m: (-SEVERITY[m.latest.outcome], m.version.model.key))
    return rows


ALERTS = ("warn", "breach")
BADGE_SECONDS = 30


def alerting_count(user) -> int:
    """The navigation badge: how many monitors the user answers for are in warn or breach (one query, cached
    for half a minute per person: it is on every page)."""
    key = f"vigil:monitor-alerts:{user.pk}"
    count = cache.get(key)
    if count is None:
        monitors = live_monitors(user)
        count = _answered_for(user, monitors).filter(latest_outcome__in=ALERTS).count()
        cache.set(key, count, BADGE_SECONDS)
    return count
