"""What happened in production, per model version: metric points and trades, each stored once per batch.

Rows are append-only facts reported by trading systems; they are never edited. Queries read them by version,
kind and time, so each table has a composite B-tree for those reads (the series query walks it in order).
"""

from django.conf import settings
from django.db import models


class IngestBatch(models.Model):
    """One accepted batch: its idempotency key makes a batch sent twice stored once (the second answer says so).
    A key is its caller's, and is tied to the SHA-256 of the batch it came with (empty for batches stored before
    that: they replay as they did)."""

    class Kind(models.TextChoices):
        POINTS = "points", "Metric points"
        TRADES = "trades", "Trades"
        PREDICTIONS = "predictions", "Predictions"
        OUTCOMES = "outcomes", "Outcomes"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=200, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "kind", "received_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="monitoring_batch_idempotent_per_caller",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rows} {self.kind} for {self.version}"


# Telemetry rows (points, trades, predictions) are written by COPY in their hundreds of thousands. Their
# foreign keys are checked by the ingest service in the same transaction (the version and batch are read or
# created there), not by the database: PostgreSQL checks a constraint row by row at commit, which measured
# 148,000 -> 45,000 rows/s. on_delete=PROTECT still guards them in the ORM, and versions are never deleted.
# The version's own index is left out: every telemetry index and unique constraint starts with the version.
TELEMETRY_VERSION = {"db_constraint": False, "db_index": False}


class MetricPoint(models.Model):
    version = models.ForeignKey(
        "models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+", **TELEMETRY_VERSION
    )
    metric = models.CharField(max_length=60)
    timestamp = models.DateTimeField()
    value = models.FloatField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+", db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["version", "metric", "timestamp"], name="monitoring_point_series")]


class Trade(models.Model):
    class Side(models.TextChoices):
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"

    version = models.ForeignKey(
        "models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+", **TELEMETRY_VERSION
    )
    trade_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    instrument = models.CharField(max_length=50)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.FloatField()
    price = models.FloatField()
    pnl = models.FloatField()
    expected_slippage = models.FloatField(null=True, blank=True)
    realised_slippage = models.FloatField(null=True, blank=True)
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "trade_id"], name="monitoring_trade_once")]
        indexes = [models.Index(fields=["version", "timestamp"], name="monitoring_trade_time")]


class FeatureSet(models.Model):
    """The features a version's predictions carry: fixed by its first batch of predictions, so a later row
    with other features (a pipeline change nobody validated) is refused."""

    version = models.OneToOneField("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    names = models.JSONField()
    fixed_at = models.DateTimeField(auto_now_add=True)


class Prediction(models.Model):
    """One prediction, and later its outcome: in trading a label exists only when the position closes, so
    performance is judged on labelled rows while drift uses every row."""

    version = models.ForeignKey(
        "models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+", **TELEMETRY_VERSION
    )
    prediction_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    features = models.JSONField()
    prediction = models.FloatField()
    score = models.FloatField(null=True, blank=True)
    outcome = models.FloatField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True, help_text="When the outcome was reported.")
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "prediction_id"], name="monitoring_prediction_once")]
        indexes = [models.Index(fields=["version", "timestamp"], name="monitoring_prediction_time")]


class MonitorCycle(models.Model):
    """One firing of a monitoring schedule, for one slot of its calendar, split into parts run as jobs.

    Unique per schedule, slot and part: a beat that fires twice for the same slot (a restart, two beats by
    mistake) finds the cycle there and starts nothing, so each monitor is evaluated once per cycle."""

    schedule = models.ForeignKey("django_celery_beat.PeriodicTask", on_delete=models.PROTECT, related_name="+")
    slot = models.DateTimeField(help_text="The schedule's tick this cycle evaluates.")
    part = models.PositiveIntegerField(default=0)
    parts = models.PositiveIntegerField(default=1)
    job = models.OneToOneField("governance.Job", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-slot", "part"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot", "part"], name="monitoring_cycle_once"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule.name} at {self.slot:%Y-%m-%d %H:%M} (part {self.part + 1} of {self.parts})"


class ReferenceWindow(models.Model):
    """The frozen sample a drift or sudden-change monitor compares against: the first rows a version
    reported (once there are enough of them), kept as they were so later backfills cannot move it."""

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    stream = models.CharField(max_length=120, help_text="What was sampled: a feature, the score, a trade stream.")
    values = models.JSONField()
    rows = models.PositiveIntegerField()
    data_from = models.DateTimeField()
    data_to = models.DateTimeField()
    source = models.CharField(max_length=60, default="first window")
    frozen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "stream"], name="monitoring_reference_once")]

    def __str__(self) -> str:
        return f"Reference of {self.stream} for {self.version} ({self.rows} rows)"


