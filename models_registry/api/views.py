"""Inventory endpoints. Thin: validate with a serializer, call one service or selector, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from governance.core import access as perms
from models_registry import selectors, services
from models_registry.api import serializers as s
from models_registry.filters import DataSourceFilterSet, ModelFilterSet
from models_registry.models import DataSource, Model, ModelVersion
from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX


class ModelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Models in the inventory, addressed by their stable key. There is no delete: retire a model instead."""

    lookup_field = "key"
    lookup_value_regex = MODEL_KEY_REGEX
    filterset_class = ModelFilterSet
    serializer_class = s.ModelSummarySerializer
    queryset = Model.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.model_list(self.request.user)

    @extend_schema(responses=s.ModelSummarySerializer(many=True))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _detail(self, model, code=status.HTTP_200_OK):
        user = self.request.user
        context = {
            **self.get_serializer_context(),
            "upstream": [m.key for m in selectors.upstream_models(user, model)],
            "downstream": [m.key for m in selectors.downstream_models(user, model)],
        }
        return Response(s.ModelDetailSerializer(model, context=context).data, status=code)

    @extend_schema(responses=s.ModelDetailSerializer)
    def retrieve(self, request, key=None):
        return self._detail(selectors.model_get_for_user(request.user, key))

    @extend_schema(request=s.ModelWriteSerializer, responses={201: s.ModelDetailSerializer})
    def create(self, request):
        serializer = s.ModelWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        model = services.model_create(request.user, **serializer.validated_data)
        return self._detail(selectors.model_get_for_user(request.user, model.key), status.HTTP_201_CREATED)

    @extend_schema(request=s.ModelUpdateSerializer, responses=s.ModelDetailSerializer)
    def partial_update(self, request, key=None):
        model = selectors.model_get_for_user(request.user, key)
        perms.require(request.user, perms.CHANGE, model)
        serializer = s.ModelUpdateSerializer(
            model, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.model_update(request.user, model, **serializer.validated_data)
        return self._detail(selectors.model_get_for_user(request.user, key))


class ModelVersionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Versions of one model. A version is frozen once it leaves draft; editing it then answers 409."""

    lookup_field = "version"
    lookup_value_regex = VERSION_REGEX
    serializer_class = s.ModelVersionSerializer
    queryset = ModelVersion.objects.none()
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "version"]
    search_fields = ["version", "code_revision"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _model(self):
        return selectors.model_get_for_user(self.request.user, self.kwargs["model_key"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        return selectors.version_list(self.request.user, self._model()).prefetch_related("data_links")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            visible = perms.restrict(DataSource.objects.all(), self.request.user).values_list("pk", flat=True)
            context["visible_source_ids"] = set(visible)
        return context

    def _render(self, version, code=status.HTTP_200_OK):
        version = selectors.version_get_for_user(self.request.user, version.model, version.version)
        return Response(s.ModelVersionSerializer(version, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, model_key=None, version=None):
        return self._render(selectors.version_get_for_user(request.user, self._model(), version))

    @extend_schema(request=s.ModelVersionWriteSerializer, responses={201: s.ModelVersionSerializer})
    def create(self, request, model_key=None):
        model = self._model()
        perms.require(request.user, perms.ADD_VERSION, model)
        serializer = s.ModelVersionWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        version = services.version_create(request.user, model, **serializer.validated_data)
        return self._render(version, status.HTTP_201_CREATED)

    @extend_schema(request=s.ModelVersionUpdateSerializer, responses=s.ModelVersionSerializer)
    def partial_update(self, request, model_key=None, version=None):
        obj = selectors.version_get_for_user(request.user, self._model(), version)
        perms.require(request.user, perms.ADD_VERSION, obj.model)
        serializer = s.ModelVersionUpdateSerializer(
            obj, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return self._render(services.version_update(request.user, obj, **serializer.validated_data))


class DataSourceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The data governance register. Restricted sources are listed only for users granted them."""

    serializer_class = s.DataSourceSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = DataSourceFilterSet
    queryset = DataSource.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.data_source_list(self.request.user)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(selectors.data_source_get_for_user(request.user, pk)).data)

    @extend_schema(request=s.DataSourceWriteSerializer, responses={201: s.DataSourceSerializer})
    def create(self, request):
        serializer = s.DataSourceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = services.data_source_create(request.user, **serializer.validated_data)
        return Response(self.get_serializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DataSourceUpdateSerializer, responses=s.DataSourceSerializer)
    def partial_update(self, request, pk=None):
        source = selectors.data_source_get_for_user(request.user, pk)
        perms.require(request.user, perms.CHANGE, source)
        serializer = s.DataSourceUpdateSerializer(source, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(
            self.get_serializer(services.data_source_update(request.user, source, **serializer.validated_data)).data
        )
