"""Names outside a person's scope never reach them through the audit trail: a restricted data source or a model
they may not see appears as a placeholder on pages and in the API, for every kind of object that can be out
of scope, while compliance and auditors read the names as recorded."""

import datetime as dt

import pytest

from models_registry import services
from risk.validation import findings as finding_services
from tests.factories import make_model, make_version
from tests.outbox import deliver

SECRET_SOURCE = "Card panel"  # world.restricted_source: restricted, owned by owner2


@pytest.fixture
def version_on_restricted_data(world):
    """mine 3.0 trains on the restricted card panel (its developer was granted it) and is fed by `theirs`."""
    services.data_source_grant_access(world.compliance, world.restricted_source, world.developer, "Builds mine.")
    version = make_version(world.developer, world.mine, label="3.0", training_sources=[world.restricted_source])
    services.model_update(world.compliance, world.mine, upstream_models=[world.theirs], reason="Fed by theirs.")
    return version


def _timeline_text(response) -> str:
    return " ".join(str(e.changes) + e.object_repr for e in response.context["timeline"])


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["validator", "owner", "developer2"])
def test_the_version_page_hides_a_restricted_source_from_people_who_may_not_see_it(
    persona, world, browser_client, version_on_restricted_data
):
    user = getattr(world, persona)
    client = browser_client.as_user(user)
    response = client.get("/models/mine/versions/3.0/?section=history")
    if persona == "developer2":  # cannot see mine at all
        assert response.status_code == 404
        return
    assert response.status_code == 200
    text = _timeline_text(response)
    assert "training_sources" in text  # the change is shown...
    assert SECRET_SOURCE not in text and SECRET_SOURCE not in response.content.decode()  # ...without the name
    assert SECRET_SOURCE not in client.get("/models/mine/versions/3.0/").content.decode()  # nor in the record
    assert "a restricted data source" in text


@pytest.mark.django_db
@pytest.mark.parametrize("persona,sees_name", [("developer", True), ("compliance", True), ("auditor", True)])
def test_people_who_may_see_the_source_read_its_name(
    persona, sees_name, world, browser_client, version_on_restricted_data
):
    response = browser_client.as_user(getattr(world, persona)).get("/models/mine/versions/3.0/?section=history")
    assert (SECRET_SOURCE in _timeline_text(response)) is sees_name


@pytest.mark.django_db
def test_the_audit_api_hides_restricted_sources_and_models_outside_scope(world, api, version_on_restricted_data):
    validator = api.as_user(world.validator)
    body = validator.get("/api/v1/audit-events/?object_type=models_registry.modelversion&page_size=200").json()
    texts = " ".join(str(e["changes"]) + e["object_repr"] for e in body["results"])
    assert "training_sources" in texts and SECRET_SOURCE not in texts and "a restricted data source" in texts
    model_events = validator.get("/api/v1/audit-events/?object_type=models_registry.model&page_size=200").json()
    feeders = [e["changes"]["upstream_models"] for e in model_events["results"] if "upstream_models" in e["changes"]]
    assert feeders and all("theirs" not in str(f) for f in feeders)  # validator of mine may not see theirs
    assert any("a model outside your scope" in str(f) for f in feeders)
    compliance = api.as_user(world.compliance).get("/api/v1/audit-events/?object_type=models_registry.model").json()
    assert any("theirs" in str(e["changes"].get("upstream_models")) for e in compliance["results"])


@pytest.mark.django_db
def test_the_model_page_hides_feeder_models_outside_scope(world, browser_client, version_on_restricted_data):
    text = _timeline_text(browser_client.as_user(world.owner).get("/models/mine/?section=history"))
    assert "upstream_models" in text and "theirs" not in text and "a model outside your scope" in text
    assert "theirs" in _timeline_text(browser_client.as_user(world.compliance).get("/models/mine/?section=history"))


