"""Who sees and takes part in review threads.

- A thread is seen by whoever may see its record (the record's own app's rule: a trader sees no thread on a
  validation run or a finding, as they see no validation work); its comments with it. Out of scope is 404.
- Everyone who sees the record comments, except those whose only part is to read (auditors).
- A thread a validator opens is a challenge: it is resolved (and reopened) only by a validator, its opener or the
  model's assigned validator, never by the developer or owner challenged. Any other thread: its opener, the model's
  owner, developers and validator, and compliance.
"""

from django.db.models import Q

from governance.core import access, notifications, redaction
from governance.core.roles import Role, user_roles
from risk.incidents import services as incident_services
from risk.threads import targets
from risk.threads.models import Comment, Thread
from risk.validation.access import is_validator_of

MENTION_KIND = "thread_mention"


def takes_part(user) -> bool:
    """Comments and opens threads: everyone active but those whose only part is to read (auditors)."""
    roles = user_roles(user)
    return access.is_active(user) and not (roles and roles <= {Role.AUDITOR})


def opens_as_validator(user) -> bool:
    """A thread opened by a person holding the validator role is a challenge."""
    return Role.VALIDATOR in user_roles(user)


def _on_the_team(user, model) -> bool:
    return model.owner_id == user.pk or model.developers.filter(pk=user.pk).exists()


def may_resolve(user, thread) -> bool:
    """Resolve or reopen: a challenge only by a validator (its opener, the model's validator); any other thread by
    its opener, the model's team and validator, and compliance."""
    if not access.is_active(user):
        return False
    if thread.challenge:
        return (user.pk == thread.opened_by_id and Role.VALIDATOR in user_roles(user)) or is_validator_of(
            user, thread.model
        )
    return (
        user.pk == thread.opened_by_id
        or is_validator_of(user, thread.model)
        or _on_the_team(user, thread.model)
        or Role.COMPLIANCE in user_roles(user)
    )


def may_edit(user, comment) -> bool:
    """Only its author edits a comment (and only until another person reads it: services.comment_edit)."""
    return access.is_active(user) and comment.author_id == user.pk and comment.kind == Comment.Kind.COMMENT


def offers_incident(user, thread) -> bool:
    """Raise an incident from the thread: whoever may report one on the model (incidents' own rule)."""
    return incident_services.can_report(user, thread.model)


def offers_finding(user, thread) -> bool:
    """Raise a finding from the thread: the model's validator (validation's own rule), on a thread about a version."""
    return thread.version_id is not None and is_validator_of(user, thread.model)


def _visible_threads(user, action: str) -> Q | None:
    return None if access.sees_everything(user) else targets.visible_q(user)


def _visible_comments(user, action: str) -> Q | None:
    if access.sees_everything(user):
        return None
    return Q(thread__in=access.restrict(Thread.objects.all(), user))


def hidden_threads(user, ids: set[str]) -> set[str]:
    """Which of these thread ids (from notification links) the viewer may not see now."""
    visible = access.restrict(Thread.objects.filter(pk__in=ids), user).values_list("pk", flat=True)
    return set(ids) - {str(pk) for pk in visible}


def register() -> None:
    access.register(Thread, _visible_threads)
    access.register(Comment, _visible_comments)
    access.register_audit_scope(Thread.AUDIT_TYPE, lambda user: access.restrict(Thread.objects.all(), user))
    access.register_audit_scope(Comment.AUDIT_TYPE, lambda user: access.restrict(Comment.objects.all(), user))
    notifications.register_kind(MENTION_KIND, "Mentioned in a thread")
    redaction.register_link(r"^/threads/([0-9]{1,18})/", "About a thread no longer in your scope.", hidden_threads)
