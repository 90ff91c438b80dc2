"""The daily snapshot of the key risk indicators (a job on the backbone's beat): each indicator's value for the whole
firm and for each desk, judged against the policy in force that day, so a year of trend reads a few thousand rows
instead of the live tables; and a change of an indicator's firm-wide status is an alert to compliance.

Today's values are live; a past day's are rebuilt from the audit trail (the widgets read their records as they stood
at the end of that day, governance/core/history.py), so a day the job missed is filled with what it would have
recorded, and recording a day again gives the same values.
"""

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.core import history, indicators
from governance.core.access import FIRM_WIDE
from governance.core.models import AuditEvent, Desk
from governance.core.policy import policy_at
from governance.core.widgets import Filters
from risk.alerts import services as alerts
from risk.alerts.models import Kind, Severity
from risk.dashboards.models import IndicatorSnapshot

FIRM = ""
SEVERITY = {indicators.RED: Severity.HIGH, indicators.AMBER: Severity.MEDIUM, indicators.GREEN: Severity.LOW}


# How far back the daily run fills missing days, and how many it rebuilds in one run (newest first, so the recent
# trend comes back first after an outage; the rest on the following mornings).
FILL_WINDOW_DAYS = 366
FILL_PER_RUN = 60


def record(day=None, *, alert: bool = True) -> int:
    """Record today's (or `day`'s) value of every indicator for the firm and each desk: live for today, rebuilt as
    the day ended for a past day. Idempotent for a day (a second run replaces its rows). A change of firm-wide status
    against the day before is an alert to compliance, when `alert`. Returns the number of rows written."""
    with history.remembering():  # the objects changed since that day, read once for every indicator and desk
        return _record(day, alert)


def _record(day, alert: bool) -> int:
    day = day or timezone.now().date()
    past = day < timezone.now().date()
    policy = policy_at(history.end_of(day) if past else None)
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
                if scope == FIRM and alert:
                    _alert_on_change(indicator, day, value, status, amber, red, policy.version)
            written += 1
    return written


def missing_days(today: dt.date | None = None) -> list[dt.date]:
    """Past days of the fill window, from the audit trail's first day, with no firm-wide row of some indicator:
    newest first, at most FILL_PER_RUN."""
    today = today or timezone.now().date()
    first = AuditEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
    if first is None:
        return []
    start = max(first.date(), today - dt.timedelta(days=FILL_WINDOW_DAYS))
    keys = {i.key for i in indicators.all_indicators()}
    held: dict[dt.date, set] = {}
    for day, key in IndicatorSnapshot.objects.filter(scope=FIRM, day__gte=start, day__lt=today).values_list(
        "day", "indicator"
    ):
        held.setdefault(day, set()).add(key)
    days = [start + dt.timedelta(days=n) for n in range((today - start).days)]
    return [day for day in reversed(days) if not keys <= held.get(day, set())][:FILL_PER_RUN]


def record_daily() -> dict:
    """The morning run: yesterday as it ended (its final values, replacing what was recorded while it ran), every
    missing day of the window rebuilt, then today so far (live, alerting on a change of status)."""
    today = timezone.now().date()
    yesterday = today - dt.timedelta(days=1)
    filled = [day for day in missing_days(today) if day != yesterday]
    written = (
        record(yesterday, alert=False)
        if AuditEvent.objects.filter(timestamp__lt=history.end_of(yesterday)).exists()
        else 0
    )
    for day in filled:
        written += record(day, alert=False)
    written += record(today)
    return {"rows": written, "filled": len(filled)}


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
