"""Vigil's roles. Each role is a Django group created by a data migration (0002_roles).

What a role may see and do is decided in governance/permissions.py; this module only answers
"which roles does this user hold", cached on the user object for the length of a request.
"""

from django.db import models


class Role(models.TextChoices):
    DEVELOPER = "developer", "Model developer"
    OWNER = "owner", "Model owner"
    VALIDATOR = "validator", "Validator"
    COMPLIANCE = "compliance", "Compliance officer"
    AUDITOR = "auditor", "Auditor"
    TRADER = "trader", "Trader"


# Roles that see the whole inventory regardless of object grants.
SEES_EVERYTHING = frozenset({Role.COMPLIANCE, Role.AUDITOR})
# Roles allowed to register new models (ARCHITECTURE.md roles table).
CREATES_MODELS = frozenset({Role.DEVELOPER, Role.OWNER, Role.COMPLIANCE})
# Roles allowed to register data sources in the data governance register.
CREATES_DATA_SOURCES = frozenset({Role.DEVELOPER, Role.OWNER, Role.COMPLIANCE})


def user_roles(user) -> frozenset[str]:
    """The role names the user holds; empty for anonymous or inactive users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_vigil_roles", None)
    if cached is None:
        _load_memberships(user)
        cached = user._vigil_roles
    return cached


def _load_memberships(user) -> None:
    """Cache on the user, in one query: their role names, and whether any of their groups holds object
    grants (governance.permissions leaves the group clause out of its filters when none does)."""
    from django.db.models import Exists, OuterRef

    from models_registry.models import DataSourceGroupObjectPermission, ModelGroupObjectPermission

    grant_tables = (ModelGroupObjectPermission, DataSourceGroupObjectPermission)
    rows = list(
        user.groups.annotate(
            **{f"holds_{i}": Exists(t.objects.filter(group=OuterRef("pk"))) for i, t in enumerate(grant_tables)}
        ).values_list("name", *(f"holds_{i}" for i in range(len(grant_tables))))
    )
    valid = set(Role.values)
    user._vigil_roles = frozenset(row[0] for row in rows if row[0] in valid)
    user._vigil_group_grants = {t._meta.label: any(row[i + 1] for row in rows) for i, t in enumerate(grant_tables)}


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def users_with_role(role: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role, is_active=True).order_by("username")
