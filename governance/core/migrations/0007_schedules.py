"""Schedule the daily revalidation sweep and the nightly audit-chain check with django-celery-beat,
so compliance can see and change them in the admin (Periodic tasks).

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_modelrisk_attestation"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
