"""Acknowledgements of model cards, which the gate enforces (issue 24).

The governance policy says, by tier, whose acknowledgement the gate waits for (`acknowledgement_required`):
"traders" (each active trader of the model's desk) and/or "desk_head" (`Desk.head`). An acknowledgement is a
signature over the current card's hash (card.py: the limitations section of the version in use), given after a
comprehension check (comprehension.py) whose answers it records. The gate adds `not_acknowledged`, naming who is
missing, when anyone asked has not acknowledged the current card; a new card (a new version in use, an edited
limitation, new conditions or pilot limits) has a new hash, so earlier acknowledgements stop counting at once.

Never stale: an acknowledgement is audited on its model (generations.register_source), so it moves the model's gate
generation in its transaction; so do, through `connect()`, the changes to who is asked (a person's desk, roles or
active flag, a desk's head) and a new policy (every model). Everything here reads at decision time; nothing is
cached but the decision itself, under those counts.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.urls import reverse
from django.utils import timezone

from governance.core import notifications, signatures
from governance.core.audit import audit_record, audit_type
from governance.core.exceptions import Conflict
from governance.core.models import Desk, GovernancePolicy, Signature, UserProfile
from governance.core.policy import policy_in_force
from governance.lifecycle.selectors import conditions_of_use
from governance.skills import selectors as skills
from governance.skills.models import Completion, Duty, Requirement
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model
from risk.gate import comprehension, decisions, generations
from risk.gate.access import TRADERS, acknowledges_as, asked_to_acknowledge
from risk.gate.card import card_hash, limitations_of
from risk.gate.models import Acknowledgement

ALERT_KIND = "card_acknowledgement"  # risk.alerts' Kind.CARD_ACKNOWLEDGEMENT


# --- The current card of a model -----------------------------------------------------------------------------


def version_in_use(model):
    """The version whose card counts: the one the gate answers for (production, else pilot), or None."""
    live = model.versions.filter(status__in=(S.PRODUCTION, S.PILOT)).select_related("pilot").order_by("-created_at")
    by_status = {}
    for version in live:
        by_status.setdefault(version.status, version)
    return by_status.get(S.PRODUCTION) or by_status.get(S.PILOT)


def _pilot_of(version):
    return getattr(version, "pilot", None) if version.status == S.PILOT else None


def current_card(version, conditions: str | None = None, pilot=None) -> tuple[dict, str]:
    """(limitations, hash) of the version's card now, as card.card_of computes them."""
    if conditions is None:
        conditions, pilot = conditions_of_use(version), _pilot_of(version)
    limitations = limitations_of(version, conditions, pilot)
    return limitations, card_hash(limitations)


def questions(version, limitations: dict, hash_: str) -> list[dict]:
    return comprehension.questions_for(limitations, version.model.intended_use, hash_)


# --- What the gate asks -------------------------------------------------------------------------------------------


def _person(user, parts, lapsed=()) -> dict:
    person = {"username": user.get_username(), "name": user.get_full_name() or user.get_username(), "as": parts}
    if lapsed:
        person["lapsed"] = list(lapsed)  # requirements whose lapse stops their acknowledgement counting
    return person


def _counting(model, people: dict, acknowledged: set, boundaries: list | None = None) -> dict:
    """{user id: ["title (lapsed on ... / never completed)"]}: the people whose acknowledgement stops counting as a
    trader requirement of theirs on this model is not current (issue 24, skills kept current: an expired requirement
    blocks what depends on it). Asked only of those acknowledging as traders. Two queries; the first day a current
    one lapses goes into `boundaries`, where the gate's cached answer ends."""
    traders = [pk for pk, (_person, roles) in people.items() if TRADERS in roles and pk in acknowledged]
    if not traders:
        return {}
    standing = skills.standing(traders, Duty.TRADER, model)
    if boundaries is not None and standing.next_lapse is not None:
        boundaries.append(dt.datetime.combine(standing.next_lapse, dt.time.min, tzinfo=dt.UTC))
    return {
        pk: [f"{title} ({f'lapsed {until:%Y-%m-%d}' if until else 'never completed'})" for title, until in lapsed]
        for pk, lapsed in standing.not_current.items()
    }


