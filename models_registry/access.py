"""Who may see and change the inventory: the scope rules this app registers with the core's access registry.

Models: compliance, auditors and administrators see all; everyone else sees the models on which they hold
a guardian grant (derived from their part in the model: owner, developer, validator, or a hand grant),
and a trader also sees the tradeable models (approved, pilot, production) of their desk, and the suspended
ones (stopped models must be seen to be stopped). A trader sees only those versions. Restricted data sources:
compliance, auditors, their owner and grantees only.
"""

from django.db.models import Q

from governance.core import access, labels, notifications, redaction
from governance.core.access import ADD_VERSION, CHANGE, VALIDATE, VIEW
from governance.core.roles import CREATES_DATA_SOURCES, CREATES_MODELS, Role, user_roles
from governance.core.templatetags.display import money
from models_registry import service_accounts
from models_registry.choices import (
    TRADER_VISIBLE_STATUSES,
    AssetClass,
    Classification,
    CollectionMethod,
    DataSourceKind,
    DataUsage,
    LifecycleStatus,
    ModelType,
    Purpose,
    Rating,
)
from models_registry.models import (
    DataSource,
    DataSourceGroupObjectPermission,
    DataSourceUserObjectPermission,
    Model,
    ModelGroupObjectPermission,
    ModelRisk,
    ModelUserObjectPermission,
    ModelVersion,
    ServiceAccount,
)

# Object permissions given automatically by a person's part in a model.
MODEL_CODENAMES = {
    VIEW: "view_model",
    CHANGE: "change_model",
    ADD_VERSION: "add_version_model",
    VALIDATE: "validate_model",
}
PART_GRANTS = {
    "owner": (VIEW, CHANGE, ADD_VERSION),
    "developer": (VIEW, CHANGE, ADD_VERSION),
    "validator": (VIEW, VALIDATE),
    "granted": (VIEW,),
}
DATA_SOURCE_CODENAMES = {VIEW: "view_datasource", CHANGE: "change_datasource"}
MODEL_GRANT_TABLES = (ModelUserObjectPermission, ModelGroupObjectPermission)
DATA_SOURCE_GRANT_TABLES = (DataSourceUserObjectPermission, DataSourceGroupObjectPermission)


def model_scope_q(user, action: str, prefix: str = "") -> Q | None:
    """The models `user` may perform `action` on, as a Q over Model (or over `prefix` + model).

    None means "no restriction" (every model).
    """
    roles = user_roles(user)
    if action == VIEW and access.sees_everything(user):
        return None
    if action == CHANGE and (user.is_superuser or Role.COMPLIANCE in roles):
        return None
    if not roles and action == VIEW:
        # A service account holds no role: its scope is the models and desk compliance named, any status (a
        # trading system must hear that its model is suspended or retired).
        scope = service_accounts.account_of(user)
        if scope is not None:
            return service_accounts.scope_q(scope, prefix)
    q = access.grant_q(user, MODEL_GRANT_TABLES, MODEL_CODENAMES[action], prefix)
    if action == VIEW and Role.TRADER in roles:
        desk_id = getattr(getattr(user, "profile", None), "desk_id", None)
        if desk_id is not None:
            q |= Q(**{f"{prefix}desk_id": desk_id, f"{prefix}status__in": TRADER_VISIBLE_STATUSES})
    return q


def version_scope_q(user, action: str) -> Q | None:
    q = model_scope_q(user, action, prefix="model__")
    if action == VIEW and q is not None and Role.TRADER in user_roles(user):
        # A trader sees only versions cleared for trading (or stopped), never work in progress.
        q &= Q(status__in=TRADER_VISIBLE_STATUSES)
    return q


def data_source_scope_q(user, action: str) -> Q | None:
    roles = user_roles(user)
    if user.is_superuser or Role.COMPLIANCE in roles:
        return None
    grants = access.grant_q(user, DATA_SOURCE_GRANT_TABLES, DATA_SOURCE_CODENAMES[action])
    if action == VIEW:
        if Role.AUDITOR in roles:
            return None
        if Role.TRADER in roles:
            return ~Q(classification=Classification.RESTRICTED)
        return ~Q(classification=Classification.RESTRICTED) | Q(owner=user) | grants
    return Q(owner=user) | grants


def can_create_model(user) -> bool:
    return access.is_active(user) and (user.is_superuser or bool(user_roles(user) & CREATES_MODELS))


def can_create_data_source(user) -> bool:
    return access.is_active(user) and (user.is_superuser or bool(user_roles(user) & CREATES_DATA_SOURCES))


def sets_compliance_fields(user) -> bool:
    """Compliance (and the site administrator) sets a model's governance fields and reassigns data sources."""
    return user.is_superuser or Role.COMPLIANCE in user_roles(user)


def eligible_as(user, role: str) -> bool:
    """A model's owner, developers and validator are active people holding that role."""
    return user is not None and user.is_active and role in user_roles(user)


def registers_as_developer(user) -> bool:
    """A developer who registers a model is one of its developers."""
    return Role.DEVELOPER in user_roles(user)


