"""The model, run by Vigil: a version's ONNX file re-performs its prediction log row by row ("predictions reproduce"),
in the run's confined child process; a run without one says the test was skipped and why; a file that does not load,
does not match the log or uses an operator the runtime lacks fails that test with the reason while the rest of the
run completes; and the version's signature pins the file."""

import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.core.models import Signature
from governance.core.signatures import verify
from governance.lifecycle import workflow
from models_registry.models import Model, ModelVersion
from risk.validation import model_runtime, plans, services
from risk.validation import runs as validation
from risk.validation.models import Evidence, ValidationPlan, ValidationRun
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import attach as attach_report
from tests.governance.lifecycle_helpers import new_draft, signoff_for
from tests.risk import onnx_models

ROWS = 100_000


def _version(world, validating, model_type):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type=model_type)
    version = ModelVersion.objects.get(pk=validating.pk)
    version.model.refresh_from_db()
    validation.plan_save(world.validator, version)
    return version


@pytest.fixture
def classifier(world, validating):
    return _version(world, validating, "random_forest")


@pytest.fixture
def regressor(world, validating):
    return _version(world, validating, "linear_regression")


def attach(world, version, name, content, kind="dataset"):
    return services.evidence_add(world.developer, version, file=SimpleUploadedFile(name, content), kind=kind)


def run(world, version, log, capture, **inputs):
    with capture(execute=True):
        started = validation.run_start(world.validator, version, log, **inputs)
    started.refresh_from_db()
    assert started.status == "succeeded", started.error
    return started, {r["metric"]: r for r in started.results}


@pytest.fixture(scope="module")
def forest_log():
    """100,000 rows scored by a scikit-learn forest (the reference), and the forest converted to ONNX."""
    rng = np.random.default_rng(23)
    features = rng.normal(size=(ROWS, 3))
    y_true = (features[:, 0] + 0.5 * features[:, 1] + rng.normal(size=ROWS) > 0).astype(np.int64)
    model, content = onnx_models.forest(features[:2000], y_true[:2000])
    as_fed = features.astype(np.float32)  # what the ONNX input takes (scikit-learn's trees also split in float32)
    columns = {
        "timestamp": onnx_models.stamps(ROWS),
        "y_true": y_true,
        "y_pred": model.predict(as_fed).astype(np.int64),
        "y_score": model.predict_proba(as_fed)[:, 1],
        "spread_z": features[:, 0],
        "momentum_z": features[:, 1],
        "carry_z": features[:, 2],
    }
    return columns, content


@pytest.mark.django_db
@pytest.mark.slow(reason="two runs of 100,000 rows, each predicted by the model in full")
def test_re_performance_catches_one_changed_prediction_among_100000_rows(
    world, classifier, forest_log, django_capture_on_commit_callbacks
):
    columns, content = forest_log
    model = attach(world, classifier, "forest.onnx", content, kind="model_onnx")
    assert model.content_type == "application/onnx"
    log = attach(world, classifier, "log.parquet", onnx_models.parquet(columns))
    done, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model)
    reproduce = rows["predictions_reproduce"]
    assert (reproduce["value"], reproduce["outcome"]) == (0, "pass")
    assert "all 100,000 rows reproduce (compared y_pred exactly and y_score within 1e-05)" in reproduce["reason"]
    assert {"role": "model", "sha256": model.sha256, "rows": ROWS}.items() <= done.fingerprints[-1].items()
    assert done.fingerprints[-1]["columns"] == ["spread_z", "momentum_z", "carry_z"]  # the non-role columns, in order

    changed = dict(columns, y_pred=columns["y_pred"].copy())
    changed["y_pred"][76_543] = 1 - changed["y_pred"][76_543]
    log = attach(world, classifier, "log-edited.parquet", onnx_models.parquet(changed))
    _, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model)
    reproduce = rows["predictions_reproduce"]
    assert (reproduce["value"], reproduce["outcome"]) == (1, "fail")
    was, now = changed["y_pred"][76_543], columns["y_pred"][76_543]
    assert "1 of 100,000 rows differ" in reproduce["reason"]
    assert f"row 76545: y_pred {was} logged, {now} re-run" in reproduce["reason"]  # the file's line: header is 1
    assert rows["accuracy"]["value"] is not None  # the rest of the run is graded as before


