"""Who may see and do what: the one access registry (ARCHITECTURE.md, Roles).

Every page, endpoint, export, admin action and task asks the same three questions here:
- restrict(queryset, user, action): the objects the user may act on, filtered in SQL;
- get_for_user(queryset, user, **lookup): one visible object, or Http404 (absent and invisible look alike);
- require(user, action, obj): PermissionDenied (403) when a visible object may not be acted on.

The core knows no feature model. Each app registers, in its AppConfig.ready(), a scope rule per model
(`register(Model, rule)`, where `rule(user, action)` answers a Q, or None for "everything") in its own
`access.py`; restrict() looks the rule up by the queryset's model (NetBox's RestrictedQuerySet pattern),
never by a switch on the class. Apps also register the guardian group-grant tables they use (so a
person's roles and group grants are read in one query) and which audit events a person may read.
"""

from collections.abc import Callable

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.http import Http404

from governance.core import access_window, roles
from governance.core.models import UserProfile
from governance.core.roles import SEES_EVERYTHING, Role, user_roles

# Action names shared by every app's rules.
VIEW, CHANGE, ADD_VERSION, VALIDATE = "view", "change", "add_version", "validate"

ScopeRule = Callable[[object, str], Q | None]

_rules: dict[type, ScopeRule] = {}
_audit_scopes: dict[str, Callable[[object], QuerySet]] = {}


def register(model_class: type, rule: ScopeRule) -> None:
    """Declare how `model_class` objects are scoped: rule(user, action) -> Q over the model, or None for all."""
    _rules[model_class] = rule


def register_group_grant_table(table: type) -> None:
    """A guardian group-object-permission table whose grants count for the members of a group."""
    roles.register_group_grant_table(table)


def register_audit_scope(object_type: str, visible: Callable[[object], QuerySet]) -> None:
    """Audit events about `object_type` ("app_label.model") are readable by whoever may see the object:
    `visible(user)` answers the visible objects' queryset."""
    _audit_scopes[object_type] = visible


def is_active(user) -> bool:
    """Signed in, active and, for an auditor, inside their access window."""
    signed_in = bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)
    return signed_in and not access_window.refusal(user)


def sees_everything(user) -> bool:
    """Compliance, auditors and administrators read the whole inventory."""
    return is_active(user) and (user.is_superuser or bool(user_roles(user) & SEES_EVERYTHING))


class FirmWide:
    """The whole firm as Vigil's own scheduled jobs read it (the daily snapshot of key risk indicators): every
    record, as an administrator sees them. Not a person and not a user row: nothing a request carries becomes it."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    is_staff = False
    pk = id = None
    _vigil_access_window = (None, None)  # no auditor's window to read
    _vigil_roles = frozenset()

    def get_username(self) -> str:
        return "vigil-system"


FIRM_WIDE = FirmWide()


def reads_firm_dashboards(user) -> bool:
    """The firm's dashboards (model risk, monitoring health, incidents and controls): compliance, auditors inside
    their window, administrators and senior managers, who answer to the board for these figures. Every count on them
    is still taken through `restrict`: a senior manager without a role sees the figures of what they may see."""
    if not is_active(user):
        return False
    return user.is_superuser or bool(user_roles(user) & SEES_EVERYTHING) or is_senior_manager(user)


def is_senior_manager(user) -> bool:
    """An active person flagged as holding a senior management function (UserProfile.senior_manager): signs the
    RTS 6 self-assessment, reads it and the firm's dashboards. Read once per request (kept on the user object)."""
    if not is_active(user):
        return False
    cached = getattr(user, "_vigil_senior_manager", None)
    if cached is None:
        cached = user._vigil_senior_manager = UserProfile.objects.filter(user_id=user.pk, senior_manager=True).exists()
    return cached


def restrict(queryset: QuerySet, user, action: str = VIEW) -> QuerySet:
    """Filter `queryset` in the database to what `user` may `action`, by the rule its app registered."""
    rule = _rules.get(queryset.model)
    if rule is None:
        raise TypeError(f"No access rule is registered for {queryset.model.__name__}.")
    if not is_active(user):
        return queryset.none()
    q = rule(user, action)
    return queryset if q is None else queryset.filter(q)


def get_for_user(queryset: QuerySet, user, **lookup):
    """One visible object, or Http404 whether it is absent or merely out of the user's scope."""
    try:
        return restrict(queryset, user, VIEW).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404("Not found.") from None


def can(user, action: str, obj) -> bool:
    """One object check, answered by the same rule as restrict() (one query)."""
    if obj is None or obj.pk is None:
        return False
    return restrict(type(obj).objects.filter(pk=obj.pk), user, action).exists()


def require(user, action: str, obj) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} {obj}.")


def may_publish_policy(user) -> bool:
    """Compliance publishes the governance policy."""
    return Role.COMPLIANCE in user_roles(user)


