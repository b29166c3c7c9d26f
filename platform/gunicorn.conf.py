"""gunicorn for Agora Delphi: `gunicorn -c platform/gunicorn.conf.py config.wsgi` from the repo root.

Every setting comes from an environment variable, read as strictly as the Django settings.
gunicorn writes no access log: RequestIdMiddleware logs each request once, as a JSON line with
its request id and the URL pattern instead of the path, so invitation tokens stay out of logs.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for config.env, whichever directory gunicorn starts in
chdir = str(ROOT)

from config.env import env_bool, env_int, env_str  # noqa: E402 - needs the path above

# Listen on loopback (nginx in front) unless told otherwise; never expose gunicorn directly,
# since Django trusts the X-Forwarded-Proto header nginx sets.
bind = [env_str("GUNICORN_BIND", f"127.0.0.1:{env_int('PORT', 8000, minimum=1)}")]
# Sync workers: one request at a time each, one per core and a bit (the benchmark in README.md).
workers = env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1, minimum=1)
worker_class = "sync"
# Requests queue in the kernel's backlog while every worker is busy.
backlog = env_int("GUNICORN_BACKLOG", 2048, minimum=64)
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=5)
graceful_timeout = 30
# Recycle workers now and then so a slow leak never grows unbounded; jitter avoids all at once.
# Django is imported once, before the workers fork: a new worker (at start, or after
# max_requests) answers its first request at once instead of importing for about two seconds.
# Nothing opens a database connection at import, so no connection is shared across the fork.
preload_app = env_bool("GUNICORN_PRELOAD", True)
max_requests = env_int("GUNICORN_MAX_REQUESTS", 5000, minimum=0)
max_requests_jitter = max_requests // 10
accesslog = None
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter",
                            "format": "%(levelname)s %(name)s %(message)s",
                            "rename_fields": {"levelname": "level", "name": "logger"},
                            "timestamp": "time"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(),
                                   "propagate": False}},
}
proc_name = "agora-web"
# No control socket: it lives at one path per user, which several gunicorns on a machine share.
control_socket_disable = True
