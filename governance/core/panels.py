"""Pages composed from panels that apps register (NetBox's `register_widget` is the pattern).

A page owned by a lower layer shows what higher layers know about its object without importing them:
the inventory's version page shows the lifecycle, evidence, findings and validation runs (and later
monitoring and incidents) because those apps register a Panel for the "version" page in their
AppConfig.ready(). Each panel reads through its own selector and answers None when the viewer may not
see it, so a page never shows a panel its viewer has no business with.
"""

from collections.abc import Callable
from dataclasses import dataclass

VERSION_PAGE = "version"
MODEL_PAGE = "model"
QUEUE_PAGE = "queue"  # My queue: work that higher apps know of (monitors in warn or breach)


@dataclass(frozen=True)
class Panel:
    page: str
    name: str
    order: int  # lower first
    template: str
    context: Callable  # (request, obj) -> dict, or None to leave the panel out for this viewer
    wide: bool = False  # spans the whole page below the two columns (a grid of charts, say)


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict
    wide: bool = False


_registry: dict[str, dict[str, Panel]] = {}


def register(panel: Panel) -> None:
    """Add a panel to a page; registering the same name again replaces it (apps' ready() may run twice)."""
    _registry.setdefault(panel.page, {})[panel.name] = panel


def panels_for(page: str) -> list[Panel]:
    return sorted(_registry.get(page, {}).values(), key=lambda p: (p.order, p.name))


def build(page: str, request, obj) -> list[RenderedPanel]:
    """The panels of `page` for this request, each with its context, in order."""
    out = []
    for panel in panels_for(page):
        context = panel.context(request, obj)
        if context is not None:
            out.append(RenderedPanel(panel.name, panel.template, context, panel.wide))
    return out
