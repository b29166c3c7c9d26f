"""Rate limits on token-based access: wrong invitation links and wrong API tokens.

Only failures are counted, per client address, in the `ratelimit` cache, which every web process
shares: Redis when there is one, else files in DATA_DIR (the embedded default's gunicorn workers
share them), under keys of their own, apart from the staff-login failures that django-axes keeps
in its tables. After TOKEN_RATE_LIMIT wrong tokens within TOKEN_RATE_WINDOW seconds (counted from
the first), a wrong link from that client gets 429 instead of 404 until the window ends; a valid
link still opens (an expert behind the same address as a scanner is not locked out, and a
256-bit token is not guessed in any number of tries). While the cache cannot be reached nothing
is counted and nobody is blocked (logged), for the same reason.
"""

import fcntl
import functools
import ipaddress
import logging
import math
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
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


def _failures(value) -> int:
    if isinstance(value, dict):  # a file counter carries its window's end (see _count_in_files)
        return value["n"] if value["until"] > time.time() else 0
    return value or 0


def token_blocked(request: HttpRequest, scope: str = "token") -> bool:
    """Whether this client has sent too many wrong tokens in the current window."""
    try:
        return _failures(caches["ratelimit"].get(_key(request, scope))) >= settings.TOKEN_RATE_LIMIT
    except Exception:  # noqa: BLE001 - the cache is unreachable: see the module's docstring
        log.warning("rate-limit cache unavailable; token attempts are not limited")
        return False


def _count_in_redis(cache: BaseCache, key: str, window: int) -> None:
    # Atomic, and INCR keeps the key's expiry: the window starts at the first failure.
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)


def _count_in_files(cache: BaseCache, key: str, window: int) -> None:
    # Files have no atomic increment (and Django's incr would restart the expiry): read, count and
    # write back under a lock every process takes, with the window's end stored beside the count.
    lock_path = Path(settings.DATA_DIR) / "ratelimit.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = time.time()
        value = cache.get(key)
        if not isinstance(value, dict) or value["until"] <= now:
            value = {"n": 0, "until": now + window}
        value["n"] += 1
        cache.set(key, value, timeout=max(1, math.ceil(value["until"] - now)))


def token_failed(request: HttpRequest, scope: str = "token") -> None:
    """Count one wrong token from this client; the window starts at its first failure."""
    cache = caches["ratelimit"]
    count = _count_in_redis if isinstance(cache, RedisCache) else _count_in_files
    try:
        count(cache, _key(request, scope), settings.TOKEN_RATE_WINDOW)
    except Exception:  # noqa: BLE001 - the cache is unreachable: see the module's docstring
        log.warning("rate-limit cache unavailable; a wrong token was not counted")


def too_many_page(request: HttpRequest) -> HttpResponse:
    return too_many(request, retry_after=settings.TOKEN_RATE_WINDOW, message=_(
        "Too many invalid links were opened from your connection. Please wait a minute and open "
        "the personal link from your invitation again."))


def token_rate_limited(view):
    """For a page that takes a token in its address: a 404 answer (a wrong token) counts as a
    failure, and becomes 429 once the client is blocked; a valid token always opens."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        # Asked only for a wrong token (before this failure is counted): a valid one opens
        # anyway, so its requests (every page of a survey) make no round trip to the cache.
        if response.status_code == 404:
            blocked = token_blocked(request)
            token_failed(request)
            if blocked:
                return too_many_page(request)
        return response

    return wrapped