@pytest.mark.django_db
def test_a_regressor_fed_by_input_names_is_held_to_the_plans_tolerance(
    world, regressor, django_capture_on_commit_callbacks
):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=500), rng.normal(size=500)
    rerun = (a.astype(np.float32) * 0.5 + b.astype(np.float32) * -2.0 + 0.1).astype(np.float64)
    logged = rerun.copy()
    logged[[7, 300]] += [2e-6, 3e-4]  # the first within 1e-5, the second beyond it
    log = onnx_models.parquet(
        {"timestamp": onnx_models.stamps(500), "y_true": rerun + rng.normal(size=500), "y_pred": logged, "b": b, "a": a}
    )
    model = attach(
        world, regressor, "linear.onnx", onnx_models.linear_by_name(["a", "b"], [0.5, -2.0], 0.1), "model_onnx"
    )
    done, rows = run(
        world, regressor, attach(world, regressor, "log.parquet", log), django_capture_on_commit_callbacks, model=model
    )
    reproduce = rows["predictions_reproduce"]
    assert (reproduce["value"], reproduce["outcome"]) == (1, "fail")
    assert "1 of 500 rows differ (0.2000%; compared y_pred within 1e-05): row 302: y_pred" in reproduce["reason"]
    assert done.fingerprints[-1]["columns"] == ["a", "b"]  # by the model's input names, not the file's order

    plan = ValidationPlan.objects.get(version=regressor)
    validation.plan_save(world.validator, regressor, options={**plan.options, "prediction_tolerance": 1e-3})
    _, rows = run(world, regressor, done.dataset, django_capture_on_commit_callbacks, model=model)
    assert (rows["predictions_reproduce"]["value"], rows["predictions_reproduce"]["outcome"]) == (0, "pass")


@pytest.mark.parametrize("zipmap", [False, True])
def test_a_tree_ensembles_batch_runs_in_parts_of_alike_rows_and_every_prediction_comes_back_to_its_row(
    monkeypatch, zipmap
):
    rng = np.random.default_rng(31)
    features = rng.normal(size=(20_000, 3))
    labels = (features[:, 2] - 0.3 * features[:, 0] + rng.normal(scale=0.5, size=20_000) > 0).astype(np.int64)
    _, content = onnx_models.forest(features[:2000], labels[:2000], zipmap=zipmap)
    monkeypatch.setattr(model_runtime, "THREADS", 2)
    model = model_runtime.load(content, "forest.onnx")
    assert model.threads == 2 and model.splits[0] == 2  # feature 2 routes the most rows
    feed = model.feed_for(["a", "b", "c"], None, set(), "log.parquet")
    columns = dict(zip(feed.features, features.T, strict=True))
    order = model._order(feed, model._fed(feed, columns, 0, 20_000))
    assert sorted(order) == list(range(20_000)) and (order != np.arange(20_000)).any()

    got = model.predict(feed, columns, "classifier", 20_000)
    one_call = model_runtime.Model(model.session, "forest.onnx").predict(feed, columns, "classifier", 20_000)
    assert np.array_equal(got.y_pred, one_call.y_pred) and np.array_equal(got.y_score, one_call.y_score)
    assert got.y_pred.mean() not in (0.0, 1.0)  # both classes predicted: the comparison can tell rows apart


def small_log(rows=200, features=("spread_z", "momentum_z")):
    rng = np.random.default_rng(9)
    y_true = rng.integers(0, 2, rows)
    score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, rows), 0, 1)
    columns = {"timestamp": onnx_models.stamps(rows), "y_true": y_true, "y_pred": (score > 0.5).astype(int)}
    columns["y_score"] = score
    columns |= {name: rng.normal(size=rows) for name in features}
    return onnx_models.parquet(columns)


