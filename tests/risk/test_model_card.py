"""The model card of a version (issue 24): generated from governed records, read by whoever may see the version
(traders first), as a page, JSON and Hugging Face style Markdown; its hash covers its limitations and nothing else."""

import datetime as dt
from decimal import Decimal

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.lifecycle import workflow
from models_registry import services as registry
from models_registry.models import Model, ModelVersion
from risk.gate.card import card_hash, card_markdown, card_of, md_text
from risk.monitoring import proposals
from risk.monitoring.models import Monitor
from risk.validation import findings
from tests.core.personas import build_personas
from tests.exports.conftest import signed_version  # noqa: F401  (mine 5.0 validated with conditions, approved)
from tests.governance.lifecycle_helpers import new_draft

BOUNDARIES = [{"name": "order size", "min": 0, "max": 5000000, "unit": "USD"}, {"name": "VIX", "max": 35}]
PILOT = {"max_notional": "2000000", "instruments": ["ESZ6"], "venues": ["XCME"]}


def _define(world, **changes):
    model = Model.objects.get(pk=world.mine.pk)
    fields = {
        "objectives": "Rank US large caps by momentum.",
        "success_criteria": [{"metric": "hit rate", "operator": ">=", "value": 0.52}],
        "constraints": "Long-only.",
        "infrastructure_needs": "EQ OMS; latency budget 50 ms.",
        "out_of_scope_uses": "Sizing positions; small caps.",
        "operating_boundaries": BOUNDARIES,
        "known_limitations": "Lags at regime changes.",
        **changes,
    }
    return registry.model_update(world.owner, model, reason="Card", **fields)


@pytest.fixture
def piloted(world, signed_version):  # noqa: F811
    _define(world)
    end = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    version = workflow.version_transition(world.owner, signed_version, "start_pilot", pilot={**PILOT, "end_date": end})
    proposals.propose(version)
    return version


@pytest.mark.django_db
def test_the_card_is_made_of_the_versions_governed_records(world, piloted):
    card = card_of(piloted)
    assert card["model"]["key"] == "mine" and card["version"]["label"] == "5.0"
    assert card["model"]["desk"]["code"] == world.mine.desk.code
    limits = card["limitations"]
    assert limits["out_of_scope_uses"] == "Sizing positions; small caps."
    assert limits["operating_boundaries"] == BOUNDARIES
    assert card["operating_boundaries_text"] == ["order size from 0 to 5,000,000 USD", "VIX at most 35"]
    assert limits["conditions_of_use"] == "Rank only; never size positions."
    assert limits["pilot_limits"]["max_notional"] == "2000000.00" and limits["pilot_limits"]["instruments"] == ["ESZ6"]
    assert card["problem"]["success_criteria_text"] == ["hit rate at least 0.52"]
    evidence = card["evidence"]
    assert evidence["validated"] and evidence["run"] is not None
    assert evidence["failed_tests"] and all(
        t["disposition"] == "Immaterial: the score only ranks." for t in evidence["failed_tests"]
    )
    assert evidence["headline_figures"] and all(f["text"] for f in evidence["headline_figures"])
    live = Monitor.objects.filter(version=piloted, active=True)
    assert len(card["monitors"]) == live.count() > 0
    assert {(m["warn"], m["breach"]) for m in card["monitors"]} == {(m.warn, m.breach) for m in live}
    assert card["people"]["owner"]["username"] == "owner" and card["people"]["validator"]["username"] == "validator"
    assert "compliance" in {p["username"] for p in card["people"]["compliance"]}
    assert "kill switch" in card["kill_switch"]["procedure"]
    assert card["card_hash"] == card_hash(limits)


@pytest.mark.django_db
def test_open_findings_are_known_failure_modes(world, piloted):
    findings.finding_raise(
        world.validator,
        piloted,
        severity="high",
        title="Fails when spreads widen",
        description="Out of sample.",
        owner=world.developer,
        due_date=dt.date.today() + dt.timedelta(days=20),
    )
    titles = [f["title"] for f in card_of(piloted)["evidence"]["open_findings"]]
    assert titles[0] == "Fails when spreads widen"


LIMITS = {
    "model": "mine",
    "version": "5.0",
    "out_of_scope_uses": "Sizing.",
    "use_restrictions": "",
    "operating_boundaries": [{"name": "VIX", "max": 35}],
    "known_limitations": "Lags.",
    "conditions_of_use": "Rank only.",
    "pilot_limits": None,
}


@pytest.mark.parametrize(
    "change",
    [
        {"version": "5.1"},
        {"out_of_scope_uses": "Sizing; small caps."},
        {"use_restrictions": "No overnight."},
        {"operating_boundaries": [{"name": "VIX", "max": 30}]},
        {"operating_boundaries": []},
        {"known_limitations": "Lags badly."},
        {"conditions_of_use": ""},
        {"pilot_limits": {"max_notional": "1", "currency": "USD", "instruments": [], "venues": [], "end_date": "x"}},
    ],
)
def test_the_hash_changes_with_any_limitation(change):
    assert card_hash({**LIMITS, **change}) != card_hash(LIMITS)


