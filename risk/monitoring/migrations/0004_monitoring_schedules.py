"""The monitoring schedules (django-celery-beat entries compliance sees and changes on /monitoring/schedules/):
every 15 minutes (trading, staleness, sudden change), hourly (performance, drift), and daily after the close
(the live Sharpe against the backtest, drawdown). Each fires monitoring.start_cycle with its own name."""

import json

from django.db import migrations

TASK = "monitoring.start_cycle"
FREQUENT = "Monitoring: every 15 minutes"
HOURLY = "Monitoring: hourly"
DAILY = "Monitoring: daily after the close"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    quarter, _ = Interval.objects.get_or_create(every=15, period="minutes")
    hour, _ = Interval.objects.get_or_create(every=1, period="hours")
    close, _ = Crontab.objects.get_or_create(
        minute="30", hour="21", day_of_week="1-5", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    for name, schedule in ((FREQUENT, {"interval": quarter}), (HOURLY, {"interval": hour}), (DAILY, {"crontab": close})):
        Periodic.objects.get_or_create(
            name=name, defaults={"task": TASK, "kwargs": json.dumps({"schedule": name}), "enabled": True, **schedule}
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[FREQUENT, HOURLY, DAILY]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_monitors"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
