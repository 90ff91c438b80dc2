from django.urls import re_path

from models_registry.validators import MODEL_KEY_REGEX
from risk.monitoring import backfill_pages

app_name = "monitoring_backfill"

urlpatterns = [
    re_path(rf"^monitoring/backfills/(?P<key>{MODEL_KEY_REGEX})/$", backfill_pages.backfill_page, name="page"),
]
