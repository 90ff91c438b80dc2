"""Authentication events go to the audit trail (ESIG-04): successful logins, logouts and failed attempts; and so
do changes to who holds which role or permission, whatever made them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from governance.core import audit
from governance.core.audit import audit_record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit_record(user, "auth.login", user, object_type="auth.user", object_repr=user.get_username())


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(user, "auth.logout", user, object_type="auth.user", object_repr=user.get_username())


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Record the name that was tried, never the password; link the account when it exists.
    username = str(credentials.get("username", ""))[:150]
    account = get_user_model().objects.filter(username=username).first()
    audit_record(
        None,
        "auth.login_failed",
        None,
        object_type="auth.user",
        object_id=str(account.pk) if account else "",
        object_repr=username or "(blank)",
    )


def _group_names(pks) -> list[str]:
    return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))


def _permission_names(pks) -> list[str]:
    rows = Permission.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")
    return sorted(f"{app}.{codename}" for app, codename in rows)


def _audit_membership(holder_model, field: str, action_name: str, key: str, names_of):
    """Audit one many-to-many that decides who may do what (a person's roles, a person's or a role's
    permissions), from the admin or a shell, whichever side changed it (user.groups.add(g) or
    g.user_set.add(u)): one event per holder that gained or lost, by whoever is acting."""

    def record(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action not in ("post_add", "post_remove", "pre_clear"):
            return  # pre_clear, not post_clear: afterwards nobody can say what was cleared
        if reverse:  # `instance` is the role or permission; the holders are in pk_set
            holders = holder_model.objects.filter(
                **({field: instance} if action == "pre_clear" else {"pk__in": pk_set})
            )
            changed = {holder: names_of([instance.pk]) for holder in holders}
        else:
            pks = getattr(instance, field).values_list("pk", flat=True) if action == "pre_clear" else pk_set
            changed = {instance: names_of(pks)}
        for holder, names in changed.items():
            if not names:
                continue  # adding what is already held, or clearing nothing, changes nothing
            change = [None, names] if action == "post_add" else [names, None]
            audit_record(audit.acting_actor(), action_name, holder, changes={key: change})

    m2m_changed.connect(record, sender=getattr(holder_model, field).through, weak=False)


User = get_user_model()
_audit_membership(User, "groups", "user.roles_changed", "roles", _group_names)
_audit_membership(User, "user_permissions", "user.permissions_changed", "permissions", _permission_names)
_audit_membership(Group, "permissions", "group.permissions_changed", "permissions", _permission_names)
