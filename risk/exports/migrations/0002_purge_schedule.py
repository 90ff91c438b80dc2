"""Every hour, remove the export files whose time is up (their records and hashes stay)."""

from django.db import migrations

NAME = "Exports: remove expired files"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=1, period="hours")
    Periodic.objects.get_or_create(name=NAME, defaults={"task": "exports.purge_expired", "interval": every, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
