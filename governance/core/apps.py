from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """The shared core: audit chain, roles and the access registry, signatures, policy, notifications.

    Its label stays "governance" so that tables, migrations and the object types written into the audit
    trail ("governance.signature", ...) keep the names they were recorded under.
    """

    name = "governance.core"
    label = "governance"
    verbose_name = "Governance core"

    def ready(self):
        from governance.core import (  # noqa: F401  (signals, tasks: registered on import)
            api_tokens,
            input_rules,
            notifications,
            outbound,
            schedules,
            signals,
            tasks,
        )

        input_rules.install()
        notifications.register()
        api_tokens.connect()
        schedules.connect(self)
        outbound.allowed_networks()  # a network that is not one, or a metadata address, stops start-up


class VigilAdminConfig(admin_apps.AdminConfig):
    """Django's admin on Vigil's site, which attributes admin requests to their user in the audit trail."""

    default = False  # named in INSTALLED_APPS; CoreConfig stays this module's default

    default_site = "governance.core.admin_site.VigilAdminSite"
