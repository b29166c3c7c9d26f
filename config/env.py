"""Strict readers for environment variables: a bad value stops the start with its name."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _fail(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is invalid: expected {expected}.")


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or the default when it is unset or empty."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    """Return true/false for 1/0, true/false, yes/no, on/off; anything else fails."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _fail(name, raw, "one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return an integer not below minimum; anything else fails."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _fail(name, raw, "an integer") from None
    if value < minimum:
        raise _fail(name, raw, f"an integer >= {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list without empty entries."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_database(name: str, sqlite_path: str) -> dict:
    """Return Django's DATABASES['default'] from a postgres:// URL, or embedded SQLite."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at
                # BEGIN so concurrent autosaves queue on the busy timeout instead of failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    parts = urlsplit(raw)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise _fail(name, raw, "a postgres:// or postgresql:// URL (unset for embedded SQLite)")
    if not parts.path.strip("/"):
        raise _fail(name, raw, "a URL that names a database, e.g. postgres://127.0.0.1:5432/agora")
    try:
        port = parts.port
    except ValueError:
        raise _fail(name, raw, "a URL with a numeric port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.strip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }


def env_broker(name: str) -> str:
    """Return a redis://, rediss:// or amqp:// broker URL, or '' for in-process Celery."""
    raw = os.environ.get(name, "").strip()
    if raw and urlsplit(raw).scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp"}:
        raise _fail(name, raw, "a redis:// or amqp:// URL (unset to run tasks in-process)")
    return raw


def env_cache(name: str, broker_url: str = "") -> dict:
    """Return Django's CACHES['default']: Redis from the variable (redis:// or rediss://), else the
    Redis broker's server, else this process's memory (the embedded default)."""
    raw = os.environ.get(name, "").strip()
    if raw and urlsplit(raw).scheme not in {"redis", "rediss"}:
        raise _fail(name, raw, "a redis:// or rediss:// URL (unset to use the broker's Redis or memory)")
    location = raw or (broker_url if urlsplit(broker_url).scheme in {"redis", "rediss"} else "")
    if not location:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "agora"}
    # Short socket timeouts: an unreachable Redis costs a request two seconds, not a hang.
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
            "KEY_PREFIX": "agora-cache",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}
