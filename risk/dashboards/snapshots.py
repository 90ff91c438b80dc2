"""The daily snapshot of the key risk indicators (a job on the backbone's beat): each indicator's value for the whole
firm and for each desk, judged against the policy in force, so a year of trend reads a few thousand rows instead of
the live tables; and a change of an indicator's firm-wide status is an alert to compliance."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.core import indicators
from governance.core.access import FIRM_WIDE
from governance.core.models import Desk
from governance.core.policy import policy_in_force
from governance.core.widgets import Filters
from risk.alerts import services as alerts
from risk.alerts.models import Kind, Severity
from risk.dashboards.models import IndicatorSnapshot

FIRM = ""
SEVERITY = {indicators.RED: Severity.HIGH, indicators.AMBER: Severity.MEDIUM, indicators.GREEN: Severity.LOW}


def record(day=None) -> int:
    """Record today's (or `day`'s) value of every indicator for the firm and each desk; idempotent for a day (a
    second run replaces the day's rows with what is true now). Returns the number of rows written."""
    day = day or timezone.now().date()
    policy = policy_in_force()
    scopes = [FIRM, *Desk.objects.order_by("code").values_list("code", flat=True)]
    written = 0
    for indicator in indicators.all_indicators():
        amber, red, _source = indicators.thresholds(policy, indicator)
        for scope in scopes:
            value = indicator.value(FIRM_WIDE, Filters(as_of=day, desk=scope))
            status = indicators.status(value, amber, red)
            with transaction.atomic():
                IndicatorSnapshot.objects.update_or_create(
                    day=day,
                    scope=scope,
                    indicator=indicator.key,
                    defaults={
                        "value": value,
                        "status": status,
                        "amber": amber,
                        "red": red,
                        "policy_version": policy.version,
                    },
                )
                if scope == FIRM:
                    _alert_on_change(indicator, day, value, status, amber, red, policy.version)
            written += 1
    return written


def _alert_on_change(indicator, day, value, status, amber, red, policy_version) -> None:
    before = IndicatorSnapshot.objects.filter(scope=FIRM, indicator=indicator.key, day__lt=day).order_by("-day").first()
    if before is None or before.status == status:
        return
    was, now = indicators.STATUS_WORDS[before.status], indicators.STATUS_WORDS[status]
    transaction.on_commit(
        lambda: alerts.record(
            f"kri:{indicator.key}:{day.isoformat()}:{status}",
            kind=Kind.RISK_INDICATOR,
            severity=SEVERITY[status],
            title=f"{indicator.label}: {was} to {now} ({value:,})",
            message=(
                f"{indicator.label} stood at {value:,} on {day.isoformat()} (it was {before.value:,} on "
                f"{before.day.isoformat()}); {indicators.rule_text(amber, red)}, under policy v{policy_version}."
            ),
            url=reverse("dashboards:page", args=["overview"]) + "#risk-indicators",
        )
    )
