"""Built into every template (no {% load %} to forget): people and amounts as people read them.

{{ user|person }}: by full name (the username only when no name is recorded); nothing for no one, so
`|default:"Vigil"` can name the system. {{ amount|money }}: in the firm's reporting currency with thousands
separators ("USD 250,000,000"; cents only when there are some). {{ n|days }}: a period in days, in years when
it is whole years ("7 years (2,555 days)"). {{ iso|when }}: a recorded ISO time as people read it
("2026-11-29 15:21 UTC"; a date stays a date). {{ mapping|pairs }}: "lookback_days = 130; seed = 7".
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def money(amount) -> str:
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    digits = f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    return f"{settings.VIGIL_REPORTING_CURRENCY} {digits}"


@register.filter
def days(value) -> str:
    if value is None or value == "":
        return "—"
    n = int(value)
    if n >= 365 and n % 365 == 0:
        years = n // 365
        return f"{years} year{'s' if years != 1 else ''} ({n:,} days)"
    return f"{n:,} day{'s' if n != 1 else ''}"


@register.filter
def when(value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if "T" not in str(value) and " " not in str(value):
            return moment.date().isoformat()
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@register.filter
def pairs(mapping) -> str:
    if not isinstance(mapping, dict) or not mapping:
        return "—"
    return "; ".join(f"{key} = {mapping[key]}" for key in sorted(mapping))
