from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    """The inventory: models, versions, data sources, dependencies, tiering and the risk register."""

    name = "models_registry"
    verbose_name = "Model inventory"

    def ready(self):
        from governance.core import panels
        from models_registry import access, widgets

        access.register()
        widgets.register()
        # The sections of the inventory's own pages; higher apps add theirs (monitoring, incidents, validation...).
        for page, key, label, order in (
            (panels.MODEL_PAGE, "overview", "Overview", 10),
            (panels.MODEL_PAGE, "lineage", "Lineage and access", 60),
            (panels.MODEL_PAGE, "history", "History", 90),
            (panels.VERSION_PAGE, "overview", "Overview", 10),
            (panels.VERSION_PAGE, "history", "History", 90),
        ):
            panels.register_section(panels.Section(page, key, label, order, empty=""))  # never empty: the record
