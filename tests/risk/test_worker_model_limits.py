"""A developer's ONNX model runs in a real worker's confined child: one that allocates without limit and one that
never ends each fail their run with the limit named, once, and the worker lives on to run the next."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.core.models import Job
from models_registry.models import Model
from risk.validation import plans, services
from risk.validation import runs as validation
from tests.base import build_world
from tests.factories import make_version
from tests.risk import onnx_models
from tests.risk.test_worker import finished, wait_for, workers  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow(reason="starts a real Celery worker and waits out a run's time limit")
# Room for onnxruntime, NumPy and SciPy (256 MiB was too tight for the good model on a fresh CI venv); the memory
# bomb asks 2.4 GB. 30 s: time enough to import onnxruntime on a loaded machine (1.7 s of CPU).
MEMORY_MB, SECONDS = 768, 30


def regressor_log(rows=60) -> bytes:
    """y_pred is the sum of the two features (what the model `onnx_models.wide(2)` predicts)."""
    spread, momentum = [round(i / rows, 4) for i in range(rows)], [round((i % 3) / 3, 4) for i in range(rows)]
    lines = "\n".join(
        f"2026-01-01T00:{i // 60:02d}:{i % 60:02d},{(i % 7) / 7:.4f},{spread[i] + momentum[i]:.4f},"
        f"{spread[i]:.4f},{momentum[i]:.4f}"
        for i in range(rows)
    )
    return f"timestamp,y_true,y_pred,spread_z,momentum_z\n{lines}\n".encode()


@pytest.mark.django_db(transaction=True)
def test_a_model_past_its_memory_or_time_limit_fails_its_run_and_the_worker_carries_on(workers, monkeypatch):  # noqa: F811
    monkeypatch.setenv("VIGIL_VALIDATION_MEMORY_MB", str(MEMORY_MB))
    monkeypatch.setenv("VIGIL_VALIDATION_TIME_LIMIT_SECONDS", str(SECONDS))
    worker = workers.start()
    world = build_world()
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="linear_regression")
    version = make_version(world.developer, world.mine, label="2.0", status="in_validation", claimed_performance={})
    # Re-performance only: the depth tests bring SciPy, more than this deliberately small budget holds, and the
    # point here is what the limits do to a model, not what a full plan costs.
    reproduce_only = [t for t in plans.TEMPLATES["regressor"]["tests"] if t["metric"] == "predictions_reproduce"]
    validation.plan_save(world.validator, version, template="regressor", tests=reproduce_only)

    def attach(name, content, kind):
        return services.evidence_add(world.developer, version, kind=kind, file=SimpleUploadedFile(name, content))

    log = attach("log.csv", regressor_log(), "dataset")

    def run_with(name, content):
        model = attach(name, content, "model_onnx")
        return wait_for(validation.run_start(world.validator, version, log, model=model), finished, seconds=120)

    # 60 rows x 10^7 floats: 2.4 GB asked of a 768 MiB budget.
    run = run_with("hungry.onnx", onnx_models.memory_bomb(10**7))
    assert run.status == "failed" and run.results == []
    assert f"ran out of its {MEMORY_MB} MiB memory limit (setting VIGIL_VALIDATION_MEMORY_MB)" in run.error
    assert Job.objects.get(pk=run.job_id).attempts == 1  # not retried: it would do it again

    run = run_with("endless.onnx", onnx_models.time_bomb())
    assert run.status == "failed" and run.results == []
    assert f"took longer than its time limit of {SECONDS} seconds (setting VIGIL_VALIDATION_TIME_LIMIT_SECONDS)" in (
        run.error
    )

    assert worker.poll() is None  # the same worker, alive, runs the next model
    run = run_with("sum.onnx", onnx_models.wide(2))
    assert run.status == "succeeded", run.error
    reproduce = next(r for r in run.results if r["metric"] == "predictions_reproduce")
    assert (reproduce["outcome"], reproduce["value"]) == ("pass", 0), reproduce
