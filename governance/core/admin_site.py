"""Vigil's Django admin: what may be written there is audited, and everything else is read-only.

Two kinds of ModelAdmin are allowed (tests/core/test_admin_audit.py fails on any other):
- `AuditedAdmin`, for who may do what (people, roles, profiles, desks, one-time-password devices, API tokens,
  login lockouts): each add, change and delete is an audit event by the admin's user, with what changed (a
  password or a device's secret only as "changed", never its value), in the admin's transaction.
- `ReadOnlyAdmin`, for governed records, which change only through Vigil's services (they check permissions
  and segregation of duties, and record the reason): the admin shows them and refuses every write.

Role and permission memberships are audited by signals (governance/core/signals.py), whatever changes them;
the site tells those signals who is acting.
"""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction

from governance.core import audit
from governance.core.audit import audit_record, diff, snapshot

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class VigilAdminSite(admin.AdminSite):
    """Every admin request acts as its user for the audit signals, and every write is one transaction with the
    audit events that record it (Django's own password and action views are not atomic by themselves)."""

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(protected)
        def attributed(request, *args, **kwargs):
            with audit.acting(request.user):
                if request.method in SAFE_METHODS:
                    return protected(request, *args, **kwargs)
                with transaction.atomic():
                    return protected(request, *args, **kwargs)

        return attributed

    def password_change(self, request, extra_context=None):
        """A person changing their own password from the admin's header: audited as the admin's reset is."""
        before = request.user.password
        response = super().password_change(request, extra_context)
        change = secret_change(password_state, before, request.user.password)
        if change:
            audit_record(request.user, "admin.password_change", request.user, changes={"password": change})
        return response


def password_state(hashed) -> str:
    return "disabled" if not hashed or hashed.startswith(UNUSABLE_PASSWORD_PREFIX) else "set"


def secret_state(value) -> str:
    return "set" if value else "none"


def secret_change(state, old, new, *, existed=True, exists=True) -> list | None:
    """A secret's change as the audit trail may show it: its state before and after, or "changed"."""
    if existed and exists and old == new:
        return None
    was = state(old) if existed else None
    now = state(new) if exists else None
    return [was, "changed" if was == now else now]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Governed records: shown, never written here (every write goes through a service)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Actions that declare no permission (django-celery-beat's "enable", "run") would otherwise stay
        # available to anyone who may view, and write with queryset.update(), around any audit.
        return {}


class AuditedAdmin(admin.ModelAdmin):
    """Each add, change and delete is an audit event ("admin.add", "admin.change", "admin.delete") by the admin's
    user, about the object, with its fields as {field: [before, after]}. The before is read when the admin
    loads the object (get_object), the after when Django logs the change, inside the view's transaction."""

    # Fields recorded only by their state ("set", "changed"), never by value: {field: state function}.
    audit_secrets: dict = {}

    def get_actions(self, request):
        # Bulk delete logs each object (log_deletions, audited below); other actions would write unaudited.
        return {name: action for name, action in super().get_actions(request).items() if name == "delete_selected"}

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._vigil_audit_before = self.audit_state(obj)
        return obj

    def save_model(self, request, obj, form, change):
        if change and not hasattr(obj, "_vigil_audit_before"):  # list_editable saves objects get_object never saw
            obj._vigil_audit_before = self.audit_state(type(obj)._default_manager.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        self.audit(request, "add", obj, None, self.audit_state(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        # No before means a write path this class does not know: refuse it (the transaction rolls back).
        before = obj.__dict__.pop("_vigil_audit_before")
        self.audit(request, "change", obj, before, self.audit_state(obj))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            # What went with it too: a deletion cascades to memberships without signals.
            self.audit(request, "delete", obj, self.audit_state(obj, with_many=True), None)
        return super().log_deletions(request, queryset)

    def audit_state(self, obj, *, with_many=False) -> dict:
        """The object's fields as the audit trail records them; memberships only when asked (their changes
        are recorded by the signals), secrets raw, to be compared and never recorded."""
        opts = obj._meta
        names = [f.name for f in opts.concrete_fields if not f.primary_key]
        if with_many:
            names += [f.name for f in opts.many_to_many]
        plain = snapshot(obj, [n for n in names if n not in self.audit_secrets])
        return plain | {name: getattr(obj, name) for name in self.audit_secrets}

    def audit_changes(self, before: dict | None, after: dict | None) -> dict:
        def plain(state):
            return {k: v for k, v in (state or {}).items() if k not in self.audit_secrets}

        changes = diff(plain(before), plain(after))
        for name, state in self.audit_secrets.items():
            old, new = (before or {}).get(name), (after or {}).get(name)
            change = secret_change(state, old, new, existed=before is not None, exists=after is not None)
            if change:
                changes[name] = change
        return changes

    def audit_action(self, verb: str, changes: dict) -> str:
        return f"admin.{verb}"

    def audit_subject(self, obj) -> dict:
        """object_type, object_id, object_repr for audit_record when the defaults would not do."""
        return {}

    def audit(self, request, verb, obj, before, after) -> None:
        changes = self.audit_changes(before, after)
        if verb == "change" and not changes:
            return  # saved as it was: nothing to record
        audit_record(request.user, self.audit_action(verb, changes), obj, changes=changes, **self.audit_subject(obj))