def missing(model, version, hash_: str, policy=None, boundaries: list | None = None) -> list[dict]:
    """Everyone the policy asks whose acknowledgement of this card is missing or no longer counts (a trader
    requirement of theirs lapsed), in username order (five queries at most)."""
    policy = policy or policy_in_force()
    parts = policy.acknowledgements_for(model.risk_tier)
    if not parts:
        return []
    people = asked_to_acknowledge(model.desk, parts)
    done = set(
        Acknowledgement.objects.filter(model=model, version=version, card_hash=hash_).values_list("user_id", flat=True)
    )
    lapsed = _counting(model, people, done, boundaries)
    return [
        _person(person, roles, lapsed.get(pk, []))
        for pk, (person, roles) in sorted(people.items(), key=lambda item: item[1][0].get_username())
        if pk not in done or pk in lapsed
    ]


def _who(p: dict) -> str:
    said = f"{p['name']} ({p['username']}{', desk head' if 'desk_head' in p['as'] else ''})"
    if p.get("lapsed"):
        not_current = "; ".join(p["lapsed"])
        said += f", whose acknowledgement does not count while a trader requirement is not current: {not_current}"
    return said


def _message(label: str, people: list[dict]) -> str:
    return f"The card of version {label} is not acknowledged by {', '.join(_who(p) for p in people)}."


def gate_reasons(model, version, conditions, pilot, boundaries=None) -> list[dict]:
    """decisions.compute's source: `not_acknowledged` naming who is missing, with the card they must acknowledge."""
    policy = policy_in_force()
    if not policy.acknowledgements_for(model.risk_tier):
        return []
    _limits, hash_ = current_card(version, conditions, pilot)
    people = missing(model, version, hash_, policy, boundaries)
    if not people:
        return []
    return [
        decisions.reason(
            "not_acknowledged",
            _message(version.version, people),
            card_hash=hash_,
            card_version=version.version,
            missing=people,
        )
    ]


def for_person(body: dict, model, subject) -> dict:
    """The gate's answer about `model` for one person (`?user=`): the model's reasons but the desk-wide
    acknowledgements; instead, read now, this person's own acknowledgement of the current card whenever the policy
    asks anyone for the model's tier (a trader or the head alike), and the head's when the policy asks for it.
    Blocked for anyone neither a trader nor the head of the model's desk."""
    reasons = [r for r in body["reasons"] if r["code"] != "not_acknowledged"]
    parts = acknowledges_as(subject, model)
    if not parts:
        reasons.append(
            decisions.reason(
                "not_on_desk", f"{subject.get_username()} is neither a trader nor the head of desk {model.desk.code}."
            )
        )
    asked = policy_in_force().acknowledgements_for(model.risk_tier)
    version = version_in_use(model) if asked else None
    if version is not None:
        hash_ = current_card(version)[1]
        done = set(
            Acknowledgement.objects.filter(
                version=version, card_hash=hash_, user_id__in=[subject.pk, model.desk.head_id]
            ).values_list("user_id", flat=True)
        )
        mine = {subject.pk: (subject, parts)}
        lapsed = _counting(model, mine, done).get(subject.pk, [])
        people = [] if subject.pk in done and not lapsed else [_person(subject, parts, lapsed)]
        head = model.desk.head if "desk_head" in asked and model.desk.head_id not in (None, subject.pk) else None
        if head is not None and head.is_active and head.pk not in done:
            people.append(_person(head, ["desk_head"]))
        if people:
            reasons.append(
                decisions.reason(
                    "not_acknowledged",
                    _message(version.version, people),
                    card_hash=hash_,
                    card_version=version.version,
                    missing=people,
                )
            )
    return {**body, "user": subject.get_username(), "allowed": not reasons, "reasons": reasons}


# --- Acknowledging --------------------------------------------------------------------------------------------------


def _current_of(model) -> tuple:
    """(version in use, its card's hash, its limitations), or (None, "", {})."""
    current = version_in_use(model)
    if current is None:
        return None, "", {}
    limitations, hash_ = current_card(current)
    return current, hash_, limitations


