"""The monitoring schedules (django-celery-beat entries compliance sees and changes on /monitoring/schedules/):
every 15 minutes (trading, staleness, sudden change), hourly (performance, drift), and daily after the close
(the live Sharpe against the backtest, drawdown). Each fires monitoring.start_cycle with its own name."""

from django.db import migrations

from risk.monitoring import schedules


def create(apps, schema_editor):
    schedules.create_defaults(
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=schedules.NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_monitors"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
