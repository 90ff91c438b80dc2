from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo firm `seed_demo` builds. The top layer: it drives every app through its services."""

    name = "governance.demo"
    label = "demo"
    verbose_name = "Demo data"
