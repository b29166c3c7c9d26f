"""Health checks: /livez says the web process answers, /healthz checks what the platform needs.

/healthz checks the database, the broker and that a worker consumes each of the platform's
queues, and answers 200, or 503 naming the part that failed. It waits up to a second for the
workers' replies, so point monitoring at it and a load balancer's per-node probe at /livez.
"""

import time

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery_app import app
from config.queues import queue_names

WORKER_REPLY_TIMEOUT = 1.0
BROKER_CONNECT_TIMEOUT = 2.0


@never_cache
def livez(request: HttpRequest) -> HttpResponse:
    """The process is up; touches nothing else (also the trivial view of the load benchmark)."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "ok: none configured, tasks run in-process"
    with app.connection_for_write(connect_timeout=BROKER_CONNECT_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CONNECT_TIMEOUT)
    return "ok"


def _workers() -> str:
    if app.conf.task_always_eager:
        return "ok: tasks run in-process"
    replies = app.control.inspect(timeout=WORKER_REPLY_TIMEOUT).active_queues() or {}
    served: dict[str, int] = {}
    for queues in replies.values():
        for queue in queues or []:
            served[queue["name"]] = served.get(queue["name"], 0) + 1
    # Other deployments may share the broker; only the workers of our queues count.
    wanted = queue_names(app.conf.task_default_queue)
    missing = [name for name in wanted if not served.get(name)]
    if missing:
        raise LookupError(f"no worker consumes {', '.join(missing)}")
    ours = sum(1 for queues in replies.values() if {q["name"] for q in queues or []} & set(wanted))
    return f"ok: {ours} worker(s)"


def _run(check) -> tuple[bool, str, float]:
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except LookupError as exc:  # our own finding, safe to show
        detail, ok = f"error: {exc}", False
    except Exception as exc:  # noqa: BLE001 - any failure is the answer; only its type is shown
        detail, ok = f"error: {type(exc).__name__}", False
    return ok, detail, round((time.perf_counter() - started) * 1000, 1)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and the workers answer; 503 naming what failed."""
    checks: dict[str, dict] = {}
    healthy = True
    for name, check in (("database", _database), ("broker", _broker), ("workers", _workers)):
        if name == "workers" and not checks["broker"]["ok"]:
            checks[name] = {"ok": False, "detail": "error: not checked, the broker is down", "ms": 0.0}
            healthy = False
            continue
        ok, detail, ms = _run(check)
        checks[name] = {"ok": ok, "detail": detail, "ms": ms}
        healthy = healthy and ok
    failed = [name for name, c in checks.items() if not c["ok"]]
    return JsonResponse({"status": "ok" if healthy else "fail", "failed": failed, "checks": checks},
                        status=200 if healthy else 503)