def test_the_hash_is_a_pure_function_of_the_limitations_content():
    assert card_hash(LIMITS) == card_hash(dict(reversed(list(LIMITS.items()))))  # key order does not count
    assert len(card_hash(LIMITS)) == 64
    same_number = {**LIMITS, "operating_boundaries": [{"max": 35.0, "name": "VIX"}]}
    assert card_hash(same_number) == card_hash(LIMITS)
    assert card_hash({**LIMITS, "x": Decimal("2000000.00")}) == card_hash({**LIMITS, "x": Decimal("2000000")})


@pytest.mark.django_db
def test_the_hash_follows_the_limitations_and_not_the_monitors(world, piloted):
    def card_now():
        return card_of(ModelVersion.objects.select_related("model").get(pk=piloted.pk))

    before = card_now()["card_hash"]
    Monitor.objects.filter(version=piloted).update(latest_outcome="breach", warn=0.01)  # results and thresholds
    findings.finding_raise(
        world.validator,
        piloted,
        severity="low",
        title="Cosmetic",
        description="-",
        owner=world.developer,
        due_date=dt.date.today() + dt.timedelta(days=20),
    )
    assert card_now()["card_hash"] == before
    _define(world, out_of_scope_uses="Sizing positions; small caps; FX.")
    assert card_now()["card_hash"] != before
    _define(world, out_of_scope_uses="Sizing positions; small caps.", operating_boundaries=BOUNDARIES[:1])
    assert card_now()["card_hash"] != before


URL = "/models/mine/versions/5.0/card/"
API = "/api/v1/models/mine/versions/5.0/card/"


@pytest.mark.django_db
def test_traders_of_the_desk_read_the_card_and_others_get_404(world, piloted, browser_client, api):
    people = build_personas(world)
    page = browser_client.as_user(people["trader"]).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sizing positions; small caps." in html and "order size from 0 to 5,000,000 USD" in html
    assert "Rank only; never size positions." in html and piloted.model.owner.get_username() in html
    assert 'data-testid="card-hash"' in html and card_of(piloted)["card_hash"] in html
    assert "/kill-switch/" not in html  # the procedure is said; the page is compliance's and the auditors'
    # A failed test's threshold in words, as the run page says it; never the plan's raw dictionary.
    assert 'data-testid="card-failed-tests"' in html and "higher_is_better" not in html and "fail &lt;" in html
    for persona in ("trader_other_desk", "outsider"):
        assert browser_client.as_user(people[persona]).get(URL).status_code == 404, persona
        assert api.as_user(people[persona]).get(API).status_code == 404, persona
        assert api.as_user(people[persona]).get(f"{API}?format=md").status_code == 404, persona
    assert browser_client.as_user(people["trader"]).get("/models/mine/versions/5.0/").status_code == 200
    assert URL in browser_client.as_user(people["trader"]).get("/models/mine/versions/5.0/").content.decode()
    compliance = browser_client.as_user(world.compliance).get(URL).content.decode()
    assert "/kill-switch/?scope=model&amp;model=mine" in compliance


@pytest.mark.django_db
def test_a_version_not_yet_tradeable_has_no_card_for_traders(world, browser_client, api):
    draft = new_draft(world)
    url = f"/models/mine/versions/{draft.version}/card/"
    assert browser_client.as_user(world.trader).get(url).status_code == 404
    assert api.as_user(world.trader).get(f"/api{url.replace('/models/', '/v1/models/', 1)}").status_code == 404
    page = browser_client.as_user(world.developer).get(url)
    assert page.status_code == 200 and "Not validated yet." in page.content.decode()


@pytest.mark.django_db
def test_the_api_gives_json_and_hugging_face_markdown_with_the_same_data(world, piloted, api):
    client = api.as_user(world.trader)
    body = client.get(API)
    assert body.status_code == 200 and body["Content-Type"].startswith("application/json")
    assert body.json() == card_of(piloted, world.trader)
    md = client.get(API, HTTP_ACCEPT="text/markdown")
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    text = md.content.decode()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["model_key"] == "mine" and front["version"] == "5.0" and front["card_hash"] == body.json()["card_hash"]
    assert front["operating_boundaries"] == BOUNDARIES
    assert "## Out-of-scope uses" in text and "## How the kill switch is pulled" in text
    assert client.get(f"{API}?format=md").content == md.content
    # A failed test reads as the page says it: its threshold in words, never the plan's dictionary (found on the walk).
    assert "higher_is_better" not in text and "{'pass'" not in text and "pass ≥ 0.55 · fail &lt; 0.5" in text


HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) **bold** `code`\n# not a heading\n- not a list\n1. no"


