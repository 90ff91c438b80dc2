"""The gate's fast lane: a trading system asks `GET /api/v1/gate/{key}/` with its token many times a second, and
the answer almost never changes. Each answer the full stack gave (authentication, governance.core.access, the
decision, every middleware) is remembered in this process with what it was given under: the token's user, the
counts of every change that could alter who may read the model or what it is told (generations.py,
hot_path.py), and the decision's expiry. The next identical request is answered from memory after ONE query
that reads the token's user and those counts afresh; when anything differs, the request goes through the full
stack as any other. So the lane decides nothing itself: it replays the full stack's own answer while nothing it
depended on has moved. Hand-written: it is the gate's latency budget, and no library replays a Django answer
under database-held validity.

What is replayed: an "allowed" answer (200, or 304 for a matching If-None-Match) to a GET with `Authorization:
Token ...`, no cookie and no query string, from the same host, scheme and Accept as the request it was captured
from, the same bytes and headers (a fresh X-Request-ID). Everything else goes to Django: blocked answers (they
are logged), 401/404s, a user with an access window, an unseen request, and any error on the way.

What the one query reads: that the token (found by its digest) is live (neither revoked nor expired) and belongs
to the same user, that the user is active, their superuser flag, that they have no access window, and the five
counts of hot_path's stamp. The token's last use is noted as authentication notes it (a write every few minutes).
"""

import datetime as dt
import logging
import re
import time
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.core import api_tokens
from governance.core.middleware import request_id_for
from governance.core.models import ApiToken, UserProfile
from models_registry.validators import MODEL_KEY_REGEX
from risk.gate import generations
from risk.gate.hot_path import Stamped
from risk.gate.models import GateGeneration

logger = logging.getLogger("vigil.gate")

_PATH = re.compile(rf"^/api/v1/gate/(?P<key>{MODEL_KEY_REGEX})/$")
_TOKEN = re.compile(r"^Token ([0-9A-Za-z]{1,128})$")
_MAX_ENTRIES = 4096  # (token, model, host...) pairs one process remembers; past that it starts again
_SKIPPED = {"x-request-id"}


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match, compared weakly as RFC 9110 asks for GET: any listed tag equal to ours (W/ ignored), or *."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
    return "*" in tags or f'"{etag}"' in tags


class Replayable(NamedTuple):
    """Set by the gate's view on an allowed answer it may have replayed (what it was given under)."""

    stamped: Stamped
    etag: str
    valid_until: object  # datetime | None: a date the decision depends on


class _Entry(NamedTuple):
    replayable: Replayable
    answers: dict  # status code -> (status line, [(header, value)], body)


def _sql() -> str:
    user = get_user_model()._meta.db_table
    count = f"(SELECT value FROM {GateGeneration._meta.db_table} WHERE key = %s)"
    return (
        f"SELECT t.id, t.last_used_at, u.id, u.is_active, u.is_superuser, p.access_from, p.access_until, "
        f"{', '.join([count] * 5)} "
        f"FROM {ApiToken._meta.db_table} t JOIN {user} u ON u.id = t.user_id "
        f"LEFT JOIN {UserProfile._meta.db_table} p ON p.user_id = u.id "
        f"WHERE t.digest = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)"
    )


def _connection_upkeep() -> None:
    """What Django's request signals do for a request, minus the health check they would run before each query
    (a quarter of the lane's time): the lane's own query is the check, and when it fails the request falls back
    to Django, whose request start finds the error and reconnects. A connection past DATABASE_CONN_MAX_AGE is
    still closed, as at the end of any request, but never inside a transaction, which closing would break (under a
    server there is none open here; under a test that rolls back there is)."""
    if (
        connection.connection is not None
        and not connection.in_atomic_block
        and connection.close_at is not None
        and time.monotonic() >= connection.close_at
    ):
        connection.close()


