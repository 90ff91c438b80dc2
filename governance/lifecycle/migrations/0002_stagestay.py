"""The stays in lifecycle stages, as a view over the transitions (governance.lifecycle.models.StageStay).

For each transition that changed a version's status, when the version entered the stage it left: the time of the
latest earlier transition (by time, then id) into that stage that changed the status, as the time-in-stage widget
computed it with one correlated lookup per transition. Here one window over each version's transitions in order keeps,
for every status, the latest entry so far; a status not listed (none today) falls back to the lookup, so the view stays
exact if one is added. The same SQL on PostgreSQL and SQLite (window functions, named window).
"""

from django.db import migrations, models

# Frozen here as they stood: a migration never reads the app's current choices.
STATUSES = (
    "draft",
    "submitted",
    "in_validation",
    "validated",
    "validated_with_conditions",
    "rejected",
    "approved",
    "pilot",
    "production",
    "suspended",
    "retired",
)
TABLE = "governance_versiontransition"

ENTERED = ",\n  ".join(
    f"MAX(CASE WHEN t.to_status = '{s}' AND t.from_status <> t.to_status THEN t.at END) OVER w AS entered_{s}"
    for s in STATUSES
)
CASES = "\n    ".join(f"WHEN '{s}' THEN s.entered_{s}" for s in STATUSES)
VIEW = f"""
CREATE VIEW lifecycle_stagestay AS
SELECT s.id, s.version_id, s.from_status, s.to_status, s.at,
  CASE s.from_status
    {CASES}
    ELSE (SELECT MAX(e.at) FROM {TABLE} e
          WHERE e.version_id = s.version_id AND e.to_status = s.from_status AND e.from_status <> e.to_status
            AND (e.at < s.at OR (e.at = s.at AND e.id < s.id)))
  END AS entered_at
FROM (
  SELECT t.id, t.version_id, t.from_status, t.to_status, t.at,
  {ENTERED}
  FROM {TABLE} t
  WINDOW w AS (PARTITION BY t.version_id ORDER BY t.at, t.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) s
WHERE s.from_status <> s.to_status
"""


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0001_initial"),
        ("models_registry", "0003_modelrisk"),
    ]

    operations = [
        migrations.RunSQL(VIEW, reverse_sql="DROP VIEW lifecycle_stagestay"),
        migrations.CreateModel(
            name="StageStay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_status", models.CharField(max_length=30)),
                ("to_status", models.CharField(max_length=30)),
                ("at", models.DateTimeField()),
                ("entered_at", models.DateTimeField(null=True)),
                (
                    "version",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="models_registry.modelversion",
                    ),
                ),
            ],
            options={"db_table": "lifecycle_stagestay", "managed": False},
        ),
    ]
