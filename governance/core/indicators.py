"""Key risk indicators (issue 22): the few figures the board watches, each read from a dashboard widget's rows, with
amber and red thresholds the governance policy sets (published and versioned with it by compliance).

An indicator names a widget, the filters it is read with and the rows it sums (by their dimension values), so its
value is the sum of exactly the records that widget's drill-down lists for those rows: an indicator can be opened
like any count. Apps register their indicators beside their widgets.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from governance.core import widgets
from governance.core.widgets import Filters

GREEN, AMBER, RED = "green", "amber", "red"
STATUS_WORDS = {GREEN: "green", AMBER: "amber", RED: "red"}
STATUS_LABELS = {GREEN: "Green: within appetite", AMBER: "Amber: at its warning level", RED: "Red: outside appetite"}


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    widget: str  # the key of the widget it is read from
    cells: tuple[dict, ...]  # the rows it sums, by dimension values ({"due": "overdue"}); () sums every row
    amber: int  # Vigil's default thresholds (higher is worse): amber at or above `amber`, red at or above `red`
    red: int
    narrow: dict = field(default_factory=dict)  # filters it is always read with ({"tier": 1})
    description: str = ""

    def filters(self, base: Filters) -> Filters:
        """The page's filters with the indicator's own (its tier, say) on top."""
        return Filters(**{**base.__dict__, **self.narrow})

    def value(self, user, base: Filters, rows: Callable | None = None) -> int:
        widget = widgets.get(self.widget)
        found = (rows or widget.rows)(user, self.filters(base))
        if not self.cells:
            return widgets.total(found)
        return sum(widgets.count_where(found, **cell) for cell in self.cells)


def status(value: int, amber: int, red: int) -> str:
    if value >= red:
        return RED
    if value >= amber:
        return AMBER
    return GREEN


def rule_text(amber: int, red: int) -> str:
    """The thresholds in words: "green below 1, amber from 1, red from 2" (no amber when it starts at red)."""
    if amber >= red:
        return f"green below {red:,}, red from {red:,}"
    return f"green below {amber:,}, amber from {amber:,}, red from {red:,}"


_registry: dict[str, Indicator] = {}


def register(indicator: Indicator) -> None:
    _registry[indicator.key] = indicator


def all_indicators() -> list[Indicator]:
    return sorted(_registry.values(), key=lambda i: i.key)


def get(key: str) -> Indicator | None:
    return _registry.get(key)


def thresholds(policy, indicator: Indicator) -> tuple[int, int, str]:
    """(amber, red, where they come from): the policy's, else Vigil's default under that policy version."""
    set_by_policy = (policy.risk_indicators or {}).get(indicator.key)
    if set_by_policy:
        return int(set_by_policy["amber"]), int(set_by_policy["red"]), f"policy v{policy.version}"
    return indicator.amber, indicator.red, f"Vigil's default; policy v{policy.version} sets none"
