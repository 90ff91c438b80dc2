"""Helpers that let forms show errors raised by services next to the right field."""

from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form; fields the form lacks become form-wide errors."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field.replace('_', ' ').capitalize()}: {message}")
