"""The stays in lifecycle stages, as a view over the transitions (governance.lifecycle.models.StageStay).

For each transition that changed a version's status, when the version entered the stage it left: the time of the
latest earlier transition (by time, then id) into that stage that changed the status, as the time-in-stage widget
computed it with one correlated lookup per transition. Here one window over each version's status-changing
transitions in order gives each its predecessor: when that one entered the stage left, it is the latest entry (any
later one would sit between them); when there is none, no entry came before. Only a history whose steps do not chain
(the next leaves a stage the last did not enter: data written by hand) falls back to the lookup. The same SQL on
PostgreSQL and SQLite.
"""

from django.db import migrations, models

TABLE = "governance_versiontransition"
VIEW = f"""
CREATE VIEW lifecycle_stagestay AS
SELECT s.id, s.version_id, s.from_status, s.to_status, s.at,
  CASE
    WHEN s.previous_to IS NULL THEN NULL
    WHEN s.previous_to = s.from_status THEN s.previous_at
    ELSE (SELECT MAX(e.at) FROM {TABLE} e
          WHERE e.version_id = s.version_id AND e.to_status = s.from_status AND e.from_status <> e.to_status
            AND (e.at < s.at OR (e.at = s.at AND e.id < s.id)))
  END AS entered_at
FROM (
  SELECT t.id, t.version_id, t.from_status, t.to_status, t.at,
    LAG(t.to_status) OVER w AS previous_to, LAG(t.at) OVER w AS previous_at
  FROM {TABLE} t
  WHERE t.from_status <> t.to_status
  WINDOW w AS (PARTITION BY t.version_id ORDER BY t.at, t.id)
) s
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
