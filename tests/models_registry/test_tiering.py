from decimal import Decimal

import pytest

from models_registry import tiering


@pytest.mark.parametrize(
    "notional,consumers,expected",
    [
        ("0", 0, "low"),
        ("9999999.99", 0, "low"),
        ("10000000", 0, "medium"),
        ("99999999", 4, "medium"),
        ("99999999", 5, "high"),
        ("100000000", 0, "high"),
        ("100000000", 50, "high"),
        ("1", 5, "medium"),
    ],
)
def test_it_grades_materiality_at_the_documented_boundaries(notional, consumers, expected):
    assert tiering.materiality_level(Decimal(notional), consumers) == expected


@pytest.mark.parametrize(
    "complexity,explainability,expected",
    [
        ("low", "high", "low"),
        ("low", "low", "medium"),
        ("medium", "medium", "medium"),
        ("medium", "low", "high"),
        ("high", "low", "high"),
        ("high", "high", "high"),
    ],
)
def test_it_grades_complexity_with_explainability(complexity, explainability, expected):
    assert tiering.complexity_level(complexity, explainability) == expected


@pytest.mark.parametrize(
    "notional,consumers,complexity,explainability,tier",
    [
        ("500000000", 0, "medium", "high", 1),
        ("500000000", 0, "low", "high", 2),
        ("50000000", 0, "high", "high", 2),
        ("50000000", 0, "low", "medium", 3),
        ("1000", 0, "high", "low", 2),
        ("1000", 0, "medium", "medium", 3),
        ("50000000", 6, "medium", "high", 1),
    ],
)
def test_it_maps_the_two_levels_to_a_tier(notional, consumers, complexity, explainability, tier):
    result = tiering.assess(Decimal(notional), consumers, complexity, explainability)
    assert result.tier == tier and result.rule_version == tiering.RULE_VERSION


def test_it_refuses_unknown_ratings():
    with pytest.raises(ValueError):
        tiering.assess(Decimal("1"), 0, "extreme", "low")
