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
        from governance.core import notifications, outbound, signals, tasks  # noqa: F401  (signals, tasks: registered on import)

        notifications.register()
        outbound.allowed_networks()  # a network that is not one, or a metadata address, stops start-up
