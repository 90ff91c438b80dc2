"""Publish governance policy version 1 with Vigil's defaults, so every decision has a policy in force.

Dated at the earliest moment Vigil takes (governance/core/policy.py `DEFAULTS_IN_FORCE_FROM`), not at migrate time:
the defaults apply from before anything is recorded, and a past rebuilt with the clock set back (the demo's year)
would otherwise cite a version published after its own decisions. Databases migrated before keep their date.
"""

import datetime as dt

from django.db import migrations

IN_FORCE_FROM = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # written out: a migration does not read today's code
DEFAULTS = {
    "profile": "SR 26-2",
    "tiering_rule_version": "TIER-2026.1",
    "revalidation_months": {"1": 12, "2": 24, "3": 36},
    "approvals_required": {"1": 2, "2": 1, "3": 1},
    "required_evidence": {"validate": ["validation_report"], "validate_with_conditions": ["validation_report"],
                          "reject": ["validation_report"], "promote": ["pilot_results"]},
    "due_soon_days": 30,
}


def publish(apps, schema_editor):
    Policy = apps.get_model("governance", "GovernancePolicy")
    if not Policy.objects.exists():
        Policy.objects.create(version=1, published_at=IN_FORCE_FROM, notes="Vigil defaults.", **DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("governance", "0004_governancepolicy_notification_pilotplan_signature_and_more")]
    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
