from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared core: audit chain, roles and the access registry, signatures, policy, notifications.

    Its label stays "governance" so that tables, migrations and the object types written into the audit
    trail ("governance.signature", ...) keep the names they were recorded under.
    """

    name = "governance.core"
    label = "governance"
    verbose_name = "Governance core"

    def ready(self):
        from governance.core import input_rules, notifications, signals, tasks  # noqa: F401  (signals, tasks: on import)

        input_rules.install()
        notifications.register()
