"""/api/v1/threads/: review threads on governed records (thin views over services.py)."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.single_line import MULTI_LINE
from risk.incidents.models import Incident
from risk.threads import rendering, selectors, services, targets
from risk.threads.models import Comment, Thread


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    reply_to = serializers.IntegerField(source="reply_to_id", allow_null=True)
    mentions = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    html = serializers.SerializerMethodField(help_text="The body rendered from Markdown and sanitised.")

    class Meta:
        model = Comment
        fields = ["id", "kind", "author", "body", "html", "reply_to", "mentions", "created_at", "edited_at"]

    def get_html(self, comment) -> str:
        return rendering.render(comment.body)


class ThreadSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    model = serializers.CharField(source="model.key")
    version = serializers.CharField(source="version.version", allow_null=True, default=None)
    opened_by = serializers.CharField(source="opened_by.username")
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True, default=None)
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    finding = serializers.IntegerField(source="finding_id", allow_null=True)

    class Meta:
        model = Thread
        fields = [
            "id",
            "reference",
            "target_kind",
            "target_id",
            "model",
            "version",
            "title",
            "status",
            "challenge",
            "opened_by",
            "opened_at",
            "resolved_by",
            "resolved_at",
            "incident",
            "finding",
        ]


class ThreadDetailSerializer(ThreadSerializer):
    comments = CommentSerializer(many=True, read_only=True)

    class Meta(ThreadSerializer.Meta):
        fields = [*ThreadSerializer.Meta.fields, "comments"]


class OpenSerializer(serializers.Serializer):
    target_kind = serializers.ChoiceField(choices=["version", "run", "finding", "incident", "monitor"])
    target_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    title = serializers.CharField(max_length=services.TITLE_LIMIT)
    body = serializers.CharField(max_length=services.BODY_LIMIT, style=MULTI_LINE, help_text="Markdown; @username.")


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_LIMIT, style=MULTI_LINE, help_text="Markdown; @username.")
    reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)


class EditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_LIMIT, style=MULTI_LINE)


class SettleSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.BODY_LIMIT, style=MULTI_LINE)


class IncidentSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Incident.Severity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=9000, style=MULTI_LINE)


class FindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["high", "medium", "low"])
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=9000, style=MULTI_LINE)
    owner = serializers.CharField(max_length=150, help_text="Username of the model's owner or one of its developers.")
    due_date = serializers.DateField()


def _detail(user, pk):
    return selectors.thread_get_for_user(user, pk)


def _answer(user, pk, code=status.HTTP_200_OK):
    return Response(ThreadDetailSerializer(_detail(user, pk)).data, status=code)


class ThreadListView(generics.ListAPIView):
    """Threads on records the caller may see, newest first; `?target_kind=run&target_id=12` for one record's."""

    serializer_class = ThreadSerializer
    queryset = Thread.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("target_kind", str, enum=["version", "run", "finding", "incident", "monitor"]),
            OpenApiParameter("target_id", int),
            OpenApiParameter("model", str, description="A model's key."),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        qs = selectors.thread_list(self.request.user)
        errors = {}
        kind = params.get("target_kind")
        if kind is not None:
            if targets.get(kind) is None:
                errors["target_kind"] = [f"Choose one of: {', '.join(targets.kinds())}."]
            else:
                qs = qs.filter(target_kind=kind)
        if params.get("target_id") is not None:
            value = params["target_id"]
            if not value.isdigit() or len(value) > 18:
                errors["target_id"] = ["Give a record's id."]
            else:
                qs = qs.filter(target_id=int(value))
        if params.get("model"):
            qs = qs.filter(model__key=params["model"][:100])
        if errors:
            raise serializers.ValidationError(errors)
        return qs

    @extend_schema(request=OpenSerializer, responses={201: ThreadDetailSerializer})
    def post(self, request):
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        thread = services.thread_open(request.user, v["target_kind"], v["target_id"], title=v["title"], body=v["body"])
        return _answer(request.user, thread.pk, status.HTTP_201_CREATED)


class ThreadDetailView(APIView):
    @extend_schema(responses=ThreadDetailSerializer)
    def get(self, request, pk):
        thread = _detail(request.user, pk)
        services.thread_read(request.user, thread)
        return Response(ThreadDetailSerializer(thread).data)


class ThreadCommentsView(APIView):
    @extend_schema(request=CommentInputSerializer, responses={201: ThreadDetailSerializer})
    def post(self, request, pk):
        thread = _detail(request.user, pk)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply_to = None
        if data.validated_data.get("reply_to"):
            reply_to = Comment.objects.filter(thread=thread, pk=data.validated_data["reply_to"]).first()
            if reply_to is None:
                raise serializers.ValidationError({"reply_to": ["Reply to a comment of this thread."]})
        services.comment_add(request.user, thread, data.validated_data["body"], reply_to=reply_to)
        return _answer(request.user, pk, status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    @extend_schema(request=EditSerializer, responses=ThreadDetailSerializer)
    def patch(self, request, pk, comment_pk):
        thread = _detail(request.user, pk)
        comment = get_object_or_404(Comment.objects.filter(thread=thread), pk=comment_pk)
        data = EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.comment_edit(request.user, comment, data.validated_data["body"])
        return _answer(request.user, pk)


class ThreadResolveView(APIView):
    @extend_schema(request=SettleSerializer, responses=ThreadDetailSerializer)
    def post(self, request, pk):
        return _settle(request, pk, services.thread_resolve)


class ThreadReopenView(APIView):
    @extend_schema(request=SettleSerializer, responses=ThreadDetailSerializer)
    def post(self, request, pk):
        return _settle(request, pk, services.thread_reopen)


def _settle(request, pk, service):
    thread = _detail(request.user, pk)
    data = SettleSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    service(request.user, thread, data.validated_data.get("note", ""))
    return _answer(request.user, pk)


class ThreadIncidentView(APIView):
    @extend_schema(request=IncidentSerializer, responses={201: ThreadDetailSerializer})
    def post(self, request, pk):
        thread = _detail(request.user, pk)
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.thread_raise_incident(request.user, thread, **data.validated_data)
        return _answer(request.user, pk, status.HTTP_201_CREATED)


class ThreadFindingView(APIView):
    @extend_schema(request=FindingSerializer, responses={201: ThreadDetailSerializer})
    def post(self, request, pk):
        thread = _detail(request.user, pk)
        data = FindingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["owner"] = get_user_model().objects.filter(username=values["owner"]).first()
        services.thread_raise_finding(request.user, thread, **values)
        return _answer(request.user, pk, status.HTTP_201_CREATED)
