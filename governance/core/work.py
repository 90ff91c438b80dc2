"""A generation counter for "what needs whom": any change that can move work between people bumps it after
commit, so the cached queue badges (governance.lifecycle.queue) are recomputed on the next page instead of
showing a stale count."""

from django.core.cache import cache
from django.db import transaction

KEY = "vigil:work-generation"


def generation() -> int:
    return cache.get_or_set(KEY, 1, None)


def changed() -> None:
    """Call inside the service's transaction: the bump happens once it commits (a rollback changes nothing)."""

    def bump():
        try:
            cache.incr(KEY)
        except ValueError:  # evicted or never set: any new value invalidates the old keys
            cache.set(KEY, 2, None)

    transaction.on_commit(bump)
