"""Writes of review threads: open, comment, reply, edit (until another person reads it), resolve, reopen, and
raise an incident or a finding from a thread. Each is one transaction with its audit event; mentions are told
through the outbox (in-app and e-mail, `notifications.notify`) after it commits.
"""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.core import notifications
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.text_fields import checked_text
from risk.incidents import services as incident_services
from risk.threads import access as threads_access
from risk.threads import targets
from risk.threads.models import Comment, Thread, ThreadRead
from risk.validation import findings as finding_services

BODY_LIMIT, TITLE_LIMIT, MENTION_LIMIT = 10000, 200, 10
# @username where a username starts (not inside an address like a@b.com); Django's usernames allow . + - _ @.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]{1,150})")
# One message for a name nobody holds and for a person who may not read the record: neither is revealed.
UNKNOWN_MENTION = "Nobody you can mention here is called @{name}."


def mentioned_names(body: str) -> list[str]:
    names = []
    for match in MENTION.finditer(body or ""):
        name = match.group(1).rstrip(".")
        if name and name not in names:
            names.append(name)
    return names


def resolve_mentions(body: str, record, target) -> list:
    """The people `body` mentions, each of whom may see the record; a 400 on `body` for a name nobody holds or a
    person out of the record's scope, with the same words for both."""
    names = mentioned_names(body)
    if len(names) > MENTION_LIMIT:
        raise ValidationError({"body": [f"Mention at most {MENTION_LIMIT} people in one comment."]})
    people = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
    found = []
    for name in names:
        person = people.get(name)
        if person is None or not target.sees(person, record):
            raise ValidationError({"body": [UNKNOWN_MENTION.format(name=name[:150])]})
        found.append(person)
    return found


def _tell(actor, thread, comment, people) -> None:
    others = [p for p in people if p.pk != actor.pk]
    if others:
        notifications.notify(
            others,
            threads_access.MENTION_KIND,
            f"{actor.get_full_name() or actor.get_username()} mentioned you in {thread.reference}: {thread.title}",
            f"/threads/{thread.pk}/#comment-{comment.pk}",
            dedupe_key=f"thread-mention:{comment.pk}:{comment.edited_at or comment.created_at}",
        )


def _record_of(thread):
    target = targets.get(thread.target_kind)
    record = target.record_class.objects.select_related(*target.related).get(pk=thread.target_id)
    return target, record


def _require_part(actor) -> None:
    if not threads_access.takes_part(actor):
        raise PermissionDenied("You read threads; you do not write in them.")


@transaction.atomic
def thread_open(actor, kind: str, record_id, *, title: str, body: str) -> Thread:
    """Open a thread on a record the person may see (404 otherwise, the caller's lookup or here)."""
    target = targets.get(kind)
    if target is None:
        raise ValidationError({"target_kind": [f"Choose one of: {', '.join(targets.kinds())}."]})
    record = target.fetch(actor, record_id)
    _require_part(actor)
    errors: dict = {}
    title = checked_text(errors, "title", title, TITLE_LIMIT)
    body = checked_text(errors, "body", body, BODY_LIMIT)
    if errors:
        raise ValidationError(errors)
    people = resolve_mentions(body, record, target)
    now = timezone.now()
    thread = Thread.objects.create(
        target_kind=kind,
        target_id=record.pk,
        model=target.model_of(record),
        version=target.version_of(record),
        title=title,
        opened_by=actor,
        challenge=threads_access.opens_as_validator(actor),
        opened_at=now,
    )
    audit_record(
        actor,
        "thread.open",
        thread,
        changes={"title": [None, title], "on": [None, target.name(record)], "challenge": [None, thread.challenge]},
    )
    _add(actor, thread, body, people, now)
    ThreadRead.objects.create(thread=thread, user=actor, last_read_at=now)
    return thread


def _add(actor, thread, body, people, now, kind=Comment.Kind.COMMENT, reply_to=None) -> Comment:
    comment = Comment.objects.create(
        thread=thread, kind=kind, author=actor, body=body, reply_to=reply_to, created_at=now
    )
    if people:
        comment.mentions.set(people)
    audit_record(
        actor,
        f"comment.{'add' if kind == Comment.Kind.COMMENT else kind}",
        comment,
        changes={
            "body": [None, body],
            "mentions": [None, sorted(p.get_username() for p in people)],
            **({"reply_to": [None, reply_to.pk]} if reply_to else {}),
        },
    )
    _tell(actor, thread, comment, people)
    return comment


def _locked_thread(thread) -> Thread:
    return Thread.objects.select_for_update(of=("self",)).select_related("model", "version").get(pk=thread.pk)


@transaction.atomic
def comment_add(actor, thread, body: str, reply_to=None) -> Comment:
    """A comment, or a reply to one of the thread's comments. A resolved thread takes comments too (a correction
    after the fact); it stays resolved."""
    _require_part(actor)
    thread = _locked_thread(thread)
    errors: dict = {}
    body = checked_text(errors, "body", body, BODY_LIMIT)
    if reply_to is not None and (not isinstance(reply_to, Comment) or reply_to.thread_id != thread.pk):
        errors["reply_to"] = ["Reply to a comment of this thread."]
    if errors:
        raise ValidationError(errors)
    target, record = _record_of(thread)
    people = resolve_mentions(body, record, target)
    comment = _add(actor, thread, body, people, timezone.now(), reply_to=reply_to)
    thread_read(actor, thread)
    return comment


def read_by_others(comment) -> bool:
    """Whether a person other than its author read the thread since the comment was written."""
    return (
        ThreadRead.objects.filter(thread_id=comment.thread_id, last_read_at__gte=comment.created_at)
        .exclude(user_id=comment.author_id)
        .exists()
    )


