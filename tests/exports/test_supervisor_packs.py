"""The supervisor's packs: MiFID II Art. 17(2) for an algorithmic-trading model, and the RTS 6 Art. 9 annual
self-assessment with its two sign-offs. Both verify with the same standard tools as an evidence pack."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Notification, Signature, UserProfile
from governance.core.signatures import verify
from models_registry.models import Model
from risk.exports import self_assessment
from risk.exports.models import Export, SelfAssessment
from risk.gate import killswitch
from tests.exports.packs import URL, allowed_signers, checks, download_pack, flip_one_byte, request_pack
from tests.factories import PASSWORD
from tests.outbox import deliver

YEAR = timezone.now().year


def all_pass(outcomes) -> None:
    for name, outcome in outcomes.items():
        assert outcome.returncode == 0, (name, outcome.stdout, outcome.stderr)


@pytest.mark.django_db
def test_the_mifid_pack_holds_strategy_limits_controls_and_testing(world, api, signed_version, tmp_path):
    Model.objects.filter(pk=world.mine.pk).update(purpose="execution")  # an algorithmic-trading model
    killswitch.kill_switch_test(world.compliance)
    export = request_pack(api, world.auditor, kind="mifid_17_2", model="mine")
    bag = download_pack(api, world.auditor, export, tmp_path)
    outcomes = checks(bag, allowed_signers(tmp_path))
    all_pass(outcomes)

    records = bag / "data" / "records"
    versions = json.loads((records / "versions.json").read_text())
    assert {v["version"] for v in versions} == {"1.0", signed_version.version}, "the versions in use"
    assert next(v for v in versions if v["version"] == "5.0")["conditions_of_use"] == "Rank only; never size positions."
    gate = json.loads((records / "gate.json").read_text())
    assert gate["allowed"] is True and gate["version"] == "1.0"
    assert (records / "gate-revisions.csv").read_text().count("\n") >= 2
    tests = json.loads((records / "kill-switch-tests.json").read_text())
    assert len(tests) == 1 and tests[0]["passed"] is True
    signatures = json.loads((records / "signatures.json").read_text())
    assert {"validated_with_conditions", "approved", "incident_closed"} <= {s["meaning_code"] for s in signatures}
    assert outcomes["signatures"].stdout.count("ok     signature") == len(signatures)
    assert (bag / "data" / "dossier.pdf").read_bytes().startswith(b"%PDF")
    assert "MiFID II Art. 17(2)" in (bag / "bag-info.txt").read_text()


@pytest.mark.django_db
def test_a_mifid_pack_is_for_algorithmic_trading_models_only(world, api):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk")
    before = Export.objects.count()
    answer = api.as_user(world.compliance).post(URL, {"kind": "mifid_17_2", "model": "mine"}, format="json")
    assert answer.status_code == 400 and "algorithmic-trading" in answer.json()["model"][0]
    assert api.post(URL, {"kind": "mifid_17_2"}, format="json").status_code == 400
    answer = api.as_user(world.owner).post(URL, {"kind": "mifid_17_2", "model": "theirs"}, format="json")
    assert answer.status_code == 404
    assert Export.objects.count() == before


@pytest.fixture
def senior(world):
    UserProfile.objects.update_or_create(user=world.owner, defaults={"senior_manager": True})
    return world.owner


def _queue_years(client, user) -> list[str]:
    """The years in the self-assessment panel of `user`'s queue (/inbox/), [] when the panel is absent."""
    page = client.as_user(user).get("/inbox/").content.decode()
    if 'data-testid="self-assessment-sign-offs"' not in page:
        return []
    table = page.split('data-testid="self-assessment-sign-offs"')[1].split("</table>")[0]
    return [cell.split("</td>")[0] for cell in table.split("<tr>\n  <td>")[1:]]


@pytest.mark.django_db
def test_my_queue_shows_the_self_assessment_to_whoever_signs_next(world, senior, browser_client):
    assessment = self_assessment.prepare(world.compliance, YEAR, "We meet RTS 6.")
    assert _queue_years(browser_client, world.compliance) == [str(YEAR)]
    assert _queue_years(browser_client, senior) == []  # compliance signs first
    assert _queue_years(browser_client, world.trader) == []
    assessment = self_assessment.sign(world.compliance, assessment, password=PASSWORD)
    assert _queue_years(browser_client, world.compliance) == []
    page = browser_client.as_user(senior).get("/inbox/").content.decode()
    assert _queue_years(browser_client, senior) == [str(YEAR)] and "as senior manager" in page
    assert f'href="/exports/self-assessments/{YEAR}/"' in page
    self_assessment.sign(senior, assessment, password=PASSWORD)
    assert _queue_years(browser_client, senior) == []