@pytest.mark.django_db
def test_user_text_is_inert_in_the_markdown_and_the_page(world, piloted, api, browser_client):
    _define(world, out_of_scope_uses=HOSTILE)
    text = api.as_user(world.trader).get(f"{API}?format=md").content.decode()
    section = text.split("## Out-of-scope uses\n\n")[1].split("\n## ")[0]
    assert "<script" not in section and "&lt;script&gt;" in section
    assert "[click]" not in section and "\\[click\\]" in section and "\\*\\*bold" in section
    assert not any(line.startswith(("#", "- ", "1.")) for line in section.splitlines())
    html = browser_client.as_user(world.trader).get(URL).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_md_text_neutralises_markup():
    assert md_text("a <b>") == "a &lt;b&gt;"
    assert md_text("# h") == "\\# h" and md_text("12. x") == "12\\. x" and md_text("> q") == "&gt; q"
    assert md_text("a|b_c") == "a\\|b\\_c"


@pytest.mark.django_db
def test_yaml_front_matter_holds_hostile_boundary_names(world, piloted, api):
    _define(world, operating_boundaries=[{"name": "x: y --- ! & *a", "max": 1}])
    text = api.as_user(world.trader).get(f"{API}?format=md").content.decode()
    front = yaml.safe_load(text.split("\n---\n")[0].removeprefix("---\n"))
    assert front["operating_boundaries"] == [{"name": "x: y --- ! & *a", "max": 1}]


@pytest.mark.django_db
def test_the_card_page_costs_the_same_with_more_findings_and_monitors(world, piloted, browser_client):
    client = browser_client.as_user(world.trader)
    client.get(URL)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(5):
        findings.finding_raise(
            world.validator,
            piloted,
            severity="medium",
            title=f"Finding {n}",
            description="-",
            owner=world.developer,
            due_date=dt.date.today() + dt.timedelta(days=20),
        )
    monitor = Monitor.objects.filter(version=piloted, kind__in=["performance", "trading", "staleness"]).first()
    for n in range(5):
        Monitor.objects.create(
            version=piloted,
            kind=monitor.kind,
            measure=monitor.measure,
            stream=f"extra-{n}",
            direction=monitor.direction,
            warn=monitor.warn,
            breach=monitor.breach,
            window=monitor.window,
            schedule=monitor.schedule,
        )
    assert count() == few


@pytest.mark.slow(reason="WeasyPrint lays out the card's PDF")
@pytest.mark.django_db
def test_the_pdf_is_one_page_even_with_long_texts_and_follows_the_versions_scope(world, piloted, browser_client):
    from django.template.loader import render_to_string
    from weasyprint import HTML

    people = build_personas(world)
    long = "Do not use it to size positions or outside the desk's hours. " * 80
    _define(world, out_of_scope_uses=long[:5000], known_limitations=long[:5000], objectives=long[:5000])
    response = browser_client.as_user(people["trader"]).get("/models/mine/versions/5.0/card.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    version = ModelVersion.objects.select_related("model__desk", "model__owner", "model__validator").get(pk=piloted.pk)
    html = render_to_string("gate/model_card_pdf.html", {"card": card_of(version)})
    assert len(HTML(string=html).render().pages) == 1
    assert (
        browser_client.as_user(people["trader_other_desk"]).get("/models/mine/versions/5.0/card.pdf").status_code == 404
    )


@pytest.mark.django_db
def test_the_validator_and_compliance_sign_the_cards_limitations_and_the_card_says_when_they_changed(
    world,
    signed_version,  # noqa: F811
    browser_client,
):
    """Issue 24: the card's limitations and boundaries are part of what the validator signs and compliance approves
    (their hash in the signature); the card says whether they still read as signed."""
    from governance.core.models import Signature
    from governance.core.signatures import verify
    from risk.gate.card import limitations_of

    conditions = "Rank only; never size positions."
    card = card_of(signed_version)
    assert [s["meaning"] for s in card["signed"]] == ["Validated with conditions", "Approved for deployment"]
    signed_hash = card_hash(limitations_of(signed_version, conditions, None))
    assert all(s["hash"] == signed_hash and s["matches"] for s in card["signed"])
    validation = Signature.objects.get(object_id=str(signed_version.pk), meaning="validated_with_conditions")
    assert validation.payload["card"]["limitations"]["conditions_of_use"] == conditions

    _define(world)  # the owner records what the model must not be used for, after the signatures
    card = card_of(ModelVersion.objects.get(pk=signed_version.pk))
    assert [s["matches"] for s in card["signed"]] == [False, False]
    assert card["signed"][0]["changed"] == ["out of scope uses", "operating boundaries", "known limitations"]
    assert verify(validation)[0]  # the signature still holds: it covers the text as it was signed
    page = browser_client.as_user(world.owner).get("/models/mine/versions/5.0/card/").content.decode()
    assert 'data-testid="card-signed"' in page and "changed since" in page and "out of scope uses" in page
    markdown = card_markdown(card_of(ModelVersion.objects.get(pk=signed_version.pk)))
    assert "## Signed over this card" in markdown and f"hash {signed_hash}: changed since" in markdown
