"""Relational API fields that refuse input a database cannot even compare (NUL characters, non-text)."""

from rest_framework import serializers


class SafeSlugRelatedField(serializers.SlugRelatedField):
    """SlugRelatedField that answers 400, not a database error, for NUL bytes and non-text values."""

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "null_characters": "Null characters are not allowed.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            self.fail("null_characters")
        return super().to_internal_value(data)
