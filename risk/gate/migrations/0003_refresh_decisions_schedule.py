"""Every five minutes, record each model's gate decision when it changed because a date passed (a pilot's end, a
validation due date) without anyone asking: the revision log then shows when it changed.

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("gate", "0002_kill_switch_test_schedule")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