@pytest.mark.django_db
def test_a_model_name_is_hidden_too_not_only_its_key(world, browser_client):
    other = make_model(
        world.compliance,
        key="hidden-feeder",
        name="Hidden feeder model",
        owner=world.owner2,
        developers=[world.developer2],
    )
    services.model_update(world.compliance, world.mine, upstream_models=[other], reason="Fed.")
    text = _timeline_text(browser_client.as_user(world.developer).get("/models/mine/?section=history"))
    assert "hidden-feeder" not in text and "Hidden feeder model" not in text


# --- Notifications: shown as the reader may read them now ----------------------------------------------------


def _inbox_text(client) -> str:
    return client.get("/inbox/").content.decode()


@pytest.mark.django_db
def test_a_notification_about_a_model_no_longer_in_scope_names_nothing(world, browser_client):
    """validator2 was told of an assignment, then the model was given to another validator: validator2 no
    longer sees the model, so the notification shows neither its key nor its name, and links nowhere."""
    secret = make_model(
        world.compliance,
        key="eq-secret-alpha",
        name="Secret alpha signal",
        owner=world.owner,
        developers=[world.developer],
    )
    services.model_update(world.compliance, secret, validator=world.validator2, reason="Assign.")
    deliver()
    html = _inbox_text(browser_client.as_user(world.validator2))
    assert "eq-secret-alpha" in html and "Secret alpha signal" in html
    services.model_update(world.compliance, secret, validator=world.validator, reason="Reassign.")
    deliver()
    html = _inbox_text(browser_client.as_user(world.validator2))
    assert "eq-secret-alpha" not in html and "Secret alpha signal" not in html
    assert "About a model no longer in your scope." in html
    assert "eq-secret-alpha" in _inbox_text(browser_client.as_user(world.validator))  # the new validator reads it


@pytest.mark.django_db
def test_a_notification_about_a_finding_no_longer_in_scope_names_nothing(world, browser_client):
    """developer owned a finding on mine and was told of it; once off mine's team, the finding is out of
    their scope and the notification says only that."""
    finding = finding_services.finding_raise(
        world.validator,
        world.mine_v1,
        severity="medium",
        title="Look-ahead in the spend feature",
        description="The feature uses the same day's close.",
        owner=world.developer,
        due_date=dt.date.today() + dt.timedelta(days=10),
    )
    deliver()
    assert finding.title in _inbox_text(browser_client.as_user(world.developer))
    services.model_update(world.compliance, world.mine, developers=[world.developer2], reason="Team change.")
    html = _inbox_text(browser_client.as_user(world.developer))
    assert finding.title not in html and f"/findings/{finding.pk}/" not in html
    assert "no longer in your scope" in html


# --- Error messages: a refused input never names what the person may not see --------------------------------


@pytest.mark.django_db
def test_errors_on_inputs_out_of_scope_name_nothing_the_person_may_not_see(world, api):
    """Naming a restricted data source or a model outside one's scope answers exactly as an unknown one would."""
    developer = api.as_user(world.developer)  # may not see the card panel (restricted, owned by owner2) or theirs
    hidden_source = developer.patch(
        "/api/v1/models/mine/", {"upstream_models": ["theirs"], "reason": "x"}, format="json"
    )
    unknown = developer.patch("/api/v1/models/mine/", {"upstream_models": ["no-such-model"]}, format="json")
    assert hidden_source.status_code == unknown.status_code == 400
    # The key the developer typed is echoed; nothing else about the model (name, owner, status) is.
    assert hidden_source.json()["upstream_models"][0].replace("theirs", "K") == unknown.json()["upstream_models"][
        0
    ].replace("no-such-model", "K")
    draft = make_version(world.developer, world.mine, label="7.0")
    url = f"/api/v1/models/mine/versions/{draft.version}/"
    restricted = developer.patch(url, {"training_sources": [world.restricted_source.pk]}, format="json")
    absent = developer.patch(url, {"training_sources": [10**9]}, format="json")
    assert restricted.status_code == absent.status_code == 400
    assert SECRET_SOURCE not in restricted.content.decode()
    assert restricted.json()["training_sources"][0].replace(str(world.restricted_source.pk), "N") == absent.json()[
        "training_sources"
    ][0].replace(str(10**9), "N")


