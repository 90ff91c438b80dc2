from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    """The inventory: models, versions, data sources, dependencies, tiering and the risk register."""

    name = "models_registry"
    verbose_name = "Model inventory"

    def ready(self):
        from models_registry import access

        access.register()
