"""A real Celery worker for the worker tests, with one fault injected into the first attempt of a run.

VIGIL_TEST_FAULT=hang: the first attempt stops mid-run (the test kills the worker there);
VIGIL_TEST_FAULT=database: the first attempt loses its database connection (a transient error);
VIGIL_TEST_FAULT=monitor_hang: the first worker to have evaluated two monitors of a cycle writes its pid to the
file VIGIL_TEST_FAULT_MARKER names and stops there (the test kills it mid-cycle); every other evaluation runs.
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
from risk.monitoring.models import MonitorResult  # noqa: E402

real_evaluate = evaluation.evaluate


def evaluate_with_fault(monitor, slot, cycle=None):
    marker = os.environ.get("VIGIL_TEST_FAULT_MARKER", "")
    if os.environ.get("VIGIL_TEST_FAULT") == "monitor_hang" and marker and cycle is not None:
        if MonitorResult.objects.filter(cycle=cycle).count() >= 2:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass  # the fault struck once already: this worker evaluates normally
            else:
                os.write(fd, f"{os.getpid()} {cycle.pk}".encode())
                os.close(fd)
                time.sleep(300)
    return real_evaluate(monitor, slot, cycle)


evaluation.evaluate = evaluate_with_fault

if __name__ == "__main__":
    app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "-Q", "celery", "--without-heartbeat"])
