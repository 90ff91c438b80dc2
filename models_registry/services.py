"""Writes to the model inventory. Every interface (UI, API, admin, seed) goes through these functions.

Each service: checks permission with governance.permissions, checks the business rules, writes in one
transaction, recomputes guardian grants, and appends to the audit trail.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.core import access as perms
from governance.core.audit import audit_record, diff, snapshot
from governance.core.exceptions import Conflict
from governance.core.notifications import notify
from governance.core.roles import Role
from models_registry import access as inventory_access
from models_registry import tiering
from models_registry.choices import Classification, DataUsage
from models_registry.models import (
    DataSource,
    DataSourceAccessGrant,
    Model,
    ModelAccessGrant,
    ModelDependency,
    ModelVersion,
    VersionDataSource,
)

# The problem definition and the model's boundaries (issue 24), recorded at registration and edited with the record.
PROBLEM_DEFINITION_FIELDS = [
    "objectives",
    "success_criteria",
    "constraints",
    "infrastructure_needs",
    "out_of_scope_uses",
    "operating_boundaries",
]
# Inventory attributes that the model's own team edits.
MODEL_TEAM_FIELDS = [
    "name",
    "description",
    "purpose",
    "desk",
    "asset_classes",
    "model_type",
    "is_vendor",
    "vendor_name",
    "intended_use",
    "known_limitations",
    "use_restrictions",
    *PROBLEM_DEFINITION_FIELDS,
    "notional_at_stake",
    "downstream_consumers",
    "complexity_rating",
    "explainability_rating",
]
# Decisions reserved to compliance (MRM): who validates, who owns, tier overrides, validation dates.
MODEL_COMPLIANCE_FIELDS = [
    "owner",
    "validator",
    "tier_override",
    "tier_override_justification",
    "last_validated_at",
    "next_validation_due",
]
# What a person may submit when registering or editing a model, in the order forms show it.
MODEL_INPUT_FIELDS = [
    "key",
    *MODEL_TEAM_FIELDS,
    "owner",
    "developers",
    "validator",
    *[f for f in MODEL_COMPLIANCE_FIELDS if f not in ("owner", "validator")],
    "upstream_models",
]
MODEL_AUDITED_FIELDS = [
    "key",
    *MODEL_TEAM_FIELDS,
    *MODEL_COMPLIANCE_FIELDS,
    "developers",
    "upstream_models",
    "computed_tier",
    "risk_tier",
    "tier_rule_version",
    "status",
]
VERSION_FIELDS = [
    "artifact_uri",
    "artifact_sha256",
    "code_revision",
    "training_data_ref",
    "hyperparameters",
    "claimed_performance",
    "notes",
]
DATA_SOURCE_FIELDS = [
    "name",
    "description",
    "kind",
    "collection_method",
    "storage_location",
    "classification",
    "owner",
    "retention_days",
    "quality_rules",
    "is_active",
]


def _apply_tier(model: Model) -> None:
    assessment = tiering.assess(
        model.notional_at_stake, model.downstream_consumers, model.complexity_rating, model.explainability_rating
    )
    model.computed_tier = assessment.tier
    model.tier_rule_version = assessment.rule_version
    model.risk_tier = model.tier_override or assessment.tier


def _check_model_rules(model: Model, developers: list, upstream: list) -> None:
    """Business rules beyond single fields; every broken rule is reported at once, by field."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if model.is_vendor and not model.vendor_name.strip():
        add("vendor_name", "Name the vendor of a vendor model.")
    if model.tier_override and not model.tier_override_justification.strip():
        add("tier_override_justification", "A tier override needs a written justification.")
    if not inventory_access.eligible_as(model.owner, Role.OWNER):
        add("owner", "The owner must be an active user with the owner role.")
    for dev in developers:
        if not inventory_access.eligible_as(dev, Role.DEVELOPER):
            add("developers", f"{dev} does not hold the developer role.")
    if not developers:
        add("developers", "Name at least one developer.")
    if model.validator_id:
        if not inventory_access.eligible_as(model.validator, Role.VALIDATOR):
            add("validator", "The validator must be an active user with the validator role.")
        # SR 11-7 independence (VAL-01): the validator has no stake in the model.
        if model.validator_id == model.owner_id or model.validator_id in {d.pk for d in developers}:
            add("validator", "The validator cannot be the model's owner or one of its developers.")
    for feeder in upstream:
        if feeder.pk is not None and feeder.pk == model.pk:
            add("upstream_models", "A model cannot feed itself.")
    if model.pk and upstream and _creates_cycle(model, upstream):
        add("upstream_models", "These feeders would make a dependency cycle.")
    if errors:
        raise ValidationError(errors)


