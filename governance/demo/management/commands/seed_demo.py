"""Build the demo trading firm. Idempotent: a second run changes nothing that exists already."""

import contextlib
import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from governance.core import events
from governance.core.audit import audit_record
from governance.core.models import Desk, Notification, UserProfile
from governance.demo import card_acknowledgements, demo_files, monitoring_feed, review_threads
from governance.demo.demo_data import DATA_SOURCES, DESKS, MODEL_DATA, MODELS, SENIOR_MANAGERS, TEAMS, USERS
from governance.demo.history import History
from governance.skills import services as skills
from governance.skills.models import Completion, Requirement
from models_registry import services
from models_registry.choices import LifecycleStatus as S
from models_registry.models import DataSource, DataSourceAccessGrant, Model, ModelRisk, ModelVersion
from models_registry.risk_register import risk_add
from risk.gate import killswitch
from risk.gate.models import KillSwitchTest
from risk.validation import plans
from risk.validation import services as evidence_services
from risk.validation.findings import finding_raise
from risk.validation.models import Finding

User = get_user_model()

# Version history that leads to each model status (label, version status), oldest first.
HISTORY = {
    S.DRAFT: [("0.1", S.DRAFT)],
    S.SUBMITTED: [("1.0", S.SUBMITTED)],
    S.IN_VALIDATION: [("1.0", S.IN_VALIDATION)],
    S.VALIDATED: [("1.0", S.VALIDATED)],
    S.VALIDATED_WITH_CONDITIONS: [("1.0", S.VALIDATED_WITH_CONDITIONS)],
    S.REJECTED: [("1.0", S.REJECTED), ("1.1", S.DRAFT)],
    S.APPROVED: [("1.0", S.APPROVED)],
    S.PILOT: [("1.0", S.PILOT)],
    # 1.1's promotion supersedes 1.0, so the demo can show a rollback.
    S.PRODUCTION: [("1.0", S.PRODUCTION), ("1.1", S.PRODUCTION)],
    S.SUSPENDED: [("2.0", S.SUSPENDED)],
    S.RETIRED: [("1.0", S.RETIRED)],
}
# Production models with one version: validated about a year ago and not since, so the overview shows
# validations overdue (tier 1, yearly) and coming due.
SINGLE_VERSION = {
    key: [("1.0", S.PRODUCTION)] for key in ("credit-default-prob", "risk-var-hs", "eq-index-arb", "exec-fx-twap")
}
LOGINS_FILE = "demo-logins.txt"
# While seeding, the demo's people sign about a hundred decisions, each checking a password: with PBKDF2's full
# iterations (a quarter of a second each) that was 25 s of `make run`. So the seed hashes with MD5 while it runs
# and stores every password it set with the configured hashers before it ends (handle()); no login is usable with
# the quick hash, since no configured hasher reads it.
SEEDING_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def versions_of(key: str, status: str) -> list[tuple[str, str]]:
    return SINGLE_VERSION.get(key, HISTORY[status]) if status == S.PRODUCTION else HISTORY[status]


def build_model(spec) -> Model:
    """Register one demo model (MODELS row) as compliance would."""
    (
        key,
        name,
        purpose,
        desk,
        mtype,
        assets,
        notional,
        consumers,
        complexity,
        explain,
        _s,
        team,
        validator,
        vendor,
        _f,
    ) = spec
    compliance = User.objects.get(username="compliance")
    owner_name, developer_names = TEAMS[team]
    devs = list(User.objects.filter(username__in=developer_names).order_by("username"))
    article = "an" if purpose[0] in "aeiou" else "a"
    return services.model_create(
        compliance,
        key=key,
        name=name,
        purpose=purpose,
        desk=Desk.objects.get(code=desk),
        model_type=mtype,
        asset_classes=assets,
        notional_at_stake=notional,
        downstream_consumers=consumers,
        complexity_rating=complexity,
        explainability_rating=explain,
        owner=User.objects.get(username=owner_name),
        developers=devs,
        validator=User.objects.get(username=validator) if validator else None,
        is_vendor=bool(vendor),
        vendor_name=vendor or "",
        description=f"{name}. Demo record of {article} {purpose} model on the {desk} desk.",
        intended_use=f"{name} for the {desk} desk's own trading within its approved limits.",
        known_limitations="Trained on post-2010 data; behaviour in regimes absent from it is unknown.",
    )


