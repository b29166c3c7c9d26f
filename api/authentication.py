"""How API callers prove who they are: staff by a personal token, experts by their link token.

Both count wrong tokens per client (throttle.tokens) and answer 429 once a client has sent too
many; the counters are separate from the staff-login lockout of django-axes.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from api.services.tokens import api_token_user
from surveys.models import Expert
from surveys.services.panel import expert_for_token
from throttle.tokens import token_blocked, token_failed

INVITATION_HEADER = "HTTP_X_INVITATION_TOKEN"


class TooManyTokens(exceptions.Throttled):
    default_detail = _("Too many invalid tokens from your address; try again later.")


def _guarded(request, secret: str, lookup):
    """lookup(secret), refusing a blocked client and counting a miss."""
    django_request = request._request
    if token_blocked(django_request):
        raise TooManyTokens(wait=settings.TOKEN_RATE_WINDOW)
    found = lookup(secret)
    if found is None:
        token_failed(django_request)
        raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
    return found


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer agd_…`: a staff user's personal API token."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, secret = header.partition(" ")
        if scheme != self.keyword:
            return None
        user = _guarded(request, secret.strip(), api_token_user)
        return user, "api-token"

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class ExpertPrincipal:
    """The caller behind an invitation token: one expert, no staff rights at all."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, expert: Expert):
        self.expert = expert

    def __str__(self) -> str:
        return "expert"

    def has_perm(self, *args, **kwargs) -> bool:
        return False


class ExpertTokenAuthentication(BaseAuthentication):
    """`X-Invitation-Token: …`: the token from an expert's personal link."""

    def authenticate(self, request):
        secret = request.META.get(INVITATION_HEADER, "").strip()
        if not secret:
            return None
        expert = _guarded(request, secret, expert_for_token)
        return ExpertPrincipal(expert), "invitation"

    def authenticate_header(self, request) -> str:
        return 'Invitation realm="api"'