def _creates_cycle(model: Model, upstream: list) -> bool:
    """True if `model` is already upstream of any proposed feeder (walks the graph breadth-first)."""
    frontier = {f.pk for f in upstream}
    seen = set()
    while frontier:
        if model.pk in frontier:
            return True
        seen |= frontier
        frontier = (
            set(ModelDependency.objects.filter(downstream_id__in=frontier).values_list("upstream_id", flat=True)) - seen
        )
    return False


def _full_clean(instance, exclude=None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=False)


def _audit_changes(actor, action, obj, before, reason=""):
    after = snapshot(obj, before.keys())
    audit_record(actor, action, obj, changes=diff(before, after), reason=reason)


@transaction.atomic
def model_create(actor, *, developers=None, upstream_models=None, **fields) -> Model:
    """Register a model. A developer who creates a model is one of its developers; an owner, its owner."""
    if not inventory_access.can_create_model(actor):
        raise PermissionDenied("Your role may not register models.")
    if not inventory_access.sets_compliance_fields(actor):
        forbidden = sorted(k for k in MODEL_COMPLIANCE_FIELDS if k != "owner" and fields.get(k) not in (None, ""))
        if forbidden:
            raise ValidationError({k: "Only compliance may set this." for k in forbidden})
    developers = list(developers or [])
    if inventory_access.registers_as_developer(actor) and actor not in developers:
        developers.append(actor)
    owner_only = inventory_access.registers_as_owner(actor) and not inventory_access.registers_as_developer(actor)
    if owner_only and not inventory_access.sets_compliance_fields(actor):
        # An owner registers models they own; registering for another owner is compliance's job.
        if fields.get("owner") not in (None, actor):
            raise ValidationError({"owner": "You register models that you own; leave the owner empty."})
        fields["owner"] = actor
    if fields.get("owner") is None:
        raise ValidationError({"owner": "Name the model's owner."})
    upstream = list(upstream_models or [])
    model = Model(**fields, created_by=actor)
    _apply_tier(model)
    _full_clean(model)
    _check_model_rules(model, developers, upstream)
    _check_visible(actor, upstream, "upstream_models")
    try:
        with transaction.atomic():
            model.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"key": "A model with this key already exists."}) from None
    model.developers.set(developers)
    for feeder in upstream:
        ModelDependency.objects.create(upstream=feeder, downstream=model)
    inventory_access.sync_model_grants(model)
    audit_record(actor, "model.create", model, changes=diff({}, snapshot(model, MODEL_AUDITED_FIELDS)))
    _notify_assignment(model, previous_validator_id=None)
    return model


def _notify_assignment(model, previous_validator_id) -> None:
    """Tell a newly assigned validator that the model is theirs to validate."""
    if model.validator_id and model.validator_id != previous_validator_id:
        notify(
            [model.validator],
            "assignment",
            f"You were assigned to validate {model.key} ({model.name}).",
            f"/models/{model.key}/",
        )


def _check_visible(actor, objects, field) -> None:
    if not objects:
        return
    visible = set(
        perms.restrict(type(objects[0]).objects.filter(pk__in=[o.pk for o in objects]), actor).values_list(
            "pk", flat=True
        )
    )
    missing = [str(o) for o in objects if o.pk not in visible]
    if missing:
        raise ValidationError({field: f"Unknown: {', '.join(missing)}."})


