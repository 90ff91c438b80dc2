"""The demo firm's past, made by the real services with the clock set back.

Each thread of the firm's life (a model's registration, submission, validation runs and sign-offs, approvals,
pilot and promotion; its findings raised, remediated and closed; its incidents opened, mitigated and closed; the
monthly kill-switch tests, the yearly attestations, the daily key-risk-indicator snapshots) is a generator that
yields the moment of its next step. The scheduler takes the earliest step of all, travels the clock there
(time-machine) and lets it act through the same services a person would use, so every audit event, signature and
snapshot carries the date it happened, in chronological order: the audit chain's timestamps never go back, and the
inventory as of any date of the simulated year is the audit trail undone to it.

Deterministic: every gap and choice comes from the model's key, so a seed gives the same history on every run.
"""

import datetime as dt
import heapq
import itertools
import time
import zlib
from collections.abc import Callable, Generator

import time_machine
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from governance.core import events, jobs
from governance.core.policy import policy_in_force
from governance.demo import demo_model, monitoring_history, problem_definitions
from governance.demo.walk import PATHS, step
from governance.lifecycle import revalidation
from governance.lifecycle.models import Attestation
from governance.lifecycle.workflow import Action
from models_registry.choices import LifecycleStatus as S
from risk.dashboards import snapshots
from risk.exports import self_assessment
from risk.exports import services as exports
from risk.gate import killswitch
from risk.incidents import services as incidents
from risk.validation import findings, plans
from risk.validation import runs as validation
from risk.validation import services as evidence_services
from risk.validation.models import Evidence, Finding, ValidationRun

User = get_user_model()
DAYS = 425  # a year of trends and snapshots, and the validations of a year ago that are overdue now
SNAPSHOT_DAYS = 365
DAILY_DAYS = 35
# The robustness and explainability tests of issue 23 (risk.validation.depth, stress).
DEPTH = {t["metric"] for t in plans.DEPTH + plans.STRESS}
EARLY = {"credit-default-prob": 1}  # registered first: its validation, a year ago, is overdue now
Story = Generator[dt.datetime, None, None]

# Gap before each action, in days: a base and a spread drawn from the model's key.
GAPS = {
    Action.SUBMIT: (8, 10),
    Action.START_VALIDATION: (3, 5),
    Action.VALIDATE: (21, 25),
    Action.VALIDATE_WITH_CONDITIONS: (21, 25),
    Action.REJECT: (21, 25),
    Action.APPROVE_DEPLOYMENT: (5, 6),
    Action.START_PILOT: (4, 3),
    Action.PROMOTE: (40, 19),
    Action.SUSPEND: (30, 30),
    Action.RETIRE: (45, 10),
}
NEXT_VERSION_GAP = 60  # days from a version's promotion to its successor's registration
RECENT = {S.DRAFT, S.SUBMITTED, S.IN_VALIDATION, S.PILOT}  # statuses a model reached lately, not a year ago
SIGNOFF = {Action.VALIDATE, Action.VALIDATE_WITH_CONDITIONS}


def jitter(key: str, salt: str, spread: int) -> int:
    return zlib.crc32(f"{key}:{salt}".encode()) % spread if spread > 0 else 0


