"""On PostgreSQL, refuse UPDATE and DELETE of audit events at the database (21 CFR 11.10(e)).

Even a superuser of the application, or a bug, cannot rewrite history through the ORM; an attacker with
database superuser rights could disable the trigger, which is what the hash chain then exposes.
SQLite has no such trigger here; the hash chain still detects any change there.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION vigil_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'governance_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS vigil_audit_append_only ON governance_auditevent;
CREATE TRIGGER vigil_audit_append_only BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION vigil_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS vigil_audit_append_only ON governance_auditevent;
DROP FUNCTION IF EXISTS vigil_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