@pytest.mark.django_db
def test_without_an_onnx_file_the_test_is_skipped_saying_so(world, classifier, django_capture_on_commit_callbacks):
    _, rows = run(
        world, classifier, attach(world, classifier, "log.parquet", small_log()), django_capture_on_commit_callbacks
    )
    assert rows["predictions_reproduce"]["outcome"] == "skipped"
    assert rows["predictions_reproduce"]["reason"] == "the model could not be run: no ONNX file was chosen for this run"


BAD_MODELS = {
    "does not load": (onnx_models.protobuf_garbage(), "bad.onnx does not load as an ONNX model"),
    "wrong input names": (
        onnx_models.linear_by_name(["spread", "momentum"], [1, 1]),
        "its inputs spread, momentum are not columns of log.parquet",
    ),
    "wrong width": (
        onnx_models.wide(3),
        "its input features takes 3 features a row; log.parquet has 2 feature columns (spread_z, momentum_z)",
    ),
    "unknown operator": (
        onnx_models.unknown_operator(),
        "bad.onnx uses an operator onnxruntime 1.32.0 lacks: PredictTheFuture",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("problem", list(BAD_MODELS))
def test_a_model_that_cannot_run_fails_its_test_with_the_reason_and_the_run_completes(
    problem, world, classifier, django_capture_on_commit_callbacks
):
    content, reason = BAD_MODELS[problem]
    model = attach(world, classifier, "bad.onnx", content, kind="model_onnx")
    done, rows = run(
        world,
        classifier,
        attach(world, classifier, "log.parquet", small_log()),
        django_capture_on_commit_callbacks,
        model=model,
    )
    reproduce = rows["predictions_reproduce"]
    assert (reproduce["outcome"], reproduce["value"]) == ("fail", None)
    assert reproduce["reason"].startswith("the model could not be run: ") and reason in reproduce["reason"]
    assert rows["accuracy"]["outcome"] in ("pass", "warn", "fail") and done.report_id  # the rest is graded
    assert done.fingerprints[-1]["sha256"] == model.sha256


@pytest.mark.django_db
def test_an_onnx_file_is_a_model_and_a_model_is_an_onnx_file(world, api, classifier):
    def upload(name, content, kind):
        return api.as_user(world.developer).post(
            "/api/v1/models/mine/versions/2.0/evidence/",
            {"file": SimpleUploadedFile(name, content), "kind": kind, "description": ""},
            format="multipart",
        )

    response = upload("model.onnx", b"\x80\x04\x95 a pickle, renamed", "model_onnx")
    assert response.status_code == 400 and "not a valid ONNX file" in response.json()["file"][0]
    response = upload("model.csv", b"a,b\n1,2\n", "model_onnx")
    assert response.status_code == 400 and "must be an ONNX file" in response.json()["kind"][0]
    response = upload("model.onnx", onnx_models.wide(2), "dataset")
    assert response.status_code == 400 and "Model (ONNX)" in response.json()["kind"][0]
    response = upload("shap.onnx", onnx_models.wide(2), "attributions")
    assert response.status_code == 400
    assert upload("model.onnx", onnx_models.wide(2), "model_onnx").status_code == 201
    assert upload("shap.csv", b"spread_z,momentum_z\n0.1,0.2\n", "attributions").status_code == 201
    assert not Evidence.objects.filter(version=classifier, original_name="model.csv").exists()


@pytest.mark.django_db
def test_a_run_names_its_model_and_attributions_in_the_api_and_the_audit_trail(
    world, api, classifier, django_capture_on_commit_callbacks
):
    from governance.core.models import AuditEvent

    log = attach(world, classifier, "log.parquet", small_log())
    model = attach(world, classifier, "wide.onnx", onnx_models.wide(2), kind="model_onnx")
    shap = attach(world, classifier, "shap.csv", b"spread_z,momentum_z\n0.1,0.2\n0.3,0.4\n", kind="attributions")
    client = api.as_user(world.validator)
    url = "/api/v1/models/mine/versions/2.0/validation-runs/"
    response = client.post(url, {"dataset": log.pk, "model_onnx": log.pk}, format="json")
    assert response.status_code == 400 and "model_onnx" in response.json()["model_onnx"][0]
    response = client.post(url, {"dataset": log.pk, "attributions": model.pk}, format="json")
    assert response.status_code == 400 and "attributions" in response.json()["attributions"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"dataset": log.pk, "model_onnx": model.pk, "attributions": shap.pk}, format="json")
    assert response.status_code == 202 and (response.json()["model_onnx"], response.json()["attributions"]) == (
        model.pk,
        shap.pk,
    )
    done = client.get(f"/api/v1/validation-runs/{response.json()['id']}/").json()
    prints = {f["role"]: f for f in done["fingerprints"]}
    assert prints["model"]["sha256"] == model.sha256
    assert (prints["attributions"]["sha256"], prints["attributions"]["rows"]) == (shap.sha256, 2)
    inputs = AuditEvent.objects.filter(action="validation_run.start").latest("id").changes["inputs"][1]
    assert inputs == {"log.parquet": log.sha256, "wide.onnx": model.sha256, "shap.csv": shap.sha256}


@pytest.mark.django_db
def test_a_plan_that_tests_returns_only_takes_no_model(world, validating):
    Model.objects.filter(pk=world.mine.pk).update(purpose="alpha", model_type="rule_based")
    version = ModelVersion.objects.get(pk=validating.pk)
    validation.plan_save(world.validator, version)
    backtest = attach(
        world, version, "bt.csv", b"timestamp,return\n2026-01-01,0.01\n2026-01-02,0.02\n", kind="backtest"
    )
    model = attach(world, version, "m.onnx", onnx_models.wide(2), kind="model_onnx")
    with pytest.raises(Exception) as refused:
        validation.run_start(world.validator, version, backtest, model=model)
    assert "no predictions to run a model" in str(refused.value)


@pytest.mark.django_db
def test_a_plan_saved_before_re_performance_existed_still_runs(world, classifier, django_capture_on_commit_callbacks):
    plan = ValidationPlan.objects.get(version=classifier)
    old_options = {k: v for k, v in plan.options.items() if k not in ("prediction_tolerance", "score_tolerance")}
    old_tests = [t for t in plan.tests if t["metric"] != "predictions_reproduce"]
    ValidationPlan.objects.filter(pk=plan.pk).update(tests=old_tests, options=old_options)
    model = attach(world, classifier, "wide.onnx", onnx_models.wide(2), kind="model_onnx")
    _, rows = run(
        world,
        classifier,
        attach(world, classifier, "log.parquet", small_log()),
        django_capture_on_commit_callbacks,
        model=model,
    )
    assert "predictions_reproduce" not in rows and rows["accuracy"]["outcome"] in ("pass", "warn", "fail")
    assert {t["metric"] for t in plans.proposed_plan(classifier.model)["tests"]} >= {"predictions_reproduce"}


@pytest.mark.django_db
def test_the_validation_signature_pins_the_onnx_file(world):
    version = new_draft(world)
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    model = attach(world, version, "model.onnx", onnx_models.wide(2), kind="model_onnx")
    report = attach_report(world.validator, version, "validation_report")
    workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report), comment="Sound."
    )
    signature = Signature.objects.get(object_id=str(version.pk), meaning="validated")
    assert [model.pk, model.sha256] in signature.payload["evidence"]
    assert verify(signature)[0]
    Evidence.objects.filter(pk=model.pk).update(sha256="0" * 64)  # another file put in its place
    assert verify(signature) == (False, "the signed record or its evidence changed after signing")


