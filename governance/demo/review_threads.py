"""The demo's review threads (issue 24): effective challenge a newcomer can read. Made once, after the history: a
second seed finds threads and adds nothing.

- validator challenges the latest signed run of eq-momentum-us, its developer answers, the validator resolves it
  (only a validator may: challenge is not closed by the person challenged);
- validator2 challenges credit-default-prob's version in use and mentions its owner; it stays open;
- the trader says eq-momentum-us is behaving oddly; it stays open, for a newcomer to raise an incident from it.
"""

from django.contrib.auth import get_user_model

from models_registry.models import Model
from risk.threads import services as threads
from risk.threads.models import Thread
from risk.validation.models import ValidationRun


def _user(username):
    return get_user_model().objects.get(username=username)


def _in_use(key):
    model = Model.objects.get(key=key)
    return model.versions.filter(status__in=("production", "pilot")).order_by("-created_at").first()


def seed() -> int:
    """Open the demo's threads; returns how many were opened."""
    if Thread.objects.exists():
        return 0
    opened = 0
    momentum = _in_use("eq-momentum-us")
    run = (
        ValidationRun.objects.filter(version=momentum, status=ValidationRun.Status.SUCCEEDED).order_by("-id").first()
        if momentum
        else None
    )
    if run is not None:
        challenge = threads.thread_open(
            _user("validator"),
            "run",
            run.pk,
            title="Why a 20-day momentum window?",
            body="The plan tests the model on a **20-day** lookback only. What does the hit rate do at 10 and 40 "
            "days? If it falls off a cliff either side, the window is fitted, not found.",
        )
        threads.comment_add(
            _user("developer"),
            challenge,
            "@validator the sensitivity is in the backtest evidence: hit rate 0.55 at 10 days, 0.57 at 20, 0.56 "
            "at 40. The window was fixed before the test period and not tuned on it.",
        )
        threads.thread_resolve(
            _user("validator"), challenge, "Answered: flat either side, no sign of a fitted window. No change needed."
        )
        opened += 1
    credit = _in_use("credit-default-prob")
    if credit is not None:
        threads.thread_open(
            _user("validator2"),
            "version",
            credit.pk,
            title="Calibration in the stressed quarter",
            body="@owner2 the calibration error doubles in the 2020 Q1 slice of the prediction log. Is the model "
            "meant to be used through a stress like that, or should the card say it is out of scope?",
        )
        opened += 1
    if momentum is not None:
        threads.thread_open(
            _user("trader"),
            "version",
            momentum.pk,
            title="Signals look odd this morning",
            body="Half the book flipped sign at the open with no news. Is the model seeing something, or is the feed "
            "off? Not trading the flips until someone looks.",
        )
        opened += 1
    return opened
