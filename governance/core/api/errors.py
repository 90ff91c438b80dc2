"""One translation of domain errors into HTTP for the whole API.

- django ValidationError from a service -> 400 with {field: [messages]} (never a 500);
- governance.exceptions.Conflict -> 409 with {"detail", "reasons"};
- governance.exceptions.SigningLocked -> 429 with {"password": [why, until when]} and Retry-After (seconds);
- PermissionDenied -> 403, Http404 -> 404 (DRF's own handling);
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE -> 413 with a JSON reason (Django alone answers an HTML 400).
"""

import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.core.exceptions import Conflict, SigningLocked


def validation_error_body(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, SigningLocked):
        wait = max(1, math.ceil((exc.until - timezone.now()).total_seconds()))
        response = Response(validation_error_body(exc), status=status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        detail = f"The request body is over {limit} MB (VIGIL_MAX_REQUEST_MB): send the rows in smaller batches."
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc), "reasons": exc.reasons}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
