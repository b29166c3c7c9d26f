"""Personal API tokens of staff users: created once, stored hashed, scoped, expiring, revocable."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from surveys.errors import ServiceError

TOKEN_PREFIX = "agd_"  # noqa: S105 - a public marker that starts every token, not a secret
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is kept to the minute: no write per request


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, scope: str = ApiToken.Scope.READ,
                     days: int = DEFAULT_LIFETIME_DAYS) -> tuple[ApiToken, str]:
    """Create a token for the user, valid for `days` days; the secret is returned once and
    never stored. Callers make sure the user is signed in with a session, not with a token."""
    if scope not in ApiToken.Scope.values:
        raise ServiceError(_("Choose read only or read and write."),
                           field_errors={"scope": _("Unknown scope.")})
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        message = _("A token lives from 1 to %(n)s days.") % {"n": MAX_LIFETIME_DAYS}
        raise ServiceError(message, field_errors={"expires_in_days": message})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "API token", prefix=secret[:12],
        token_hash=_digest(secret), scope=scope, expires_at=timezone.now() + timedelta(days=days))
    return token, secret


@transaction.atomic
def api_token_revoke(*, user, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when the user has no such token."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_find(secret: str) -> ApiToken | None:
    """The unrevoked token of an active user with this secret (expired or not), or None; the
    hash is compared in constant time. Marks it used when it is still live."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = _digest(secret)
    token = (ApiToken.objects.select_related("user")
             .filter(token_hash=digest, revoked_at__isnull=True).first())
    if token is None or not hmac.compare_digest(token.token_hash, digest) or not token.user.is_active:
        return None
    now = timezone.now()
    if not token.expired and (token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
