"""A Celery worker that holds every aggregation at one phase, so a fault test can kill it there.

    python tests/paused_worker.py computing:60 -A config worker -Q ...

`computing`: the round's answers are read (the run shows the phase), its statistics not yet
computed. `written`: the snapshot's transaction has committed, the task has not returned (its
message is not acknowledged). The pause is patched in here, from the test side, before the
worker starts (a prefork pool's children inherit it): production code has no hook for it.
"""

import functools
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
log = logging.getLogger("tests.paused_worker")


def _pausing(function, *, seconds: float, before: bool):
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if before:
            log.warning("paused_worker: pausing %.0f s before %s", seconds, function.__name__)
            time.sleep(seconds)
        result = function(*args, **kwargs)
        if not before:
            log.warning("paused_worker: pausing %.0f s after %s", seconds, function.__name__)
            time.sleep(seconds)
        return result
    return paused


def pause_at(phase: str, seconds: float) -> None:
    from surveys.services.aggregation import chunks, live, runs, statistics

    if phase == "computing":  # runs.compute calls it through the module, as stats.item_statistics
        statistics.item_statistics = _pausing(statistics.item_statistics, seconds=seconds, before=True)
    elif phase == "written":  # each module calls the name it holds
        paused = _pausing(runs.snapshot_write, seconds=seconds, before=False)
        for module in (runs, chunks, live):
            module.snapshot_write = paused
    else:
        raise SystemExit(f"unknown phase {phase!r}: computing or written")


def main() -> None:
    import django
    from celery.bin.celery import main as celery

    phase, _, seconds = sys.argv[1].partition(":")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    if phase:
        pause_at(phase, float(seconds or 0))
    sys.argv = ["celery", *sys.argv[2:]]
    celery()


if __name__ == "__main__":
    main()
