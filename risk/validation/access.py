"""Who may see and do validation work: the rules this app registers with the core's access registry.

Validation work (evidence, plans, runs, findings) is readable by everyone who may see the version except
traders, who see no validation work (ARCHITECTURE.md roles). It is done by the model's assigned
validator, holding the validator role: `is_validator_of` is that one rule, used by every service and page.
"""

from django.db.models import Q
from django.template.defaultfilters import filesizeformat

from governance.core import access, labels, notifications, redaction
from governance.core.roles import Role, user_roles
from models_registry.models import ModelVersion
from risk.validation import plans
from risk.validation.models import Evidence, Finding, ValidationRun


def is_validator_of(user, version_or_model) -> bool:
    """The model's assigned validator, holding the validator role (superusers get nothing extra)."""
    model = getattr(version_or_model, "model", version_or_model)
    return access.is_active(user) and model.validator_id == user.pk and Role.VALIDATOR in user_roles(user)


def may_record_remediation(user, finding) -> bool:
    """The finding's owner records what is being done about it."""
    return access.is_active(user) and user.pk == finding.owner_id


def may_close_finding(user, finding) -> bool:
    """Closure is verified by the model's validator, never by the person who fixed it (VAL-07)."""
    return is_validator_of(user, finding.version) and user.pk != finding.owner_id


def accepts_risk(user) -> bool:
    """Compliance accepts risk in writing (may_accept_risk: not on a model they own or develop)."""
    return Role.COMPLIANCE in user_roles(user)


def may_accept_risk(user, finding) -> bool:
    """Compliance accepts a finding's risk, unless they develop or own the model."""
    model = finding.version.model
    return accepts_risk(user) and user.pk != model.owner_id and not model.developers.filter(pk=user.pk).exists()


def finding_actions(user, finding) -> list[str]:
    """What `user` may do to this finding now: the finding page offers these and nothing else."""
    if not finding.is_active:
        return []
    allowed = []
    if finding.status == Finding.Status.OPEN and may_record_remediation(user, finding):
        allowed.append("start_remediation")
    if may_close_finding(user, finding):
        allowed.append("close")
    if may_accept_risk(user, finding):
        allowed.append("accept_risk")
    return allowed


def _sees_validation_work(user) -> bool:
    roles = user_roles(user)
    return user.is_superuser or not (roles and roles <= {Role.TRADER})


def sees_validation_work(user) -> bool:
    """Whether a person reads validation work at all (everyone but traders): threads on it follow (risk/threads)."""
    return _sees_validation_work(user)


def can_read_evidence(user, version) -> bool:
    """Everyone who may see the version except traders."""
    return _sees_validation_work(user) and access.can(user, access.VIEW, version)


def can_add_evidence(user, version) -> bool:
    """The model's team (who may add versions) and its validator attach evidence."""
    model = version.model
    return access.can(user, access.ADD_VERSION, model) or access.can(user, access.VALIDATE, model)


def _on_visible_versions(user, action: str) -> Q | None:
    if not _sees_validation_work(user):
        return Q(pk__in=[])
    if access.sees_everything(user):
        return None
    return Q(version__in=access.restrict(ModelVersion.objects.all(), user))


def _register_labels() -> None:
    labels.register_choices("kind", Evidence.Kind.choices)
    labels.register_choices("severity", Finding.Severity.choices)
    labels.register_choices("status", Finding.Status.choices)
    labels.register_format("size", filesizeformat)
    labels.register_format("plan", plans.plan_summary)
    labels.register_format("inputs", _inputs_summary)


def _inputs_summary(inputs: dict) -> str:
    """A run's input files as recorded (name -> SHA-256), for the audit timeline."""
    return "; ".join(f"{name} (SHA-256 {str(sha)[:12]}…)" for name, sha in inputs.items())


def register() -> None:
    _register_labels()
    notifications.register_kind("review_request", "Review requested")
    notifications.register_kind("finding_overdue", "Finding overdue")
    for model_class in (Finding, Evidence, ValidationRun):
        access.register(model_class, _on_visible_versions)
    access.register_audit_scope("governance.finding", lambda user: access.restrict(Finding.objects.all(), user))
    redaction.register_link(r"^/findings/([0-9]{1,18})/", "About a finding no longer in your scope.", hidden_findings)


def hidden_findings(user, ids: set[str]) -> set[str]:
    """Which of these finding ids (from notification links) the viewer may not see."""
    visible = access.restrict(Finding.objects.filter(pk__in=ids), user).values_list("pk", flat=True)
    return set(ids) - {str(pk) for pk in visible}
