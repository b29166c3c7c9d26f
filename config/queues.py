"""Celery queues: which task goes to which queue.

Every queue name derives from CELERY_TASK_DEFAULT_QUEUE (default ``agora``): ``agora`` takes
whatever is not routed, ``agora.aggregation`` the round aggregations, ``agora.email`` mail and
``agora.reports`` reports and exports. One variable thus keeps two deployments (or two test
runs) on one broker apart, and a worker picks its share with ``--queues``.
"""

from kombu import Exchange, Queue

KINDS = ("aggregation", "email", "reports")

# Task names are matched as globs, first match first; each pattern matches a task that exists
# (tests/ops/test_production_stack.py checks it). Name new tasks so they land here:
# ``aggregate_*`` in surveys.tasks, ``send_*`` (mail) and ``report_*`` in any app's tasks module.
_PATTERNS = (
    ("surveys.tasks.aggregate_*", "aggregation"),
    ("*.tasks.send_*", "email"),
    ("*.tasks.report_*", "reports"),
)


def queue_name(default: str, kind: str) -> str:
    """The name of one routed queue, e.g. ``agora.aggregation``."""
    if kind not in KINDS:
        raise ValueError(f"unknown queue kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{default}.{kind}"


def queue_names(default: str) -> list[str]:
    """All the queues a worker that does everything consumes, the default one first."""
    return [default, *(queue_name(default, kind) for kind in KINDS)]


def task_routes(default: str) -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES for the given default queue."""
    return {pattern: {"queue": queue_name(default, kind)} for pattern, kind in _PATTERNS}


def task_queues(default: str) -> tuple[Queue, ...]:
    """CELERY_TASK_QUEUES: a worker started without --queues consumes all of them."""
    return tuple(Queue(name, Exchange(name, type="direct"), routing_key=name)
                 for name in queue_names(default))
