"""Schedule the outbox sweep every minute (django-celery-beat, editable in the admin): events that a lost
worker or a broker that was down at commit left pending are delivered then."""

from django.db import migrations

NAME = "Deliver pending events (outbox sweep)"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Periodic.objects.get_or_create(
        name=NAME, defaults={"task": "governance.deliver_pending_events", "interval": every_minute, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0009_event_job"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
