"""Authentication events go to the audit trail (ESIG-04): successful logins, logouts and failed attempts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

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


@receiver(m2m_changed, sender=get_user_model().groups.through)
def audit_role_change(sender, instance, action, pk_set, reverse, **kwargs):
    """Role grants and removals (from the admin or a shell) are permission changes: audit them."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return  # adding roles the user already holds changes nothing
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    change = {"post_add": [None, names], "post_remove": [names, None], "post_clear": ["all", None]}[action]
    audit_record(
        None,
        "user.roles_changed",
        instance,
        object_type="auth.user",
        object_repr=instance.get_username(),
        changes={"roles": change},
    )