@transaction.atomic
def comment_edit(actor, comment, body: str) -> Comment:
    """Its author changes a comment until another person has read it (409 after: a correction is a new comment)."""
    _require_part(actor)
    thread = _locked_thread(comment.thread)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if not threads_access.may_edit(actor, comment):
        raise PermissionDenied("Only its author edits a comment.")
    if read_by_others(comment):
        raise Conflict("Someone else has read this comment, so it stays as it is: add a correction as a new comment.")
    errors: dict = {}
    body = checked_text(errors, "body", body, BODY_LIMIT)
    if errors:
        raise ValidationError(errors)
    if body == comment.body:
        return comment
    target, record = _record_of(thread)
    people = resolve_mentions(body, record, target)
    before, before_mentions = comment.body, sorted(comment.mentions.values_list("username", flat=True))
    comment.body, comment.edited_at = body, timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    comment.mentions.set(people)
    audit_record(
        actor,
        "comment.edit",
        comment,
        changes={"body": [before, body], "mentions": [before_mentions, sorted(p.get_username() for p in people)]},
    )
    _tell(actor, thread, comment, [p for p in people if p.get_username() not in before_mentions])
    return comment


def thread_read(user, thread) -> None:
    """Note that `user` read the thread now (what locks its comments against edits by their authors)."""
    if user is None or not getattr(user, "pk", None):
        return
    now = timezone.now()
    updated = ThreadRead.objects.filter(thread=thread, user=user).update(last_read_at=now)
    if not updated:
        ThreadRead.objects.get_or_create(thread=thread, user=user, defaults={"last_read_at": now})


@transaction.atomic
def thread_resolve(actor, thread, note: str = "") -> Thread:
    return _settle(actor, thread, note, resolve=True)


@transaction.atomic
def thread_reopen(actor, thread, note: str = "") -> Thread:
    return _settle(actor, thread, note, resolve=False)


def _settle(actor, thread, note, *, resolve: bool) -> Thread:
    thread = _locked_thread(thread)
    if not threads_access.may_resolve(actor, thread):
        if thread.challenge:
            raise PermissionDenied(
                "A validator's challenge is resolved only by a validator: its opener or the model's."
            )
        raise PermissionDenied("Only its opener, the model's team and validator, and compliance settle this thread.")
    if resolve and not thread.is_open:
        raise Conflict(f"{thread.reference} was resolved on {thread.resolved_at:%Y-%m-%d %H:%M} UTC.")
    if not resolve and thread.is_open:
        raise Conflict(f"{thread.reference} is open.")
    errors: dict = {}
    note = checked_text(errors, "note", note if note is not None else "", BODY_LIMIT, required=False)
    if errors:
        raise ValidationError(errors)
    target, record = _record_of(thread)
    people = resolve_mentions(note, record, target)
    now = timezone.now()
    before = thread.status
    if resolve:
        thread.status, thread.resolved_at, thread.resolved_by = Thread.Status.RESOLVED, now, actor
    else:
        thread.status, thread.resolved_at, thread.resolved_by = Thread.Status.OPEN, None, None
    thread.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit_record(
        actor, f"thread.{'resolve' if resolve else 'reopen'}", thread, changes={"status": [before, thread.status]}
    )
    _add(actor, thread, note, people, now, kind=Comment.Kind.RESOLVED if resolve else Comment.Kind.REOPENED)
    return thread


@transaction.atomic
def thread_raise_incident(actor, thread, *, severity: str, title: str, description: str):
    """An incident on the thread's model (and version), reported through the incidents app (whoever may report
    one), linked from the thread and back (the incident's description names the thread)."""
    thread = _locked_thread(thread)
    if thread.incident_id:
        raise Conflict(f"{thread.reference} raised INC-{thread.incident_id:05d} already.")
    text = (description or "").strip() if isinstance(description, str) else description
    incident = incident_services.incident_report(
        actor,
        thread.model,
        title=title,
        description=f"{text}\n\nRaised from review thread {thread.reference} (/threads/{thread.pk}/)." if text else "",
        severity=severity,
        version=thread.version,
    )
    thread.incident = incident
    thread.save(update_fields=["incident"])
    audit_record(actor, "thread.raise_incident", thread, changes={"incident": [None, incident.reference]})
    _add(actor, thread, f"Raised incident {incident.reference}.", [], timezone.now(), kind=Comment.Kind.RAISED)
    return incident


@transaction.atomic
def thread_raise_finding(actor, thread, *, severity, title, description, owner, due_date):
    """A finding on the thread's version, raised through validation's service (the model's validator)."""
    thread = _locked_thread(thread)
    if thread.version_id is None:
        raise Conflict(f"{thread.reference} is about no version: raise the finding on the version's page.")
    if thread.finding_id:
        raise Conflict(f"{thread.reference} raised finding #{thread.finding_id} already.")
    text = (description or "").strip() if isinstance(description, str) else description
    finding = finding_services.finding_raise(
        actor,
        thread.version,
        severity=severity,
        title=title,
        description=f"{text}\n\nRaised from review thread {thread.reference} (/threads/{thread.pk}/)." if text else "",
        owner=owner,
        due_date=due_date,
    )
    thread.finding = finding
    thread.save(update_fields=["finding"])
    audit_record(actor, "thread.raise_finding", thread, changes={"finding": [None, finding.pk]})
    _add(actor, thread, f"Raised finding #{finding.pk}.", [], timezone.now(), kind=Comment.Kind.RAISED)
    return finding
