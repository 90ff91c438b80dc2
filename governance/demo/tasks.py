"""The demo's beat job: one minute of synthetic live data for its production models (see monitoring_feed)."""

from celery import shared_task

from governance.demo import monitoring_feed


@shared_task(name="demo.feed_monitoring", acks_late=True)
def feed_monitoring():
    return monitoring_feed.feed_minute()
