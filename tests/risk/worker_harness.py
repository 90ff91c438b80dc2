"""A real Celery worker for the worker tests, with one fault injected into the first attempt of a run.

VIGIL_TEST_FAULT=hang: the first attempt stops mid-run (the test kills the worker there);
VIGIL_TEST_FAULT=database: the first attempt loses its database connection (a transient error);
VIGIL_TEST_FAULT=monitor_hang: the first worker about to measure a cycle's second version (the first one recorded)
writes its pid to the file VIGIL_TEST_FAULT_MARKER names and stops there (the test kills it mid-cycle); every
other measurement runs;
VIGIL_TEST_FAULT=webhook_hang: the first webhook attempt stops after its claim, before it posts (the test kills
the worker there).
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.test_settings")
django.setup()

from django.db import OperationalError  # noqa: E402

from risk.validation import engine  # noqa: E402
from risk.validation.models import ValidationRun  # noqa: E402
from vigil.celery import app  # noqa: E402

real_compute = engine.compute


def compute_with_fault(run, on_progress=lambda p: None):
    first_attempt = ValidationRun.objects.filter(pk=run.pk).values_list("attempts", flat=True).get() == 1
    fault = os.environ.get("VIGIL_TEST_FAULT")
    if first_attempt and fault == "hang":
        on_progress(30)
        time.sleep(300)
    if first_attempt and fault == "database":
        raise OperationalError("server closed the connection unexpectedly")
    return real_compute(run, on_progress)


engine.compute = compute_with_fault

from risk.monitoring import evaluation  # noqa: E402
from risk.monitoring.models import MonitorCycle, MonitorResult  # noqa: E402

real_measure = evaluation.measure


def measure_with_fault(monitor, slot, data=None):
    marker = os.environ.get("VIGIL_TEST_FAULT_MARKER", "")
    if os.environ.get("VIGIL_TEST_FAULT") == "monitor_hang" and marker:
        # Once one version of the cycle is recorded, stop before measuring the next one.
        if MonitorResult.objects.filter(slot=slot, cycle__isnull=False).exists():
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass  # the fault struck once already: this worker measures normally
            else:
                cycle = MonitorCycle.objects.filter(slot=slot).values_list("pk", flat=True).first()
                os.write(fd, f"{os.getpid()} {cycle}".encode())
                os.close(fd)
                time.sleep(300)
    return real_measure(monitor, slot, data)


evaluation.measure = measure_with_fault

from risk.alerts import webhooks  # noqa: E402

real_post = webhooks.post


def post_with_fault(delivery, number, content):
    if os.environ.get("VIGIL_TEST_FAULT") == "webhook_hang" and number == 1:
        time.sleep(300)
    return real_post(delivery, number, content)


webhooks.post = post_with_fault

if __name__ == "__main__":
    # Both queues by default, as `make run`'s workers; VIGIL_TEST_QUEUES names one (a delivery worker alone).
    queues = os.environ.get("VIGIL_TEST_QUEUES") or f"celery,{webhooks.QUEUE}"
    app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "-Q", queues, "--without-heartbeat"])
