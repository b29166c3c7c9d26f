"""Structured logs: one JSON object per line, every line of a request carrying its request id.

RequestIdMiddleware takes the id from the proxy's X-Request-ID header (nginx sets it) or makes
one, returns it in the response and logs one line per request. Paths are logged as the URL
pattern ("e/<str:token>/"), never as typed, so invitation tokens never reach the logs.
"""

import contextvars
import logging
import re
import time
import uuid

from celery import current_task
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_current = contextvars.ContextVar("request_id", default="")
_request_log = logging.getLogger("agora.request")
# An unmatched path is logged only up to its first segment: it may be a mistyped personal link.
_FIRST_SEGMENT = re.compile(r"^(/[^/]*/?).*$", re.DOTALL)

FIELDS = "%(levelname)s %(name)s %(message)s"
# A personal link inside a message Django or a library writes (e.g. "Not Found: /e/<token>/").
_TOKEN_IN_TEXT = re.compile(r"/e/[^/\s<]+")
LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


class ContextFilter(logging.Filter):
    """Adds request_id (and the Celery task's id and name inside a task) to every record,
    and blanks invitation tokens out of the message's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a failed response after the middleware is done; it passes the request.
        record.request_id = _current.get() or getattr(getattr(record, "request", None), "request_id", None)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_TOKEN_IN_TEXT.sub("/e/[token]", a) if isinstance(a, str) else a
                                for a in record.args)
        task = current_task._get_current_object() if current_task else None
        if task is not None and task.request.id:
            record.task_id = task.request.id
            record.task_name = task.name
        return True


class RequestIdMiddleware:
    """Gives each request an id, returns it as X-Request-ID and logs the request in one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            route = _route(request, getattr(request, "resolver_match", None))
            _request_log.info("%s %s %s", request.method, route, response.status_code, extra={
                "method": request.method, "route": route, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            return response
        finally:
            _current.reset(token)


def _route(request, match) -> str:
    if match is not None and match.route:
        return "/" + match.route
    first = _FIRST_SEGMENT.sub(r"\1", request.path)
    return first + ("*" if len(first) < len(request.path) else "")


def logging_config(*, fmt: str, level: str) -> dict:
    """Django's LOGGING: JSON lines (fmt 'json') or readable text (fmt 'text') on stderr."""
    fmt, level = fmt.strip().lower(), level.strip().upper()
    if fmt not in {"json", "text"}:
        raise ImproperlyConfigured(
            f"Environment variable LOG_FORMAT={fmt!r} is invalid: expected json or text.")
    if level not in LEVELS:
        raise ImproperlyConfigured(f"Environment variable LOG_LEVEL={level!r} is invalid: "
                                   f"expected one of {', '.join(sorted(LEVELS))}.")
    formatters = {
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "format": FIELDS,
                 "rename_fields": {"levelname": "level", "name": "logger"}, "timestamp": "time",
                 # Django attaches the request object; its repr shows the path typed.
                 "reserved_attrs": [*RESERVED_ATTRS, "request"]},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.logs.ContextFilter"}},
        "formatters": {fmt: formatters[fmt]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt,
                                 "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        # Requests are logged once, by RequestIdMiddleware; Django's own 4xx lines would repeat them.
        "loggers": {"django.request": {"level": "ERROR"}},
    }
