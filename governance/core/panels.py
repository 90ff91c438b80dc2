"""Pages composed from panels that apps register (NetBox's `register_widget` is the pattern).

A page owned by a lower layer shows what higher layers know about its object without importing them:
the inventory's version page shows the lifecycle, evidence, findings and validation runs (and later
monitoring and incidents) because those apps register a Panel for the "version" page in their
AppConfig.ready(). Each panel reads through its own selector and answers None when the viewer may not
see it, so a page never shows a panel its viewer has no business with.

A page may be split into sections (issue 21: the model page had grown to 7,000 px and seconds of server time):
each section is a tab of its own (`?section=monitoring`), and a request builds only the panels of the section
it shows. An app adds a section with `register_section` and puts a panel in it with `Panel(section=...)`; a
panel that names no section belongs to the page's first section, as every panel did before.
"""

from collections.abc import Callable
from dataclasses import dataclass

VERSION_PAGE = "version"
MODEL_PAGE = "model"
QUEUE_PAGE = "queue"  # My queue: work that higher apps know of (monitors in warn or breach)
# Pages of one governed record, unsectioned: higher apps add what they know of it (review threads).
RUN_PAGE, FINDING_PAGE, INCIDENT_PAGE, MONITOR_PAGE = "run", "finding", "incident", "monitor"


@dataclass(frozen=True)
class Panel:
    page: str
    name: str
    order: int  # lower first
    template: str
    context: Callable  # (request, obj) -> dict, or None to leave the panel out for this viewer
    wide: bool = False  # spans the whole page below the two columns (a grid of charts, say)
    section: str = ""  # the key of the page's section it shows in; "" is the page's first section


@dataclass(frozen=True)
class Section:
    page: str
    key: str  # in the address: ?section=<key>
    label: str
    order: int  # lower first; the lowest is where the page opens
    empty: str  # what the section says when nothing in it is for this viewer


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict
    wide: bool = False


_registry: dict[str, dict[str, Panel]] = {}
_sections: dict[str, dict[str, Section]] = {}


def register(panel: Panel) -> None:
    """Add a panel to a page; registering the same name again replaces it (apps' ready() may run twice)."""
    _registry.setdefault(panel.page, {})[panel.name] = panel


def panels_for(page: str) -> list[Panel]:
    return sorted(_registry.get(page, {}).values(), key=lambda p: (p.order, p.name))


def register_section(section: Section) -> None:
    _sections.setdefault(section.page, {})[section.key] = section


def sections_for(page: str) -> list[Section]:
    return sorted(_sections.get(page, {}).values(), key=lambda s: (s.order, s.key))


def section_of(page: str, key: str | None) -> Section | None:
    """The section `key` names, the page's first when none is asked for, None when the page has no such section
    (the view answers 400 and says so)."""
    sections = sections_for(page)
    if not key:
        return sections[0]
    return next((section for section in sections if section.key == key), None)


def _in_section(panel: Panel, section: str) -> bool:
    sections = sections_for(panel.page)
    return (panel.section or (sections[0].key if sections else "")) == section


def build(page: str, request, obj, section: str | None = None) -> list[RenderedPanel]:
    """The panels of `page` for this request, each with its context, in order: only those of `section` when
    one is given, so a tab builds nothing that it does not show."""
    out = []
    for panel in panels_for(page):
        if section is not None and not _in_section(panel, section):
            continue
        context = panel.context(request, obj)
        if context is not None:
            out.append(RenderedPanel(panel.name, panel.template, context, panel.wide))
    return out
