"""Personal API tokens of staff users: created once, stored hashed, revocable."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from api.models import ApiToken

TOKEN_PREFIX = "agd_"  # noqa: S105 - a public marker that starts every token, not a secret
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is kept to the minute: no write per request


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for the user; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100] or "API token",
                                    prefix=secret[:12], token_hash=_digest(secret))
    return token, secret


@transaction.atomic
def api_token_revoke(*, user, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when the user has no such token."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_user(secret: str):
    """The active user a live token belongs to, or None; the hash is compared in constant time."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = _digest(secret)
    token = (ApiToken.objects.select_related("user")
             .filter(token_hash=digest, revoked_at__isnull=True).first())
    if token is None or not hmac.compare_digest(token.token_hash, digest) or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
