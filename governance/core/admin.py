"""Admin for reference data (desks, profiles) and a read-only window on the audit trail.

Governed records (models, versions, data sources) are edited through the application, whose services
check permissions and write the audit trail; the admin shows them read-only.
"""

from django.contrib import admin

from governance.core.models import AuditEvent, Desk, UserProfile


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "business_line"]
    search_fields = ["code", "name"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "desk", "title", "senior_manager", "access_from", "access_until"]
    list_select_related = ["user", "desk"]
    autocomplete_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "timestamp", "actor_username", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_username", "object_repr", "object_id"]
