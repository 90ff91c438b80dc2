from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Production monitoring: what trading systems and pipelines report about a live model version."""

    name = "risk.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"
