"""Vigil's roles. Each role is a Django group created by a data migration (0002_roles).

What a role may see and do is decided in governance/core/access.py; this module only answers
"which roles does this user hold", cached on the user object for the length of a request.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists, OuterRef


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


# Guardian group-object-permission tables registered by the apps (governance.core.access).
_group_grant_tables: list[type] = []


def register_group_grant_table(table: type) -> None:
    """A guardian group-object-permission table whose grants count for the members of a group."""
    if table not in _group_grant_tables:
        _group_grant_tables.append(table)


def _load_memberships(user) -> None:
    """Cache on the user, in one query: their role names, and whether any of their groups holds object
    grants (governance.core.access leaves the group clause out of its filters when none does)."""
    grant_tables = tuple(_group_grant_tables)
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


def role_labels(user) -> list[str]:
    """The names of the roles the user holds, in Role's order (the navigation shows them)."""
    held = user_roles(user)
    return [label for value, label in Role.choices if value in held]


def users_with_role(role: str):
    return get_user_model().objects.filter(groups__name=role, is_active=True).order_by("username")