@pytest.mark.django_db
def test_the_version_page_says_a_restricted_source_is_used_without_naming_it(
    world, browser_client, version_on_restricted_data
):
    html = browser_client.as_user(world.validator).get("/models/mine/versions/3.0/").content.decode()
    assert "1 restricted data source" in html and SECRET_SOURCE not in html
    html = browser_client.as_user(world.developer).get("/models/mine/versions/3.0/").content.decode()
    assert SECRET_SOURCE in html and "restricted data source <span" not in html


@pytest.mark.django_db
def test_amounts_carry_the_reporting_currency_and_people_their_names(world, browser_client, settings):
    settings.VIGIL_REPORTING_CURRENCY = "EUR"
    services.model_update(world.compliance, world.mine, notional_at_stake="250000000", reason="Sized.")
    html = browser_client.as_user(world.compliance).get("/models/mine/").content.decode()
    assert "EUR 250,000,000" in html
    assert world.developer.get_full_name() in html  # who registered each version, by name


@pytest.mark.django_db
def test_the_timeline_names_people_by_full_name(world, browser_client):
    services.model_update(world.compliance, world.mine, validator=world.validator2, reason="Reassigned.")
    response = browser_client.as_user(world.compliance).get("/models/mine/?section=history")
    changes = [e.changes for e in response.context["timeline"] if "validator" in e.changes]
    assert changes and changes[0]["validator"] == [world.validator.get_full_name(), world.validator2.get_full_name()]


@pytest.mark.django_db
def test_the_timeline_shows_coded_values_by_label_and_amounts_formatted(world, browser_client, settings):
    settings.VIGIL_REPORTING_CURRENCY = "USD"
    services.model_update(
        world.compliance, world.mine, model_type="random_forest", notional_at_stake="250000000", reason="Resized."
    )
    client = browser_client.as_user(world.compliance)
    html = client.get("/models/mine/").content.decode() + client.get("/models/mine/?section=history").content.decode()
    assert "Random forest" in html and "USD 250,000,000" in html
    timeline = html[html.index("Audit timeline") :]
    assert "random_forest" not in timeline and "250000000" not in timeline


@pytest.mark.django_db
def test_the_timeline_says_plans_and_signatures_in_words(world, browser_client):
    from risk.validation import runs

    version = make_version(world.developer, world.mine, label="8.0", status="in_validation")
    runs.plan_save(world.validator, version)
    html = browser_client.as_user(world.validator).get("/models/mine/versions/8.0/?section=history").content.decode()
    timeline = html[html.index("Audit timeline") :]
    assert "Strategy and classifier (returns and prediction log)" in timeline and "Sharpe ratio" in timeline
    assert "strategy_classifier" not in timeline and "sharpe_gap" not in timeline


@pytest.mark.django_db
def test_a_risk_entry_reads_with_its_owner_by_name_and_its_kind_by_label(world, browser_client):
    import datetime as dt

    from models_registry import risk_register

    risk_register.risk_add(
        world.compliance,
        world.mine,
        kind="regulatory",
        title="RTS 6 limits not versioned",
        description="Pre-trade limits live in a spreadsheet.",
        likelihood=2,
        impact=4,
        mitigations="Move them into the OMS.",
        residual_likelihood=1,
        residual_impact=3,
        owner=world.developer,
        next_review=dt.date.today() + dt.timedelta(days=90),
    )
    response = browser_client.as_user(world.compliance).get("/models/mine/?section=history")
    html = response.content.decode()
    timeline = html[html.index("Audit timeline") :]
    assert "Regulatory risk" in timeline and world.developer.get_full_name() in timeline
    assert "Risk: RTS 6 limits not versioned" in timeline
    entry = next(e for e in response.context["timeline"] if e.action == "risk.add")
    assert world.developer.username not in str(entry.changes)
