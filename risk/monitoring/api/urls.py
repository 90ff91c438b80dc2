from django.urls import re_path

from models_registry.validators import MODEL_KEY_REGEX
from risk.monitoring.api.backfill_views import BackfillDetailView, BackfillListView
from risk.monitoring.api.views import MonitorsView, OutcomesView, PointsView, PredictionsView, SeriesView, TradesView

base = rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/monitoring"
urlpatterns = [
    re_path(rf"{base}/points/$", PointsView.as_view(), name="monitoring-points"),
    re_path(rf"{base}/trades/$", TradesView.as_view(), name="monitoring-trades"),
    re_path(rf"{base}/predictions/$", PredictionsView.as_view(), name="monitoring-predictions"),
    re_path(rf"{base}/outcomes/$", OutcomesView.as_view(), name="monitoring-outcomes"),
    re_path(rf"{base}/series/$", SeriesView.as_view(), name="monitoring-series"),
    re_path(rf"{base}/monitors/$", MonitorsView.as_view(), name="monitoring-monitors"),
    re_path(rf"{base}/backfills/$", BackfillListView.as_view(), name="monitoring-backfills"),
    re_path(rf"{base}/backfills/(?P<pk>[0-9]{{1,18}})/$", BackfillDetailView.as_view(), name="monitoring-backfill"),
]
