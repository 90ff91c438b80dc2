from django.contrib import admin

from governance.core.admin_site import ReadOnlyAdmin
from models_registry.models import DataSource, Model, ModelVersion


@admin.register(Model)
class ModelAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "purpose", "desk", "risk_tier", "status"]
    list_filter = ["risk_tier", "status", "purpose"]
    search_fields = ["key", "name"]
    list_select_related = ["desk"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["model", "version", "status", "created_at"]
    list_select_related = ["model"]


@admin.register(DataSource)
class DataSourceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "classification", "owner"]
