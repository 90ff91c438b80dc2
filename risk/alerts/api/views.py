"""/api/v1/alerts/ (the log, with each webhook attempt), /api/v1/alerts/mutes/ (a person's mutes) and
/api/v1/webhooks/ (receivers: compliance manages, auditors read). Thin views over services.py."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.api.fields import SafeSlugRelatedField
from governance.core.models import Desk
from governance.core.single_line import MULTI_LINE
from risk.alerts import routing, selectors, services
from risk.alerts.access import reads_webhooks
from risk.alerts.filters import AlertFilterSet
from risk.alerts.models import Alert, Kind, WebhookEndpoint


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField(source="endpoint.name")
    status = serializers.CharField()
    attempts = AttemptSerializer(source="attempt_list", many=True)
    next_attempt_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class AlertSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    model = serializers.CharField(source="model.key", allow_null=True, default=None)
    version = serializers.CharField(source="version.version", allow_null=True, default=None)
    desk = serializers.CharField(source="desk.code", allow_null=True, default=None)

    class Meta:
        model = Alert
        fields = ["id", "reference", "kind", "severity", "title", "message", "url", "model", "version", "desk"]
        fields += ["occurred_at", "created_at"]


class AlertDetailSerializer(AlertSerializer):
    recipients = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    deliveries = serializers.SerializerMethodField(
        help_text="Each webhook delivery and its attempts (compliance and auditors; null for others)."
    )

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "recipients", "deliveries"]

    @extend_schema_field(DeliverySerializer(many=True, allow_null=True))
    def get_deliveries(self, alert):
        shown = self.context.get("deliveries")
        return None if shown is None else DeliverySerializer(shown, many=True).data


class AlertListView(generics.ListAPIView):
    """Alerts the caller may see, newest first; filter by kind, severity, model key, since/until."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    queryset = Alert.objects.none()
    filter_backends = [DjangoFilterBackend]  # the filters above only: no free-text search, no client ordering

    def get_queryset(self):
        return selectors.alert_list(self.request.user)


class AlertDetailView(APIView):
    @extend_schema(responses=AlertDetailSerializer)
    def get(self, request, pk):
        alert = selectors.alert_get(request.user, pk)
        shown = selectors.deliveries_of(alert) if reads_webhooks(request.user) else None
        return Response(AlertDetailSerializer(alert, context={"deliveries": shown}).data)


class MutesSerializer(serializers.Serializer):
    muted = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=len(Kind.values),
        help_text=f"Kinds not to be told about. Never: {', '.join(sorted(routing.NEVER_MUTED))}.",
    )


class MutesView(APIView):
    """The caller's muted kinds (a breach on a model they own, develop or validate reaches them regardless)."""

    @extend_schema(responses=MutesSerializer)
    def get(self, request):
        return Response({"muted": sorted(services.mutes_of(request.user))})

    @extend_schema(request=MutesSerializer, responses=MutesSerializer)
    def put(self, request):
        data = MutesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"muted": sorted(services.mutes_set(request.user, data.validated_data["muted"]))})


class EndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        source="display_url", help_text="The receiver's URL with its user:password and query-string values hidden."
    )
    desk = serializers.CharField(source="desk.code", allow_null=True, default=None)
    active = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "desk", "kinds", "active", "created_by", "created_at"]
        fields += ["secret_rotated_at", "disabled_at"]


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="Shown on this answer only.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class EndpointWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.CharField(
        max_length=500,
        help_text="http:// or https://, to a public address or a network the deployment allows "
        "(VIGIL_OUTBOUND_ALLOWED_NETWORKS); never shown back with its credentials or query values.",
    )
    desk = SafeSlugRelatedField(slug_field="code", queryset=Desk.objects.all(), required=False, allow_null=True)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Kind.choices), required=False, max_length=len(Kind.values)
    )


class DisableSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, style=MULTI_LINE)


def _endpoint(request, pk) -> WebhookEndpoint:
    if not reads_webhooks(request.user):
        raise NotFound()
    return selectors.endpoint_get(request.user, pk)


def _with_secret(endpoint, secret) -> dict:
    endpoint.secret = secret
    return EndpointWithSecretSerializer(endpoint).data


class EndpointListView(APIView):
    @extend_schema(responses=EndpointSerializer(many=True))
    def get(self, request):
        if not reads_webhooks(request.user):
            raise NotFound()
        return Response(EndpointSerializer(selectors.endpoint_list(request.user), many=True).data)

    @extend_schema(request=EndpointWriteSerializer, responses={201: EndpointWithSecretSerializer})
    def post(self, request):
        if not reads_webhooks(request.user):
            raise NotFound()
        data = EndpointWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_create(request.user, **data.validated_data)
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)


class EndpointDetailView(APIView):
    @extend_schema(responses=EndpointSerializer)
    def get(self, request, pk):
        return Response(EndpointSerializer(_endpoint(request, pk)).data)


class EndpointRotateView(APIView):
    @extend_schema(request=None, responses=EndpointWithSecretSerializer)
    def post(self, request, pk):
        endpoint = _endpoint(request, pk)
        secret = services.webhook_rotate_secret(request.user, endpoint)
        endpoint.refresh_from_db()
        return Response(_with_secret(endpoint, secret))


class EndpointDisableView(APIView):
    @extend_schema(request=DisableSerializer, responses=EndpointSerializer)
    def post(self, request, pk):
        endpoint = _endpoint(request, pk)
        data = DisableSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            EndpointSerializer(services.webhook_disable(request.user, endpoint, **data.validated_data)).data
        )
