

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('governance', '0013_incident_response_policy'),
        ('models_registry', '0004_version_uri_and_revision_checks'),
        ('monitoring', '0006_telemetry_keys_checked_by_the_service'),
        ('risk', '0008_run_prediction_log'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200)),
                ('description', models.TextField(max_length=10000)),
                ('severity', models.CharField(choices=[('critical', 'Critical'), ('high', 'High'), ('medium', 'Medium'), ('low', 'Low')], max_length=10)),
                ('status', models.CharField(choices=[('open', 'Open'), ('investigating', 'Investigating'), ('mitigated', 'Mitigated'), ('closed', 'Closed')], default='open', max_length=15)),
                ('detected_by', models.CharField(choices=[('monitor', 'A monitor'), ('person', 'A person')], max_length=10)),
                ('opened_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('impact_pnl', models.DecimalField(blank=True, decimal_places=2, help_text='In the reporting currency; losses < 0.', max_digits=20, null=True, verbose_name='P&L impact')),
                ('impact_trades', models.PositiveIntegerField(blank=True, null=True, verbose_name='trades affected')),
                ('impact_clients', models.PositiveIntegerField(blank=True, null=True, verbose_name='clients affected')),
                ('root_cause', models.TextField(blank=True, max_length=10000)),
                ('corrective_actions', models.TextField(blank=True, max_length=10000)),
                ('post_incident_review', models.TextField(blank=True, max_length=20000)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('closure_signature', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.signature')),
                ('findings', models.ManyToManyField(blank=True, related_name='incidents', to='risk.finding')),
                ('model', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='models_registry.model')),
                ('monitor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='monitoring.monitor')),
                ('reported_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('results', models.ManyToManyField(blank=True, related_name='incidents', to='monitoring.monitorresult')),
                ('version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='models_registry.modelversion')),
            ],
            options={
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='IncidentEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('opened', 'Opened'), ('detection', 'Detected again'), ('note', 'Note'), ('status', 'Status changed'), ('severity', 'Severity changed'), ('impact', 'Impact assessed'), ('analysis', 'Root cause or actions recorded'), ('policy', 'Policy action'), ('action', 'Corrective action')], max_length=12)),
                ('at', models.DateTimeField()),
                ('text', models.TextField(max_length=10000)),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='incidents.incident')),
                ('result', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='monitoring.monitorresult')),
            ],
            options={
                'ordering': ['at', 'id'],
            },
        ),
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['model', 'status'], name='incident_model_status'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.UniqueConstraint(condition=models.Q(('monitor__isnull', False), models.Q(('status', 'closed'), _negated=True)), fields=('monitor',), name='incident_one_open_per_monitor'),
        ),
    ]