def has_restricted_training_data(model: Model) -> bool:
    return DataSource.objects.filter(
        classification=Classification.RESTRICTED,
        version_links__version__model=model,
        version_links__usage=DataUsage.TRAINING,
    ).exists()


def training_sources_hidden_from(user, model: Model, version: ModelVersion | None = None) -> list[DataSource]:
    """Training data sources of the model's versions (or of one version) that `user` may not see."""
    if user is None:
        return []
    links = {"version_links__version": version} if version is not None else {"version_links__version__model": model}
    sources = DataSource.objects.filter(**links, version_links__usage=DataUsage.TRAINING).distinct()
    return list(sources.exclude(pk__in=perms.restrict(DataSource.objects.all(), user).values("pk")).order_by("name"))


def _grant_training_data(actor, model: Model) -> list[DataSource]:
    """Independent validation needs the data: compliance grants the validator read access to the model's
    restricted training sources in the same step as the assignment (each grant audited)."""
    granted = training_sources_hidden_from(model.validator, model)
    for source in granted:
        _grant(
            actor,
            DataSourceAccessGrant,
            "data_source",
            source,
            model.validator,
            f"Independent validation of {model.key} needs its training data.",
            inventory_access.sync_data_source_grants,
            "data_source.access_granted",
        )
    return granted


@transaction.atomic
def model_update(
    actor, model: Model, *, developers=None, upstream_models=None, reason: str = "", grant_training_data=False, **fields
) -> Model:
    """Edit a model's inventory record. The key and status never change here.

    With `grant_training_data`, compliance also gives the (new) validator read access to the model's restricted
    training sources they cannot see yet: without it they cannot sign a validation."""
    model = Model.objects.select_for_update().get(pk=model.pk)
    perms.require(actor, perms.CHANGE, model)
    unknown = set(fields) - set(MODEL_TEAM_FIELDS) - set(MODEL_COMPLIANCE_FIELDS)
    if unknown:
        raise ValidationError({k: "This field cannot be changed here." for k in sorted(unknown)})
    if not inventory_access.sets_compliance_fields(actor):
        forbidden = sorted(k for k in MODEL_COMPLIANCE_FIELDS if k in fields and fields[k] != getattr(model, k))
        if forbidden:
            raise ValidationError({k: "Only compliance may change this." for k in forbidden})
    before = snapshot(model, MODEL_AUDITED_FIELDS)
    previous_validator_id = model.validator_id
    for name, value in fields.items():
        setattr(model, name, value)
    if not model.tier_override:
        model.tier_override = None
    new_developers = list(developers) if developers is not None else list(model.developers.all())
    current_upstream = list(Model.objects.filter(downstream_links__downstream=model))
    new_upstream = list(upstream_models) if upstream_models is not None else current_upstream
    _apply_tier(model)
    _full_clean(model)
    _check_model_rules(model, new_developers, new_upstream)
    added = [m for m in new_upstream if m not in current_upstream]
    _check_visible(actor, added, "upstream_models")
    model.save()
    model.developers.set(new_developers)
    if upstream_models is not None:
        _set_upstream(model, current_upstream, new_upstream, actor)
    inventory_access.sync_model_grants(model)
    _audit_changes(actor, "model.update", model, before, reason)
    if grant_training_data and model.validator_id:
        _grant_training_data(actor, model)
    _notify_assignment(model, previous_validator_id=previous_validator_id)
    return model


def _set_upstream(model, current, new, actor) -> None:
    # A user may only add or remove links to feeders they can see; links to others stay as they are.
    visible = set(
        perms.restrict(Model.objects.all(), actor).filter(pk__in=[m.pk for m in current]).values_list("pk", flat=True)
    )
    removed = [m for m in current if m not in new and m.pk in visible]
    ModelDependency.objects.filter(downstream=model, upstream__in=removed).delete()
    for feeder in new:
        if feeder not in current:
            ModelDependency.objects.create(upstream=feeder, downstream=model)


