"""What the API views share: the study-scoped base and documented error answers."""

from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS

from api.permissions import StudyScoped

ERROR = inline_serializer("Error", fields={
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
})


def errors(*codes: int) -> dict:
    """OpenAPI answers for the given error statuses, all in the one JSON error shape."""
    text = {400: "Invalid input; `errors` names each field.",
            401: "No token, or an invalid, revoked or expired one.",
            404: "No such object in your studies.",
            403: "Your role in this study is read-only, or your API token is.",
            409: "Conflict with the current state (stale version, closed round, key reuse...).",
            413: "The body is larger than the API accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
            429: "Too many invalid tokens from your address."}
    return {code: OpenApiResponse(ERROR, description=text[code]) for code in codes}


READ_ERRORS = errors(400, 401, 404, 429)  # 400: a filter or page parameter out of its range
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 429)


class StudySchema(AutoSchema):
    """Adds who may call each operation: `x-roles` and a sentence in its description."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return operation
        view = self.view
        roles = list(view.read_roles if method.upper() in SAFE_METHODS else view.write_roles)
        operation["x-roles"] = roles
        refused = [role for role in view.read_roles if role not in roles]  # see, may not change
        sentence = "Study roles: " + ", ".join(roles) + (
            f"; {', '.join(refused)} gets 403" if refused else "") + "; anyone else gets 404."
        operation["description"] = (operation.get("description", "") + "\n\n" + sentence).strip()
        return operation


class StudyView(StudyScoped, GenericAPIView):
    """A view under /api/v1/studies/<slug>/ (self.study, self.role once initial() ran)."""

    schema = StudySchema()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "study": getattr(self, "study", None)}

    def paginated(self, queryset_or_list, serializer_class):
        page = self.paginate_queryset(queryset_or_list)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


def one(queryset, **lookup):
    """The object of the study's queryset matching lookup, or 404."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404
    return found
