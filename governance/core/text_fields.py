"""A free-text field of a service's input, checked the one way every service does: stripped, required or not, and
within its length; its error goes into the service's errors under the field's name (a 400 or a form error beside the
field). Used by the services that take text outside a form (incidents, review threads)."""


def checked_text(errors: dict, name: str, value, limit: int, required: bool = True) -> str:
    """`value` stripped; a problem recorded in `errors[name]`. Absent (None) reads as empty; not text is an error."""
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        errors[name] = ["Give text."]
        return ""
    if required and not value:
        errors[name] = ["This field is required."]
    elif len(value) > limit:
        errors[name] = [f"Keep it under {limit:,} characters."]
    return value