@pytest.mark.django_db
def test_a_self_assessment_prepared_before_the_year_ends_says_its_figures_stop_there(world, browser_client):
    assessment = self_assessment.prepare(world.compliance, YEAR, "We meet RTS 6.")  # YEAR is the running year
    page = browser_client.as_user(world.compliance).get(f"/exports/self-assessments/{YEAR}/").content.decode()
    assert 'data-testid="part-year"' in page and "Prepare it again after the year ends" in page
    # Prepared after 31 December (as a real one would be): no warning.
    after = dt.datetime(YEAR + 1, 1, 3, 9, tzinfo=dt.UTC)
    SelfAssessment.objects.filter(pk=assessment.pk).update(prepared_at=after)
    assessment.refresh_from_db()
    assert assessment.prepared_before_year_end is False
    page = browser_client.as_user(world.compliance).get(f"/exports/self-assessments/{YEAR}/").content.decode()
    assert 'data-testid="part-year"' not in page


@pytest.mark.django_db
def test_the_self_assessment_is_signed_by_compliance_then_a_senior_manager(world, senior):
    assessment = self_assessment.prepare(world.compliance, YEAR, "We meet RTS 6; kill-switch tests go monthly.")
    assert {m["key"] for m in assessment.figures["models"]} >= {"mine"}
    with pytest.raises(PermissionDenied):
        self_assessment.sign(senior, assessment, password=PASSWORD)  # compliance first
    with pytest.raises(ValidationError):
        self_assessment.sign(world.compliance, assessment, password="wrong")
    assert Signature.objects.filter(meaning__startswith="self_assessment").count() == 0

    assessment = self_assessment.sign(world.compliance, assessment, password=PASSWORD)
    deliver()
    told = Notification.objects.get(user=senior, kind="sign_off_request")
    assert told.url == f"/exports/self-assessments/{YEAR}/"
    UserProfile.objects.update_or_create(user=world.compliance, defaults={"senior_manager": True})
    with pytest.raises(Conflict, match="another person"):
        self_assessment.sign(world.compliance, assessment, password=PASSWORD)
    assessment = self_assessment.sign(senior, assessment, password=PASSWORD, comment="Reviewed with the board.")
    assert assessment.signed_off
    assert verify(assessment.senior_signature, assessment) == (True, "intact")
    with pytest.raises(Conflict, match="both sign-offs"):
        self_assessment.sign(senior, assessment, password=PASSWORD)
    with pytest.raises(Conflict, match="signed"):
        self_assessment.prepare(world.compliance, YEAR, "Changed afterwards.")
    # An edit behind Vigil's back breaks the sign-offs.
    SelfAssessment.objects.filter(pk=assessment.pk).update(conclusion="Quietly changed.")
    assessment.refresh_from_db()
    assert verify(assessment.compliance_signature, assessment)[0] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "year, why", [(YEAR + 1, "has not begun"), (1990, "audit trail starts"), ("soon", "Give a year")]
)
def test_a_self_assessment_for_a_wrong_year_or_without_conclusion_changes_nothing(world, year, why):
    with pytest.raises(ValidationError, match=why):
        self_assessment.prepare(world.compliance, year, "Fine.")
    with pytest.raises(ValidationError, match="conclusion"):
        self_assessment.prepare(world.compliance, YEAR, "  ")
    with pytest.raises(PermissionDenied):
        self_assessment.prepare(world.validator, YEAR, "Fine.")
    assert not SelfAssessment.objects.exists()
    assert not AuditEvent.objects.filter(action="self_assessment.prepare").exists()


