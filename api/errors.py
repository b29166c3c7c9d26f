"""Errors as JSON: {"detail": "...", "errors": {"field": ["message", ...]}} with a fitting status."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from surveys.errors import ServiceError, StudyFileError


def _field_errors(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):  # nested serializer: flatten to field.sub
                out |= {f"{field}.{k}": v for k, v in _field_errors(messages).items()}
            else:
                out[str(field)] = [str(m) for m in (messages if isinstance(messages, list)
                                                     else [messages])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {}


def exception_handler(exc, context):
    """DRF's handler, plus service errors, protected deletes and over-size bodies, in one JSON
    shape."""
    if isinstance(exc, RequestDataTooBig):  # Django would answer 400 (SuspiciousOperation)
        return Response({"detail": _("The request body is larger than the %(n)s bytes the API "
                                     "accepts.") % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
                         "errors": {}}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, StudyFileError):
        body = {"detail": exc.message, "errors": {"study_file": exc.problems}}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceError):
        errors = {field: [str(m) for m in message] if isinstance(message, list) else [str(message)]
                  for field, message in exc.field_errors.items()}
        return Response({"detail": str(exc.message), "errors": errors}, status=exc.status)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response({"detail": _("This is still referred to by answers or results, which are "
                                     "never deleted."), "errors": {}}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _("Some fields need correcting."),
                         "errors": _field_errors(exc.detail)}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response


@csrf_exempt  # it changes nothing; a CSRF refusal would answer HTML instead of this JSON
def not_found(request, *args, **kwargs) -> JsonResponse:
    """The JSON 404 for a path under /api/ that matches no endpoint."""
    return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
