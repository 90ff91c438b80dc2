"""The gate trading systems ask before using a model, and the kill switch compliance presses.

The gate answers with a strong ETag (the SHA-256 of the decision) and a short max-age: a client that sends
If-None-Match gets 304 while nothing changed, and a change (a suspension, the kill switch, a date passing) is
answered from the next request, whichever web process serves it (decisions.py). Blocked answers are logged.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.api.pagination import StandardPagination, page_of
from governance.core.middleware import allow_client_caching
from governance.core.models import Desk
from governance.core.single_line import MULTI_LINE
from models_registry import selectors as registry
from risk.gate import acknowledgements, card, decisions, fast_lane, hot_path, killswitch, selectors
from risk.gate.access import may_ask_about_person, reads_kill_switch, uses_kill_switch
from risk.gate.models import KillSwitch

logger = logging.getLogger("vigil.gate")
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, OpenApiParameter.HEADER, required=False, description="The ETag of the decision you hold."
)


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(decisions.REASONS))
    message = serializers.CharField()
    card_hash = serializers.CharField(required=False, help_text="not_acknowledged: the card to acknowledge.")
    card_version = serializers.CharField(required=False, help_text="not_acknowledged: the version of that card.")
    missing = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='not_acknowledged: who has not acknowledged it, each {"username", "name", "as": ["traders" and/or '
        '"desk_head"]}.',
    )


class PilotLimitsSerializer(serializers.Serializer):
    max_notional = serializers.CharField(help_text="Decimal, in the firm's reporting currency.")
    currency = serializers.CharField()
    instruments = serializers.ListField(child=serializers.CharField(), help_text="Empty: no restriction given.")
    venues = serializers.ListField(child=serializers.CharField(), help_text="Empty: no restriction given.")
    end_date = serializers.DateField()


class DecisionSerializer(serializers.Serializer):
    model = serializers.CharField()
    allowed = serializers.BooleanField(help_text="True when the model may be used now.")
    version = serializers.CharField(allow_null=True, help_text="The version to use (production, else pilot).")
    status = serializers.CharField(allow_null=True)
    reasons = ReasonSerializer(many=True, help_text="Every reason it is blocked; empty when allowed.")
    pilot = PilotLimitsSerializer(allow_null=True, help_text="The pilot's limits when the version is in pilot.")
    conditions = serializers.CharField(allow_blank=True, help_text="The validator's conditions of use.")
    revision = serializers.IntegerField(help_text="Increases whenever the decision changes.")
    decided_at = serializers.DateTimeField()
    user = serializers.CharField(required=False, help_text="With ?user=: the person the answer is for.")


class DeskDecisionsSerializer(serializers.Serializer):
    desk = serializers.CharField()
    decisions = DecisionSerializer(many=True)


def _quoted(etag: str) -> str:
    return f'"{etag}"'


def _matches(request, etag: str) -> bool:
    return fast_lane.etag_matches(request.headers.get("If-None-Match", ""), etag)


def _conditional(request, body: dict, etag: str) -> Response:
    headers = {
        "ETag": _quoted(etag),
        "Cache-Control": f"private, max-age={settings.VIGIL_GATE_MAX_AGE_SECONDS}",
    }
    if _matches(request, etag):
        return allow_client_caching(Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers))
    return allow_client_caching(Response(body, headers=headers))


def _log_blocked(request, body: dict) -> None:
    if not body["allowed"]:
        logger.info(
            "gate answered blocked: model=%s revision=%s reasons=%s requester=%s",
            body["model"],
            body["revision"],
            ",".join(r["code"] for r in body["reasons"]),
            request.user.get_username(),
        )


class PersonQuerySerializer(serializers.Serializer):
    user = serializers.CharField(
        required=False,
        max_length=150,
        help_text="A trader's (or the desk head's) username: the answer for that person, whose own acknowledgement of "
        "the card counts (and the desk head's), not the whole desk's. Yourself, or a person of your desk when you are "
        "its head or its service account; compliance and auditors: anyone.",
    )


def _subject(request):
    """The person `?user=` names, when the reader may ask about them; None without one; 400 naming `user` for anyone
    absent or hidden alike (the answer reveals nothing about who exists)."""
    query = PersonQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    username = query.validated_data.get("user")
    if not username:
        return None
    subject = get_user_model().objects.select_related("profile__desk").filter(username=username).first()
    if subject is None or not may_ask_about_person(request.user, subject):
        raise serializers.ValidationError({"user": ["No person you may ask about has this username."]})
    return subject


def _for_person(served, model, subject) -> tuple[dict, str]:
    body = acknowledgements.for_person(served.body, model, subject)
    return body, decisions._digest(body)


class GateView(APIView):
    service_account_capability = "gate"

    @extend_schema(
        parameters=[PersonQuerySerializer, IF_NONE_MATCH],
        responses={200: DecisionSerializer, 304: OpenApiResponse(description="The decision you hold stands.")},
    )
    def get(self, request, model_key):
        subject = _subject(request)
        if subject is not None:  # one person's answer: never remembered or replayed by the hot path and fast lane
            model = registry.model_get_for_user(request.user, model_key)
            body, etag = _for_person(decisions.decision_for(model), model, subject)
            _log_blocked(request, body)
            return _conditional(request, body, etag)
        # 404 when out of the reader's scope, as everywhere
        served, stamped = hot_path.serve_stamped(request.user, model_key)
        _log_blocked(request, served.body)
        response = _conditional(request, served.body, served.etag)
        if stamped is not None and served.body["allowed"]:
            response.vigil_replay = fast_lane.Replayable(stamped, served.etag, served.valid_until)
        return response


class DeskQuerySerializer(serializers.Serializer):
    desk = serializers.CharField(max_length=40, help_text="The desk's code.")


class DeskGateView(APIView):
    service_account_capability = "gate"

    @extend_schema(
        parameters=[DeskQuerySerializer, PersonQuerySerializer, IF_NONE_MATCH],
        responses={200: DeskDecisionsSerializer, 304: OpenApiResponse(description="Nothing changed for the desk.")},
    )
    def get(self, request):
        query = DeskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        desk = Desk.objects.filter(code=query.validated_data["desk"]).first()
        if desk is None:
            raise serializers.ValidationError({"desk": ["No desk has this code."]})
        subject = _subject(request)
        models = list(selectors.desk_models(request.user, desk))
        served = decisions.decisions_for(models)
        if subject is None:
            bodies, etags = [served[m.pk].body for m in models], [served[m.pk].etag for m in models]
        else:
            answers = [_for_person(served[m.pk], m, subject) for m in models]
            bodies, etags = [a[0] for a in answers], [a[1] for a in answers]
        for body in bodies:
            _log_blocked(request, body)
        etag = hashlib.sha256("".join(etags).encode()).hexdigest()
        return _conditional(request, {"desk": desk.code, "decisions": bodies}, etag)


# --- The kill switch ------------------------------------------------------------------------------------


class KillSwitchSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.key", allow_null=True, default=None)
    desk = serializers.CharField(source="desk.code", allow_null=True, default=None)
    engaged_by = serializers.CharField(source="engaged_by.username")
    release_requested_by = serializers.CharField(source="release_requested_by.username", allow_null=True, default=None)
    released_by = serializers.CharField(source="released_by.username", allow_null=True, default=None)
    active = serializers.BooleanField()
    versions_suspended = serializers.SerializerMethodField()

    class Meta:
        model = KillSwitch
        fields = [
            "id",
            "scope",
            "model",
            "desk",
            "reason",
            "active",
            "engaged_by",
            "engaged_at",
            "release_requested_by",
            "release_requested_at",
            "released_by",
            "released_at",
            "release_reason",
            "versions_suspended",
        ]

    def get_versions_suspended(self, obj) -> list[str]:
        return [f"{s.version.model.key} {s.version.version}" for s in obj.suspensions.all()]


class EngageSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=KillSwitch.Scope.choices)
    model = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="With scope model.")
    desk = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="With scope desk.")
    reason = serializers.CharField(max_length=5000, style=MULTI_LINE)
    password = serializers.CharField(max_length=200, style={"input_type": "password"}, write_only=True)
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12, write_only=True)

    def validate(self, data):
        try:
            data["model"], data["desk"] = killswitch.scope_targets(data["scope"], data.get("model"), data.get("desk"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return data


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, style=MULTI_LINE)
    password = serializers.CharField(max_length=200, style={"input_type": "password"}, write_only=True)
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12, write_only=True)


def _engagements(user):
    return selectors.engagement_list(user).prefetch_related("suspensions__version__model")


class KillSwitchListView(APIView):
    @extend_schema(responses=page_of(KillSwitchSerializer, "KillSwitchPage"))
    def get(self, request):
        if not reads_kill_switch(request.user):
            raise PermissionDenied("Compliance and auditors read the kill switch.")
        paginator = StandardPagination()
        page = paginator.paginate_queryset(_engagements(request.user), request, view=self)
        return paginator.get_paginated_response(KillSwitchSerializer(page, many=True).data)

    @extend_schema(request=EngageSerializer, responses={201: KillSwitchSerializer})
    def post(self, request):
        if not uses_kill_switch(request.user):
            raise PermissionDenied("Only compliance uses the kill switch.")
        data = EngageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = killswitch.kill_switch_engage(request.user, **data.validated_data)
        engagement = _engagements(request.user).get(pk=engagement.pk)
        return Response(KillSwitchSerializer(engagement).data, status=status.HTTP_201_CREATED)


class KillSwitchDetailView(APIView):
    @extend_schema(responses=KillSwitchSerializer)
    def get(self, request, pk):
        return Response(KillSwitchSerializer(get_object_or_404(_engagements(request.user), pk=pk)).data)


class KillSwitchReleaseView(APIView):
    @extend_schema(
        request=ReleaseSerializer,
        responses={
            200: KillSwitchSerializer,
            202: OpenApiResponse(KillSwitchSerializer, description="Signed; a second compliance signature releases."),
        },
    )
    def post(self, request, pk):
        engagement = get_object_or_404(_engagements(request.user), pk=pk)
        if not uses_kill_switch(request.user):
            raise PermissionDenied("Only compliance releases the kill switch.")
        data = ReleaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = killswitch.kill_switch_release(request.user, engagement, **data.validated_data)
        engagement = _engagements(request.user).get(pk=engagement.pk)
        code = status.HTTP_200_OK if engagement.released_at else status.HTTP_202_ACCEPTED
        return Response(KillSwitchSerializer(engagement).data, status=code)


class KillSwitchTestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run_at = serializers.DateTimeField()
    run_by = serializers.CharField(source="run_by.username", allow_null=True, default=None)
    models_checked = serializers.IntegerField()
    allowed_before = serializers.IntegerField()
    blocked_during = serializers.IntegerField()
    passed = serializers.BooleanField()
    duration_ms = serializers.FloatField()
    detail = serializers.DictField()


class KillSwitchTestListView(APIView):
    @extend_schema(responses=page_of(KillSwitchTestSerializer, "KillSwitchTestPage"))
    def get(self, request):
        if not reads_kill_switch(request.user):
            raise PermissionDenied("Compliance and auditors read the kill-switch tests.")
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.test_list(request.user), request, view=self)
        return paginator.get_paginated_response(KillSwitchTestSerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: KillSwitchTestSerializer})
    def post(self, request):
        if not uses_kill_switch(request.user):
            raise PermissionDenied("Only compliance runs a kill-switch test.")
        test = killswitch.kill_switch_test(request.user)
        return Response(KillSwitchTestSerializer(test).data, status=status.HTTP_201_CREATED)


# --- The model card (issue 24) ------------------------------------------------------------------------------------


class MarkdownRenderer(renderers.BaseRenderer):
    """`text/markdown` (`?format=md`): the card as a Hugging Face style model card."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return card.card_markdown(data).encode("utf-8")  # errors are rendered as JSON (ModelCardView)


class CardPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)


class CardLimitationsSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.CharField()
    out_of_scope_uses = serializers.CharField(allow_blank=True)
    use_restrictions = serializers.CharField(allow_blank=True)
    operating_boundaries = serializers.ListField(child=serializers.DictField())
    known_limitations = serializers.CharField(allow_blank=True)
    conditions_of_use = serializers.CharField(allow_blank=True, help_text="Set by the validator at validation.")
    pilot_limits = PilotLimitsSerializer(allow_null=True, help_text="While the version is in pilot.")


class CardSerializer(serializers.Serializer):
    """The card's data; `card_hash` is the SHA-256 of the canonical JSON of `limitations`."""

    model = serializers.DictField()
    version = serializers.DictField()
    intended_use = serializers.CharField(allow_blank=True)
    problem = serializers.DictField()
    limitations = CardLimitationsSerializer()
    operating_boundaries_text = serializers.ListField(child=serializers.CharField())
    evidence = serializers.DictField()
    monitors = serializers.ListField(child=serializers.DictField())
    people = serializers.DictField()
    kill_switch = serializers.DictField()
    card_hash = serializers.CharField()


class ModelCardView(APIView):
    """The model card of a version, for whoever may see the version (404 otherwise): JSON, or with `?format=md`
    (or `Accept: text/markdown`) YAML front matter and Markdown."""

    renderer_classes = [renderers.JSONRenderer, MarkdownRenderer]

    def handle_exception(self, exc):
        # An error is JSON whatever was asked for, as the schema documents errors everywhere.
        self.request.accepted_renderer, self.request.accepted_media_type = renderers.JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        responses={(200, "application/json"): CardSerializer, (200, "text/markdown"): OpenApiTypes.STR},
    )
    def get(self, request, model_key, version):
        obj = selectors.version_for_card(request.user, model_key, version)
        return Response(card.card_of(obj, request.user))


