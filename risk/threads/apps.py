from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    """Review threads on governed records: comments, mentions, replies, resolve and reopen; challenge as evidence."""

    name = "risk.threads"
    label = "threads"
    verbose_name = "Review threads"

    def ready(self):
        from governance.core import panels
        from risk.threads import access, targets, views, widgets

        targets.register_defaults()
        access.register()
        widgets.register()
        for page, kind, order in (
            (panels.VERSION_PAGE, "version", 60),
            (panels.RUN_PAGE, "run", 10),
            (panels.FINDING_PAGE, "finding", 10),
            (panels.INCIDENT_PAGE, "incident", 10),
            (panels.MONITOR_PAGE, "monitor", 10),
        ):
            panels.register(panels.Panel(page, "threads", order, "threads/panels/threads.html", views._panel_for(kind)))
        panels.register_section(
            panels.Section(panels.MODEL_PAGE, "threads", "Threads", 37, empty="")  # never empty: says "None yet"
        )
        panels.register(
            panels.Panel(
                panels.MODEL_PAGE,
                "threads",
                6,
                "threads/panels/model_threads.html",
                views.model_panel,
                section="threads",
            )
        )
