"""Every 30 seconds, hand over the webhook deliveries that are due and in no worker's hands (a retry whose message
was lost, a broker that was down at commit, a worker that died mid-attempt)."""

from django.db import migrations

NAME = "Alerts: webhook sweep"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=30, period="seconds")
    Periodic.objects.get_or_create(
        name=NAME, defaults={"task": "alerts.sweep_webhooks", "interval": every, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
