"""Lifecycle transitions over the API. Thin: serializers in, services out."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.lifecycle import selectors, workflow
from governance.lifecycle.api import serializers as gs
from models_registry import selectors as registry


def _state(user, version) -> dict:
    return {
        "model": version.model.key,
        "version": version.version,
        "status": version.status,
        "history": gs.TransitionSerializer(selectors.version_history(version), many=True).data,
        "available_actions": gs.AvailableActionSerializer(workflow.available_actions(user, version), many=True).data,
    }


class VersionTransitionView(APIView):
    """The lifecycle of one version: GET its history and what you may do; POST an action."""

    @extend_schema(responses=gs.TransitionStateSerializer)
    def get(self, request, model_key, version):
        obj = registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, model_key), version)
        return Response(_state(request.user, obj))

    @extend_schema(request=gs.TransitionRequestSerializer, responses=gs.TransitionStateSerializer)
    def post(self, request, model_key, version):
        obj = registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, model_key), version)
        serializer = gs.TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moved = workflow.version_transition(request.user, obj, data.pop("action"), **data)
        return Response(_state(request.user, moved))
