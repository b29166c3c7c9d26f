"""Idempotency keys: a retried request gets the first outcome; another payload gets 409."""

import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from api.models import IdempotencyKey
from surveys.errors import ServiceError

MAX_KEY = 100


class IdempotencyConflict(ServiceError):
    status = 409


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    """SHA-256 of the method, the path and the body in a canonical JSON form."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def idempotent_call(
    *, scope: str, key: str, fingerprint: str, call: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run call() at most once per (scope, key) and return (status, body, replayed).

    The key is claimed in the same transaction as the work: a concurrent request with the same
    key waits for it (the unique index) and then replays its outcome; if the work fails, nothing
    is kept and the same key may be sent again.
    """
    if not key or len(key) > MAX_KEY:
        raise ServiceError(_("The Idempotency-Key header must have 1 to %(n)s characters.")
                           % {"n": MAX_KEY}, field_errors={"Idempotency-Key": _("Invalid key.")})
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyKey.objects.get(scope=scope, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(_(
                    "This Idempotency-Key was already used for a different request; use a new "
                    "key for new answers.")) from None
            # Claimed in the transaction of the work: a committed key has its outcome.
            return cast(int, record.status_code), record.body, True
        status, body = call()
        record.status_code, record.body = status, body
        record.save(update_fields=["status_code", "body"])
    return status, body, False
