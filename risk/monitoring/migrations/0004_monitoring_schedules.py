"""The monitoring schedules (django-celery-beat entries compliance sees and changes on /monitoring/schedules/):
every 15 minutes (trading, staleness, sudden change), hourly (performance, drift), and daily after the close
(the live Sharpe against the backtest, drawdown). Each fires monitoring.start_cycle with its own name.

Applied before the schedules were declared in code: each is now a row of governance/core/schedules.py, created
after `migrate` when missing, so this migration does nothing (kept: databases have it applied).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_monitors"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
