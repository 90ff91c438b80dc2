"""How recorded values read on pages: the label of a coded value, and the format of an amount or a size.

Audit changes keep values as they were stored ("in_validation", "gradient_boosting", 250000000) so auditors and
exports get them exactly; pages show them as people read them. Apps register, per field name, the choices
behind the codes they record and the format of their amounts, so the core knows no feature's vocabulary.
"""

from collections.abc import Callable

_choices: dict[str, dict[str, str]] = {}
_formats: dict[str, Callable[[object], str]] = {}


def register_choices(field: str, choices) -> None:
    """`choices`: (value, label) pairs, e.g. a TextChoices' .choices. Fields of the same name in several apps
    (a data source's kind, an evidence file's kind) share one table: their codes differ."""
    _choices.setdefault(field, {}).update({str(value): str(label) for value, label in choices})


def register_format(field: str, format_fn: Callable[[object], str]) -> None:
    _formats[field] = format_fn


def label(field: str | None, value) -> str | None:
    """The value as people read it, or None when nothing is registered for it."""
    if field in _formats and value is not None and not isinstance(value, bool):
        try:
            return _formats[field](value)
        except (TypeError, ValueError, ArithmeticError):
            return None
    if field in _choices and isinstance(value, str | int) and not isinstance(value, bool):
        return _choices[field].get(str(value))
    return None