class Monitor(models.Model):
    """One check on a live version: what it measures, its warn and breach thresholds, its window, its schedule.

    Proposed when the version enters pilot (risk/monitoring/proposals.py); its thresholds change only through
    monitors.monitor_change_thresholds (the validator or compliance, with a reason, audited). `config_version`
    counts those changes; each result keeps the configuration it ran with and its hash."""

    class Kind(models.TextChoices):
        PERFORMANCE = "performance", "Performance"
        DRIFT = "drift", "Drift"
        TRADING = "trading", "Trading"
        STALENESS = "staleness", "Data staleness"
        CHANGE = "change", "Sudden change"

    class Direction(models.TextChoices):
        ABOVE = "above", "Alert above the threshold"
        BELOW = "below", "Alert below the threshold"

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="monitors")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    measure = models.CharField(max_length=40, help_text="What it measures (risk/monitoring/measures.py).")
    stream = models.CharField(max_length=120, blank=True, help_text="The feature, or the score, a drift check reads.")
    direction = models.CharField(max_length=5, choices=Direction.choices)
    warn = models.FloatField()
    breach = models.FloatField()
    window = models.PositiveIntegerField(help_text="How much recent data each evaluation reads, in the check's unit.")
    min_rows = models.PositiveIntegerField(default=1, help_text="Fewer rows than this: insufficient data.")
    params = models.JSONField(default=dict, blank=True, help_text="Baseline figures and rule parameters.")
    schedule = models.ForeignKey("django_celery_beat.PeriodicTask", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    config_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    # Its newest result, kept here by the evaluation service in the transaction that records a result
    # (evaluation.note_latest): the dashboards and the badge read a monitor's state now without a subquery per
    # monitor (issue 22: 110,000 monitors). None: never evaluated. Past days are read from the results themselves.
    latest_outcome = models.CharField(max_length=20, null=True, blank=True, editable=False)
    latest_slot = models.DateTimeField(null=True, blank=True, editable=False)
    # The tick of the first breach of the run of breaches its newest results make (None unless the newest is a
    # breach): how long it has been in breach.
    breach_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["version_id", "kind", "measure", "stream"]
        constraints = [
            models.UniqueConstraint(fields=["version", "measure", "stream"], name="monitoring_monitor_once"),
        ]
        indexes = [models.Index(fields=["schedule", "active"], name="monitoring_monitor_schedule")]

    def __str__(self) -> str:
        return f"{self.measure}{' ' + self.stream if self.stream else ''} on {self.version}"


class MonitorResult(models.Model):
    """One evaluation of a monitor: its outcome, the value, the configuration it ran with (and its hash) and
    the data it read. Unique per monitor and cycle slot, so a redelivered or repeated cycle adds nothing."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        WARN = "warn", "Warning"
        BREACH = "breach", "Breach"
        INSUFFICIENT = "insufficient", "Insufficient data"

    monitor = models.ForeignKey(Monitor, on_delete=models.PROTECT, related_name="results")
    slot = models.DateTimeField(help_text="The schedule tick this result belongs to.")
    cycle = models.ForeignKey(MonitorCycle, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    evaluated_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    value = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    config = models.JSONField()
    config_hash = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    data_from = models.DateTimeField(null=True, blank=True)
    data_to = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-slot", "-id"]
        constraints = [models.UniqueConstraint(fields=["monitor", "slot"], name="monitoring_result_once")]
        # Breaches per week (the monitoring dashboard) reads only breaches, by time: a small index of just those,
        # holding what it counts by (PostgreSQL then reads no table row: a large firm has 100,000 a quarter).
        indexes = [
            models.Index(
                fields=["slot"],
                include=["monitor", "evaluated_at"],
                condition=models.Q(outcome="breach"),
                name="monitoring_breach_slot_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor}: {self.outcome} at {self.slot:%Y-%m-%d %H:%M}"


def backfill_path(instance, filename):
    # A random name on disk: the uploader's file name is kept as data, never trusted as a path.
    import uuid

    return f"monitoring-backfills/{instance.model_id}/{uuid.uuid4().hex}"


class BackfillUpload(models.Model):
    """A CSV or Parquet file of past monitoring data for one version, stored through the ingest services as a job.

    The file is read in chunks of `chunk_rows` rows (fixed at upload, so a redelivered job cuts the same chunks);
    chunk n is stored as a batch with the idempotency key "backfill-<id>-<n>", so a job redelivered after its
    worker died carries on without storing a chunk twice. A chunk the row checks refuse stops the file there:
    the chunks before it stay stored, and `error` names the file's rows and fields."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PARQUET = "parquet", "Parquet"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=IngestBatch.Kind.choices)
    file = models.FileField(upload_to=backfill_path, max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=10, choices=Format.choices)
    chunk_rows = models.PositiveIntegerField(help_text="Rows per stored batch (VIGIL_MONITORING_MAX_BATCH at upload).")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    job = models.OneToOneField("governance.Job", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Parquet: from its metadata. CSV: counted by lines at upload, exact once read."
    )
    rows_stored = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["model", "-uploaded_at"], name="monitoring_backfill_model")]

    def __str__(self) -> str:
        return f"Backfill of {self.kind} for {self.version}: {self.original_name}"