def _beside(page: str, field: str) -> tuple[str, str]:
    """The select of a run form's field and the error list it points at (aria-describedby)."""
    select = re.search(rf'<select name="{field}"[^>]*>', page).group(0)
    errors = re.search(rf'<ul class="errorlist" id="id_run_{field}_error">(.*?)</ul>', page, re.S)
    return select, errors.group(1) if errors else ""


@pytest.mark.django_db
def test_the_validator_chooses_the_attributions_on_the_run_form_and_the_run_page_names_them(
    world, browser_client, classifier
):
    log = attach(world, classifier, "log.parquet", small_log())
    model = attach(world, classifier, "wide.onnx", onnx_models.wide(2), kind="model_onnx")
    shap = attach(world, classifier, "shap.csv", b"spread_z,momentum_z,base_value\n0.1,0.2,0.5\n", kind="attributions")
    client = browser_client.as_user(world.validator)
    page = client.get("/models/mine/versions/2.0/").content.decode()
    form = re.search(r'data-testid="run-form">(.*?)</form>', page, re.S).group(1)
    attributions = re.search(r'<select name="attributions".*?</select>', form, re.S).group(0)
    assert f'<option value="{shap.pk}">shap.csv</option>' in attributions
    assert f'value="{model.pk}"' not in attributions and f'value="{log.pk}"' not in attributions  # its kind only
    assert f'<option value="{model.pk}">wide.onnx</option>' in form

    response = client.post(
        "/models/mine/versions/2.0/validation-runs/", {"dataset": log.pk, "model": model.pk, "attributions": shap.pk}
    )
    run = ValidationRun.objects.get()
    assert response["Location"] == f"/validation-runs/{run.pk}/" and (run.model, run.attributions) == (model, shap)
    page = client.get(f"/validation-runs/{run.pk}/").content.decode()
    assert f"<dt>Feature attributions</dt><dd>shap.csv <code>{shap.sha256}</code></dd>" in page


