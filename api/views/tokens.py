"""Personal API tokens: through the API (JSON) and on the staff account page (HTML)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.models import ApiToken
from api.permissions import StaffOnly
from api.serializers.panel import ApiTokenCreatedSerializer, ApiTokenSerializer
from api.services.tokens import (
    DEFAULT_LIFETIME_DAYS,
    MAX_LIFETIME_DAYS,
    api_token_create,
    api_token_revoke,
)
from api.views.base import READ_ERRORS, WRITE_ERRORS
from surveys.errors import ServiceError


class TokenList(GenericAPIView):
    """The caller's own tokens (never the secrets); POST makes a new one, from a signed-in
    session only (a bearer token gets 403)."""

    permission_classes = [StaffOnly]
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(responses={200: ApiTokenSerializer(many=True), **READ_ERRORS})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiTokenSerializer(page, many=True).data)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer,
                                                          **WRITE_ERRORS})
    def post(self, request):
        if isinstance(request.auth, ApiToken):  # a stolen token must not outlive its revocation
            raise PermissionDenied(_("An API token cannot create tokens: sign in and create one "
                                     "on your account page (/account/tokens/)."))
        data = ApiTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = api_token_create(user=request.user, name=data.validated_data["name"],
                                         scope=data.validated_data["scope"],
                                         days=data.validated_data["expires_in_days"])
        token.token = secret
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetail(GenericAPIView):
    permission_classes = [StaffOnly]
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    @extend_schema(responses={204: None, **READ_ERRORS})
    def delete(self, request, pk):
        if api_token_revoke(user=request.user, token_id=pk) is None:
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


@login_required
@never_cache
def account_tokens(request: HttpRequest) -> HttpResponse:
    """The staff account page for API tokens: list, create (secret shown once), revoke."""
    secret = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token_id = request.POST.get("token", "")
            if not token_id.isdigit() or api_token_revoke(user=request.user,
                                                         token_id=int(token_id)) is None:
                raise Http404
            messages.success(request, _("The token was revoked; it no longer works."))
            return redirect("account_tokens")
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, _("Give the token a name, e.g. the script that will use it."))
            return redirect("account_tokens")
        try:
            days = int(request.POST.get("days") or DEFAULT_LIFETIME_DAYS)
        except ValueError:
            days = 0  # refused by the service, naming the allowed range
        try:
            _token, secret = api_token_create(
                user=request.user, name=name, scope=request.POST.get("scope", ApiToken.Scope.READ),
                days=days)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("account_tokens")
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
    return render(request, "api/tokens.html", {
        "tokens": tokens, "secret": secret, "scopes": ApiToken.Scope.choices,
        "default_days": DEFAULT_LIFETIME_DAYS, "max_days": MAX_LIFETIME_DAYS,
        "now": timezone.now()})