def at_hour(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


class Scheduler:
    """Runs stories in the order of their steps' moments, with the clock travelled to each moment."""

    def __init__(self, progress: Callable[[str], None] = lambda line: None):
        self._heap: list = []
        self._seq = itertools.count()
        self._progress = progress
        self._month = None
        self.steps = 0
        self.seconds: dict[str, float] = {}  # time spent by kind of story, for the closing progress line

    def spawn(self, story: Story) -> None:
        first = next(story, None)
        if first is not None:
            heapq.heappush(self._heap, (first, next(self._seq), story))

    def run(self, until: dt.datetime) -> None:
        traveller, last = None, None
        try:
            while self._heap and self._heap[0][0] <= until:
                moment, _, story = heapq.heappop(self._heap)
                if traveller is not None:
                    last = timezone.now()  # the travelled clock, where the previous step left it
                    traveller.stop()
                # Never back: a step that ran long (the clock ticks while travelled) has pushed "now" past the next.
                if last is not None:
                    moment = max(moment, last + dt.timedelta(milliseconds=1))
                traveller = time_machine.travel(moment, tick=True)
                traveller.start()
                self._report(moment)
                began = time.perf_counter()
                with transaction.atomic():
                    following = next(story, None)
                    while events.deliver_pending():  # what the step set off happens the same day
                        pass
                name = story.gi_code.co_name
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
                self.steps += 1
                if following is not None:
                    heapq.heappush(self._heap, (following, next(self._seq), story))
        finally:
            if traveller is not None:
                traveller.stop()
        if self._month is not None:
            self._progress(f"history: {self._month} done ({self.steps} steps)")
            spent = ", ".join(f"{name} {sec:.1f} s" for name, sec in sorted(self.seconds.items(), key=lambda i: -i[1]))
            self._progress(f"history: made in {sum(self.seconds.values()):.1f} s ({spent})")

    def _report(self, moment):
        month = f"{moment:%Y-%m}"
        if month != self._month:
            if self._month is not None:
                self._progress(f"history: {self._month} done ({self.steps} steps)")
            self._month = month


class History:
    """The simulated year of the demo firm; `now` is the real moment the history leads up to."""

    def __init__(self, now: dt.datetime, password_for, build_model, progress=lambda line: None):
        self.now = now
        self.start = self.start_of(now)
        self.password_for = password_for
        self.build_model = build_model  # (spec) -> Model, the command's registration through the services
        self.scheduler = Scheduler(progress)
        self.compliance = User.objects.get(username="compliance")

    @staticmethod
    def start_of(now: dt.datetime) -> dt.datetime:
        """The first moment of the history: the firm's people and data sources are registered then."""
        return at_hour(now - dt.timedelta(days=DAYS), 8)

    # --- the plan of each model's life ---
    def timeline(self, key: str, versions) -> list[tuple[float, str, str]]:
        """(day offset, version label, action) of a model's life from registration, "" for a new version."""
        out, day = [], 0.0
        for n, (label, status) in enumerate(versions):
            day += 1 if n == 0 else NEXT_VERSION_GAP + jitter(key, f"next{label}", 20)
            out.append((day, label, ""))
            for action in PATHS[status]:
                base, spread = GAPS[action]
                day += base + jitter(key, f"{label}{action}", spread)
                out.append((day, label, action))
        return out

    def registration(self, index: int, key: str, status: str, length: float) -> dt.datetime:
        latest = self.now - dt.timedelta(days=5 + length)
        if status in RECENT:
            start = latest - dt.timedelta(days=jitter(key, "recent", 12))
        else:
            start = min(self.start + dt.timedelta(days=EARLY.get(key, 2 + (index * 11) % 110)), latest)
        return at_hour(max(start, self.start + dt.timedelta(days=1)), 9, jitter(key, "minute", 50))

    def plan_models(self, specs: list[tuple], versions_of) -> None:
        for index, spec in enumerate(specs):
            key, status = spec[0], spec[10]
            versions = versions_of(key, status)
            plan = self.timeline(key, versions)
            begin = self.registration(index, key, status, plan[-1][0])
            self.scheduler.spawn(self.model_story(spec, versions, plan, begin))

    # --- stories ---
    def model_story(self, spec, versions, plan, begin) -> Story:
        final = spec[10]
        yield begin
        model = problem_definitions.record(self.build_model(spec))
        statuses = dict(versions)
        signing_label = next((label for label, s in reversed(versions) if set(PATHS[s]) & SIGNOFF), None)
        version = None
        for offset, label, action in plan:
            moment = begin + dt.timedelta(days=offset)
            if not action:
                yield moment
                version = self.build_version(model, label)
                continue
            if action == Action.START_VALIDATION:
                yield moment
                version = step(version, model, action, self.password_for)
                self.attach_run_files(version)
                continue
            if action in SIGNOFF and label == signing_label:
                # The validator runs the plan in the morning and signs in the afternoon, addressing what failed.
                yield at_hour(moment, 10)
                signoff = self.validation_run(model, version)
                yield at_hour(moment, 15)
                version = step(version, model, action, self.password_for, signoff=signoff)
                continue
            yield moment
            pilot_end = None
            if action == Action.START_PILOT and statuses[label] == S.PILOT:
                pilot_end = max(moment.date(), self.now.date()) + dt.timedelta(days=45)
            version = step(version, model, action, self.password_for, pilot_end=pilot_end)
            if action == Action.PROMOTE:
                self.scheduler.spawn(self.incident_story(model, version, moment))
        if final == S.SUSPENDED:
            self.scheduler.spawn(self.suspension_finding(model, version, moment))

    def build_version(self, model, label):
        from governance.demo.management.commands.seed_demo import create_version  # the command's own recipe

        return create_version(model, label)

    def attach_run_files(self, version) -> None:
        """The developer attaches what the validation run reads, when the version goes into validation."""
        parts = plans.parts(plans.template_for(version.model))
        for name, content, kind, description in demo_model.evidence_for(version.model.key, parts):
            evidence_services.evidence_add(
                version.created_by, version, file=ContentFile(content, name=name), kind=kind, description=description
            )

    def validation_run(self, model, version) -> dict:
        """Run the proposed plan on the attached files; raise a finding from up to two failed tests, dispose of
        the others in writing and acknowledge each warning: the sign-off that follows cites this run."""
        validator = model.validator
        validation.plan_save(validator, version)
        files = {e.original_name.removeprefix(f"{model.key}-"): e for e in Evidence.objects.filter(version=version)}
        if "backtest.csv" in files:
            run = validation.run_start(
                validator,
                version,
                files["backtest.csv"],
                trial_returns=files.get("trials.csv"),
                prediction_log=files.get("predictions.csv"),
                reference=files.get("training.csv"),
                model=files.get("model.onnx"),
            )
        else:
            run = validation.run_start(
                validator, version, files["predictions.csv"], reference=files.get("training.csv")
            )
        validation.run_execute(run.pk)
        run.refresh_from_db()
        if run.status != ValidationRun.Status.SUCCEEDED:
            raise RuntimeError(f"The demo validation run of {model.key} {version.version} {run.status}: {run.error}")
        failed = [row["test"] for row in run.results if row["outcome"] == "fail"]
        # Findings come from the established tests; a depth test that fails (the linear challenger beats most
        # demo classifiers) is disposed of in writing like the rest, so the demo's year of findings stays as it was.
        established = [row["test"] for row in run.results if row["outcome"] == "fail" and row["metric"] not in DEPTH]
        raised = established[:2]
        warned = [row["test"] for row in run.results if row["outcome"] == "warn"]
        owner = model.developers.order_by("username").first() or model.owner
        today = timezone.now().date()
        for n, test in enumerate(raised):
            finding = findings.finding_raise(
                validator,
                version,
                severity="medium" if n == 0 else "low",
                title=f"{test} failed in validation run #{run.pk}",
                description=f"The test {test} failed on the developer's files; remediate before the next review.",
                owner=owner,
                due_date=today + dt.timedelta(days=45 + jitter(model.key, test, 60)),
                run=run,
                test=test,
            )
            self.scheduler.spawn(self.finding_story(finding, timezone.now()))
        return {
            "dispositions": {
                test: "Known limitation of the backtest window; covered by the monitoring plan and pilot limits."
                for test in failed
                if test not in raised
            },
            "acknowledged_warnings": warned,
        }

    def finding_story(self, finding: Finding, raised: dt.datetime) -> Story:
        """Most findings are remediated and closed within weeks; some stay open and age (the buckets)."""
        key = f"{finding.version.model.key}:{finding.pk}"
        fate = jitter(key, "fate", 10)
        start = raised + dt.timedelta(days=4 + jitter(key, "start", 10))
        if fate < 1 or start > self.now - dt.timedelta(days=1):
            return  # left open, not yet touched
        yield at_hour(start, 11)
        finding = Finding.objects.select_related("version__model").get(pk=finding.pk)
        findings.finding_start_remediation(finding.owner, finding, "Fix under way: retraining on the longer window.")
        close = start + dt.timedelta(days=10 + jitter(key, "close", 50))
        if fate < 3 or close > self.now - dt.timedelta(days=1):
            return  # in remediation
        yield at_hour(close, 16)
        finding.refresh_from_db()
        if fate == 9 and finding.severity != "high":
            findings.finding_accept_risk(
                self.compliance,
                finding,
                justification="Residual risk accepted: the model trades within pilot-sized limits until re-trained.",
                password=self.password_for(self.compliance),
            )
            return
        findings.finding_close(
            finding.version.model.validator, finding, "Re-ran the failed test on the remediated code: it passes."
        )

    def suspension_finding(self, model, version, suspended: dt.datetime) -> Story:
        yield suspended + dt.timedelta(hours=2)
        finding = findings.finding_raise(
            model.validator,
            version,
            severity="high",
            title="Spread model breaks in the 2026 regime",
            description="Out-of-sample residuals trend since March; the mean-reversion assumption "
            "fails in the new funding regime.",
            owner=model.developers.order_by("username").first() or model.owner,
            due_date=timezone.now().date() + dt.timedelta(days=30),
        )
        yield from self.finding_story(finding, suspended)

    def incident_story(self, model, version, promoted: dt.datetime) -> Story:
        """An incident every few months of production: reported by the owner, mitigated within hours, closed
        within days (the last one may still be open)."""
        policy = policy_in_force()
        severities = [
            s
            for s in ("high", "medium", "low")
            if not policy.incident_suspends(model.risk_tier, s)
            and not policy.incident_requires_revalidation(model.risk_tier, s)
        ]
        if not severities:
            return
        moment = promoted
        for n in itertools.count():
            moment += dt.timedelta(days=45 + jitter(model.key, f"inc{n}", 90))
            if moment > self.now - dt.timedelta(days=2):
                return
            severity = severities[jitter(model.key, f"sev{n}", len(severities))]
            yield at_hour(moment, 7 + jitter(model.key, f"h{n}", 9), jitter(model.key, f"m{n}", 59))
            version.refresh_from_db()
            if version.status != S.PRODUCTION:
                return
            title, cause, actions, impact = INCIDENTS[jitter(model.key, f"t{n}", len(INCIDENTS))]
            incident = incidents.incident_report(
                model.owner,
                model,
                title=title,
                description="Seen on the desk's intraday P&L review; trading continued within limits.",
                severity=severity,
            )
            mitigated = moment + dt.timedelta(hours=1 + jitter(model.key, f"mit{n}", 30))
            if mitigated > self.now - dt.timedelta(days=10 + jitter(model.key, "open", 10)):
                return  # a recent incident is still being investigated
            if n == 0 and model.purpose == "execution":
                # Compliance stops the algorithm while the desk looks, and lets it trade again once mitigated.
                yield moment + dt.timedelta(minutes=12)
                stop = killswitch.kill_switch_engage(
                    self.compliance,
                    scope="model",
                    model=model,
                    reason=f"{incident.reference}: orders stopped while the desk investigates.",
                    password=self.password_for(self.compliance),
                )
                yield mitigated - dt.timedelta(minutes=5)
                killswitch.kill_switch_release(
                    self.compliance,
                    stop,
                    reason=f"{incident.reference} mitigated: limits cut, the algorithm may trade again.",
                    password=self.password_for(self.compliance),
                )
            yield mitigated
            incidents.incident_update(
                model.owner,
                incident,
                status="mitigated",
                note="Position limits cut while the cause is found; impact assessed from the day's fills.",
                **impact,
            )
            closed = mitigated + dt.timedelta(days=1 + jitter(model.key, f"close{n}", 12))
            if closed > self.now - dt.timedelta(days=5):
                return  # mitigated, not yet closed
            yield closed
            closer = self.compliance if severity == "high" else model.owner
            incidents.incident_close(
                closer,
                incident,
                root_cause=cause,
                corrective_actions=actions,
                password=(self.password_for(closer) or "") if severity == "high" else "",
            )
            moment = closed

    def kill_switch_story(self) -> Story:
        """The monthly test of the kill functionality (RTS 6), on the first Monday of each month."""
        month = self.start.date().replace(day=1)
        while True:
            month = (month + dt.timedelta(days=32)).replace(day=1)
            day = month + dt.timedelta(days=(7 - month.weekday()) % 7)  # its first Monday
            moment = dt.datetime.combine(day, dt.time(7, 30), tzinfo=dt.UTC)
            if moment > self.now:
                return
            yield moment
            killswitch.kill_switch_test(self.compliance)

    def job_days(self) -> list[dt.date]:
        """The days the daily jobs are replayed: every day of the last DAILY_DAYS, each Monday before (the
        overview's trend reads the last 90 days, daily where it is closest; a year of weekly points behind it
        keeps the seed quick)."""
        today = self.now.date()
        days = [today - dt.timedelta(days=n) for n in range(DAILY_DAYS, 0, -1)]
        day = self.start.date()
        weekly = []
        while day < days[0]:
            if day.weekday() == 0:
                weekly.append(day)
            day += dt.timedelta(days=1)
        return weekly + days

    def daily_jobs_story(self) -> Story:
        """The beat's daily jobs: the revalidation sweep in the morning (flags, yearly attestations opened), whose
        attestations their owners sign in the following days; the key risk indicators' snapshot at night (for
        the last SNAPSHOT_DAYS)."""
        first_snapshot = self.now.date() - dt.timedelta(days=SNAPSHOT_DAYS)
        for day in self.job_days():
            yield dt.datetime.combine(day, dt.time(6, 0), tzinfo=dt.UTC)
            known = set(Attestation.objects.values_list("pk", flat=True))
            revalidation.revalidation_sweep(day)
            for attestation in Attestation.objects.exclude(pk__in=known).select_related("model", "owner"):
                key = attestation.model.key
                signed = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(
                    days=2 + jitter(key, "att", 20), hours=jitter(key, "atth", 8)
                )
                if signed < self.now and jitter(key, "attsign", 6):  # one in six still waits for its owner
                    self.scheduler.spawn(self.attest(attestation, signed))
            if day >= first_snapshot:
                yield dt.datetime.combine(day, dt.time(23, 50), tzinfo=dt.UTC)
                snapshots.record(day)

    def attest(self, attestation, moment) -> Story:
        yield moment
        revalidation.attestation_sign(
            attestation.owner,
            attestation,
            statement=f"{attestation.model.key} is used as approved, within its limits, in {attestation.year}.",
            password=self.password_for(attestation.owner),
        )

    def monitoring_story(self) -> Story:
        """The live models' weeks of data and monitoring cycles (monitoring_history), with its planned faults
        handled by their owners. The last data arrives hours before the seed ends: the seed's own evaluations
        (of the last six hours) find it received, so nothing reads as stale."""
        for fault in monitoring_history.FAULTS:
            self.scheduler.spawn(monitoring_history.aftermath(fault, self.now, self.compliance, self.password_for))
        yield from monitoring_history.story(self.now, self.now - dt.timedelta(hours=7))

    def exports_story(self) -> Story:
        """Compliance exports the inventory at each quarter's start (a signed pack, made by the export job)."""
        for year in (self.start.year, self.start.year + 1):
            for month in (1, 4, 7, 10):
                moment = dt.datetime(year, month, 6, 14, tzinfo=dt.UTC)
                if not self.start < moment < self.now:
                    continue
                yield moment
                export = exports.export_request(self.compliance, "inventory", format="xlsx" if month == 1 else "csv")
                jobs.execute(export.job_id)

    def self_assessment_story(self) -> Story:
        """The RTS 6 self-assessment of the past year, prepared in January and signed by compliance and then a
        senior manager; this year's prepared lately, awaiting its senior manager."""
        senior = User.objects.get(username="owner")
        last_year = self.now.year - 1
        moment = dt.datetime(self.now.year, 1, 20, 10, tzinfo=dt.UTC)
        if self.start < moment < self.now and last_year >= self.start.year:
            yield moment
            past = self_assessment.prepare(self.compliance, last_year, ASSESSMENT.format(year=last_year))
            yield moment + dt.timedelta(days=2)
            self_assessment.sign(self.compliance, past, password=self.password_for(self.compliance))
            yield moment + dt.timedelta(days=6)
            self_assessment.sign(senior, past, password=self.password_for(senior))
        if (self.now - dt.timedelta(days=9)).year != self.now.year:
            return  # early January: this year's is not begun
        yield self.now - dt.timedelta(days=9)
        current = self_assessment.prepare(self.compliance, self.now.year, ASSESSMENT.format(year=self.now.year))
        yield self.now - dt.timedelta(days=8)
        self_assessment.sign(self.compliance, current, password=self.password_for(self.compliance))

    def run(self) -> None:
        stories = (
            self.kill_switch_story(),
            self.daily_jobs_story(),
            self.exports_story(),
            self.self_assessment_story(),
            self.monitoring_story(),
        )
        for story in stories:
            self.scheduler.spawn(story)
        self.scheduler.run(until=self.now)


ASSESSMENT = (
    "The firm's algorithmic trading systems, their limits and kill functionality were reviewed for {year}: "
    "the controls operated as designed; the findings raised are tracked to remediation."
)
# Each reported incident: its title, the root cause and corrective actions it closes on, and its impact.
INCIDENTS = [
    (
        "Signal stale after a late market-data feed",
        "An input feed delivered late values for part of the session.",
        "Feed heartbeat tightened; the model halts on stale inputs.",
        {"impact_pnl": -18_400, "impact_trades": 37, "impact_clients": 0},
    ),
    (
        "Orders rejected by the venue's price collar",
        "Child orders were priced from a quote older than the venue's collar allows during a fast market.",
        "Orders re-priced from the live quote; a pre-trade collar check added to the gateway.",
        {"impact_pnl": -2_150, "impact_trades": 112, "impact_clients": 1},
    ),
    (
        "Fill rate dropped after a venue outage",
        "The venue's failover left the algorithm routing to a gateway that accepted no orders for 40 minutes.",
        "Routing marks a venue down after three unacknowledged orders; the failover runbook updated.",
        {"impact_pnl": -6_900, "impact_trades": 240, "impact_clients": 2},
    ),
    (
        "Position limit hit intraday",
        "A stale end-of-day position was loaded, so the intraday limit counted the day's trades twice.",
        "Positions are reconciled with the books at the start of day before the model trades.",
        {"impact_pnl": 0, "impact_trades": 15, "impact_clients": 0},
    ),
    (
        "Model output outside its historical range",
        "A corporate action was not applied to one input series, so the signal saw a false price jump.",
        "Corporate actions are applied before the features are computed; a range check on every input.",
        {"impact_pnl": -4_300, "impact_trades": 9, "impact_clients": 0},
    ),
]