def create_version(model, label) -> ModelVersion:
    """Register version `label` of a demo model, by its first developer, with the data sources it reads."""
    developer = model.developers.order_by("username").first()
    training, inference = MODEL_DATA.get(model.key, ([], []))
    digest = hashlib.sha256(f"{model.key}:{label}".encode()).hexdigest()
    version = services.version_create(
        developer,
        model,
        version=label,
        artifact_uri=f"s3://vigil-artifacts/{model.key}/{label}/model.bin",
        artifact_sha256=digest,
        code_revision=digest[:12],
        training_data_ref=f"snapshot-{digest[:8]}",
        hyperparameters={"seed": 7, "lookback_days": 60 + 5 * len(model.key)},
        claimed_performance={"sharpe": round(0.8 + (len(model.key) % 7) / 10, 2), "hit_rate": 0.53},
        training_sources=list(DataSource.objects.filter(name__in=training)),
        inference_sources=list(DataSource.objects.filter(name__in=inference)),
    )
    if model.validator and services.training_sources_hidden_from(model.validator, model, version):
        # As compliance does at assignment: independent validation needs the training data.
        compliance = User.objects.get(username="compliance")
        services.model_update(compliance, model, grant_training_data=True, reason="demo: validation access")
    return version


class Command(BaseCommand):
    help = "Create demo users, desks, data sources and about 25 models. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo user (otherwise generated and printed).")

    def handle(self, *args, password=None, **options):
        if password is not None and len(password) < 10:
            raise CommandError("--password must be at least 10 characters.")
        logins = {}
        try:
            # The seed delivers its events itself, step by step and at its end: no nudge is left for the workers.
            with override_settings(PASSWORD_HASHERS=[SEEDING_HASHER]), events.delivered_here():
                self._seed(password, logins)
                while events.deliver_pending():
                    pass
        finally:
            self._store_passwords(logins)
        self._report(logins, password)

    def _seed(self, password, created_logins):
        """Build the firm; `created_logins` collects the passwords it set, which handle() stores hashed in full."""
        started = timezone.now()
        # The firm's past is made once, on the first seed: its people and data sources at the start of the
        # simulated year, then each model's life through the services with the clock set back (history.py).
        first = not Model.objects.exists()
        since = History.start_of(started) if first else started
        with time_machine.travel(since, tick=True) if first else contextlib.nullcontext():
            with transaction.atomic():
                created_logins.update(self._users(password))
                self._desks_and_profiles()
                self._data_sources()
                self._grants(User.objects.get(username="compliance"))

        def password_for(user):
            return password or created_logins.get(user.username)

        if first:
            self.stdout.write(f"history: the demo firm's year from {since:%Y-%m-%d}, through the services")
            history = History(started, password_for, build_model, progress=self.stdout.write)
            history.plan_models(MODELS, versions_of)
            history.run()
        with transaction.atomic():
            self._dependencies(User.objects.get(username="compliance"))
            self._governance_examples()
            self._skills()
            self._validation_examples()
            self._evidence_in_validation()
        # The cards of the live models, acknowledged by their desks' traders (all but one: blocked at the gate).
        card_acknowledgements.seed(password_for)
        review_threads.seed()  # a validator's challenge answered and resolved, one open, a trader's question
        self._settle_notifications(since)  # delivers the lifecycle events too: pilots get their monitors
        monitoring_feed.seed_history()
        # One test of the kill functionality on record, as the monthly schedule would leave (nothing is stopped).
        if not KillSwitchTest.objects.exists():
            killswitch.kill_switch_test(User.objects.get(username="compliance"))

    @staticmethod
    def _store_passwords(logins):
        """Each password the seed set, hashed by the configured hashers (PBKDF2 in full), replacing the quick hash
        it was signed with while seeding. Also after a failed seed: no login is left hashed with MD5."""
        for username, secret in logins.items():
            User.objects.filter(username=username).update(password=make_password(secret))

    def _settle_notifications(self, since):
        """What building the demo told people is history, not news: deliver it now (no wall of mail when the
        worker starts) and mark it read, so each demo user starts from their queue, not from a backlog."""
        while events.deliver_pending():
            pass
        Notification.objects.filter(created_at__gte=since, read_at__isnull=True).update(read_at=timezone.now())

    # --- people ---
    def _users(self, password):
        logins = {}
        for group in ("developer", "owner", "validator", "compliance", "auditor", "trader"):
            Group.objects.get_or_create(name=group)
        specs = [*USERS, ("admin", "Site", "Administrator", [], None, "Site administrator")]
        for username, first, last, roles, _desk, _title in specs:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@vigil.example"},
            )
            if username == "admin" and not user.is_superuser:
                user.is_superuser = user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
            if created or password:
                secret = password or secrets.token_urlsafe(12)
                user.set_password(secret)
                user.save(update_fields=["password"])
                logins[username] = secret
            user.groups.add(*Group.objects.filter(name__in=roles))
            if created:
                audit_record(
                    None,
                    "user.create",
                    user,
                    object_type="auth.user",
                    reason="seed_demo",
                    changes={"roles": [None, roles]},
                )
        return logins

    def _desks_and_profiles(self):
        for code, name, line in DESKS:
            Desk.objects.get_or_create(code=code, defaults={"name": name, "business_line": line})
        for username, _f, _l, _r, desk_code, title in USERS:
            user = User.objects.get(username=username)
            desk = Desk.objects.get(code=desk_code) if desk_code else None
            UserProfile.objects.get_or_create(
                user=user,
                defaults={"desk": desk, "title": title, "senior_manager": username in SENIOR_MANAGERS},
            )

    # --- data ---
    def _data_sources(self):
        for name, kind, method, classification, owner, retention, storage, rules in DATA_SOURCES:
            if DataSource.objects.filter(name=name).exists():
                continue
            owner_user = User.objects.get(username=owner)
            services.data_source_create(
                owner_user,
                name=name,
                kind=kind,
                collection_method=method,
                classification=classification,
                retention_days=retention,
                storage_location=storage,
                quality_rules=rules,
                description=f"{name}: registered by the demo seed.",
                owner=owner_user,
            )

    def _dependencies(self, compliance):
        """Feeder links, after every model exists (a feeder may be listed after its consumer)."""
        for key, *_rest, feeders in MODELS:
            model = Model.objects.get(key=key)
            current = set(Model.objects.filter(downstream_links__downstream=model).values_list("key", flat=True))
            if feeders and current != set(feeders):
                services.model_update(
                    compliance,
                    model,
                    upstream_models=list(Model.objects.filter(key__in=feeders)),
                    reason="demo data: feeder models",
                )

    def _validation_examples(self):
        """eq-card-spend 1.0 (a random forest alpha signal) waits for its validator with a backtest, the configurations
        tried for it, its prediction log and its training sample."""

        version = ModelVersion.objects.filter(model__key="eq-card-spend", version="1.0").select_related("model").first()
        if version is None or version.evidence.exists():
            return
        developer = User.objects.get(username="developer")
        files = [
            ("eq-card-spend-backtest.csv", demo_files.backtest_csv(), "backtest", "Daily backtest 2023-2025"),
            ("eq-card-spend-trials.csv", demo_files.trials_csv(), "trial_returns", "All 24 configurations tried"),
            (
                "eq-card-spend-predictions.csv",
                demo_files.prediction_log_csv(),
                "dataset",
                "Daily predictions 2023-2025",
            ),
            ("eq-card-spend-training.csv", demo_files.training_sample_csv(), "dataset", "Training sample"),
        ]
        for name, content, kind, description in files:
            evidence_services.evidence_add(
                developer, version, file=ContentFile(content, name=name), kind=kind, description=description
            )

    def _evidence_in_validation(self):
        """Every version in validation gets the files its validation run reads (seeded, by the parts of the plan
        its model's type and purpose propose), attached by its developer as the team would: the validator's run
        form then offers real choices. A version with files of its own keeps them."""
        versions = ModelVersion.objects.filter(status=S.IN_VALIDATION).select_related("model", "created_by")
        for version in versions:
            if version.evidence.exists():
                continue
            parts = plans.parts(plans.template_for(version.model))
            for name, content, kind, description in demo_files.evidence_for(version.model.key, parts):
                evidence_services.evidence_add(
                    version.created_by,
                    version,
                    file=ContentFile(content, name=name),
                    kind=kind,
                    description=description,
                )

    def _skills(self):
        """Skills kept current (issue 24): three requirements, defined now (after the history, so none stood in the
        way of its signatures), and a completion for each demo person who holds the duty, dated so that all are
        current and validator2's training comes due within 30 days (My queue and the skills page show it)."""
        compliance, compliance2 = User.objects.get(username="compliance"), User.objects.get(username="compliance2")
        today = timezone.now().date()
        specs = [
            ("validator", "training", "Model validation training", {"validator": 200, "validator2": 350}),
            ("trader", "certification", "Algorithmic trading certification (desk)", {"trader": 90}),
            ("kill_switch", "training", "Kill switch drill", {"compliance": 120, "compliance2": 60}),
        ]
        for duty, kind, title, completed_days_ago in specs:
            requirement = Requirement.objects.filter(title=title, active=True).first() or skills.requirement_create(
                compliance, duty=duty, kind=kind, title=title, validity_months=12
            )
            for username, days_ago in completed_days_ago.items():
                person = User.objects.get(username=username)
                if Completion.objects.filter(person=person, requirement=requirement).exists():
                    continue
                skills.completion_record(
                    compliance2 if person == compliance else compliance,  # nobody records their own
                    person=person,
                    requirement=requirement,
                    completed_on=today - dt.timedelta(days=days_ago),
                    evidence=f"Attendance list {today.year}-{requirement.pk:03d}",
                )

    def _governance_examples(self):
        """A few risk-register entries, so the governance pages have something to show (findings are raised in the
        history, from validation runs)."""

        today = timezone.now().date()
        risks = [
            (
                "eq-momentum-us",
                "developer",
                "model",
                "Momentum crash in sharp reversals",
                3,
                5,
                "Volatility-scaled sizing; drawdown stop at 8%",
                2,
                4,
            ),
            (
                "eq-momentum-us",
                "compliance",
                "regulatory",
                "RTS 6 pre-trade limits not versioned",
                2,
                4,
                "Limits held in the OMS and attested yearly",
                1,
                3,
            ),
            (
                # What its signed validation run's failed stress and depth tests say, disposed of in writing there.
                "fx-carry-g10",
                "developer2",
                "model",
                "Carry unwind in a risk-off shock (August 2024 yen)",
                3,
                5,
                "Gross exposure halved when G10 implied volatility jumps; stop at a 5% drawdown",
                2,
                4,
            ),
            (
                "exec-vwap-eq",
                "developer",
                "operational",
                "Stale market data feed",
                3,
                4,
                "Feed heartbeat halts the algo after 2 s",
                1,
                4,
            ),
        ]
        for key, actor, kind, title, lik, imp, mitigations, rlik, rimp in risks:
            model = Model.objects.get(key=key)
            if not ModelRisk.objects.filter(model=model, title=title).exists():
                risk_add(
                    User.objects.get(username=actor),
                    model,
                    kind=kind,
                    title=title,
                    likelihood=lik,
                    impact=imp,
                    mitigations=mitigations,
                    residual_likelihood=rlik,
                    residual_impact=rimp,
                    owner=model.owner,
                    next_review=today + dt.timedelta(days=90),
                )
        version = ModelVersion.objects.get(model__key="rates-swap-spread", version="2.0")
        if not Finding.objects.filter(version=version).exists():
            finding_raise(
                User.objects.get(username="validator"),
                version,
                severity="high",
                title="Spread model breaks in the 2026 regime",
                description="Out-of-sample residuals trend since March; the mean-reversion assumption "
                "fails in the new funding regime.",
                owner=User.objects.get(username="developer2"),
                due_date=today + dt.timedelta(days=30),
            )

    def _grants(self, compliance):
        panel = DataSource.objects.get(name="Consumer card transaction panel")
        developer = User.objects.get(username="developer")
        if not DataSourceAccessGrant.objects.filter(data_source=panel, user=developer).exists():
            services.data_source_grant_access(
                compliance, panel, developer, "Builds the consumer spend nowcast (eq-card-spend)."
            )

    def _report(self, logins, password):
        path = Path(settings.VAR_DIR) / LOGINS_FILE
        if logins and not password:
            path.parent.mkdir(parents=True, exist_ok=True)
            previous = path.read_text().splitlines() if path.exists() else []
            kept = [line for line in previous if line.split(" ", 1)[0] not in logins]
            path.write_text("\n".join(kept + [f"{u} {p}" for u, p in logins.items()]) + "\n")
            os.chmod(path, 0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo firm ready: {Model.objects.count()} models, {DataSource.objects.count()} data sources."
            )
        )
        if password:
            self.stdout.write("Every demo user's password is the one given with --password.")
        elif path.exists():
            self.stdout.write(f"Demo logins (also in {path}):")
            for line in path.read_text().splitlines():
                user, secret = line.split(" ", 1)
                self.stdout.write(f"  {user:<12} {secret}")
