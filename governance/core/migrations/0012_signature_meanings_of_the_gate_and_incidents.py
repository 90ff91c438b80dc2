from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0011_signature_approved_for_production"),
    ]

    operations = [
        migrations.AlterField(
            model_name="signature",
            name="meaning",
            field=models.CharField(
                choices=[
                    ("authored", "Authored"),
                    ("reviewed", "Reviewed"),
                    ("validated", "Validated"),
                    ("validated_with_conditions", "Validated with conditions"),
                    ("rejected", "Rejected"),
                    ("approved", "Approved for deployment"),
                    ("approved_for_production", "Approved for production"),
                    ("risk_accepted", "Risk accepted"),
                    ("attested", "Annual attestation"),
                    ("kill_switch_engaged", "Kill switch engaged"),
                    ("kill_switch_release_requested", "Kill switch release requested"),
                    ("kill_switch_released", "Kill switch released"),
                    ("incident_closed", "Incident closed"),
                ],
                max_length=40,
            ),
        ),
    ]
