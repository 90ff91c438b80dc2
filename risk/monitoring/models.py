"""What happened in production, per model version: metric points and trades, each stored once per batch.

Rows are append-only facts reported by trading systems; they are never edited. Queries read them by version,
kind and time, so each table has a composite B-tree for those reads (the series query walks it in order).
"""

from django.conf import settings
from django.db import models


class IngestBatch(models.Model):
    """One accepted batch: its idempotency key makes a batch sent twice stored once (the second answer says so)."""

    class Kind(models.TextChoices):
        POINTS = "points", "Metric points"
        TRADES = "trades", "Trades"
        PREDICTIONS = "predictions", "Predictions"
        OUTCOMES = "outcomes", "Outcomes"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=200, blank=True)
    rows = models.PositiveIntegerField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "kind", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="monitoring_batch_idempotent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rows} {self.kind} for {self.version}"


class MetricPoint(models.Model):
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=60)
    timestamp = models.DateTimeField()
    value = models.FloatField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["version", "metric", "timestamp"], name="monitoring_point_series")]


class Trade(models.Model):
    class Side(models.TextChoices):
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    trade_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    instrument = models.CharField(max_length=50)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.FloatField()
    price = models.FloatField()
    pnl = models.FloatField()
    expected_slippage = models.FloatField(null=True, blank=True)
    realised_slippage = models.FloatField(null=True, blank=True)
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+")

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

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    prediction_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    features = models.JSONField()
    prediction = models.FloatField()
    score = models.FloatField(null=True, blank=True)
    outcome = models.FloatField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True, help_text="When the outcome was reported.")
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "prediction_id"], name="monitoring_prediction_once")]
        indexes = [models.Index(fields=["version", "timestamp"], name="monitoring_prediction_time")]
