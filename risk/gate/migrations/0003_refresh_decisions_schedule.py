"""Every five minutes, record each model's gate decision when it changed because a date passed (a pilot's end, a
validation due date) without anyone asking: the revision log then shows when it changed."""

from django.db import migrations

NAME = "Gate: refresh decisions"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=5, period="minutes")
    Periodic.objects.get_or_create(
        name=NAME, defaults={"task": "gate.refresh_decisions", "interval": every, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("gate", "0002_kill_switch_test_schedule")]
    operations = [migrations.RunPython(create, remove)]
