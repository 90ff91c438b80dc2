"""Schedule the daily revalidation sweep and the nightly audit-chain check with django-celery-beat,
so compliance can see and change them in the admin (Periodic tasks)."""

from django.db import migrations

SCHEDULES = [
    ("Daily revalidation sweep", "governance.daily_revalidation_sweep", "5"),
    ("Nightly audit chain verification", "governance.verify_audit_chain", "2"),
]


def create(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, hour in SCHEDULES:
        crontab, _ = Crontab.objects.get_or_create(minute="0", hour=hour, day_of_week="*", day_of_month="*",
                                                   month_of_year="*", timezone="UTC")
        Periodic.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_modelrisk_attestation"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