class FastLane:
    """WSGI middleware around Django's handler (vigil/wsgi.py)."""

    def __init__(self, django: WSGIHandler):
        self.django = django
        self.entries: dict[tuple, _Entry] = {}
        self.sql = None
        self.replayed = 0  # for tests and benchmarks: answers given from memory

    def __call__(self, environ, start_response):
        request = self._request_of(environ)
        if request is not None:
            try:
                answer = self._replay(environ, *request)
            except Exception:  # noqa: BLE001 - the full stack answers instead; nothing is allowed on an error
                logger.warning("gate fast lane failed; answering through the full stack", exc_info=True)
                answer = None
            if answer is not None:
                self.replayed += 1
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        response = self.django(environ, start_response)
        if request is not None:
            self._capture(request, response)
        return response

    @staticmethod
    def _request_of(environ) -> tuple | None:
        """(cache key, token, model key) of a request the lane may answer, else None."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or environ.get("HTTP_COOKIE"):
            return None
        path, token = _PATH.match(environ.get("PATH_INFO", "")), _TOKEN.match(environ.get("HTTP_AUTHORIZATION", ""))
        if path is None or token is None:
            return None
        # Everything of the request that the full stack's answer depends on, besides If-None-Match and the id.
        key = (
            api_tokens.digest(token[1]),
            path["key"],
            environ.get("HTTP_HOST", ""),
            environ.get("SERVER_NAME", ""),
            environ.get("SERVER_PORT", ""),
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_X_FORWARDED_FOR", ""),
            environ.get("HTTP_ACCEPT", ""),
        )
        return key, token[1], path["key"]

    def _replay(self, environ, key, token, model_key) -> tuple | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        replayable = entry.replayable
        status = 304 if etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), replayable.etag) else 200
        if status not in entry.answers:
            return None
        if replayable.valid_until is not None and timezone.now() >= replayable.valid_until:
            return None
        if not self._still_valid(replayable.stamped, key[0]):
            return None
        status_line, headers, body = entry.answers[status]
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        return status_line, [*headers, ("X-Request-ID", request_id)], body

    def _still_valid(self, stamped: Stamped, digest: str) -> bool:
        keys = generations.caller_keys(stamped.model_id, stamped.user_id)
        self.sql = self.sql or _sql()
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [*keys, digest, connection.ops.adapt_datetimefield_value(now)])
            row = cursor.fetchone()
        if row is None:  # the token is gone, revoked or expired
            _connection_upkeep()
            return False
        token_id, last_used_at, found_user, active, superuser, window_from, window_until, *counts = row
        if isinstance(last_used_at, str):  # SQLite may hand a raw cursor's timestamps back as text
            last_used_at = parse_datetime(last_used_at)
        if last_used_at is not None and timezone.is_naive(last_used_at):  # SQLite keeps UTC without its zone
            last_used_at = last_used_at.replace(tzinfo=dt.UTC)
        api_tokens.mark_used(ApiToken(pk=token_id, last_used_at=last_used_at), now)
        _connection_upkeep()
        return (
            found_user == stamped.user_id
            and bool(active)
            and bool(superuser) == stamped.superuser
            and window_from is None
            and window_until is None
            and generations.stamp(counts)[1] == stamped.stamp
        )

    def _capture(self, request, response) -> None:
        """Remember the full stack's answer when the gate's view marked it replayable."""
        replayable = getattr(response, "vigil_replay", None)
        if replayable is None or response.status_code not in (200, 304) or response.cookies or response.streaming:
            return
        key = request[0]
        entry = self.entries.get(key)
        if entry is None or entry.replayable != replayable:
            entry = _Entry(replayable, {})
        headers = [(name, value) for name, value in response.items() if name.lower() not in _SKIPPED]
        entry.answers[response.status_code] = (
            f"{response.status_code} {response.reason_phrase}",
            headers,
            response.content,
        )
        if len(self.entries) >= _MAX_ENTRIES and key not in self.entries:
            self.entries.clear()
        self.entries[key] = entry
