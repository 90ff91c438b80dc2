"""The validator's plan editor page: retune, drop, set options; errors re-render and change nothing."""

import pytest

from models_registry.models import Model
from risk.validation import runs as validation
from risk.validation.models import ValidationPlan

URL = "/models/mine/versions/2.0/validation-plan/edit/"


def form_data(plan, drop=(), retune=None, **options):
    data = {"tests-TOTAL_FORMS": str(len(plan.tests)), "tests-INITIAL_FORMS": str(len(plan.tests))}
    for i, test in enumerate(plan.tests):
        data.update(
            {
                f"tests-{i}-test": test["test"],
                f"tests-{i}-metric": test["metric"],
                f"tests-{i}-higher_is_better": "true" if test["higher_is_better"] else "false",
                f"tests-{i}-pass_at": str((retune or {}).get(test["metric"], (test["pass"], test["fail"]))[0]),
                f"tests-{i}-fail_at": str((retune or {}).get(test["metric"], (test["pass"], test["fail"]))[1]),
            }
        )
        if test["metric"] not in drop:
            data[f"tests-{i}-keep"] = "on"
    defaults = {
        "split_date": "",
        "trials": "",
        "trials_sharpe_variance": "",
        "pbo_blocks": "16",
        "regime_window": "21",
        "features": "",
        "tolerance": "0.001",
        "periods_per_year": "252",
        "risk_free": "0",
    }
    return {**data, **defaults, **options}


@pytest.fixture
def plan(world, validating):
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=2)
    world.mine.refresh_from_db()
    return validation.plan_save(world.validator, validating)


@pytest.mark.django_db
def test_the_validator_retunes_drops_and_sets_options(world, validating, browser_client, plan):
    client = browser_client.as_user(world.validator)
    assert client.get(URL).status_code == 200
    response = client.post(
        URL,
        form_data(
            plan,
            drop={"hit_rate"},
            retune={"sharpe": (1.2, 0.6)},
            split_date="2025-07-01",
            trials="30",
            trials_sharpe_variance="0.4",
        ),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert "hit_rate" not in {t["metric"] for t in plan.tests}
    sharpe = next(t for t in plan.tests if t["metric"] == "sharpe")
    assert (sharpe["pass"], sharpe["fail"]) == (1.2, 0.6)
    assert plan.options["split_date"] == "2025-07-01" and plan.options["trials"] == 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tier,change,message",
    [
        (2, {"pbo_blocks": "7"}, "pbo_blocks must be an even whole number"),
        (2, {"trials": "30"}, "Give trials and trials_sharpe_variance together"),
        (2, {"retune": {"sharpe": (0.2, 0.9)}}, "the pass threshold is on the failing side"),
        (1, {"drop": {"pbo"}}, "Tier 1 plans keep the overfitting and stability tests"),
    ],
)
def test_it_shows_why_a_plan_cannot_be_saved_and_keeps_the_old_one(
    tier, change, message, world, validating, browser_client, plan
):
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=tier)
    before = ValidationPlan.objects.values("tests", "options").get(pk=plan.pk)
    drop, retune = change.pop("drop", ()), change.pop("retune", None)
    response = browser_client.as_user(world.validator).post(URL, form_data(plan, drop=drop, retune=retune, **change))
    assert response.status_code == 200 and message in response.content.decode()
    assert ValidationPlan.objects.values("tests", "options").get(pk=plan.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,expected", [("developer", 403), ("compliance", 403), ("trader", 404), ("validator2", 404)]
)
def test_only_the_validator_edits_the_plan(persona, expected, world, validating, browser_client, plan):
    # A trader sees versions in use only: one in validation is not there for them (404).
    client = browser_client.as_user(getattr(world, persona))
    assert client.get(URL).status_code == expected
    assert client.post(URL, form_data(plan, drop={"sharpe"})).status_code == expected
