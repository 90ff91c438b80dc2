"""Every 30 seconds, hand over the webhook deliveries that are due and in no worker's hands (a retry whose message
was lost, a broker that was down at commit, a worker that died mid-attempt).

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
