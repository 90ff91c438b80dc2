"""Vigil's periodic jobs are declared once (governance/core/schedules.py) and synced into django-celery-beat
after migrate: each declared schedule exists once, a second sync changes nothing, a missing one is created, and
what operators change (timing, enabled) is kept while what runs is the code's."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from governance.core import schedules

pytestmark = pytest.mark.django_db


def beat_rows():
    tasks = PeriodicTask.objects.order_by("name").values(
        "name", "task", "kwargs", "description", "enabled", "interval_id", "crontab_id"
    )
    return (
        list(tasks),
        list(IntervalSchedule.objects.order_by("pk").values()),
        list(CrontabSchedule.objects.order_by("pk").values_list("pk", "minute", "hour", "day_of_week")),
    )


def test_after_migrate_each_declared_schedule_exists_once_as_declared():
    for declared in schedules.SCHEDULES:
        rows = list(PeriodicTask.objects.filter(task=declared.task, kwargs=declared.kwargs_json()))
        assert [r.name for r in rows] == [declared.name]
        row = rows[0]
        assert row.enabled and row.description == declared.why
        if declared.every:
            assert (row.interval.every, row.interval.period) == declared.every and row.crontab is None
        else:
            cron = row.crontab
            fields = (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week)
            assert " ".join(fields) == declared.cron and str(cron.timezone) == "UTC" and row.interval is None


@pytest.mark.slow(reason="runs migrate, whose post_migrate syncs the schedules once more")
def test_syncing_again_changes_nothing():
    before = beat_rows()
    assert schedules.sync() == {"created": [], "updated": []}
    call_command("migrate", verbosity=0)  # post_migrate syncs once more
    assert beat_rows() == before


def test_a_declared_schedule_that_is_missing_is_created():
    PeriodicTask.objects.filter(name="Gate: kill-switch test").delete()
    assert schedules.sync() == {"created": ["Gate: kill-switch test"], "updated": []}
    row = PeriodicTask.objects.get(name="Gate: kill-switch test")
    assert row.task == "gate.kill_switch_test" and row.crontab.day_of_month == "1-7"


def test_operators_keep_timing_and_enabled_while_the_code_keeps_what_runs():
    hourly = IntervalSchedule.objects.get_or_create(every=2, period="hours")[0]
    PeriodicTask.objects.filter(name="Exports: remove expired files").update(
        enabled=False, interval=hourly, task="exports.something_else"
    )
    assert schedules.sync() == {"created": [], "updated": ["Exports: remove expired files"]}
    row = PeriodicTask.objects.get(name="Exports: remove expired files")
    assert (row.task, row.enabled, row.interval_id) == ("exports.purge_expired", False, hourly.pk)