def _grant(actor, grant_class, target_field: str, target, user, reason: str, sync, action: str):
    """Shared by models and data sources: compliance grants one person access, with a reason, audited."""
    if not perms.can_manage_access(actor):
        raise PermissionDenied("Only compliance may grant access by hand.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why this person needs access."})
    if not user.is_active:
        raise ValidationError({"user": "This user is inactive."})
    if grant_class.objects.filter(**{target_field: target}, user=user, revoked_at__isnull=True).exists():
        raise Conflict(f"{user} already holds a grant on {target}.")
    grant = grant_class.objects.create(**{target_field: target}, user=user, reason=reason, granted_by=actor)
    sync(target)
    audit_record(actor, action, target, changes={"granted_to": [None, user.username]}, reason=reason)
    return grant


def _revoke(actor, grant_class, grant, target_field: str, sync, action: str, reason: str):
    if not perms.can_manage_access(actor):
        raise PermissionDenied("Only compliance may revoke access.")
    grant = grant_class.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise Conflict("This grant was already revoked.")
    grant.revoked_at, grant.revoked_by = timezone.now(), actor
    grant.save(update_fields=["revoked_at", "revoked_by"])
    target = getattr(grant, target_field)
    sync(target)
    audit_record(actor, action, target, changes={"granted_to": [grant.user.username, None]}, reason=reason)
    return grant


@transaction.atomic
def model_grant_access(actor, model: Model, user, reason: str) -> ModelAccessGrant:
    """Compliance lets one more person read a model (e.g. a risk manager consuming its output)."""
    return _grant(
        actor,
        ModelAccessGrant,
        "model",
        model,
        user,
        reason,
        inventory_access.sync_model_grants,
        "model.access_granted",
    )


@transaction.atomic
def model_revoke_access(actor, grant: ModelAccessGrant, reason: str = "") -> ModelAccessGrant:
    return _revoke(
        actor, ModelAccessGrant, grant, "model", inventory_access.sync_model_grants, "model.access_revoked", reason
    )


# --- Versions ------------------------------------------------------------------------------------------


def _version_sources(version, training, inference) -> None:
    VersionDataSource.objects.filter(version=version).delete()
    VersionDataSource.objects.bulk_create(
        [VersionDataSource(version=version, data_source=ds, usage=DataUsage.TRAINING) for ds in training]
        + [VersionDataSource(version=version, data_source=ds, usage=DataUsage.INFERENCE) for ds in inference]
    )


def _sources_snapshot(version) -> dict:
    links = VersionDataSource.objects.filter(version=version).select_related("data_source")
    return {
        "training_sources": sorted(link.data_source.name for link in links if link.usage == DataUsage.TRAINING),
        "inference_sources": sorted(link.data_source.name for link in links if link.usage == DataUsage.INFERENCE),
    }


@transaction.atomic
def version_create(actor, model: Model, *, training_sources=(), inference_sources=(), **fields) -> ModelVersion:
    """Register a new draft version of a model (its owner or developers)."""
    model = Model.objects.select_for_update().get(pk=model.pk)
    perms.require(actor, perms.ADD_VERSION, model)
    training, inference = list(training_sources), list(inference_sources)
    _check_visible(actor, training, "training_sources")
    _check_visible(actor, inference, "inference_sources")
    version = ModelVersion(model=model, created_by=actor, **fields)
    _full_clean(version)
    try:
        with transaction.atomic():
            version.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"version": f"{model.key} already has a version {fields.get('version')}."}) from None
    _version_sources(version, training, inference)
    changes = diff({}, {**snapshot(version, ["version", "status", *VERSION_FIELDS]), **_sources_snapshot(version)})
    audit_record(actor, "version.create", version, changes=changes)
    return version