# --- Acknowledgements of the card (issue 24) ------------------------------------------------------------------------


class QuestionSerializer(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField()


class AcknowledgementSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    parts = serializers.ListField(child=serializers.CharField(), help_text='"traders", "desk_head".')
    card_hash = serializers.CharField()
    acknowledged_at = serializers.DateTimeField()
    answers = serializers.ListField(child=serializers.DictField(), help_text="Each question, the answer, the card's.")

    def get_name(self, obj) -> str:
        return obj.user.get_full_name() or obj.user.get_username()


class CardAcknowledgementsSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="This card's version.")
    current = serializers.BooleanField(help_text="Whether this version's card is the one the gate asks for now.")
    card_hash = serializers.CharField(help_text="The hash of this version's card now.")
    questions = QuestionSerializer(many=True, help_text="The comprehension check to answer (yes or no).")
    acknowledgements = AcknowledgementSerializer(many=True, help_text="Of this card, newest first.")
    missing = serializers.ListField(child=serializers.DictField(), help_text="Asked by the policy, not yet given.")


class AcknowledgeSerializer(serializers.Serializer):
    card_hash = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="The hash of the card you read.")
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=["yes", "no"]), help_text='{"q1": "yes", "q2": "no", ...}.'
    )
    password = serializers.CharField(max_length=200, style={"input_type": "password"}, write_only=True)
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12, write_only=True)


class CardAcknowledgementsView(APIView):
    """Who acknowledged a version's card, and the comprehension check (GET); acknowledge it (POST: a trader of the
    model's desk or its head; 409 naming the current card when this one is not it)."""

    @extend_schema(responses=CardAcknowledgementsSerializer)
    def get(self, request, model_key, version):
        obj = selectors.version_for_card(request.user, model_key, version)
        return Response(_acknowledgements_of(request.user, obj))

    @extend_schema(request=AcknowledgeSerializer, responses={201: AcknowledgementSerializer})
    def post(self, request, model_key, version):
        obj = selectors.version_for_card(request.user, model_key, version)
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ack = acknowledgements.acknowledgement_record(request.user, obj, **data.validated_data)
        return Response(AcknowledgementSerializer(ack).data, status=status.HTTP_201_CREATED)


def _acknowledgements_of(user, version) -> dict:
    state = selectors.card_acknowledgements(user, version)
    return {
        "version": version.version,
        "current": state["current"],
        "card_hash": state["card_hash"],
        "questions": [{"id": q["id"], "text": q["text"]} for q in state["questions"]],
        "acknowledgements": AcknowledgementSerializer(state["acknowledgements"], many=True).data,
        "missing": state["missing"],
    }