@pytest.mark.django_db
def test_attributions_of_another_version_or_of_the_wrong_kind_are_an_error_beside_the_field(
    world, browser_client, classifier
):
    log = attach(world, classifier, "log.parquet", small_log())
    model = attach(world, classifier, "wide.onnx", onnx_models.wide(2), kind="model_onnx")
    attach(world, classifier, "shap.csv", b"spread_z,momentum_z,base_value\n0.1,0.2,0.5\n", kind="attributions")
    theirs = services.evidence_add(
        world.developer2,
        world.theirs_v1,
        file=SimpleUploadedFile("their-shap.csv", b"a,base_value\n0.1,0.2\n"),
        kind="attributions",
    )
    client = browser_client.as_user(world.validator)
    for wrong in (theirs, model):  # another version's attributions; this version's model, not attributions
        response = client.post(
            "/models/mine/versions/2.0/validation-runs/",
            {"dataset": log.pk, "model": model.pk, "attributions": wrong.pk},
        )
        assert response.status_code == 400
        page = response.content.decode()
        select, errors = _beside(page, "attributions")
        assert 'aria-invalid="true"' in select and 'aria-describedby="id_run_attributions_error"' in select
        assert "Choose a file of kind attributions attached to this version." in errors
        model_select, model_errors = _beside(page, "model")
        assert "aria-invalid" not in model_select and model_errors == ""
        assert re.search(rf'<option value="{model.pk}" selected>wide.onnx</option>', page)  # kept as chosen
        assert "their-shap.csv" not in page  # never offered, nor named
    assert not ValidationRun.objects.exists()


@pytest.mark.django_db
def test_a_returns_only_plan_refuses_a_model_beside_the_field(world, browser_client, validating):
    Model.objects.filter(pk=world.mine.pk).update(purpose="alpha", model_type="rule_based")
    version = ModelVersion.objects.get(pk=validating.pk)
    validation.plan_save(world.validator, version)
    backtest = attach(world, version, "bt.csv", b"timestamp,return\n2026-01-01,0.01\n2026-01-02,0.02\n", "backtest")
    model = attach(world, version, "m.onnx", onnx_models.wide(2), kind="model_onnx")
    client = browser_client.as_user(world.validator)
    page = client.get("/models/mine/versions/2.0/").content.decode()
    assert '<select name="model"' not in page and '<select name="attributions"' not in page  # nothing to explain
    response = client.post("/models/mine/versions/2.0/validation-runs/", {"dataset": backtest.pk, "model": model.pk})
    assert response.status_code == 400
    select, errors = _beside(response.content.decode(), "model")
    assert 'aria-invalid="true"' in select and "no predictions to run a model" in errors
    assert not ValidationRun.objects.exists()