@pytest.mark.django_db
def test_the_rts6_pack_carries_the_frozen_figures_and_both_sign_offs(world, api, senior, tmp_path):
    Model.objects.filter(pk=world.theirs.pk).update(purpose="risk")  # not algorithmic when prepared
    killswitch.kill_switch_test(world.compliance)
    assessment = self_assessment.prepare(world.compliance, YEAR, "We meet RTS 6.")
    self_assessment.sign(world.compliance, assessment, password=PASSWORD)
    self_assessment.sign(senior, assessment, password=PASSWORD)
    # A later change does not move the signed figures.
    Model.objects.filter(pk=world.theirs.pk).update(purpose="execution")

    export = request_pack(api, world.auditor, kind="rts6_self_assessment", year=YEAR)
    bag = download_pack(api, world.auditor, export, tmp_path)
    outcomes = checks(bag, allowed_signers(tmp_path))
    all_pass(outcomes)
    records = bag / "data" / "records"
    record = json.loads((records / "self-assessment.json").read_text())
    assert record["state"].startswith("signed off") and record["conclusion"] == "We meet RTS 6."
    assert record["prepared_before_year_end"] is True  # YEAR is still running: the pack says so too
    keys = [m["key"] for m in record["figures"]["models"]]
    assert "mine" in keys and "theirs" not in keys, "the figures as frozen when prepared"
    assert json.loads((records / "kill-switch-tests.json").read_text())[0]["passed"] is True
    assert outcomes["signatures"].stdout.count("ok     signature") == 2

    path = records / "self-assessment.json"
    path.write_text(path.read_text().replace('"We meet RTS 6."', '"We meet RTS 6!"'))
    assert checks(bag, allowed_signers(tmp_path))["signatures"].returncode == 1
    flip_one_byte(bag / "data" / "dossier.pdf", at=50)
    assert checks(bag, allowed_signers(tmp_path))["manifest"].returncode == 1


@pytest.mark.django_db
def test_an_unprepared_year_is_exported_live_and_marked_unsigned(world, api, tmp_path):
    Model.objects.filter(pk=world.theirs.pk).update(purpose="execution")
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk")
    export = request_pack(api, world.compliance, kind="rts6_self_assessment", year=YEAR)
    bag = download_pack(api, world.compliance, export, tmp_path)
    record = json.loads((bag / "data" / "records" / "self-assessment.json").read_text())
    assert record["state"].startswith("not prepared") and record["figures_sha256"] is None
    keys = [m["key"] for m in record["figures"]["models"]]
    assert "theirs" in keys and "mine" not in keys
    all_pass(checks(bag, allowed_signers(tmp_path)))


@pytest.mark.django_db
def test_the_rts6_pack_is_for_compliance_and_auditors(world, api):
    answer = api.as_user(world.developer).post(URL, {"kind": "rts6_self_assessment", "year": YEAR}, format="json")
    assert answer.status_code == 403
    answer = api.as_user(world.auditor).post(URL, {"kind": "rts6_self_assessment", "year": YEAR + 1}, format="json")
    assert answer.status_code == 400 and "year" in answer.json()


@pytest.mark.django_db
def test_the_self_assessment_pages(world, browser_client, senior):
    killswitch.kill_switch_test(world.compliance)
    assert browser_client.as_user(world.trader).get("/exports/self-assessments/").status_code == 404
    browser_client.as_user(world.compliance)
    bad = browser_client.post("/exports/self-assessments/", {"year": YEAR + 1, "conclusion": "Fine."})
    assert bad.status_code == 400 and "has not begun" in bad.content.decode()
    made = browser_client.post("/exports/self-assessments/", {"year": YEAR, "conclusion": "We meet RTS 6."})
    assert made.status_code == 302 and made["Location"] == f"/exports/self-assessments/{YEAR}/"
    page = browser_client.get(made["Location"]).content.decode()
    assert 'data-testid="sign-form"' in page and "compliance sign-off" in page
    assert "Kill-switch tests in the year: 1 " in page, "the totals read the frozen figures"
    wrong = browser_client.post(made["Location"], {"password": "nope"})
    assert wrong.status_code == 400 and "not correct" in wrong.content.decode()
    assert browser_client.post(made["Location"], {"password": PASSWORD}).status_code == 302

    not_senior = browser_client.as_user(world.auditor).get(made["Location"]).content.decode()
    assert f"A senior manager signs it now ({senior.get_full_name() or senior.username})" in not_senior
    page = browser_client.as_user(senior).get(made["Location"]).content.decode()
    assert "senior management sign-off" in page
    assert browser_client.post(made["Location"], {"password": PASSWORD, "comment": "For the board."}).status_code == 302
    page = browser_client.get(made["Location"]).content.decode()
    assert (
        "signed off by compliance and a senior manager" in page
        and "For the board." in page
        and 'data-testid="sign-form"' not in page
    )
    assert browser_client.as_user(world.auditor).get("/exports/").context["rts6_form"] is not None
    assert browser_client.as_user(world.developer).get("/exports/").context["rts6_form"] is None
