"""How API callers prove who they are: staff by a personal token, experts by their link token.

Both count wrong tokens per client (throttle.tokens) and answer 429 once a client has sent too
many; the counters are separate from the staff-login lockout of django-axes. A staff token also
carries a scope and an expiry, enforced here for every endpoint at once.
"""

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS

from api.models import ApiToken
from api.services.tokens import api_token_find
from surveys.models import Expert
from surveys.services.panel import expert_for_token
from throttle.tokens import token_blocked, token_failed

INVITATION_HEADER = "HTTP_X_INVITATION_TOKEN"


class TooManyTokens(exceptions.Throttled):
    default_detail = _("Too many invalid tokens from your address; try again later.")


def _guarded(request, secret: str, lookup):
    """lookup(secret), counting a miss: a valid token always works, a wrong one from a client
    that has sent too many answers 429 (as the invitation links do, throttle.tokens)."""
    django_request = request._request
    blocked = token_blocked(django_request)
    found = lookup(secret)
    if found is None:
        token_failed(django_request)
        if blocked:
            raise TooManyTokens(wait=settings.TOKEN_RATE_WINDOW)
        raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
    return found


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer agd_…`: a staff user's personal API token; request.auth is the
    ApiToken. An expired token answers 401, a read-only token 403 on any write method."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, secret = header.partition(" ")
        if scheme != self.keyword:
            return None
        token: ApiToken = _guarded(request, secret.strip(), api_token_find)
        if token.expired:  # a real token, not a guess: not counted as a failure
            raise exceptions.AuthenticationFailed(
                _("This API token expired on %(date)s; create a new one on your account page "
                  "(/account/tokens/).") % {"date": formats.date_format(token.expires_at, "Y-m-d")})
        # Here rather than in each view's permissions, so that no endpoint can forget it.
        if token.scope == ApiToken.Scope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(
                _("This API token is read-only; use a read-and-write token to make changes."))
        return token.user, token

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
