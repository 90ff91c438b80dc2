"""Single-line text stays on one line: names, titles, keys, labels and one-line reasons hold no line break and no
control character. A title with a CR or LF splits a log line, a CSV row or a mail header that quotes it, and a
tab or escape character hides what a reader sees.

Which fields may hold several lines: in a Django form, those with a Textarea widget; in the API, those with
DRF's textarea style (`style=MULTI_LINE`, which DRF also gives fields generated from a model's TextField).
Passwords are left as they are. `governance.core.input_rules` applies `problem` to every other text field.
NUL is left to the frameworks' own validators, which already refuse it with their message.
"""

import re

MULTI_LINE = {"base_template": "textarea.html"}  # DRF's style for prose: pass as style=MULTI_LINE

_CONTROL = re.compile("[\x01-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = {"\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"}


def problem(value) -> str | None:
    """Why `value` is not one line of text (what it holds), or None."""
    if not isinstance(value, str):
        return None
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    what = (
        "a line break"
        if char in _LINE_BREAKS
        else "a tab"
        if char == "\t"
        else f"the control character U+{ord(char):04X}"
    )
    return f"Keep this to one line: it holds {what} (no line breaks or control characters here)."


def is_multi_line_api_field(field) -> bool:
    style = getattr(field, "style", None) or {}
    if style.get("input_type") == "password" or getattr(field, "field_name", None) == "password":
        return True  # passwords are checked by their own rules, never echoed
    return style.get("base_template") == MULTI_LINE["base_template"]


def is_multi_line_form_field(field) -> bool:
    from django import forms

    return isinstance(field.widget, forms.Textarea | forms.PasswordInput)
