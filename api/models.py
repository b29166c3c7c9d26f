"""What the API keeps of its own: personal API tokens and idempotency keys (response revisions
are the surveys app's: surveys.models.ResponseRevision).

Token-based rate-limit counters live in the cache (throttle.tokens), not here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A staff user's personal API token; only its SHA-256 hash is stored.

    A token reads only, or reads and writes, within its user's study roles, until it expires
    (at most a year after it was made) or is revoked. Only a signed-in session makes tokens.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, help_text=_("The first characters, to recognize it."))
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class IdempotencyKey(models.Model):
    """The stored outcome of one request made under an Idempotency-Key, replayed on a retry."""

    scope = models.CharField(max_length=40, help_text=_("Who sent it, e.g. expert:12 or user:3."))
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of method, path and body."))
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="uniq_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
