"""/api/v1/dashboards/widgets/: the widgets a person may see, and each one's rows (JSON, or `?format=csv`), the same
rows as the page, its CSV and its drill-downs, for the firm's own BI tools."""

import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core import widgets
from risk.dashboards import csv_files, selectors
from risk.dashboards.forms import FiltersForm


class WidgetSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    page = serializers.ChoiceField(choices=[page for page, _title in selectors.PAGES])


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class WidgetRowsSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    caption = serializers.CharField()
    as_of = serializers.DateTimeField(
        help_text="The moment the figures describe (UTC): now for today (live), the end of a past day otherwise."
    )
    filters = serializers.DictField(child=serializers.CharField(), help_text="The filters applied, as in the address.")
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each row: the value of each column by its key (codes, as the filters take them), `label` (the "
        "values as people read them), `count`, and `drill_url` (the records it counts).",
    )


class CSVRenderer(renderers.BaseRenderer):
    """The widget's CSV (`?format=csv`): the same file as the page's CSV link."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        drawn = (renderer_context or {}).get("drawn")
        if drawn is None:  # an error answer: its JSON body, as text
            return renderers.JSONRenderer().render(data)
        stream = io.StringIO()
        csv_files.write(stream, drawn, renderer_context["request"].build_absolute_uri("/"))
        return stream.getvalue().encode("utf-8")


class WidgetListView(APIView):
    @extend_schema(responses=WidgetSummarySerializer(many=True), summary="The dashboard widgets you may see")
    def get(self, request):
        found = widgets.visible_widgets(request.user)
        return Response([{"id": w.key, "title": w.title, "page": w.page} for w in found])


FILTER_PARAMETERS = [
    OpenApiParameter("desk", OpenApiTypes.STR, description="A desk's code."),
    OpenApiParameter("business_unit", OpenApiTypes.STR, description="A desk's business line."),
    OpenApiParameter("tier", OpenApiTypes.INT, enum=[1, 2, 3]),
    OpenApiParameter("model_type", OpenApiTypes.STR),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Events from this UTC day."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Events to this UTC day, included."),
]


class WidgetDetailView(APIView):
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses=WidgetRowsSerializer,
        summary="A widget's rows, with the filters applied",
    )
    def get(self, request, key):
        widget = selectors.visible_widget(request.user, key)
        if widget is None:
            raise NotFound()
        form = FiltersForm(request.query_params, request.user)
        if not form.is_valid():
            raise ValidationError(form.errors)
        filters = form.filters()
        drawn = selectors.drawn(request.user, widget, filters)
        widget = drawn.widget  # as drawn for these filters (Widget.for_filters)
        site = request.build_absolute_uri("/").rstrip("/")
        body = {
            "id": widget.key,
            "title": widget.title,
            "caption": drawn.caption,
            "as_of": drawn.made_at,
            "filters": filters.params(),
            "columns": [{"key": key, "label": label} for key, label in widget.columns()],
            "rows": [
                {**row, "label": widget.shown(row), "drill_url": site + url}
                for row, url in zip(drawn.rows, drawn.drill_urls, strict=True)
            ],
        }
        self.drawn = drawn
        return Response(WidgetRowsSerializer(body).data)

    def finalize_response(self, request, response, *args, **kwargs):
        """An error is JSON whatever format was asked (`?format=csv` of a widget one may not see: a 404 in JSON)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer, response.accepted_media_type = renderers.JSONRenderer(), "application/json"
        elif getattr(response.accepted_renderer, "format", "") == "csv" and getattr(self, "drawn", None):
            # A widget's rows as a file (an OPTIONS answer asked as CSV has none to name).
            response["Content-Disposition"] = f'attachment; filename="{csv_files.file_name(self.drawn)}"'
        return response

    def get_renderer_context(self):
        return {**super().get_renderer_context(), "drawn": getattr(self, "drawn", None)}