def manages_service_accounts(user) -> bool:
    """Compliance creates service accounts, scopes them and issues their tokens (nobody else learns of them)."""
    return Role.COMPLIANCE in user_roles(user)


def reads_only_own_audit_events(user) -> bool:
    """Without a role, or a trader only: their own logins and actions, nothing about models."""
    roles = user_roles(user)
    return not roles or roles == {Role.TRADER}


def can_manage_access(user) -> bool:
    """Compliance grants and revokes access by hand (and the site administrator)."""
    return is_active(user) and (user.is_superuser or Role.COMPLIANCE in user_roles(user))


# --- Audit events a person may read ------------------------------------------------------------------


def can_read_audit_trail(user) -> bool:
    """The whole trail, firm-wide (the audit trail page, its CSV, the chain check): compliance, auditors inside their
    access window and administrators. Everyone else reads the events of what they may see (audit_scope_q)."""
    return sees_everything(user)


def ids_as_text(queryset: QuerySet) -> QuerySet:
    """Primary keys as text, to match the audit trail's text object ids."""
    return queryset.annotate(text_id=Cast("pk", CharField())).values("text_id")


def audit_scope_q(user) -> Q:
    """Audit events about objects the user may see (each app registered its object types), or by the user."""
    q = Q(actor=user)
    for object_type, visible in _audit_scopes.items():
        q |= Q(object_type=object_type, object_id__in=ids_as_text(visible(user)))
    return q


# --- Guardian grants (the tables are each app's; the mechanics are shared) ------------------------------

_permission_ids: dict[tuple[str, str], int] = {}


def permission_id(model_class, codename: str) -> int:
    """The id of a permission, cached per process (cleared after migrate/flush, when ids may change).

    A literal id, rather than a join on auth_permission, lets PostgreSQL estimate grant counts from the
    index statistics and pick the right plan for lists of tens of thousands of models.
    """
    key = (model_class._meta.label_lower, codename)
    if key not in _permission_ids:
        ct = ContentType.objects.get_for_model(model_class)
        _permission_ids[key] = Permission.objects.get(content_type=ct, codename=codename).pk
    return _permission_ids[key]


@receiver(post_migrate)
def _forget_permission_ids(**kwargs):
    _permission_ids.clear()


def grant_q(user, perm_models, codename: str, prefix: str = "") -> Q:
    """Q matching objects on which the user, or one of the user's groups, holds `codename`.

    Uncorrelated IN-subqueries on purpose: PostgreSQL hashes each granted-id set once ("hashed SubPlan")
    and probes it per row, where correlated EXISTS clauses joined by OR were re-run for every row
    (bench/inventory_list.py: 389 ms against 32 ms unfiltered on 50,000 models). The group clause is left
    out for people none of whose groups holds a grant (Vigil itself writes per-user grants): a lone IN
    lets PostgreSQL merge-join the grants, a third faster on the count of a large inventory.
    """
    user_perm, group_perm = perm_models
    pid = permission_id(user_perm._meta.get_field("content_object").related_model, codename)
    direct = user_perm.objects.filter(user=user, permission_id=pid).values("content_object_id")
    q = Q(**{f"{prefix}pk__in": direct})
    if _groups_hold_grants(user, group_perm):
        via_group = group_perm.objects.filter(group__user=user, permission_id=pid)
        q |= Q(**{f"{prefix}pk__in": via_group.values("content_object_id")})
    return q


def _groups_hold_grants(user, group_perm) -> bool:
    """Whether any group of the user holds an object grant in `group_perm` (read with the user's roles)."""
    user_roles(user)
    known = getattr(user, "_vigil_group_grants", None) or {}
    return known.get(group_perm._meta.label, True)  # unknown: keep the group clause, never hide a grant


def _permissions(model_class, codenames) -> dict[str, Permission]:
    ct = ContentType.objects.get_for_model(model_class)
    return {p.codename: p for p in Permission.objects.filter(content_type=ct, codename__in=set(codenames))}


def sync_grants(perm_model, obj, desired: set[tuple[int, str]], codenames: dict[str, str]) -> tuple[set, set]:
    """Make the user grant rows on `obj` exactly `desired` {(user_id, action)}; bulk writes, no loops of saves.

    The only writer of guardian grants: apps call it with their own tables and codenames."""
    perms = _permissions(type(obj), codenames.values())
    by_id = {perms[code].id: action for action, code in codenames.items()}
    existing_rows = perm_model.objects.filter(content_object=obj, permission__in=perms.values())
    existing = {(row.user_id, by_id[row.permission_id]): row.pk for row in existing_rows}
    to_add = desired - existing.keys()
    to_remove = existing.keys() - desired
    if to_remove:
        perm_model.objects.filter(pk__in=[existing[key] for key in to_remove]).delete()
    if to_add:
        perm_model.objects.bulk_create(
            [perm_model(user_id=uid, permission=perms[codenames[action]], content_object=obj) for uid, action in to_add]
        )
    return to_add, to_remove
