"""Schedule the recovery of jobs whose worker was lost every 30 seconds (django-celery-beat, editable in the
admin): with the 60-second lease, a job whose worker died is taken up again within 90 seconds."""

from django.db import migrations

NAME = "Jobs: take up the jobs of lost workers"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30s, _ = Interval.objects.get_or_create(every=30, period="seconds")
    Periodic.objects.get_or_create(
        name=NAME, defaults={"task": "governance.recover_lost_jobs", "interval": every_30s, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0017_job_lease"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
