"""Helpers that let forms show errors raised by services next to the right field."""

from django.contrib import messages
from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form; fields the form lacks become form-wide errors."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message if target else f"{field.replace('_', ' ').capitalize()}: {message}")


def errors_to_messages(request, exc: ValidationError) -> None:
    """A service's ValidationError as page messages, for actions posted from a page without their own form."""

    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(request, f"{field.replace('_', ' ').replace('.', ': ')}: {error}")
    else:
        for error in exc.messages:
            messages.error(request, error)
