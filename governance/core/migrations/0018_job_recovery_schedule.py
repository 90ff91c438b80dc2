"""Schedule the recovery of jobs whose worker was lost every 30 seconds (django-celery-beat, editable in the
admin): with the 60-second lease, a job whose worker died is taken up again within 90 seconds.

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0017_job_lease"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
