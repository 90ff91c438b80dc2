"""The demo's last weeks of live monitoring, made by the real ingest, monitoring cycles and incident services
with the clock set back (a story of history.py), so that the monitoring health page's heatmap, breaches per
week and incident times have weeks to show, not only the minutes since `make run`.

Each weekday the live versions' data of the day arrives at RECEIVED (one batch per kind, through the ingest
services the API uses) and every monitoring schedule runs its cycle at EVALUATED (the cycles and jobs beat
would run). The healthy models' data is steady (monitoring_feed._exactly): under the default policy a breach on
a tier-1 model suspends it, and the demo's production models must still be trading at the end. Two planned
faults, on tier-2 models, make the breaches and incidents a supervisor expects to see handled:
- exec-fx-twap loses for a week and a half (its hit rate falls): its trading monitors breach, the breach opens
  a medium incident by itself, the owner mitigates it once the desk has cut the algorithm's size and closes it
  on its root cause when the monitors are back to normal;
- eq-index-arb's feed stops for two days: its staleness monitor breaches and opens an incident, the feed is
  restored (the missed days arrive late, in one batch) and the owner closes it.
Deterministic: every draw is seeded by the model's key and the day.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from governance.core import jobs
from governance.demo import monitoring_feed as feed
from risk.incidents import services as incidents
from risk.incidents.models import Incident
from risk.monitoring import cycles
from risk.monitoring import schedules as beat_schedules
from risk.monitoring.models import Monitor

WEEKS = 8
RECEIVED = dt.time(17, 30)  # the day's data, after the close
EVALUATED = dt.time(18, 0)  # every schedule's cycle, on the day's data
LAST_BATCHES = 99_990  # the seeds of the last hours' batches (a day's is its number of days since 2000)
BACKLOG = dt.timedelta(days=30)  # a version's first batch: its month before (the reference windows fill on it)
ALARMS = ("warn", "breach")
CLOSE_WITHIN = 15  # weekdays the owner waits for the monitors to clear before leaving the incident mitigated


@dataclass(frozen=True)
class Fault:
    key: str
    weeks_ago: int  # the Monday of the week it starts, counted back from the seed's end
    days: int  # weekdays it lasts
    hit_rate: float | None  # a losing spell; None: the feed stops instead
    cause: str
    actions: str


FAULTS = (
    Fault(
        "exec-fx-twap",
        weeks_ago=6,
        days=4,
        hit_rate=0.38,
        cause="A venue's new fee schedule made the algorithm's passive child orders fill mostly when the price "
        "moved against them.",
        actions="Passive slices capped at 20 % on that venue; the fill model re-estimated on the new fees.",
    ),
    Fault(
        "eq-index-arb",
        weeks_ago=3,
        days=2,
        hit_rate=None,
        cause="The market-data vendor's new endpoint rejected the feed's certificate after a renewal.",
        actions="Certificate pinned and renewal alerting added; the two missed days were backfilled.",
    ),
)


def fault_on(key: str, day: dt.date, now: dt.datetime) -> Fault | None:
    for fault in FAULTS:
        if fault.key == key and day in fault_days(fault, now):
            return fault
    return None


def fault_days(fault: Fault, now: dt.datetime) -> list[dt.date]:
    monday = now.date() - dt.timedelta(days=now.weekday(), weeks=fault.weeks_ago)
    return weekdays_from(monday, fault.days)


def weekdays_from(first: dt.date, count: int) -> list[dt.date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=dt.UTC)


def story(now: dt.datetime, last_batch: dt.datetime):
    """The weekdays from WEEKS ago to the seed's end: the day's data, then every schedule's cycle. Then, from
    `last_batch` to an hour before the seed's end, a batch each hour: the seed's own evaluations of its last hours
    (monitoring_feed.seed_history) find data received within the hour, so nothing reads as stale."""
    sent_until: dict[int, dt.datetime] = {}  # per version: the end of the data it has sent
    day = now.date() - dt.timedelta(weeks=WEEKS)
    while at(day, RECEIVED) < last_batch:
        if day.weekday() < 5:
            yield at(day, RECEIVED)
            receive(day, now, sent_until, timezone.now(), seed=(day - dt.date(2000, 1, 1)).days)
            yield at(day, EVALUATED)
            evaluate(timezone.now())
        day += dt.timedelta(days=1)
    moment, n = last_batch, 0
    while moment < now - dt.timedelta(minutes=59):
        yield moment
        receive(moment.date(), now, sent_until, timezone.now(), seed=LAST_BATCHES + n)
        moment, n = moment + dt.timedelta(hours=1), n + 1


def receive(day: dt.date, now: dt.datetime, sent_until: dict, moment: dt.datetime, seed: int) -> None:
    """Each live version's data since its last batch (a stopped feed sends nothing; it sends the missed days
    when it is back)."""
    until = moment - dt.timedelta(minutes=5)
    for version in feed.live_versions():
        fault = fault_on(version.model.key, day, now)
        if fault is not None and fault.hit_rate is None:
            continue
        since = sent_until.get(version.pk, until - BACKLOG)
        feed.ingest_span(version, since, until, seed, hit_rate=fault and fault.hit_rate)
        sent_until[version.pk] = until


def evaluate(moment: dt.datetime) -> None:
    """Every monitoring schedule's cycle for its latest tick, run to the end (beat and the workers' part)."""
    for name in beat_schedules.NAMES:
        for cycle in cycles.start_cycle(name, now=moment):
            jobs.execute(cycle.job_id)


def aftermath(fault: Fault, now: dt.datetime, compliance, password_for):
    """The owner handles what the fault opened: mitigated the weekday after it ends (the desk has acted), closed
    on its root cause on the first afternoon the model's monitors are all back to normal (a change rule keeps an
    alarm in view for its window after the data recovers), within CLOSE_WITHIN weekdays."""
    after = weekdays_from(fault_days(fault, now)[-1] + dt.timedelta(days=1), CLOSE_WITHIN)
    yield at(after[0], dt.time(9, 40))
    for incident in opened_by(fault):
        incidents.incident_update(
            incident.model.owner,
            incident,
            status=Incident.Status.MITIGATED,
            note=f"Cause found: {fault.cause} {fault.actions}",
        )
    for day in after[1:]:
        yield at(day, dt.time(16, 10))
        if not Monitor.objects.filter(version__model__key=fault.key, latest_outcome__in=ALARMS).exists():
            break
    else:
        return  # still alarming: left mitigated, open
    for incident in opened_by(fault):
        signed = incident.severity in incidents.SIGNED_CLOSURE  # high or critical: compliance signs the closure
        closer = compliance if signed else incident.model.owner
        incidents.incident_close(
            closer,
            incident,
            root_cause=fault.cause,
            corrective_actions=fault.actions,
            password=password_for(closer) if signed else "",
        )


def opened_by(fault: Fault):
    return Incident.objects.filter(
        model__key=fault.key, detected_by=Incident.Detection.MONITOR, status__in=incidents.OPEN_STATUSES
    ).select_related("model__owner")
