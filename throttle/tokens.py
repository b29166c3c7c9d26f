"""Rate limits on token-based access: wrong invitation links and wrong API tokens.

Counted per client address in the cache (Redis in production) under keys of their own, apart
from the staff-login failures that django-axes keeps in its tables. After TOKEN_RATE_LIMIT wrong
tokens within TOKEN_RATE_WINDOW seconds, every token attempt from that client gets 429 until the
window ends; valid tokens from other clients are unaffected. While the cache cannot be reached
nothing is counted and nobody is blocked (logged): a token of 256 random bits is not guessed in
an outage, and experts can still open their links.
"""

import functools
import ipaddress
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from surveys.views.errors import too_many

log = logging.getLogger(__name__)

# Tests give every test a namespace of its own, so counters never leak between tests or runs.
NAMESPACE = "v1"


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry our TRUSTED_PROXIES appended to
    X-Forwarded-For (entries further left come from the client and could be forged); None when
    there is none (a request made in code). django-axes counts staff logins by it as well."""
    proxies = settings.TRUSTED_PROXIES
    hops = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(hops) >= proxies and _address(hops[-proxies]):
        return _address(hops[-proxies])
    return _address(request.META.get("REMOTE_ADDR", ""))


def _key(request: HttpRequest, scope: str) -> str:
    return f"ratelimit:{NAMESPACE}:{scope}:{client_ip(request) or 'unknown'}"


def token_blocked(request: HttpRequest, scope: str = "token") -> bool:
    """Whether this client has sent too many wrong tokens in the current window."""
    try:
        return (cache.get(_key(request, scope)) or 0) >= settings.TOKEN_RATE_LIMIT
    except Exception:  # noqa: BLE001 - the cache is unreachable: see the module's docstring
        log.warning("rate-limit cache unavailable; token attempts are not limited")
        return False


def token_failed(request: HttpRequest, scope: str = "token") -> None:
    """Count one wrong token from this client; the window starts at its first failure."""
    key = _key(request, scope)
    try:
        cache.add(key, 0, timeout=settings.TOKEN_RATE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.TOKEN_RATE_WINDOW)
    except Exception:  # noqa: BLE001 - the cache is unreachable: see the module's docstring
        log.warning("rate-limit cache unavailable; a wrong token was not counted")


def too_many_page(request: HttpRequest) -> HttpResponse:
    return too_many(request, retry_after=settings.TOKEN_RATE_WINDOW, message=_(
        "Too many invalid links were opened from your connection. Please wait a minute and open "
        "the personal link from your invitation again."))


def token_rate_limited(view):
    """For a page that takes a token in its address: 429 once the client is blocked, and a
    404 answer (a wrong token) counts as a failure."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if token_blocked(request):
            return too_many_page(request)
        response = view(request, *args, **kwargs)
        if response.status_code == 404:
            token_failed(request)
        return response

    return wrapped
