"""The documented rule that turns materiality and complexity into a risk tier (TIER-01).

Written by hand because the rule *is* the firm's policy: it must read like the table in
docs/tiering.md, and every tier records which rule version produced it.

Materiality (size plus reach):
    notional or capital at stake >= 100m  -> high
    >= 10m                                -> medium
    otherwise                             -> low
    five or more downstream consumers raise materiality one level (to at most high).
Complexity (method, data, explainability):
    the complexity rating (low / medium / high),
    raised one level (to at most high) when explainability is low.
Tier from the two levels:
                        complexity low   medium   high
    materiality high         2            1        1
    materiality medium       3            2        2
    materiality low          3            3        2
"""

from dataclasses import dataclass
from decimal import Decimal

RULE_VERSION = "TIER-2026.1"

HIGH_NOTIONAL = Decimal("100000000")
MEDIUM_NOTIONAL = Decimal("10000000")
WIDE_REACH_CONSUMERS = 5

_LEVELS = ["low", "medium", "high"]
_MATRIX = {
    "high": {"low": 2, "medium": 1, "high": 1},
    "medium": {"low": 3, "medium": 2, "high": 2},
    "low": {"low": 3, "medium": 3, "high": 2},
}


def _raise(level: str) -> str:
    return _LEVELS[min(_LEVELS.index(level) + 1, len(_LEVELS) - 1)]


@dataclass(frozen=True)
class TierAssessment:
    materiality: str
    complexity: str
    tier: int
    rule_version: str = RULE_VERSION


def materiality_level(notional_at_stake: Decimal, downstream_consumers: int) -> str:
    if notional_at_stake >= HIGH_NOTIONAL:
        level = "high"
    elif notional_at_stake >= MEDIUM_NOTIONAL:
        level = "medium"
    else:
        level = "low"
    if downstream_consumers >= WIDE_REACH_CONSUMERS:
        level = _raise(level)
    return level


def complexity_level(complexity_rating: str, explainability_rating: str) -> str:
    if complexity_rating not in _LEVELS or explainability_rating not in _LEVELS:
        raise ValueError("ratings must be one of low, medium, high")
    return _raise(complexity_rating) if explainability_rating == "low" else complexity_rating


def assess(
    notional_at_stake: Decimal, downstream_consumers: int, complexity_rating: str, explainability_rating: str
) -> TierAssessment:
    materiality = materiality_level(Decimal(notional_at_stake), int(downstream_consumers))
    complexity = complexity_level(complexity_rating, explainability_rating)
    return TierAssessment(materiality, complexity, _MATRIX[materiality][complexity])