def sees_own_models_dashboard(user) -> bool:
    """An owner's or developer's own dashboard (My dashboard: the models they own or build, their monitoring and
    open findings): owners and developers."""
    return access.is_active(user) and bool(user_roles(user) & {Role.OWNER, Role.DEVELOPER})


def own_models_q(user, prefix: str = "") -> Q:
    """The models `user` owns or builds, from a record reached through `prefix` ("version__model__")."""
    return Q(**{f"{prefix}owner": user}) | Q(**{f"{prefix}developers": user})


def registers_as_owner(user) -> bool:
    """An owner who registers a model may leave its owner empty: they own it."""
    return Role.OWNER in user_roles(user)


def barred_from_restricted_data(user) -> bool:
    """Traders are never given restricted data, not even by hand."""
    return Role.TRADER in user_roles(user)


def sync_model_grants(model) -> tuple[set, set]:
    """Recompute the guardian grants of a model from its owner, developers, validator and hand grants."""
    desired: set[tuple[int, str]] = set()
    parts = [
        ("owner", [model.owner_id]),
        ("developer", list(model.developers.values_list("pk", flat=True))),
        ("validator", [model.validator_id] if model.validator_id else []),
        ("granted", list(model.access_grants.filter(revoked_at__isnull=True).values_list("user_id", flat=True))),
    ]
    for part, user_ids in parts:
        desired |= {(uid, action) for uid in user_ids for action in PART_GRANTS[part]}
    return access.sync_grants(ModelUserObjectPermission, model, desired, MODEL_CODENAMES)


def sync_data_source_grants(data_source) -> tuple[set, set]:
    desired = {
        (uid, VIEW)
        for uid in data_source.access_grants.filter(revoked_at__isnull=True).values_list("user_id", flat=True)
    }
    return access.sync_grants(DataSourceUserObjectPermission, data_source, desired, {VIEW: DATA_SOURCE_CODENAMES[VIEW]})


def hidden_data_source_names(user, names: set[str]) -> list[str]:
    visible = access.restrict(DataSource.objects.all(), user).values("pk")
    return list(DataSource.objects.filter(name__in=names).exclude(pk__in=visible).values_list("name", flat=True))


def hidden_model_names(user, names: set[str]) -> list[str]:
    """Models are named by key and by name in audit changes (feeders, dependencies)."""
    visible = access.restrict(Model.objects.all(), user).values("pk")
    hidden = Model.objects.filter(Q(key__in=names) | Q(name__in=names)).exclude(pk__in=visible)
    return [n for pair in hidden.values_list("key", "name") for n in pair if n in names]


def hidden_model_keys(user, keys: set[str]) -> set[str]:
    """Which of these model keys (from notification links) the viewer may not see."""
    return set(keys) - set(access.restrict(Model.objects.filter(key__in=keys), user).values_list("key", flat=True))


def _register_labels() -> None:
    """How this app's coded values and amounts read in audit timelines."""
    for field, choices in (
        ("status", LifecycleStatus.choices),
        ("purpose", Purpose.choices),
        ("model_type", ModelType.choices),
        ("asset_classes", AssetClass.choices),
        ("complexity_rating", Rating.choices),
        ("explainability_rating", Rating.choices),
        ("kind", DataSourceKind.choices),
        ("kind", ModelRisk.Kind.choices),
        ("collection_method", CollectionMethod.choices),
        ("classification", Classification.choices),
        ("usage", DataUsage.choices),
    ):
        labels.register_choices(field, choices)
    for field in ("notional_at_stake", "max_notional"):
        labels.register_format(field, money)


def register() -> None:
    """Called from the app's ready(): this app's rules join the core's registry."""
    _register_labels()
    notifications.register_kind("assignment", "Assigned to you")
    redaction.register("data_source", "a restricted data source", hidden_data_source_names)
    redaction.register("model", "a model outside your scope", hidden_model_names)
    redaction.register_link(r"^/models/([^/]+)/", "About a model no longer in your scope.", hidden_model_keys)
    access.register(Model, model_scope_q)
    access.register(ModelVersion, version_scope_q)
    access.register(DataSource, data_source_scope_q)
    access.register_group_grant_table(ModelGroupObjectPermission)
    access.register_group_grant_table(DataSourceGroupObjectPermission)
    access.register_audit_scope("models_registry.model", lambda user: access.restrict(Model.objects.all(), user))
    access.register_audit_scope(
        "models_registry.modelversion", lambda user: access.restrict(ModelVersion.objects.all(), user)
    )
    access.register_audit_scope(
        "models_registry.datasource", lambda user: access.restrict(DataSource.objects.all(), user)
    )
    access.register_audit_scope(ServiceAccount.AUDIT_TYPE, _service_accounts_for)


def _service_accounts_for(user):
    """Which systems hold tokens is compliance's and the auditors' to read."""
    return ServiceAccount.objects.all() if access.sees_everything(user) else ServiceAccount.objects.none()
