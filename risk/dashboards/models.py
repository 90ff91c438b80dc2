from django.conf import settings
from django.db import models
from django.db.models import Q


class DashboardLayout(models.Model):
    """How a dashboard page is arranged: the widgets in the order shown and those hidden. One per person and page,
    and one per page with no person: the firm's default, which compliance sets (an audited change)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="dashboard_layouts"
    )
    page = models.CharField(max_length=20)
    order = models.JSONField(default=list, help_text="Widget keys in the order shown; others follow in theirs.")
    hidden = models.JSONField(default=list, help_text="Widget keys not shown.")
    updated_at = models.DateTimeField(auto_now=True)

    AUDIT_TYPE = "dashboards.layout"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "page"], name="dashboard_layout_per_person"),
            models.UniqueConstraint(fields=["page"], condition=Q(user__isnull=True), name="dashboard_layout_firm"),
        ]

    def __str__(self) -> str:
        return f"{self.page} dashboard layout of {self.user or 'the firm'}"


class IndicatorSnapshot(models.Model):
    """A key risk indicator's value on a day, for the firm ("" scope) or one desk (its code), with the thresholds
    and the policy version it was judged under: trends read these, not the live tables."""

    day = models.DateField()
    scope = models.CharField(max_length=40, blank=True, help_text="A desk's code; empty for the whole firm.")
    indicator = models.CharField(max_length=60)
    value = models.IntegerField()
    status = models.CharField(max_length=10)
    amber = models.IntegerField()
    red = models.IntegerField()
    policy_version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "scope", "indicator"], name="indicator_snapshot_once_a_day")
        ]
        indexes = [models.Index(fields=["scope", "indicator", "day"], name="indicator_snapshot_trend_idx")]

    def __str__(self) -> str:
        return f"{self.indicator} {self.scope or 'firm'} {self.day}: {self.value}"
