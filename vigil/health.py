"""GET /health/: 200 when the database and the Celery broker answer, 503 naming what is down."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vigil.celery import app

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the detail goes to the log, not the caller
        logger.warning("health: database check failed: %s", exc)
        return "unreachable"
    return None


def check_broker() -> str | None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=settings.HEALTH_BROKER_TIMEOUT_SECONDS
            )
    except Exception as exc:
        logger.warning("health: broker check failed: %s", exc)
        return "unreachable"
    return None


@login_not_required
@never_cache
@require_GET
def health(request):
    problems = {
        name: problem for name, problem in (("database", check_database()), ("broker", check_broker())) if problem
    }
    body = {
        "status": "ok" if not problems else "unavailable",
        "checks": {name: problems.get(name, "ok") for name in ("database", "broker")},
    }
    return JsonResponse(body, status=200 if not problems else 503)
