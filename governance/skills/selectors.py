"""Reads of skills: what applies to whom, what has lapsed or is due soon, the matrix of people and requirements.

A requirement is *current* for a person on a day when one of their completions of it holds that day
(`completed_on <= day < expires_on`), *due soon* when the one that holds lapses within `DUE_SOON_DAYS`, *lapsed*
when their last completion no longer holds, and *missing* when they never completed it. What blocks (the lifecycle's
checks) is anything not current: lapsed or missing.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from governance.core import access
from governance.core.models import UserProfile
from governance.skills import access as skills_access
from governance.skills.models import Completion, Duty, Requirement
from models_registry.models import Model

DUE_SOON_DAYS = 30

CURRENT, DUE_SOON, LAPSED, MISSING = "current", "due_soon", "lapsed", "missing"
STATUS_TEXT = {CURRENT: "Current", DUE_SOON: "Due soon", LAPSED: "Lapsed", MISSING: "Missing"}
STATUSES = list(STATUS_TEXT.items())  # (code, words): the API's choices


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it has none (31 January + 1 month: 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry(completed_on: dt.date, validity_months: int) -> dt.date:
    return add_months(completed_on, validity_months)


def today() -> dt.date:
    return timezone.now().date()


# --- What applies to a person ---------------------------------------------------------------------------------


def _models_of(user, duty: str) -> QuerySet | None:
    """The models a holder of `duty` answers for (None: every model)."""
    if duty == Duty.VALIDATOR:
        return Model.objects.filter(validator=user)
    if duty == Duty.TRADER:
        desk = UserProfile.objects.filter(user=user).values("desk_id")
        return Model.objects.filter(desk_id__in=desk)
    return None  # compliance and the kill switch answer for the firm


def applicable(user, duty: str, model=None) -> QuerySet:
    """The active requirements of `duty` that bind `user`: with `model`, those covering that model; without, those
    covering any model the person answers for in that duty (a validator: the models they validate; a trader: their
    desk's models; compliance and kill-switch holders: every model)."""
    requirements = Requirement.objects.filter(active=True, duty=duty)
    if model is not None:
        return requirements.filter(
            Q(scope=Requirement.Scope.ANY)
            | Q(scope=Requirement.Scope.MODEL_TYPE, model_type=model.model_type)
            | Q(scope=Requirement.Scope.MODEL, model=model)
        )
    models = _models_of(user, duty)
    if models is None:
        return requirements
    return requirements.filter(
        Q(scope=Requirement.Scope.ANY)
        | Q(scope=Requirement.Scope.MODEL_TYPE, model_type__in=models.values("model_type"))
        | Q(scope=Requirement.Scope.MODEL, model__in=models.values("pk"))
    )


def _with_holds_until(requirements: QuerySet, user) -> QuerySet:
    """Each requirement with the day the person's latest completion of it lapses (None: never completed)."""
    return requirements.annotate(
        holds_until=Max("completions__expires_on", filter=Q(completions__person=user))
    ).select_related("model")


def lapsed(user, duty: str, model=None, on: dt.date | None = None) -> list[Requirement]:
    """The requirements of `duty` binding `user` (on `model`, when given) that are not current on `on` (today):
    lapsed or never completed. Each carries `holds_until` (the day it lapsed, or None). One query."""
    on = on or today()
    rows = _with_holds_until(applicable(user, duty, model), user)
    return list(rows.filter(Q(holds_until__isnull=True) | Q(holds_until__lte=on)).order_by("title", "pk"))


def due_soon(user, duty: str, model=None, on: dt.date | None = None, days: int = DUE_SOON_DAYS) -> list[Requirement]:
    """The requirements current on `on` whose completion lapses within `days`. One query."""
    on = on or today()
    rows = _with_holds_until(applicable(user, duty, model), user)
    window = on + dt.timedelta(days=days)
    return list(rows.filter(holds_until__gt=on, holds_until__lte=window).order_by("holds_until", "pk"))


def status_of(holds_until: dt.date | None, on: dt.date) -> str:
    if holds_until is None:
        return MISSING
    if holds_until <= on:
        return LAPSED
    if holds_until <= on + dt.timedelta(days=DUE_SOON_DAYS):
        return DUE_SOON
    return CURRENT


@dataclass
class Line:
    """One requirement binding a person, in words."""

    duty: str
    requirement: Requirement
    holds_until: dt.date | None
    status: str

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def duty_text(self) -> str:
        return Duty(self.duty).label


def person_lines(user, on: dt.date | None = None, viewer=None) -> list[Line]:
    """Every requirement binding `user` in each duty they hold, with its status (one query per duty); only the
    requirements `viewer` (the person by default) may see."""
    on = on or today()
    viewer = viewer or user
    out = []
    for duty in skills_access.duties_of(user):
        rows = access.restrict(_with_holds_until(applicable(user, duty), user), viewer).order_by("title", "pk")
        out += [Line(duty, r, r.holds_until, status_of(r.holds_until, on)) for r in rows]
    return out


def needs_attention(user, on: dt.date | None = None) -> list[Line]:
    """My queue: the reader's lapsed, missing and due-soon requirements."""
    return [line for line in person_lines(user, on) if line.status != CURRENT]


# --- Lists for pages and the API --------------------------------------------------------------------------------


def requirement_list(user) -> QuerySet:
    return access.restrict(Requirement.objects.select_related("model", "created_by"), user)


def requirement_get_for_user(user, pk) -> Requirement:
    return access.get_for_user(Requirement.objects.select_related("model", "created_by"), user, pk=pk)


def completion_list(user) -> QuerySet:
    related = Completion.objects.select_related("person", "requirement__model", "recorded_by")
    return access.restrict(related, user).order_by("-completed_on", "-id")


@dataclass
class MatrixRow:
    person: object
    cells: list  # (status, in words) or None where the requirement does not bind them, one per requirement, in order


def matrix(on: dt.date | None = None) -> tuple[list[Requirement], list[MatrixRow]]:
    """People x requirements for the firm's page (those who read every skill): each holder of each duty against
    every active requirement, the cell the status or None where the requirement does not bind them."""
    on = on or today()
    requirements = list(Requirement.objects.filter(active=True).select_related("model").order_by("duty", "title"))
    duties: dict = {}  # person id -> (person, the duties they hold)
    for duty in Duty.values:
        for person in skills_access.duty_holders(duty):
            duties.setdefault(person.pk, (person, set()))[1].add(duty)
    latest = {
        (row["person"], row["requirement"]): row["until"]
        for row in Completion.objects.filter(person__in=list(duties), requirement__in=requirements)
        .values("person", "requirement")
        .annotate(until=Max("expires_on"))
    }
    answers_for = _models_answered_for(list(duties))
    rows = []
    for person, held in sorted(duties.values(), key=lambda item: item[0].get_username()):
        binding = {r.pk for r in requirements if r.duty in held and _binds(r, answers_for(person.pk, r.duty))}
        statuses = [status_of(latest.get((person.pk, r.pk)), on) if r.pk in binding else None for r in requirements]
        cells = [(s, STATUS_TEXT[s]) if s else None for s in statuses]
        rows.append(MatrixRow(person, cells))
    return requirements, rows


def _models_answered_for(person_ids):
    """`answers_for(person id, duty)`: the (model id, model type) pairs the person answers for in that duty, or None
    for every model; as `_models_of` says, read in two queries for everyone instead of one per person and duty."""
    validated, by_desk = {}, {}
    for pk, model_type, validator, desk in Model.objects.values_list("pk", "model_type", "validator_id", "desk_id"):
        validated.setdefault(validator, set()).add((pk, model_type))
        by_desk.setdefault(desk, set()).add((pk, model_type))
    desk_of = dict(UserProfile.objects.filter(user_id__in=person_ids).values_list("user_id", "desk_id"))

    def answers_for(person_id, duty):
        if duty == Duty.VALIDATOR:
            return validated.get(person_id, set())
        if duty == Duty.TRADER:
            return by_desk.get(desk_of.get(person_id), set())
        return None

    return answers_for


def _binds(requirement, models) -> bool:
    """`applicable`'s rule for one requirement against the models a person answers for (None: every model)."""
    if models is None or requirement.scope == Requirement.Scope.ANY:
        return True
    if requirement.scope == Requirement.Scope.MODEL_TYPE:
        return any(model_type == requirement.model_type for _pk, model_type in models)
    return any(pk == requirement.model_id for pk, _model_type in models)


def records_of(people_parts: list[tuple[object, str]], on: dt.date | None = None) -> list[dict]:
    """For an evidence pack: each person's requirements in their parts (validated, approved, trades it) with the
    status on `on` and every completion on record, as plain rows."""
    on = on or today()
    rows = []
    for person, part in people_parts:
        completions = {}
        for c in Completion.objects.filter(person=person).select_related("recorded_by").order_by("completed_on", "id"):
            completions.setdefault(c.requirement_id, []).append(c)
        for line in person_lines(person, on, viewer=None):
            done = completions.get(line.requirement.pk, [])
            rows.append(
                {
                    "person": person.get_full_name() or person.get_username(),
                    "username": person.get_username(),
                    "part": part,
                    "duty": line.duty,
                    "requirement_id": line.requirement.pk,
                    "requirement": line.requirement.title,
                    "kind": line.requirement.kind,
                    "scope": line.requirement.scope_text,
                    "validity_months": line.requirement.validity_months,
                    "status": line.status,
                    "holds_until": line.holds_until.isoformat() if line.holds_until else "",
                    "completions": [
                        {
                            "completed_on": c.completed_on.isoformat(),
                            "expires_on": c.expires_on.isoformat(),
                            "evidence": c.evidence,
                            "recorded_by": c.recorded_by.get_username(),
                        }
                        for c in done
                    ],
                }
            )
    return rows


# --- Many people at once (the gate) -------------------------------------------------------------------------------


@dataclass
class Standing:
    """Of some people in one duty on one model: who is not current in which requirement (title, day it lapsed or
    None if never completed), and the first day one of the current ones lapses (when the answer may change)."""

    not_current: dict  # {user id: [(title, holds_until or None)]}
    next_lapse: dt.date | None


def standing(user_ids, duty: str, model, on: dt.date | None = None) -> Standing:
    """Two queries whatever the number of people: the requirements of `duty` that cover `model`, then the holding
    completions of these people. For the gate, which asks it of a desk's traders on every decision it computes."""
    on = on or today()
    requirements = list(applicable(None, duty, model).values_list("pk", "title"))
    user_ids = list(user_ids)
    if not requirements or not user_ids:
        return Standing({}, None)
    holds: dict = {}
    for person, requirement, expires in Completion.objects.filter(
        person_id__in=user_ids,
        requirement_id__in=[pk for pk, _ in requirements],
        completed_on__lte=on,
    ).values_list("person_id", "requirement_id", "expires_on"):
        key = (person, requirement)
        holds[key] = max(holds.get(key, expires), expires)
    not_current, lapses = {}, []
    for person in user_ids:
        for pk, title in requirements:
            until = holds.get((person, pk))
            if until is None or until <= on:
                not_current.setdefault(person, []).append((title, until))
            else:
                lapses.append(until)
    return Standing(not_current, min(lapses) if lapses else None)


def models_covered(requirement: Requirement) -> QuerySet:
    """The models a requirement covers: all, those of its model type, or its one model."""
    if requirement.scope == Requirement.Scope.MODEL:
        return Model.objects.filter(pk=requirement.model_id)
    if requirement.scope == Requirement.Scope.MODEL_TYPE:
        return Model.objects.filter(model_type=requirement.model_type)
    return Model.objects.all()