def _stale(model, current_version, current_hash: str) -> Conflict:
    if current_version is None:
        return Conflict(f"No version of {model.key} is in use: there is no card to acknowledge.")
    return Conflict(
        f"This is not the current card of {model.key}: the current one is version {current_version.version}'s, "
        f"hash {current_hash}."
    )


def acknowledgement_record(user, version, *, card_hash: str, answers: dict, password: str, otp_token: str = ""):
    """Sign `user`'s acknowledgement of `version`'s card. 403 when they are asked nothing about the model; 409 when
    the card is not the current one (naming it) or they acknowledged it already; a wrong answer of the comprehension
    check records nothing and is a ValidationError on `answers`; credentials as every signature."""
    model = Model.objects.select_related("desk").get(pk=version.model_id)  # as it is now, not as the caller read it
    parts = acknowledges_as(user, model)
    if not parts:
        raise PermissionDenied("Only the traders and the head of the model's desk acknowledge its card.")
    current, hash_, limitations = _current_of(model)
    if current is None or current.pk != version.pk or card_hash != hash_:
        raise _stale(model, current, hash_)
    rows, wrong = comprehension.marked(questions(current, limitations, hash_), answers)
    if wrong:
        says = "answer does" if len(wrong) == 1 else "answers do"
        raise ValidationError(
            {
                "answers": [
                    ValidationError(
                        f"{len(wrong)} of {len(rows)} {says} not match the card: read it again and retry.",
                        code="wrong_answers",
                        params={"wrong": wrong},  # which questions: the page marks each beside it
                    )
                ]
            }
        )
    if Acknowledgement.objects.filter(user=user, version=version, card_hash=hash_).exists():
        raise Conflict("You acknowledged this card already.")
    signatures.check_credentials(user, password, otp_token)  # outside the transaction: a refusal stays audited
    with transaction.atomic():
        # The model locked, its card read again: an acknowledgement is of the card that stands when it commits.
        model = Model.objects.select_for_update(of=("self",)).select_related("desk").get(pk=model.pk)
        again, again_hash, _limits = _current_of(model)
        if again is None or again.pk != version.pk or again_hash != hash_:
            raise _stale(model, again, again_hash)
        if Acknowledgement.objects.filter(user=user, version=version, card_hash=hash_).exists():
            raise Conflict("You acknowledged this card already.")
        version = again
        ack = Acknowledgement.objects.create(
            model=model,
            version=version,
            desk=model.desk,
            user=user,
            parts=parts,
            card_hash=hash_,
            answers=rows,
            acknowledged_at=timezone.now(),
        )
        audit_record(
            user,
            "card.acknowledge",
            ack,
            changes={"card_hash": [None, hash_], "version": [None, version.version], "as": [None, parts]},
        )
        ack.signature = signatures.sign(
            user, Signature.Meaning.CARD_ACKNOWLEDGED, ack, _payload(ack), policy_in_force(), comment=""
        )
        ack.save(update_fields=["signature"])
    return ack


def _payload(ack: Acknowledgement, signed: dict | None = None) -> dict:
    return {
        "object": f"{Acknowledgement.AUDIT_TYPE}:{ack.pk}",
        "model": ack.model.key,
        "version": ack.version.version,
        "desk": ack.desk.code,
        "card_hash": ack.card_hash,
        "answers": ack.answers,
        "as": ack.parts,
    }


# --- Asking again: an alert to the desk when the card to acknowledge changes ------------------------------------


def _ack_reason(body):
    return next((r for r in (body or {}).get("reasons", []) if r["code"] == "not_acknowledged"), None)


def on_new_revision(model, last_body, body) -> None:
    """A new gate revision that asks for a card nobody was asked for before (a new card, or the policy starting to
    ask): one alert to the desk (and its head), in the revision's transaction, delivered by the outbox."""
    now, before = _ack_reason(body), _ack_reason(last_body)
    if now is None or (before is not None and before["card_hash"] == now["card_hash"]):
        return
    url = reverse("gate:model-card", kwargs={"key": model.key, "version": now["card_version"]})
    notifications.raise_alert(
        ALERT_KIND,
        severity="high",
        title=f"{model.key} {now['card_version']}: acknowledge its model card before using it",
        message=f"The card of {model.key} version {now['card_version']} must be acknowledged: {now['message']}",
        url=url,
        model=model,
        desk=model.desk_id,
    )


