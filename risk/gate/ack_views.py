"""The acknowledgement page of a model card, and the cards waiting for the reader in My queue (issue 24)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from risk.gate import acknowledgements, selectors
from risk.gate.access import acknowledges_as
from risk.gate.forms import AcknowledgeForm


def card_acknowledge(request, key, version):
    """Answer the comprehension check and sign: the traders and the head of the model's desk (403 to others who see
    the version, 404 to anyone else). A wrong answer records nothing and says so above the questions; a card that is
    no longer the current one is a 409 naming it."""
    obj = selectors.version_for_card(request.user, key, version)
    if not acknowledges_as(request.user, obj.model):
        raise PermissionDenied("Only the traders and the head of the model's desk acknowledge its card.")
    state = selectors.card_acknowledgements(request.user, obj)
    form, status = None, 200
    if request.method == "POST":
        form = AcknowledgeForm(request.POST, questions=state["questions"])
        if form.is_valid():
            try:
                acknowledgements.acknowledgement_record(
                    request.user,
                    obj,
                    card_hash=form.cleaned_data["card_hash"],
                    answers=form.answers(),
                    password=form.cleaned_data["password"],
                    otp_token=form.cleaned_data["otp_token"],
                )
            except ValidationError as exc:
                _mark_wrong_answers(form, exc)
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, f"You acknowledged the card of {obj.model.key} {obj.version}.")
                return redirect("gate:model-card", key=obj.model.key, version=obj.version)
        status = 400 if status == 200 else status
    if form is None:
        form = AcknowledgeForm(questions=state["questions"], initial={"card_hash": state["card_hash"]})
    mine = any(a.user_id == request.user.pk for a in state["acknowledgements"])
    if mine and request.method != "POST":
        form = None  # nothing left to sign: the page says so and offers the card
    return render(
        request,
        "gate/card_acknowledge.html",
        {"model": obj.model, "version": obj, "state": state, "form": form, "already": mine},
        status=status,
    )


def _mark_wrong_answers(form, exc) -> None:
    """Beside each question answered against the card, say so (the summary stays above the questions)."""
    for error in getattr(exc, "error_dict", {}).get("answers", []):
        for question in (error.params or {}).get("wrong", []):
            if question in form.fields:
                form.add_error(question, "Not what the card says.")


def queue_panel(request, _obj) -> dict | None:
    """My queue: the cards the gate waits for the reader to acknowledge (read from the gate's own decisions)."""
    waiting = selectors.cards_to_acknowledge(request.user)
    return {"cards": waiting} if waiting else None
