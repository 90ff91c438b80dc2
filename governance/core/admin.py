"""The admin of who may do what (audited) and read-only windows on governed records.

Decisions, model by model (docs/architecture.md, "The admin"):
- audited (AuditedAdmin): people (no deletion: deactivate; a person's records refer to them), roles and
  permission groups (Vigil's role groups keep their names and cannot be deleted), profiles (desk, senior
  manager, access window; no deletion), desks, TOTP devices, login lockouts (a reset deletes the attempts);
- read-only (ReadOnlyAdmin): the audit trail, API tokens (issued, revoked and ended by governance/core/api_tokens.py,
  audited there; Vigil keeps only their digest), django-axes' login logs, and django-celery-beat's periodic tasks
  and schedules (the monitoring schedules are governed: compliance changes them on /monitoring/schedules/,
  audited; the other tasks are Vigil's controls, such as the nightly chain verification, and are created by
  migrations). Governed records of the apps (models_registry/admin.py) are read-only too; the rest (signatures,
  runs, findings, incidents, monitors, policies, exports, the kill switch) are not in the admin at all.
"""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.core import access_window
from governance.core.admin_site import AuditedAdmin, ReadOnlyAdmin, password_state, secret_state
from governance.core.models import ApiToken, AuditEvent, Desk, UserProfile
from governance.core.roles import Role

# --- Who may do what: audited ------------------------------------------------------------------------


@admin.register(Desk)
class DeskAdmin(AuditedAdmin):
    list_display = ["code", "name", "business_line", "head"]
    search_fields = ["code", "name"]


class UserProfileForm(forms.ModelForm):
    class Meta:
        model = UserProfile
        fields = ["user", "desk", "title", "senior_manager", "access_from", "access_until"]

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        start, end = cleaned.get("access_from"), cleaned.get("access_until")
        if user is not None and (start or end):  # the rule compliance's page applies (access_window.py)
            for field, messages in access_window.window_errors(user, start, end).items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(UserProfile)
class UserProfileAdmin(AuditedAdmin):
    form = UserProfileForm
    list_display = ["user", "desk", "title", "senior_manager", "access_from", "access_until"]
    list_select_related = ["user", "desk"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []  # a profile never moves to another person

    def has_delete_permission(self, request, obj=None):
        return False  # deleting one would drop an auditor's access window: change its fields instead


User = get_user_model()


class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    audit_secrets = {"password": password_state}
    # Facts Vigil records, not settings: editable, each save would also cut their microseconds off.
    readonly_fields = ["last_login", "date_joined"]

    def has_delete_permission(self, request, obj=None):
        return False  # people are deactivated, never deleted: signatures and the audit trail name them

    def audit_action(self, verb, changes):
        return "admin.password_change" if verb == "change" and set(changes) == {"password"} else f"admin.{verb}"


class GroupAdmin(AuditedAdmin, DjangoGroupAdmin):
    @staticmethod
    def _is_role(obj) -> bool:
        return obj is not None and obj.name in Role.values

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "name"] if self._is_role(obj) else fields  # roles.py finds its roles by name

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._is_role(obj)


class TOTPDeviceAdmin(AuditedAdmin, OtpTOTPDeviceAdmin):
    audit_secrets = {"key": secret_state}


class AccessAttemptAdmin(AuditedAdmin, AxesAccessAttemptAdmin):
    """Deleting a locked-out attempt lets that person try again: audited. The form data it kept is not copied
    into the trail."""

    audit_fields = ["username", "ip_address", "user_agent", "path_info", "attempt_time", "failures_since_start"]

    def has_change_permission(self, request, obj=None):
        return False

    def audit_state(self, obj, *, with_many=False) -> dict:
        return {name: value for name, value in super().audit_state(obj).items() if name in self.audit_fields}


# --- Records: read-only --------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are issued to their holder (the token endpoint) or to a service account by compliance, and ended on
    the holder's page or by the events that end them (governance/core/api_tokens.py), each audited there: the admin
    shows them, never their secret (Vigil keeps only its digest)."""

    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_reason"]
    list_filter = ["revoked_reason"]
    search_fields = ["user__username", "prefix"]
    exclude = ["digest"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "timestamp", "actor_username", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_username", "object_repr", "object_id"]


def _replace(model, admin_class) -> None:
    admin.site.unregister(model)
    admin.site.register(model, admin_class)


def _read_only(model) -> None:
    """The admin a library registered for `model`, with every write refused."""
    library_admin = type(admin.site.get_model_admin(model))
    _replace(model, type(f"ReadOnly{library_admin.__name__}", (ReadOnlyAdmin, library_admin), {}))


# The libraries registered theirs first (INSTALLED_APPS order); Vigil's replace them.
_replace(User, UserAdmin)
_replace(Group, GroupAdmin)
_replace(TOTPDevice, TOTPDeviceAdmin)
_replace(AccessAttempt, AccessAttemptAdmin)
for _model in (
    AccessLog,
    AccessFailureLog,
    PeriodicTask,
    IntervalSchedule,
    CrontabSchedule,
    SolarSchedule,
    ClockedSchedule,
):
    _read_only(_model)
