"""/api/v1/skills/: requirements and completions (reads in scope; writes by compliance, 400 naming the field), and
each caller's own requirements with their status."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core import access
from governance.skills import selectors, services
from governance.skills.api.serializers import (
    CompletionInputSerializer,
    CompletionSerializer,
    MySkillSerializer,
    RequirementChangeSerializer,
    RequirementInputSerializer,
    RequirementSerializer,
    RetireSerializer,
)
from governance.skills.models import Completion, Requirement
from models_registry.models import Model


def _model_of(user, values: dict) -> dict:
    """The model named by key (400 on `model` when the caller sees none by it)."""
    if "model" not in values:
        return values
    key = (values.pop("model") or "").strip()
    model = access.restrict(Model.objects.all(), user).filter(key=key).first() if key else None
    if key and model is None:
        raise serializers.ValidationError({"model": ["No model you may see has this key."]})
    return values | {"model": model}


class RequirementListView(generics.ListAPIView):
    """Requirements the caller may see (one model's: only if they see the model)."""

    serializer_class = RequirementSerializer
    queryset = Requirement.objects.none()

    def get_queryset(self):
        return selectors.requirement_list(self.request.user).order_by("duty", "title", "id")

    @extend_schema(request=RequirementInputSerializer, responses={201: RequirementSerializer})
    def post(self, request):
        services.require_manager(request.user)
        data = RequirementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requirement = services.requirement_create(request.user, **_model_of(request.user, dict(data.validated_data)))
        return Response(RequirementSerializer(requirement).data, status=status.HTTP_201_CREATED)


class RequirementDetailView(APIView):
    @extend_schema(responses=RequirementSerializer)
    def get(self, request, pk):
        return Response(RequirementSerializer(selectors.requirement_get_for_user(request.user, pk)).data)

    @extend_schema(request=RequirementChangeSerializer, responses=RequirementSerializer)
    def patch(self, request, pk):
        requirement = selectors.requirement_get_for_user(request.user, pk)
        services.require_manager(request.user)
        data = RequirementChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = _model_of(request.user, dict(data.validated_data))
        changed = services.requirement_change(request.user, requirement, **values)
        return Response(RequirementSerializer(changed).data)


class RequirementRetireView(APIView):
    @extend_schema(request=RetireSerializer, responses=RequirementSerializer)
    def post(self, request, pk):
        requirement = selectors.requirement_get_for_user(request.user, pk)
        services.require_manager(request.user)
        data = RetireSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        retired = services.requirement_retire(request.user, requirement, data.validated_data["reason"])
        return Response(RequirementSerializer(retired).data)


class CompletionListView(generics.ListAPIView):
    """Completions the caller may see: their own; compliance, auditors and administrators every one."""

    serializer_class = CompletionSerializer
    queryset = Completion.objects.none()

    def get_queryset(self):
        return selectors.completion_list(self.request.user)

    @extend_schema(request=CompletionInputSerializer, responses={201: CompletionSerializer})
    def post(self, request):
        services.require_manager(request.user)
        data = CompletionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        requirement = selectors.requirement_list(request.user).filter(pk=values["requirement"]).first()
        if requirement is None:
            raise serializers.ValidationError({"requirement": ["No requirement you may see has this id."]})
        person = get_user_model().objects.filter(username=values["person"], is_active=True).first()
        if person is None:
            raise serializers.ValidationError({"person": ["No active person has this username."]})
        completion = services.completion_record(
            request.user,
            person=person,
            requirement=requirement,
            completed_on=values["completed_on"],
            evidence=values["evidence"],
        )
        return Response(CompletionSerializer(completion).data, status=status.HTTP_201_CREATED)


class MySkillsView(APIView):
    """The caller's requirements in each duty they hold, with their status today."""

    @extend_schema(responses=MySkillSerializer(many=True))
    def get(self, request):
        lines = selectors.person_lines(request.user)
        return Response(MySkillSerializer(lines, many=True).data)
