"""Celery tasks: thin, idempotent, and given ids only."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from surveys.services.aggregation import chunks as aggregation_chunks
from surveys.services.aggregation import live, round_aggregate

# Aggregation tasks: late acks (a crashed worker's message is redelivered), retries on a lost
# database connection, and a soft limit (the run is marked failed) below the hard one.
AGGREGATION = {
    "acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True,
    "max_retries": 5, "soft_time_limit": settings.AGGREGATION_SOFT_TIME_LIMIT,
    "time_limit": settings.AGGREGATION_TIME_LIMIT,
}


@shared_task(**AGGREGATION)
def aggregate_round(round_id: int, version: int | None = None,
                    chunk_answers: int | None = None) -> int:
    """Aggregate version `version` of a closed round's snapshot; safe to run twice or after a crash."""
    return round_aggregate(round_id=round_id, version=version, chunk_answers=chunk_answers)


@shared_task(**AGGREGATION)
def aggregate_chunk(run_id: int, index: int) -> None:
    """Compute one part of a chunked aggregation run."""
    aggregation_chunks.chunk_compute(run_id=run_id, index=index)


@shared_task(**AGGREGATION)
def aggregate_assemble(run_id: int) -> int:
    """Write a chunked run's snapshot once all its parts are done."""
    return aggregation_chunks.run_assemble(run_id=run_id)


@shared_task(**AGGREGATION)
def aggregate_live(run_id: int) -> int:
    """Refresh a Real-Time study's live statistics (a debounced, pending live run)."""
    return live.live_recompute(run_id=run_id)


REPORTS = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True,
           "max_retries": 3}


@shared_task(**REPORTS)
def report_render(round_id: int, language: str, key: str) -> str:
    """Build the PDF of a round's report into storage (issue 17); idempotent."""
    from surveys.reports.jobs import pdf_build

    return pdf_build(round_id=round_id, language=language, key=key)


@shared_task(**REPORTS)
def report_prepare(round_id: int) -> int:
    """Render a freshly aggregated round's report pages in every language; idempotent."""
    from surveys.reports.jobs import report_prepare as prepare

    return prepare(round_id=round_id)
