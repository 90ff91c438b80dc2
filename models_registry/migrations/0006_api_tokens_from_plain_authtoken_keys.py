"""People's and service accounts' tokens move from DRF's authtoken table (plain keys) to Vigil's hashed ApiToken,
and the plain keys are destroyed with the table.

A plain key cannot be turned into a new secret without telling its holder, so each key is kept working by its hash:
a service account's until compliance rotates it (trading systems must not stop at the upgrade), a person's for one
token lifetime from now (VIGIL_API_TOKEN_LIFETIME_HOURS), after which they ask the token endpoint for a new one.
Here rather than in the core because which users are service accounts is this app's to know. Not reversible: the
plain keys are gone, which is the point.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

PLAIN_TABLE = "authtoken_token"


def _moment(value):
    """A timestamp read by a raw cursor: text or naive on SQLite (kept in UTC), aware on PostgreSQL."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def hash_plain_keys(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TABLE not in connection.introspection.table_names():
        return  # a database created after authtoken left Vigil: nothing to move
    ApiToken = apps.get_model("governance", "ApiToken")
    ServiceAccount = apps.get_model("models_registry", "ServiceAccount")
    machines = set(ServiceAccount.objects.filter(revoked_at__isnull=True).values_list("user_id", flat=True))
    now = timezone.now()
    person_expiry = now + dt.timedelta(hours=settings.VIGIL_API_TOKEN_LIFETIME_HOURS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {PLAIN_TABLE}")  # noqa: S608 - a constant
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            digest=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:8],
            created_at=_moment(created) or now,
            expires_at=None if user_id in machines else person_expiry,
        )
        for key, user_id, created in rows
    )
    schema_editor.execute(f"DROP TABLE {PLAIN_TABLE}")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0005_service_accounts"),
        ("governance", "0016_api_tokens_hashed_and_web_sessions"),
    ]

    operations = [migrations.RunPython(hash_plain_keys, migrations.RunPython.noop)]