# --- What moves the gate: who is asked ---------------------------------------------------------------------------


def _bump_desks(desk_ids) -> None:
    desk_ids = {d for d in desk_ids if d is not None}
    if desk_ids:
        ids = Model.objects.filter(desk_id__in=desk_ids).values_list("pk", flat=True)
        generations.bump([generations.key_for(pk) for pk in ids])


def _desks_of_users(user_ids) -> set:
    user_ids = list(user_ids)
    desks = set(UserProfile.objects.filter(user_id__in=user_ids).values_list("desk_id", flat=True))
    return desks | set(Desk.objects.filter(head_id__in=user_ids).values_list("pk", flat=True))


def _profile_before(sender, instance, **kwargs):
    instance._vigil_desk_before = (
        UserProfile.objects.filter(pk=instance.pk).values_list("desk_id", flat=True).first() if instance.pk else None
    )


def _profile_changed(sender, instance, **kwargs):
    _bump_desks({instance.desk_id, getattr(instance, "_vigil_desk_before", None)})


def _user_changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _bump_desks(_desks_of_users([instance.pk]))


def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        _bump_desks(_desks_of_users([instance.pk]))
    elif pk_set is None:
        generations.bump([generations.ALL])
    else:
        _bump_desks(_desks_of_users(pk_set))


def _desk_changed(sender, instance, **kwargs):
    _bump_desks({instance.pk})


def on_audit(event) -> None:
    """A new policy may ask (or stop asking) for acknowledgements of any model."""
    if event.object_type == audit_type(GovernancePolicy):
        generations.bump([generations.ALL])


def _model_of_acknowledgement(object_id) -> list[int]:
    return list(Acknowledgement.objects.filter(pk=int(object_id)).values_list("model_id", flat=True))


def _models_of_completion(object_id) -> list[int]:
    """A trader's completion recorded: their desk's models, and those of any desk they head."""
    completion = Completion.objects.filter(pk=int(object_id)).values("person_id", "requirement__duty").first()
    if completion is None or completion["requirement__duty"] != Duty.TRADER:
        return []
    person = completion["person_id"]
    desks = UserProfile.objects.filter(user_id=person).values("desk_id")
    return list(Model.objects.filter(Q(desk_id__in=desks) | Q(desk__head_id=person)).values_list("pk", flat=True))


def _models_of_requirement(object_id) -> list[int]:
    """A trader requirement defined, changed or retired: the models it covers."""
    requirement = Requirement.objects.filter(pk=int(object_id)).first()
    if requirement is None or requirement.duty != Duty.TRADER:
        return []
    return list(skills.models_covered(requirement).values_list("pk", flat=True))


def connect() -> None:
    """From the app's ready(): the gate's reason, the alert, the payload and what moves the counts."""
    User = get_user_model()
    decisions.register_reasons(gate_reasons)
    decisions.on_new_revision(on_new_revision)
    generations.register_source(Acknowledgement.AUDIT_TYPE, _model_of_acknowledgement)
    generations.register_source(Completion.AUDIT_TYPE, _models_of_completion)
    generations.register_source(Requirement.AUDIT_TYPE, _models_of_requirement)
    signatures.register_payload(Acknowledgement.AUDIT_TYPE, Acknowledgement, _payload)
    pre_save.connect(_profile_before, sender=UserProfile, weak=False, dispatch_uid="gate-ack-profile-before")
    post_save.connect(_profile_changed, sender=UserProfile, weak=False, dispatch_uid="gate-ack-profile")
    post_delete.connect(_profile_changed, sender=UserProfile, weak=False, dispatch_uid="gate-ack-profile")
    post_save.connect(_user_changed, sender=User, weak=False, dispatch_uid="gate-ack-user")
    post_save.connect(_desk_changed, sender=Desk, weak=False, dispatch_uid="gate-ack-desk")
    m2m_changed.connect(_roles_changed, sender=User.groups.through, weak=False, dispatch_uid="gate-ack-roles")