@transaction.atomic
def version_update(
    actor, version: ModelVersion, *, training_sources=None, inference_sources=None, reason: str = "", **fields
) -> ModelVersion:
    """Edit a draft version. Once a version leaves draft it is frozen: a new version is needed (409)."""
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    perms.require(actor, perms.ADD_VERSION, version.model)
    if version.is_frozen:
        raise Conflict(
            f"Version {version.version} is {version.get_status_display().lower()} and frozen; "
            "register a new version instead."
        )
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise ValidationError({k: "This field cannot be changed here." for k in sorted(unknown)})
    before = {**snapshot(version, VERSION_FIELDS), **_sources_snapshot(version)}
    for name, value in fields.items():
        setattr(version, name, value)
    _full_clean(version)
    current = list(VersionDataSource.objects.filter(version=version).select_related("data_source"))
    training = (
        list(training_sources)
        if training_sources is not None
        else [link.data_source for link in current if link.usage == DataUsage.TRAINING]
    )
    inference = (
        list(inference_sources)
        if inference_sources is not None
        else [link.data_source for link in current if link.usage == DataUsage.INFERENCE]
    )
    _check_visible(actor, [d for d in training if d not in {c.data_source for c in current}], "training_sources")
    _check_visible(actor, [d for d in inference if d not in {c.data_source for c in current}], "inference_sources")
    version.save()
    _version_sources(version, training, inference)
    after = {**snapshot(version, VERSION_FIELDS), **_sources_snapshot(version)}
    audit_record(actor, "version.update", version, changes=diff(before, after), reason=reason)
    return version


# --- Data sources --------------------------------------------------------------------------------------


@transaction.atomic
def data_source_create(actor, **fields) -> DataSource:
    if not inventory_access.can_create_data_source(actor):
        raise PermissionDenied("Your role may not register data sources.")
    fields.setdefault("owner", actor)
    source = DataSource(created_by=actor, **fields)
    _full_clean(source)
    try:
        with transaction.atomic():
            source.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"name": "A data source with this name already exists."}) from None
    inventory_access.sync_data_source_grants(source)
    audit_record(actor, "data_source.create", source, changes=diff({}, snapshot(source, DATA_SOURCE_FIELDS)))
    return source


@transaction.atomic
def data_source_update(actor, source: DataSource, *, reason: str = "", **fields) -> DataSource:
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    perms.require(actor, perms.CHANGE, source)
    unknown = set(fields) - set(DATA_SOURCE_FIELDS)
    if unknown:
        raise ValidationError({k: "This field cannot be changed here." for k in sorted(unknown)})
    if "owner" in fields and fields["owner"] != source.owner and not inventory_access.sets_compliance_fields(actor):
        raise ValidationError({"owner": "Only compliance may reassign a data source."})
    before = snapshot(source, DATA_SOURCE_FIELDS)
    for name, value in fields.items():
        setattr(source, name, value)
    _full_clean(source)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        raise ValidationError({"name": "A data source with this name already exists."}) from None
    _audit_changes(actor, "data_source.update", source, before, reason)
    return source


@transaction.atomic
def data_source_grant_access(actor, source: DataSource, user, reason: str) -> DataSourceAccessGrant:
    if perms.can_manage_access(actor) and source.is_restricted and inventory_access.barred_from_restricted_data(user):
        raise ValidationError({"user": "Traders may not be given restricted data."})
    return _grant(
        actor,
        DataSourceAccessGrant,
        "data_source",
        source,
        user,
        reason,
        inventory_access.sync_data_source_grants,
        "data_source.access_granted",
    )


@transaction.atomic
def data_source_revoke_access(actor, grant: DataSourceAccessGrant, reason: str = "") -> DataSourceAccessGrant:
    return _revoke(
        actor,
        DataSourceAccessGrant,
        grant,
        "data_source",
        inventory_access.sync_data_source_grants,
        "data_source.access_revoked",
        reason,
    )
