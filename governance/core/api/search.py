"""The API's search filter: a refused search term is a 400 naming the `search` parameter, like every other field.

DRF's SearchFilter refuses a NUL character with a bare list (["Null characters are not allowed."]), which breaks
the error shape the schema promises (each invalid field with its message)."""

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class FieldErrorSearchFilter(filters.SearchFilter):
    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {self.search_param: exc.detail}
            raise ValidationError(detail) from None
