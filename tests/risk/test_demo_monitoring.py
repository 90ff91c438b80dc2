"""The demo's live feed: within ten minutes of starting, a newcomer sees the drifting model's monitors go from
ok to warn to breach, while the healthy models' drift monitors stay quiet."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.core import jobs
from governance.demo import monitoring_feed as feed
from risk.monitoring import cycles
from risk.monitoring.models import Monitor, MonitorResult

pytestmark = [
    pytest.mark.slow(reason="seeds the demo firm and runs ten minutes of its live feed and monitor cycles"),
]


def outcomes_by_minute(key, measure, stream):
    monitor = Monitor.objects.get(version__model__key=key, version__status="production", measure=measure, stream=stream)
    return [r.outcome for r in monitor.results.filter(cycle__isnull=False).order_by("slot")]


@pytest.mark.django_db
def test_the_demo_feed_drives_one_model_from_ok_to_warn_to_breach_within_ten_minutes(demo_firm):
    drifting = Monitor.objects.filter(version__model__key=feed.DRIFTING, version__status="production")
    assert drifting.exists() and not drifting.exclude(schedule__name=feed.DEMO_SCHEDULE).exists()
    assert MonitorResult.objects.filter(monitor__in=drifting).exists()  # six hours of history to chart
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=11)
    for minute in range(10):  # ten minutes of beat: the feed, then the cycle of the every-minute schedule
        now = start + dt.timedelta(minutes=minute, seconds=5)
        feed.feed_minute(now)
        for cycle in cycles.start_cycle(feed.DEMO_SCHEDULE, now=now + dt.timedelta(seconds=50)):
            jobs.execute(cycle.job_id)
    ks = outcomes_by_minute(feed.DRIFTING, "ks", "momentum_20d")
    assert ks[0] == "ok" and "warn" in ks and ks[-1] == "breach"
    assert ks.index("warn") < ks.index("breach")
    healthy = outcomes_by_minute("credit-default-prob", "psi", "leverage_z")
    assert healthy and "breach" not in healthy
