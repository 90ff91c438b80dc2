"""The range of times and dates Vigil accepts, and the one parser for times given as text.

Trading data, audit periods, validation splits, access windows and due dates all fall between 1970 and 2200:
anything outside is a typing or encoding mistake (a year 1 or 9999 placeholder, a zero epoch in the wrong
unit), and near the ends of Python's calendar a time cannot even be moved to UTC (0001-01-01T00:30+01:00 is
in the year 0). Every time or date that comes in is checked against this range, whichever way it comes:
DRF and Django form fields through `governance.core.input_rules` (installed once, at start), hand-checked
inputs (monitoring batches, query and export parameters, a plan's split date) through `parse` and `problem`.
"""

import datetime as dt

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)  # excluded: a time is before it
RANGE = (EARLIEST, LATEST)
RANGE_TEXT = "from 1970-01-01 to 2200-01-01 (UTC)"
OUT_OF_RANGE = f"Give a time {RANGE_TEXT}."
DAY_OUT_OF_RANGE = f"Give a date {RANGE_TEXT}."


def problem(value) -> str | None:
    """Why `value` (a datetime, aware or naive as UTC, or a date) is outside the range; None when inside.
    Compared without converting, so a time that cannot be moved to UTC is refused rather than overflowing."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return None if EARLIEST <= moment < LATEST else OUT_OF_RANGE
    if isinstance(value, dt.date):
        return None if EARLIEST.date() <= value < LATEST.date() else DAY_OUT_OF_RANGE
    return None


def in_range_q(field: str) -> dict:
    """Filter keywords for rows whose `field` lies in the range (reads skip rows stored before the rule)."""
    return {f"{field}__gte": EARLIEST, f"{field}__lt": LATEST}


class BadMoment(ValueError):
    """A time given as text that Vigil does not take; its message says what to give."""


def parse(value, *, end: bool = False, zone_required: bool = False, dates: bool = True) -> dt.datetime:
    """An ISO 8601 time (or, with `dates`, a date: its midnight, or the next day's for an `end`) as a UTC
    datetime inside the range. A time without a zone is UTC unless `zone_required`. Raises BadMoment."""
    example = "2026-11-01T09:00:00Z"
    if not isinstance(value, str) or not value or len(value) > 40:
        raise BadMoment(f"Give a date (2026-11-01) or a time ({example})." if dates else f"Give a time ({example}).")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadMoment(f"{value!r} is not an ISO 8601 {'date or time' if dates else 'time'}.") from None
    is_date = len(value) == 10 and "T" not in value and " " not in value
    if is_date and not dates:
        raise BadMoment(f"Give a time with its zone ({example}), not a date.")
    if moment.tzinfo is None:
        if zone_required and not is_date:
            raise BadMoment("Give the time zone (Z for UTC).")
        moment = moment.replace(tzinfo=dt.UTC)
    if (message := problem(moment)) is not None:
        raise BadMoment(message)
    if is_date and end:
        moment += dt.timedelta(days=1)  # at most LATEST: the last day of the range ends there
    return moment.astimezone(dt.UTC)
