"""Every hour, remove the export files whose time is up (their records and hashes stay).

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
