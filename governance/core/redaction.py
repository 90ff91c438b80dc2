"""Names a viewer may not see never reach them through the audit trail (pages, API, exports to come).

Audit rows keep the names of related objects as text (an auditor reads them years later), so what a viewer
sees of them is decided when they are shown: each app registers, for each kind of object that can be out of
a person's scope, a placeholder ("a restricted data source") and a function that answers which of some names
belong to objects of that kind the viewer may not see. A Redactor collects the names appearing in the events
about to be shown, asks each registered kind once (one query per kind per page), and replaces the hidden ones.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from governance.core import access

HiddenNames = Callable[[object, set[str]], Iterable[str]]  # (user, candidate names) -> the hidden ones


@dataclass(frozen=True)
class Kind:
    placeholder: str
    hidden: HiddenNames


_kinds: dict[str, Kind] = {}


def register(name: str, placeholder: str, hidden: HiddenNames) -> None:
    _kinds[name] = Kind(placeholder, hidden)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


class Redactor:
    """Redacts the names one viewer may not see, in the events prepared for one page or response."""

    def __init__(self, user):
        self.user = user
        self.replacements: dict[str, str] = {}

    def prepare(self, events) -> "Redactor":
        if access.sees_everything(self.user):
            return self
        candidates = {s for event in events for s in _strings([event.changes, event.object_repr]) if 0 < len(s) <= 300}
        for kind in _kinds.values():
            for name in kind.hidden(self.user, candidates):
                self.replacements[name] = kind.placeholder
        return self

    def value(self, value):
        if not self.replacements:
            return value
        if isinstance(value, str):
            return self.replacements.get(value, value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def redact_events(user, events) -> list:
    """The events with their changes and object names redacted for `user` (copies; rows are never edited)."""
    events = list(events)
    redactor = Redactor(user).prepare(events)
    for event in events:
        event.changes = redactor.value(event.changes)
        event.object_repr = redactor.value(event.object_repr)
    return events


# --- Notifications ----------------------------------------------------------------------------------------
# A notification names the object it links to (its model, its finding). People lose scope (a validator is
# reassigned, a team changes), so what a notification may show is decided when it is shown: each app registers
# the links of its objects (a URL pattern whose first group identifies the object) and which of some
# identifiers the viewer may not see; a notification about one of those shows a placeholder and no link.


@dataclass(frozen=True)
class LinkScope:
    pattern: re.Pattern
    placeholder: str
    hidden: HiddenNames  # (user, identifiers from matching links) -> the hidden ones


_link_scopes: list[LinkScope] = []


def register_link(pattern: str, placeholder: str, hidden: HiddenNames) -> None:
    _link_scopes.append(LinkScope(re.compile(pattern), placeholder, hidden))


def redact_notifications(user, notifications) -> list:
    """The notifications as `user` may read them now (copies; rows are never edited). One query per
    registered kind of link on the page."""
    notifications = list(notifications)
    if access.sees_everything(user):
        return notifications
    for scope in _link_scopes:
        found = {n.pk: m.group(1) for n in notifications if (m := scope.pattern.match(n.url or ""))}
        hidden = set(scope.hidden(user, set(found.values()))) if found else set()
        for n in notifications:
            if found.get(n.pk) in hidden:
                n.message, n.url = scope.placeholder, ""
    return notifications
