"""Rules every input field of Vigil obeys, installed once on the frameworks' own fields at start.

A rule that must hold for every field of a kind (each date in Vigil's range) is not repeated in each serializer
and form, where a new field would be written without it: `install()`, called by the core's AppConfig.ready(),
wraps DRF's and Django's field classes so that every instance, declared or generated from a model, in any
app, answers the same 400 or form error naming its field. The rules' content lives in their own modules
(`moments` for times, `single_line` for one-line text); this module only hangs them on the fields.
"""

import functools

from django import forms
from django.core.exceptions import ValidationError as FormError
from rest_framework import fields as api
from rest_framework.exceptions import ValidationError as ApiError

from governance.core import moments, single_line

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _install_time_range()
    _install_single_line()


def _install_time_range() -> None:
    """Times and dates outside `moments.RANGE` are refused: DRF checks a parsed time before moving it to its zone
    (where the year 1 overflows), a date after parsing; Django's form fields after `to_python`."""
    enforce_timezone = api.DateTimeField.enforce_timezone

    @functools.wraps(enforce_timezone)
    def checked_enforce_timezone(self, value):
        if (problem := moments.problem(value)) is not None:
            raise ApiError(problem, code="out_of_range")
        return enforce_timezone(self, value)

    api.DateTimeField.enforce_timezone = checked_enforce_timezone
    _after(api.DateField, "to_internal_value", lambda problem: ApiError(problem, code="out_of_range"))
    for field_class in (forms.DateTimeField, forms.DateField):
        _after(field_class, "to_python", lambda problem: FormError(problem, code="out_of_range"))


def _after(field_class, method_name: str, error) -> None:
    """Wrap `field_class.method_name` so that a value it returns outside the range raises `error(problem)`."""
    method = getattr(field_class, method_name)

    @functools.wraps(method)
    def checked(self, value):
        result = method(self, value)
        if (problem := moments.problem(result)) is not None:
            raise error(problem)
        return result

    setattr(field_class, method_name, checked)


def _install_single_line() -> None:
    """Text fields that are not multi-line (`single_line`) refuse line breaks and control characters, after the
    field's own cleaning (DRF trims surrounding whitespace first, so a trailing newline is simply dropped)."""
    to_internal_value = api.CharField.to_internal_value

    @functools.wraps(to_internal_value)
    def checked_api(self, data):
        value = to_internal_value(self, data)
        # Only fields of a serializer (bound to it): an unbound CharField is a library's own tool (DRF's search
        # filter cleans its query with one), whose refusal would not name a field.
        if self.parent is None or single_line.is_multi_line_api_field(self):
            return value
        if (problem := single_line.problem(value)) is not None:
            raise ApiError(problem, code="not_one_line")
        return value

    api.CharField.to_internal_value = checked_api
    to_python = forms.CharField.to_python

    @functools.wraps(to_python)
    def checked_form(self, value):
        value = to_python(self, value)
        if not single_line.is_multi_line_form_field(self) and (problem := single_line.problem(value)) is not None:
            raise FormError(problem, code="not_one_line")
        return value

    forms.CharField.to_python = checked_form
