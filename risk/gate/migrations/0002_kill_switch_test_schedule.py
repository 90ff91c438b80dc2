"""The periodic test of the kill functionality (RTS 6 expects it tested): the first Monday of each month at
06:00 UTC, a django-celery-beat entry compliance can change in the admin."""

from django.db import migrations

NAME = "Gate: kill-switch test"


def create(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    # Celery matches day of month and day of week together: a Monday among the first seven days.
    monthly, _ = Crontab.objects.get_or_create(
        minute="0", hour="6", day_of_week="1", day_of_month="1-7", month_of_year="*", timezone="UTC"
    )
    Periodic.objects.get_or_create(
        name=NAME, defaults={"task": "gate.kill_switch_test", "crontab": monthly, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("gate", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
