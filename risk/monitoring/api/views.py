"""The monitoring API trading systems and pipelines code against: batches in, series out."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core import moments
from models_registry import selectors as registry
from risk.monitoring import measures, selectors, services
from risk.monitoring.api.batch_serializers import (
    OutcomeBatchSerializer,
    PointBatchSerializer,
    PredictionBatchSerializer,
    TradeBatchSerializer,
)
from risk.monitoring.catalogue import METRICS
from risk.monitoring.inputs import BatchRefused
from risk.monitoring.models import MonitorResult


class StoredSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Rows stored by this request (0 when it repeated an earlier one).")
    rows = serializers.IntegerField(help_text="Rows in the batch.")
    batch = serializers.IntegerField()
    version = serializers.CharField()
    duplicate = serializers.BooleanField(help_text="True when the Idempotency-Key was already accepted.")


class SeriesSerializer(serializers.Serializer):
    metric = serializers.CharField()
    version = serializers.CharField()
    step = serializers.IntegerField(allow_null=True, help_text="Seconds per averaged bucket, or null for raw points.")
    points = serializers.ListField(child=serializers.ListField(), help_text="[timestamp, value] pairs in time order.")
    out_of_range = serializers.IntegerField(
        help_text=f"Points stored with a time outside {moments.RANGE_TEXT} (before the range was enforced): "
        "left out of the series, counted here."
    )


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 200 characters, yours alone (another caller's same key is another batch). The same batch "
    "sent again under it is stored once: 200 with the first batch and duplicate true. Another batch under a key "
    "already used is 409, naming the first batch, and is not stored.",
)


class _BatchView(APIView):
    ingest = None
    service_account_capability = "push"  # trading systems' accounts report here, when compliance allowed it

    def post(self, request, model_key):
        model = registry.model_get_for_user(request.user, model_key)
        key = request.headers.get("Idempotency-Key", "")
        try:
            stored = type(self).ingest(request.user, model, request.data, key)
        except BatchRefused as refused:
            return Response(refused.detail, status=status.HTTP_400_BAD_REQUEST)
        batch = stored.batch
        body = {
            "stored": 0 if stored.duplicate else batch.rows,
            "rows": batch.rows,
            "batch": batch.pk,
            "version": batch.version.version,
            "duplicate": stored.duplicate,
        }
        return Response(body, status=status.HTTP_200_OK if stored.duplicate else status.HTTP_201_CREATED)


class PointsView(_BatchView):
    ingest = staticmethod(services.points_ingest)

    @extend_schema(
        request=PointBatchSerializer, parameters=[IDEMPOTENCY], responses={201: StoredSerializer, 200: StoredSerializer}
    )
    def post(self, request, model_key):
        return super().post(request, model_key)


class TradesView(_BatchView):
    ingest = staticmethod(services.trades_ingest)

    @extend_schema(
        request=TradeBatchSerializer, parameters=[IDEMPOTENCY], responses={201: StoredSerializer, 200: StoredSerializer}
    )
    def post(self, request, model_key):
        return super().post(request, model_key)


class PredictionsView(_BatchView):
    ingest = staticmethod(services.predictions_ingest)

    @extend_schema(
        request=PredictionBatchSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: StoredSerializer, 200: StoredSerializer},
    )
    def post(self, request, model_key):
        return super().post(request, model_key)


class OutcomesView(_BatchView):
    ingest = staticmethod(services.outcomes_ingest)

    @extend_schema(
        request=OutcomeBatchSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: StoredSerializer, 200: StoredSerializer},
    )
    def post(self, request, model_key):
        return super().post(request, model_key)


class SeriesQuerySerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=sorted(METRICS))
    version = serializers.CharField(required=False, max_length=50)
    since = serializers.CharField(
        required=False, max_length=40, help_text=f"ISO 8601 date or time (UTC when no zone), {moments.RANGE_TEXT}."
    )
    until = serializers.CharField(
        required=False, max_length=40, help_text=f"ISO 8601 date or time (excluded), {moments.RANGE_TEXT}."
    )
    step = serializers.IntegerField(required=False, min_value=1, max_value=366 * 86400)

    def validate(self, data):
        errors = {}
        for name in ("since", "until"):
            if name in data:
                try:
                    data[name] = moments.parse(data[name])
                except moments.BadMoment as bad:
                    errors[name] = [str(bad)]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class SeriesView(APIView):
    @extend_schema(parameters=[SeriesQuerySerializer], responses=SeriesSerializer)
    def get(self, request, model_key):
        model = registry.model_get_for_user(request.user, model_key)
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        version = services.monitored_version(model, q.get("version"))
        return Response(services.series(version, q["metric"], q.get("since"), q.get("until"), q.get("step")))


class LatestResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=MonitorResult.Outcome.choices)
    value = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(help_text="Why the data was insufficient, when it was.")
    slot = serializers.DateTimeField(help_text="The schedule tick the result belongs to.")
    evaluated_at = serializers.DateTimeField()
    rows = serializers.IntegerField(help_text="Rows of data the evaluation read.")
    data_from = serializers.DateTimeField(allow_null=True)
    data_to = serializers.DateTimeField(allow_null=True)
    config_hash = serializers.CharField(help_text="SHA-256 of the configuration the evaluation ran with.")
    detail = serializers.DictField()


class MonitorOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField(source="version.version")
    kind = serializers.CharField()
    measure = serializers.CharField()
    stream = serializers.CharField()
    label = serializers.SerializerMethodField()
    direction = serializers.CharField(help_text="'above' alerts on high values, 'below' on low ones.")
    warn = serializers.FloatField()
    breach = serializers.FloatField()
    window = serializers.IntegerField()
    window_unit = serializers.SerializerMethodField()
    min_rows = serializers.IntegerField()
    schedule = serializers.CharField(source="schedule.name")
    config_version = serializers.IntegerField()
    params = serializers.DictField()
    latest = LatestResultSerializer(allow_null=True)

    def get_label(self, monitor) -> str:
        return measures.label(monitor)

    def get_window_unit(self, monitor) -> str:
        return measures.MEASURES[monitor.measure].window_unit


class MonitorsView(APIView):
    @extend_schema(responses=MonitorOutSerializer(many=True))
    def get(self, request, model_key):
        """The monitors of the model's versions in pilot, production or suspended, each with its latest result."""
        model = registry.model_get_for_user(request.user, model_key)
        return Response(MonitorOutSerializer(selectors.model_monitors(request.user, model), many=True).data)
